"""Parallel-scan Kalman/RTS marginals equal the dense GP posterior."""

import gpytorch
import pytest
import torch

from sciml.tensor.kalman import kalman_smoother
from sciml.tensor.sde import discretise, matern_sde


def _dense_kernel(nu, ell, s2, t):
    kern = gpytorch.kernels.ScaleKernel(gpytorch.kernels.MaternKernel(nu=nu)).double()
    kern.base_kernel.lengthscale = ell
    kern.outputscale = s2
    assert abs(kern.base_kernel.lengthscale.item() - ell) < 1e-7
    ell_g, s2_g = kern.base_kernel.lengthscale.item(), kern.outputscale.item()
    t_ = t * (ell_g / ell)  # absorb gpytorch's softplus rounding of the lengthscale
    with torch.no_grad():  # row by row: exact distances (see test_sde)
        K = torch.cat([kern(t_[i : i + 1, None], t_[:, None]).to_dense() for i in range(len(t))])
    return K * (s2 / s2_g)


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
@pytest.mark.parametrize("S", [1, 2, 7, 33])
def test_smoother_equals_dense_gp_posterior(nu, S):
    g = torch.Generator().manual_seed(S)
    t = torch.sort(torch.rand(S, generator=g, dtype=torch.float64)).values
    ell, s2 = 0.3, 1.3
    sde = matern_sde(nu, ell, s2)
    d = sde.dim
    dt = torch.cat([t.new_zeros(1), t[1:] - t[:-1]])
    A, Q = discretise(sde, dt)
    # Gaussian pseudo-observations y_j with noise variances r_j; a few states unobserved
    y = torch.randn(S, generator=g, dtype=torch.float64)
    r = 0.05 + 0.5 * torch.rand(S, generator=g, dtype=torch.float64)
    obs = torch.ones(S, dtype=torch.bool)
    obs[1::3] = False
    prec = torch.where(obs, 1.0 / r, torch.zeros_like(r))
    G = torch.zeros(S, d, d, dtype=torch.float64)
    G[:, 0, 0] = prec
    gv = torch.zeros(S, d, dtype=torch.float64)
    gv[:, 0] = prec * y
    res = kalman_smoother(A, Q, sde.Pinf, G, gv)
    # dense: posterior of f at all t given observed subset
    K = _dense_kernel(nu, ell, s2, t)
    io = obs.nonzero()[:, 0]
    Koo = K[io][:, io] + torch.diag(r[io])
    Kao = K[:, io]
    mean = Kao @ torch.linalg.solve(Koo, y[io])
    cov = K - Kao @ torch.linalg.solve(Koo, Kao.T)
    assert torch.allclose(res.mean[:, 0], mean, atol=1e-10)
    assert torch.allclose(res.cov[:, 0, 0], cov.diagonal(), atol=1e-10)
    # lag-one cross-covariance from the RTS gain
    if S > 1:
        cross = (res.gain[:-1] @ res.cov[1:])[:, 0, 0]
        assert torch.allclose(cross, cov.diagonal(1), atol=1e-10)


def test_smoother_coupled_components():
    """Two components coupled through a full 2x2 pseudo-observation precision."""
    g = torch.Generator().manual_seed(3)
    S = 9
    t = torch.sort(torch.rand(S, generator=g, dtype=torch.float64)).values
    sde = matern_sde(1.5, 0.4, 1.0)
    d, R = sde.dim, 2
    dt = torch.cat([t.new_zeros(1), t[1:] - t[:-1]])
    A1, Q1 = discretise(sde, dt)
    eye = torch.eye(R, dtype=torch.float64)
    A = torch.einsum("rq,sij->sriqj", eye, A1).reshape(S, R * d, R * d)
    Q = torch.einsum("rq,sij->sriqj", eye, Q1).reshape(S, R * d, R * d)
    P0 = torch.kron(eye, sde.Pinf)
    B = torch.randn(S, R, R, generator=g, dtype=torch.float64)
    Lam = B @ B.mT + 0.1 * eye
    eta = torch.randn(S, R, generator=g, dtype=torch.float64)
    G = torch.zeros(S, R, d, R, d, dtype=torch.float64)
    G[:, :, 0, :, 0] = Lam
    gv = torch.zeros(S, R, d, dtype=torch.float64)
    gv[:, :, 0] = eta
    res = kalman_smoother(A, Q, P0, G.reshape(S, R * d, R * d), gv.reshape(S, R * d))
    # dense: prior over f = (S*R) block, precision = K^{-1} + blockdiag(Lam)
    K1 = _dense_kernel(1.5, 0.4, 1.0, t)
    Kf = torch.kron(K1, eye)  # index s*R + r
    Lb = torch.block_diag(*Lam)
    post_cov = torch.linalg.inv(torch.linalg.inv(Kf) + Lb)
    post_mean = post_cov @ eta.reshape(-1)
    m = res.mean.reshape(S, R, d)[:, :, 0]
    P = res.cov.reshape(S, R, d, R, d)[:, :, 0, :, 0]
    assert torch.allclose(m.reshape(-1), post_mean, atol=1e-9)
    blocks = torch.stack([post_cov[s * R : (s + 1) * R, s * R : (s + 1) * R] for s in range(S)])
    assert torch.allclose(P, blocks, atol=1e-9)
