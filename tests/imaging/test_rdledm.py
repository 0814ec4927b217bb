"""RDLEDM: optimality on a tiny instance against dense ADMM, ablation switches, bad input."""

import dataclasses

import numpy as np
import pytest
import torch

from sciml.imaging import MaskedFourier, cardiac_phantom, variable_density_mask
from sciml.imaging.baselines import low_rank_only, zero_filled
from sciml.imaging.rdledm import RDLEDM, RDLEDMConfig

T, NY, NX = 4, 6, 5
N = T * NY * NX


def _dense_problem(seed=0):
    x = cardiac_phantom(16, T, seed=seed, supersample=1)[:, 5 : 5 + NY, 5 : 5 + NX]
    mask = variable_density_mask((T, NY, NX), 2.0, seed=seed, n_center=2)
    gen = torch.Generator().manual_seed(seed)
    op = MaskedFourier(mask)
    y = op(x.to(torch.complex128)) + 0.02 * mask * torch.randn(
        x.shape, dtype=torch.complex128, generator=gen
    )
    return x, mask, op, y


# ---- independent dense reference (numpy only) -----------------------------------------------
def _diff(n):
    d = -np.eye(n) + np.eye(n, k=1)
    d[-1, -1] = 0
    return d


def _kron3(a, b, c):
    return np.kron(np.kron(a, b), c)


def _dense_ops(mask):
    fy = np.fft.fftshift(
        np.fft.fft(np.fft.ifftshift(np.eye(NY), axes=0), axis=0, norm="ortho"), axes=0
    )
    fx = np.fft.fftshift(
        np.fft.fft(np.fft.ifftshift(np.eye(NX), axes=0), axis=0, norm="ortho"), axes=0
    )
    a = np.diag(mask.numpy().ravel().astype(float)) @ _kron3(np.eye(T), fy, fx)
    dy = _kron3(np.eye(T), _diff(NY), np.eye(NX))
    dx = _kron3(np.eye(T), np.eye(NY), _diff(NX))
    dt = _kron3(_diff(T), np.eye(NY), np.eye(NX))
    return a, dy, dx, dt


def _cas(v):  # (T*NY*NX,) -> (NY*NX, T)
    return v.reshape(T, NY * NX).T


def _cas_t(m):
    return m.T.reshape(-1)


def _spa(v):  # -> (NY, T*NX)
    return v.reshape(T, NY, NX).transpose(1, 0, 2).reshape(NY, T * NX)


def _spa_t(m):
    return m.reshape(NY, T, NX).transpose(1, 0, 2).reshape(-1)


def _objective(l, e, a, dy, dx, dt, yv, w):
    lc, ls, mxy, mt, g = w
    val = 0.5 * np.sum(np.abs(a @ (l + e) - yv) ** 2)
    val += mxy * np.sum(np.sqrt(np.abs(dy @ l) ** 2 + np.abs(dx @ l) ** 2))
    val += mt * np.sum(np.abs(dt @ l))
    val += lc * np.linalg.svd(_cas(l), compute_uv=False).sum()
    val += ls * np.linalg.svd(_spa(l), compute_uv=False).sum()
    val += g * np.sum(np.abs(e))
    return val


def _soft(v, t):
    m = np.abs(v)
    return v * np.maximum(1 - t / np.maximum(m, 1e-300), 0)


def _svt(m, t):
    u, s, vh = np.linalg.svd(m, full_matrices=False)
    return (u * np.maximum(s - t, 0)) @ vh


def _admm(a, dy, dx, dt, yv, w, rho=1.0, iters=6000):
    """Scaled ADMM: splits z1 = (Dy L, Dx L), z2 = Dt L, z3 = C(L), z4 = U(L), z5 = E; the
    (L, E) update is an exact dense linear solve."""
    lc, ls, mxy, mt, g = w
    n = a.shape[1]
    use_e = g > 0  # gamma = 0 removes E from the model (as in RDLEDM)
    b = np.hstack([a, a]) if use_e else np.hstack([a, np.zeros_like(a)])
    kl = dy.conj().T @ dy + dx.conj().T @ dx + dt.conj().T @ dt + 2 * np.eye(n)  # C^H C = U^H U = I
    h = b.conj().T @ b + rho * np.block([[kl, np.zeros((n, n))], [np.zeros((n, n)), np.eye(n)]])
    hinv = np.linalg.inv(h)
    l = np.zeros(n, complex)
    e = np.zeros(n, complex)
    z = [
        np.zeros(n, complex),
        np.zeros(n, complex),
        np.zeros(n, complex),
        np.zeros((NY * NX, T), complex),
        np.zeros((NY, T * NX), complex),
        np.zeros(n, complex),
    ]
    u = [np.zeros_like(zi) for zi in z]
    for _ in range(iters):
        rl = (
            dy.conj().T @ (z[0] - u[0])
            + dx.conj().T @ (z[1] - u[1])
            + dt.conj().T @ (z[2] - u[2])
            + _cas_t(z[3] - u[3])
            + _spa_t(z[4] - u[4])
        )
        rhs = b.conj().T @ yv + rho * np.concatenate([rl, z[5] - u[5]])
        sol = hinv @ rhs
        l, e = sol[:n], sol[n:] if use_e else np.zeros(n, complex)
        k = [dy @ l, dx @ l, dt @ l, _cas(l), _spa(l), e]
        v = [k[i] + u[i] for i in range(6)]
        nrm = np.sqrt(np.abs(v[0]) ** 2 + np.abs(v[1]) ** 2)
        shrink = np.maximum(1 - (mxy / rho) / np.maximum(nrm, 1e-300), 0)
        z = [
            v[0] * shrink,
            v[1] * shrink,
            _soft(v[2], mt / rho),
            _svt(v[3], lc / rho),
            _svt(v[4], ls / rho),
            _soft(v[5], g / rho),
        ]
        u = [u[i] + k[i] - z[i] for i in range(6)]
    return l, e


def _compare_with_admm(weights, pd_iters, admm_iters, rho, obj_rtol, x_rtol, **solver):
    x, mask, op, y = _dense_problem()
    a, dy, dx, dt = _dense_ops(mask)
    yv = y.numpy().ravel()
    # sanity: the dense forward model equals the operator
    np.testing.assert_allclose(
        a @ x.numpy().ravel(), op(x.to(torch.complex128)).numpy().ravel(), atol=1e-12
    )
    l_ref, e_ref = _admm(a, dy, dx, dt, yv, weights, rho=rho, iters=admm_iters)
    f_ref = _objective(l_ref, e_ref, a, dy, dx, dt, yv, weights)
    lc, ls, mxy, mt, g = weights
    cfg = RDLEDMConfig(
        lambda_casorati=lc,
        lambda_spatial=ls,
        mu_xy=mxy,
        mu_t=mt,
        gamma=g,
        max_iter=pd_iters,
        tol=1e-13,
        svd_method="svd",
        objective_every=100,
        **solver,
    )
    res = RDLEDM(cfg).reconstruct(y, op)
    l_pd, e_pd = res.L.numpy().ravel(), res.E.numpy().ravel()
    f_pd = _objective(l_pd, e_pd, a, dy, dx, dt, yv, weights)
    assert abs(f_pd - f_ref) <= obj_rtol * abs(f_ref)
    x_ref = l_ref + e_ref
    if x_rtol is not None:
        assert np.linalg.norm(l_pd + e_pd - x_ref) <= x_rtol * np.linalg.norm(x_ref)
    # the library objective agrees with the dense one
    assert RDLEDM(cfg).objective(res.L, res.E if g > 0 else None, y, op) == pytest.approx(
        f_pd, rel=1e-10
    )
    hist = res.history
    assert len(hist["objective"]) == hist["iterations"] == len(hist["time"])
    return f_pd, f_ref


def test_pdhg_reaches_admm_optimum():
    """All four L terms, no E: the problem is well conditioned and both solvers agree closely."""
    _compare_with_admm(
        (0.05, 0.04, 0.02, 0.03, 0.0),
        pd_iters=1500,
        admm_iters=2000,
        rho=1.0,
        obj_rtol=1e-8,
        x_rtol=1e-5,
    )


@pytest.mark.slow
def test_pdhg_reaches_admm_optimum_with_error_term():
    """With the sparse error E both converge slowly (O(1/k)) and the minimiser is not unique in
    practice (the objective is nearly flat along directions that trade L against E where A does not
    see them; observed: objectives within 1e-5 while X differs by ~13 %). So only the optimal value
    is compared: long runs (PDHG block-preconditioned, τ/σ = 30, fixed steps) agree to 1e-5."""
    _compare_with_admm(
        (0.05, 0.04, 0.02, 0.03, 0.01),
        pd_iters=20000,
        admm_iters=30000,
        rho=0.03,
        obj_rtol=1e-5,
        x_rtol=None,
        preconditioned=True,
        step_ratio=30.0,
        adaptive=False,
    )


def test_zero_weights_remove_terms():
    x, mask, op, y = _dense_problem(1)
    cfg = RDLEDMConfig(lambda_casorati=0.1, lambda_spatial=0.0, mu_xy=0.0, mu_t=0.0, gamma=0.0)
    k = RDLEDM(cfg).build_operator(op)
    assert len(k.ops) == 2  # data + Casorati only, primal is L alone
    k_full = RDLEDM(RDLEDMConfig()).build_operator(op)
    assert len(k_full.ops) == 5 and isinstance(k_full.ishape[0], tuple)
    # with every weight 0 the problem is least squares: PDHG converges to A^H y (A^H A is a
    # projection here) -- the zero-filled solution
    cfg0 = dataclasses.replace(cfg, lambda_casorati=0.0, max_iter=3000, tol=1e-12)
    res = RDLEDM(cfg0).reconstruct(y, op, x0=torch.zeros(op.ishape, dtype=torch.complex128))
    torch.testing.assert_close(res.x, zero_filled(y, op), atol=1e-8, rtol=0)
    assert torch.count_nonzero(res.E) == 0


def test_low_rank_only_matches_rdledm_config():
    x, mask, op, y = _dense_problem(2)
    a = low_rank_only(y, op, 0.2, RDLEDMConfig(max_iter=50))
    cfg = RDLEDMConfig(lambda_casorati=0.2, lambda_spatial=0, mu_xy=0, mu_t=0, gamma=0, max_iter=50)
    b = RDLEDM(cfg).reconstruct(y, op)
    torch.testing.assert_close(a.x, b.x)


def test_bad_input():
    x, mask, op, y = _dense_problem()
    with pytest.raises(ValueError, match="mu_t"):
        RDLEDMConfig(mu_t=-0.1)
    with pytest.raises(ValueError, match="gamma"):
        RDLEDMConfig(gamma=float("nan"))
    with pytest.raises(ValueError, match="shape"):
        RDLEDM().reconstruct(y[:, :, :-1], op)
    bad = y.clone()
    bad[0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        RDLEDM().reconstruct(bad, op)
    with pytest.raises(TypeError, match="Linop"):
        RDLEDM().reconstruct(y, "not an operator")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_rdledm_gpu_matches_cpu():
    x, mask, op, y = _dense_problem()
    cfg = RDLEDMConfig(max_iter=50, svd_method="svd")
    cpu = RDLEDM(cfg).reconstruct(y, op)
    gpu = RDLEDM(cfg).reconstruct(y.cuda(), MaskedFourier(mask.cuda()))
    assert gpu.x.device.type == "cuda"
    torch.testing.assert_close(gpu.x.cpu(), cpu.x, atol=1e-8, rtol=0)


def test_preconditioned_steps_reach_same_optimum():
    """Block-diagonal (Pock-Chambolle) steps converge to the ADMM-verified optimum as well."""
    x, mask, op, y = _dense_problem()
    a, dy, dx, dt = _dense_ops(mask)
    w = (0.05, 0.04, 0.02, 0.03, 0.0)
    l_ref, _ = _admm(a, dy, dx, dt, y.numpy().ravel(), w, rho=1.0, iters=2000)
    cfg = RDLEDMConfig(
        lambda_casorati=w[0],
        lambda_spatial=w[1],
        mu_xy=w[2],
        mu_t=w[3],
        gamma=0.0,
        max_iter=1500,
        tol=1e-12,
        svd_method="gram",
        preconditioned=True,
        objective_every=0,
    )
    res = RDLEDM(cfg).reconstruct(y, op)
    assert np.linalg.norm(res.x.numpy().ravel() - l_ref) <= 1e-5 * np.linalg.norm(l_ref)
    assert all(np.isnan(v) for v in res.history["objective"])  # objective_every=0: not evaluated
