import numpy as np
import pytest
import scipy.sparse.linalg as spla
import torch

from sciml.linalg import (
    amg,
    box_mask,
    build_poisson,
    cg,
    ichol0,
    jacobi,
    pcg,
    random_obstacles,
    smoke_rhs,
)


@pytest.fixture(scope="module")
def system2d():
    s = build_poisson(random_obstacles((24, 20), 3, seed=4))
    return s, smoke_rhs(s, seed=1)


def _dense_ic0(A):
    """Textbook IC(0) on the dense matrix restricted to A's sparsity pattern."""
    n = A.shape[0]
    L = np.tril(A).copy()
    pat = L != 0
    for k in range(n):
        L[k, k] = np.sqrt(L[k, k])
        for i in range(k + 1, n):
            if pat[i, k]:
                L[i, k] /= L[k, k]
        for j in range(k + 1, n):
            for i in range(j, n):
                if pat[i, j]:
                    L[i, j] -= L[i, k] * L[j, k]
    return L


def test_ic0_matches_textbook_factorisation():
    s = build_poisson(random_obstacles((7, 6), 1, seed=2, radius=(0.2, 0.3)))
    A = s.A.toarray()
    L = _dense_ic0(A)
    M = L @ L.T
    P = ichol0(s)
    r = np.random.default_rng(0).standard_normal(s.n)
    np.testing.assert_allclose(P.solve(r), np.linalg.solve(M, r), rtol=1e-10, atol=1e-12)
    # generic level schedule (no grid) gives the same preconditioner
    np.testing.assert_allclose(ichol0(s.A).solve(r), P.solve(r), rtol=1e-12, atol=1e-14)


def _preconds(s):
    out = [("cg", None), ("jacobi", jacobi(s)), ("ic0", ichol0(s))]
    try:
        import pyamg  # noqa: F401
    except ImportError:
        print("pyamg not installed: AMG baselines skipped")
    else:
        out += [("amg-sa", amg(s, "sa")), ("amg-rs", amg(s, "rs"))]
    return out


@pytest.mark.parametrize("tol", [1e-4, 1e-8])
def test_baselines_reach_tolerance_and_match_direct_solve(system2d, tol):
    s, b = system2d
    x_ref = spla.spsolve(s.A.tocsc(), b)
    for name, M in _preconds(s):
        res = pcg(s, b, M, tol=tol, maxiter=5000)
        assert res.converged, name
        true_rel = np.linalg.norm(b - s.A @ res.x.numpy()) / np.linalg.norm(b)
        assert true_rel <= 1.01 * tol, name  # one stopping rule: relative residual
        # error bound: ‖x − x*‖ ≤ ‖A⁻¹‖ ‖r‖
        lam_min = spla.eigsh(s.A, 1, sigma=0, which="LM")[0][0]
        assert (
            np.linalg.norm(res.x.numpy() - x_ref) <= 1.01 * true_rel * np.linalg.norm(b) / lam_min
        )
        assert len(res.residuals) == res.iterations + 1 == len(res.times)


def test_preconditioning_reduces_iterations(system2d):
    s, b = system2d
    it = {name: pcg(s, b, M, tol=1e-6, maxiter=5000).iterations for name, M in _preconds(s)}
    assert it["ic0"] < it["cg"]
    if "amg-sa" in it:
        assert it["amg-sa"] < it["ic0"]


def test_cg_on_consistent_neumann_problem():
    s = build_poisson(box_mask((12, 10)))  # closed box: singular, constants in the kernel
    b = smoke_rhs(s, seed=3)
    res = cg(s, b, tol=1e-10, maxiter=2000)
    assert res.converged
    x = res.x.numpy()
    x_ls = np.linalg.lstsq(s.A.toarray(), b, rcond=None)[0]
    np.testing.assert_allclose(s.project(x), s.project(x_ls), atol=1e-7)


def test_torch_operator_forms_agree(system2d):
    s, b = system2d
    r1 = cg(s, b, tol=1e-8)
    r2 = cg(s.stencil(), torch.from_numpy(b), tol=1e-8)
    r3 = cg(s.torch_csr(), b, tol=1e-8)
    assert r1.iterations == r2.iterations == r3.iterations
    np.testing.assert_allclose(r1.x.numpy(), r2.x.numpy(), atol=1e-10)
    np.testing.assert_allclose(r1.x.numpy(), r3.x.numpy(), atol=1e-10)


def test_solver_bad_input(system2d):
    s, b = system2d
    with pytest.raises(ValueError, match="b: expected length"):
        cg(s, b[:-1])
    bad = b.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        cg(s, bad)
    with pytest.raises(ValueError, match="tol"):
        cg(s, b, tol=0)
    with pytest.raises(TypeError, match="b: expected"):
        cg(s, list(b))
    with pytest.raises(ValueError, match="kind"):
        amg(s, "xx")
