"""CG/PCG, Lanczos and the DST baseline against independent dense references: a NumPy PCG with
explicit dense preconditioner matrices (same iterates, same recorded residuals, same stopping
index), Rayleigh–Ritz on a QR-orthonormalised Krylov basis, the CG–Lanczos Galerkin relation,
and a sparse direct solve; plus the initial-guess checks of the Krylov solvers."""

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from sciml.linalg import (
    AIR,
    box_mask,
    build_poisson,
    cg,
    dcdm_solve,
    ichol0,
    jacobi,
    lanczos,
    pcg,
    random_obstacles,
    smoke_rhs,
)
from sciml.linalg.baselines import solve_dst
from tests.linalg.test_solvers import _dense_ic0


@pytest.fixture(scope="module")
def problem():
    mask = random_obstacles((13, 11), 2, seed=4)
    mask[0, 0] = AIR
    s = build_poisson(mask, spacing=(0.5, 1.5))
    return s, smoke_rhs(s, seed=1)


def _dense_pcg(A, b, Minv, x0, iters, stop=0.0):
    """Textbook PCG (Saad, Alg. 9.1) with a dense M⁻¹; returns x_k and ‖r_j‖/‖r_0‖, j ≤ k
    (stops early once ‖r_j‖/‖r_0‖ ≤ ``stop``)."""
    x = x0.copy()
    r = b - A @ x
    r0 = np.linalg.norm(r)
    z = Minv @ r
    p, rz = z.copy(), r @ z
    hist = [1.0]
    for _ in range(iters):
        Ap = A @ p
        a = rz / (p @ Ap)
        x, r = x + a * p, r - a * Ap
        hist.append(np.linalg.norm(r) / r0)
        if hist[-1] <= stop:
            break
        z = Minv @ r
        rz, rz_old = r @ z, rz
        p = z + (rz / rz_old) * p
    return x, np.array(hist)


@pytest.mark.parametrize("prec", ["none", "jacobi", "ic0"])
@pytest.mark.parametrize("with_x0", [False, True])
def test_pcg_iterates_and_stopping_index_match_dense_pcg(problem, prec, with_x0):
    s, b = problem
    A = s.A.toarray()
    n = s.n
    if prec == "none":
        M, Minv = None, np.eye(n)
    elif prec == "jacobi":
        M, Minv = jacobi(s), np.diag(1.0 / np.diag(A))
    else:
        L = _dense_ic0(A)
        M, Minv = ichol0(s), np.linalg.inv(L @ L.T)
    x0 = np.random.default_rng(2).standard_normal(n) if with_x0 else np.zeros(n)
    kw = {"x0": x0} if with_x0 else {}
    for k in (1, 6, 25):  # fixed iteration counts: the iterates themselves
        res = pcg(s, b, M, tol=1e-300, maxiter=k, **kw)
        x_ref, h_ref = _dense_pcg(A, b, Minv, x0, k)
        assert res.iterations == k and not res.converged
        np.testing.assert_allclose(res.x.numpy(), x_ref, rtol=1e-9, atol=1e-10 * abs(x_ref).max())
        np.testing.assert_allclose(res.residuals, h_ref, rtol=1e-8, atol=1e-14)
    # stopping rule: first k with ‖r_k‖ ≤ tol·‖b − A x0‖ (recurrence residual), reference norm
    # of the initial residual, not of b
    tol = 1e-5
    _, h = _dense_pcg(A, b, Minv, x0, 400, stop=tol)
    k_ref = int(np.argmax(h <= tol))
    res = pcg(s, b, M, tol=tol, maxiter=400, **kw)
    assert res.converged and res.iterations == k_ref
    assert res.iterations_to(tol) == k_ref and len(res.times) == k_ref + 1


def test_cg_iterate_is_the_lanczos_galerkin_solution(problem):
    """x_k(CG) = V_k T_k⁻¹ V_kᵀ b = Z Θ⁻¹ Zᵀ b with the Ritz pairs of k Lanczos steps from b."""
    s, b = problem
    for k in (2, 7, 15):
        theta, Z = lanczos(s, k, v0=b)
        x_galerkin = Z @ ((Z.T @ b) / theta)
        x_cg = cg(s, b, tol=1e-300, maxiter=k).x.numpy()
        np.testing.assert_allclose(x_cg, x_galerkin, rtol=1e-8, atol=1e-10 * abs(x_cg).max())


def _krylov_rayleigh_ritz(A, v, m):
    """Rayleigh–Ritz on an orthonormal basis of K_m(A, v) built by QR (no Lanczos)."""
    cols = [v / np.linalg.norm(v)]
    for _ in range(m - 1):
        w = A @ cols[-1]
        cols.append(w / np.linalg.norm(w))
    Q, _ = np.linalg.qr(np.stack(cols, 1))
    w, Y = np.linalg.eigh(Q.T @ A @ Q)
    return w, Q @ Y


@pytest.mark.parametrize("closed", [False, True])
def test_lanczos_equals_rayleigh_ritz_on_a_krylov_basis(closed):
    """Ritz values/vectors = Rayleigh–Ritz on span{v, Av, …}; for an all-Neumann system the
    Krylov space starts from v with its null-space component removed; Ritz residual norms
    ‖A z − θ z‖ agree with the dense pairs'."""
    mask = box_mask((9, 8)) if closed else random_obstacles((9, 8), 2, seed=6)
    s = build_poisson(mask)
    A = s.A.toarray()
    v = np.random.default_rng(3).standard_normal(s.n)
    N = s.nullspace()
    assert N.shape[1] == int(closed)
    v_ref = v - N @ (N.T @ v)
    for m in (3, 6):
        theta, Z = lanczos(s, m, v0=v)
        w, Y = _krylov_rayleigh_ritz(A, v_ref, m)
        np.testing.assert_allclose(theta, w, rtol=1e-9, atol=1e-12)
        Z = Z * np.sign(np.sum(Z * Y, 0))  # eigenvectors up to sign
        np.testing.assert_allclose(Z, Y, atol=1e-7)
        np.testing.assert_allclose(N.T @ Z, 0, atol=1e-12)
        np.testing.assert_allclose(
            np.linalg.norm(A @ Z - Z * theta, axis=0),
            np.linalg.norm(A @ Y - Y * w, axis=0),
            rtol=1e-6,
            atol=1e-10,
        )


@pytest.mark.parametrize("shape, h", [((9, 6), (0.5, 2.0)), ((5, 6, 4), (1.0, 0.5, 0.25))])
def test_solve_dst_equals_sparse_direct_solve(shape, h):
    s = build_poisson(box_mask(shape), spacing=h, boundary="air")
    b = np.random.default_rng(0).standard_normal(s.n)
    res = solve_dst(s, b)
    np.testing.assert_allclose(res.x.numpy(), spla.spsolve(s.A.tocsc(), b), rtol=1e-11, atol=0)
    assert res.residuals[-1] < 1e-13
    with pytest.raises(ValueError, match="system"):
        solve_dst(build_poisson(box_mask(shape)), b)


def test_initial_guess_is_checked_and_named(problem):
    s, b = problem
    for solve in (
        lambda x0: cg(s, b, x0=x0),
        lambda x0: pcg(s.stencil(), b, jacobi(s), x0=x0),
        lambda x0: dcdm_solve(s, b, lambda g: g, x0=x0),
    ):
        with pytest.raises(ValueError, match=f"x0: expected length {s.n}"):
            solve(np.zeros(s.n - 1))
        with pytest.raises(ValueError, match="x0: .*non-finite"):
            solve(np.full(s.n, np.nan))
        with pytest.raises(ValueError, match="x0: expected a 1-D"):
            solve(np.zeros((1, s.n)))
        with pytest.raises(TypeError, match="x0: expected"):
            solve(list(np.zeros(s.n)))
    # a valid torch float32 guess is accepted (solved in float64)
    x = torch.from_numpy(spla.spsolve(s.A.tocsc(), b))
    res = cg(s, b, x0=x.float(), tol=1e-6)
    assert res.converged and res.x.dtype == torch.float64
    assert np.linalg.norm(b - s.A @ res.x.numpy()) < 1e-6 * np.linalg.norm(b)
    # zero right-hand side with a preconditioner: named as PCG, like every other PCG result
    assert pcg(s, np.zeros(s.n), jacobi(s)).method == "pcg"
    assert cg(s, np.zeros(s.n)).method == "cg"


def test_solve_dst_takes_tensors_and_names_a_bad_b():
    s = build_poisson(box_mask((7, 5)), spacing=(1.0, 0.5), boundary="air")
    b = np.random.default_rng(1).standard_normal(s.n)
    ref = spla.spsolve(s.A.tocsc(), b)
    # a float32 tensor that requires grad (np.asarray would fail on it, as on a CUDA tensor)
    bt = torch.tensor(b, dtype=torch.float32, requires_grad=True)
    res = solve_dst(s, bt)
    ref32 = spla.spsolve(s.A.tocsc(), bt.detach().double().numpy())
    np.testing.assert_allclose(res.x.numpy(), ref32, rtol=1e-11, atol=0)
    assert np.max(np.abs(res.x.numpy() - ref)) < 1e-5 * np.max(np.abs(ref))
    with pytest.raises(ValueError, match="b: expected length"):
        solve_dst(s, b[:-1])
    with pytest.raises(ValueError, match="b: .*non-finite"):
        solve_dst(s, np.full(s.n, np.nan))


def test_ic0_breakdown_names_the_row_and_the_singular_m_matrix_case():
    # 1-D pure-Neumann chain: a singular M-matrix; exact Cholesky of a tridiagonal matrix has no
    # fill-in, so IC(0) = Cholesky and the last pivot is 0 (the constant null vector)
    n = 6
    A = sp.diags([-np.ones(n - 1), 2 * np.ones(n), -np.ones(n - 1)], [-1, 0, 1]).tolil()
    A[0, 0] = A[n - 1, n - 1] = 1.0
    assert abs(np.linalg.eigvalsh(A.toarray())[0]) < 1e-12  # singular (independent check)
    with pytest.raises(ValueError, match=f"at row {n - 1}: A is not a non-singular M-matrix"):
        ichol0(A.tocsr())
