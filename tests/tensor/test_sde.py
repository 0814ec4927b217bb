"""The Matérn SDE chain reproduces the dense Matérn kernel (gpytorch) over index points."""

import gpytorch
import pytest
import torch

from sciml.tensor.sde import discretise, matern_sde, state_dim


def _chain_cov(sde, t):
    """Covariance of H x(t_i) over sorted points t, built only from the chain (A, Pinf)."""
    S = t.shape[0]
    K = torch.empty(S, S, dtype=t.dtype)
    H = sde.H.to(t.dtype)
    for i in range(S):
        A, _ = discretise(sde, (t[i:] - t[i]))
        # Cov(x_j, x_i) = A(t_j - t_i) Pinf for j >= i
        c = (H @ A @ sde.Pinf @ H.T)[:, 0, 0]
        K[i, i:] = c
        K[i:, i] = c
    return K


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
def test_sde_covariance_equals_dense_matern(nu):
    g = torch.Generator().manual_seed(0)
    t = torch.sort(torch.rand(40, generator=g, dtype=torch.float64) * 2.0).values
    ell, s2 = 0.37, 1.7
    kern = gpytorch.kernels.ScaleKernel(gpytorch.kernels.MaternKernel(nu=nu)).double()
    kern.base_kernel.lengthscale = ell
    kern.outputscale = s2
    # gpytorch stores the values through a softplus (rounding at ~1e-8): read them back
    ell, s2 = kern.base_kernel.lengthscale.item(), kern.outputscale.item()
    sde = matern_sde(nu, ell, s2)
    # row by row: gpytorch centres x1 on its mean, so with a single x1 point its squared-norm
    # distance trick is exact (a full matrix call loses ~1e-8 to cancellation)
    with torch.no_grad():
        Kd = torch.cat([kern(t[i : i + 1, None], t[:, None]).to_dense() for i in range(len(t))])
    Kc = _chain_cov(sde, t)
    assert torch.allclose(Kc, Kd, atol=1e-10, rtol=0)
    assert state_dim(nu) == sde.dim


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
def test_pinf_solves_lyapunov(nu):
    sde = matern_sde(nu, 0.5, 2.0)
    res = sde.F @ sde.Pinf + sde.Pinf @ sde.F.T + sde.L @ sde.Qc @ sde.L.T
    assert res.abs().max() < 1e-9 * sde.Qc.abs().max()


def test_bad_arguments():
    with pytest.raises(ValueError, match="nu"):
        matern_sde(1.0, 0.1)
    with pytest.raises(ValueError, match="lengthscale"):
        matern_sde(0.5, -1.0)
    with pytest.raises(ValueError, match="variance"):
        matern_sde(0.5, 1.0, 0.0)
