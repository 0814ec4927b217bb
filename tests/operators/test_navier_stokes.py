"""Navier–Stokes generator: Taylor–Green decay rate, mean vorticity, advection term, dataset."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.kernels import spectral_derivative
from sciml.operators.grf import grf_periodic
from sciml.operators.navier_stokes import (
    _advection,
    _derivative_symbols,
    generate_navier_stokes,
    kolmogorov_forcing,
    navier_stokes_2d,
)


def _grid(n):
    x = torch.arange(n, dtype=torch.float64) / n
    return torch.meshgrid(x, x, indexing="ij")


def test_taylor_green_decays_at_the_analytic_rate():
    # ψ = sin 2πx sin 2πy ⇒ ω = 8π² ψ, u·∇ω ≡ 0, ω(t) = ω₀ exp(−8π² ν t)
    n, visc, t = 32, 0.01, 1.0
    xx, yy = _grid(n)
    w0 = torch.sin(2 * math.pi * xx) * torch.sin(2 * math.pi * yy)
    errs = []
    for dt in (0.02, 0.01):
        w = navier_stokes_2d(w0, visc=visc, t_final=t, dt=dt, record_steps=4)
        times = torch.arange(1, 5, dtype=torch.float64) * t / 4
        exact = w0[..., None] * torch.exp(-8 * math.pi**2 * visc * times)
        errs.append(((w - exact).abs().max() / w0.abs().max()).item())
    # the decay factor of the last frame equals exp(-8π²νt) to CN accuracy, 2nd order in dt
    assert errs[1] < 1e-5
    assert 3.6 < errs[0] / errs[1] < 4.4


def test_mean_vorticity_is_conserved():
    n = 32
    w0 = (
        torch.from_numpy(grf_periodic(3, n, seed=1)) + torch.tensor([0.3, -1.0, 0.0])[:, None, None]
    )
    w = navier_stokes_2d(
        w0,
        visc=1e-4,
        t_final=2.0,
        record_steps=4,
        forcing=kolmogorov_forcing(n, dtype=torch.float64),
    )
    means = w.mean(dim=(1, 2))
    np.testing.assert_allclose(
        means.numpy(), w0.mean(dim=(1, 2))[:, None].expand(3, 4).numpy(), atol=1e-12
    )
    assert (w[..., -1] - w0).abs().max() > 0.1  # the flow did evolve


def test_advection_term_matches_closed_form():
    # ω = sin 2πx + sin 4πy ⇒ ψ = sin 2πx/(4π²) + sin 4πy/(16π²), u·∇ω = −1.5 cos 2πx cos 4πy
    n = 16
    xx, yy = _grid(n)
    w = torch.sin(2 * math.pi * xx) + torch.sin(4 * math.pi * yy)
    got = _advection(torch.fft.rfft2(w), _derivative_symbols(n, w), n)
    exact = -1.5 * torch.cos(2 * math.pi * xx) * torch.cos(4 * math.pi * yy)
    assert (got - exact).abs().max() < 1e-12


@pytest.mark.parametrize("n", [16, 15])
def test_advection_matches_shared_spectral_derivative(n):
    # reference: ψ from a dense solve of −Δψ = ω − mean(ω) in Fourier space, then u, v, ∇ω by the
    # shared kernel's spectral_derivative (1-D real FFTs along each axis, Nyquist zeroed)
    w = torch.from_numpy(grf_periodic(3, n, seed=2)) + 0.4
    kx = torch.fft.fftfreq(n, d=1 / n, dtype=torch.float64)[:, None]
    ky = torch.fft.fftfreq(n, d=1 / n, dtype=torch.float64)[None]
    k2 = 4 * math.pi**2 * (kx**2 + ky**2)
    psi_hat = torch.fft.fft2(w) / torch.where(k2 == 0, 1.0, k2)
    psi_hat[..., 0, 0] = 0
    psi = torch.fft.ifft2(psi_hat).real
    u = spectral_derivative(psi, 1.0, 1, axis=-1)
    v = -spectral_derivative(psi, 1.0, 1, axis=-2)
    ref = u * spectral_derivative(w, 1.0, 1, axis=-2) + v * spectral_derivative(w, 1.0, 1, axis=-1)
    got = _advection(torch.fft.rfft2(w), _derivative_symbols(n, w), n)
    assert ref.abs().max() > 0.1
    assert (got - ref).abs().max() < 1e-12 * ref.abs().max()


def test_dataset_layout_matches_direct_solve():
    d = generate_navier_stokes(
        0,
        resolution=16,
        visc=1e-3,
        n_train=3,
        n_test=1,
        frames=4,
        t_in=2,
        interval=0.25,
        batch=3,  # two batches (3 + 1): chunking must not change the trajectories
        progress=lambda it, **k: it,
    )
    x, y = d["splits"]["train"]["x"], d["splits"]["train"]["y"]
    assert x.shape == y.shape == (3, 2, 16, 16) and x.dtype == np.float32
    # frames equal a direct solve from the same initial condition
    w0 = torch.from_numpy(grf_periodic(4, 16, seed=0))
    w = navier_stokes_2d(
        w0,
        visc=1e-3,
        t_final=1.0,
        record_steps=4,
        forcing=kolmogorov_forcing(16, dtype=torch.float64),
    )
    np.testing.assert_allclose(y[:, 1], w[:3, :, :, 3].numpy(), rtol=1e-5, atol=1e-6)


def test_navier_stokes_bad_input():
    with pytest.raises(ValueError, match="w0"):
        navier_stokes_2d(torch.zeros(4, 5), visc=1e-3, t_final=1.0)
    with pytest.raises(ValueError, match="visc"):
        navier_stokes_2d(torch.zeros(8, 8), visc=-1.0, t_final=1.0)
    with pytest.raises(ValueError, match="non-finite"):
        navier_stokes_2d(torch.full((8, 8), float("nan")), visc=1e-3, t_final=1.0)


def test_periodic_grf_variance_matches_spectrum():
    # Re(Σ c_k ξ_k e^{2πik·x}) with complex standard normal ξ_k has variance Σ_k c_k²
    n, alpha, tau = 16, 2.5, 7.0
    g = grf_periodic(3000, n, alpha=alpha, tau=tau, seed=4)
    k = np.fft.fftfreq(n, d=1 / n)
    kk = k[:, None] ** 2 + k[None] ** 2
    c2 = 2 * tau ** (2 * (alpha - 1)) * (4 * math.pi**2 * kk + tau**2) ** (-alpha)
    c2[0, 0] = 0
    assert abs(g.var(axis=0).mean() / c2.sum() - 1) < 0.03
    assert abs(g.mean()) < 0.05 * math.sqrt(c2.sum())
