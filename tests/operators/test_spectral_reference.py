"""Spectral pieces against explicit sums: SpectralConv2d on even grids (Nyquist) with more modes
than the grid holds, GRF spectra (per-mode variances), Fourier band errors on odd grids."""

from __future__ import annotations

import math

import numpy as np
import torch

from sciml.operators import SpectralConv2d, fourier_band_errors, grf_neumann, grf_periodic


def test_spectral_conv_truncates_to_the_grid_like_an_explicit_fourier_sum():
    # 6 × 6 grid, modes = 4 > 6/2: kept k_x = 0, 1, 2 (w_pos[:3]) and −3, −2, −1 (w_neg[1:]),
    # k_y = 0..3 (3 = Nyquist). Reference: y = Σ_kept c_ky Re(X̂ W e^{2πi k·x}) / (nx ny),
    # c = 1 on the k_y = 0 and Nyquist columns, 2 elsewhere (the real field of the half spectrum)
    torch.manual_seed(1)
    nx = ny = 6
    sc = SpectralConv2d(2, 3, 4).double()
    x = torch.randn(2, 2, nx, ny, dtype=torch.float64)
    got = sc(x).detach().numpy()
    wp, wn = (w.detach().numpy() @ np.array([1, 1j]) for w in (sc.w_pos, sc.w_neg))
    xn = x.numpy()
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    ref = np.zeros((2, 3, nx, ny))
    for kx in (0, 1, 2, -3, -2, -1):
        for ky in range(4):
            w = wp[:, :, kx, ky] if kx >= 0 else wn[:, :, 4 + kx, ky]
            phase = np.exp(-2j * math.pi * (kx * gx / nx + ky * gy / ny))
            xhat = (xn * phase).sum(axis=(-2, -1))  # explicit DFT coefficient (B, C_in)
            c = 1 if ky in (0, ny // 2) else 2
            mixed = np.einsum("bi,io->bo", xhat, w)
            ref += c * (mixed[:, :, None, None] * np.conj(phase)).real / (nx * ny)
    np.testing.assert_allclose(got, ref, atol=1e-12)


def test_neumann_grf_mode_variances_match_the_spectrum():
    # invert the cosine expansion g = B ξ̃ Bᵀ on the nodes and compare the per-mode sample
    # variances with λ_k = σ²(π²|k|² + τ²)^(−α), σ = τ^(α−1)
    n, alpha, tau, s = 6, 2.0, 3.0, 4000
    g = grf_neumann(s, n, alpha=alpha, tau=tau, seed=7)
    nodes = np.linspace(0, 1, n)
    b = np.cos(math.pi * nodes[:, None] * np.arange(n)[None])
    binv = np.linalg.inv(b)
    coef = np.einsum("ki,sij,lj->skl", binv, g, binv)
    k2 = np.arange(n)[:, None] ** 2 + np.arange(n)[None] ** 2
    lam = tau ** (2 * (alpha - 1)) * (math.pi**2 * k2 + tau**2) ** (-alpha)
    lam[0, 0] = 0.0
    var = (coef**2).mean(0)
    assert var[0, 0] < 1e-20
    np.testing.assert_allclose(var[k2 > 0], lam[k2 > 0], rtol=0.12)


def test_periodic_grf_mode_power_matches_the_spectrum():
    # g = Re ifft2(N² c ξ) with complex standard normal ξ: E|fft2(g)_k|² = N⁴ c_k² for k ≠ 0,
    # c_k = √2 σ (4π²|k|² + τ²)^(−α/2) (Nyquist modes included)
    n, alpha, tau, s = 8, 2.5, 7.0, 3000
    g = grf_periodic(s, n, alpha=alpha, tau=tau, seed=8)
    power = (np.abs(np.fft.fft2(g)) ** 2).mean(0)
    k = np.fft.fftfreq(n, 1 / n)
    k2 = k[:, None] ** 2 + k[None] ** 2
    c2 = 2 * tau ** (2 * (alpha - 1)) * (4 * math.pi**2 * k2 + tau**2) ** (-alpha)
    assert power[0, 0] < 1e-20 * n**4 * c2[k2 > 0].max()
    np.testing.assert_allclose(power[k2 > 0] / n**4, c2[k2 > 0], rtol=0.12)


def test_band_errors_match_an_explicit_dft_on_an_odd_non_square_grid():
    nx, ny, edges = 9, 7, (2, 3)
    rng = np.random.default_rng(3)
    p, t = rng.standard_normal((2, 2, 3, nx, ny))
    e = p - t
    ref = {"low": np.zeros(2), "mid": np.zeros(2), "high": np.zeros(2)}
    gx, gy = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    for a in range(nx):
        for b in range(ny):
            kx = a if a <= nx // 2 else a - nx
            ky = b if b <= ny // 2 else b - ny
            phase = np.exp(-2j * math.pi * (a * gx / nx + b * gy / ny))
            pw = (np.abs((e * phase).sum(axis=(-2, -1))) ** 2).sum(1) / (nx * ny) ** 2 / 3
            r = math.hypot(kx, ky)
            band = "low" if r < edges[0] else "mid" if r < edges[1] else "high"
            ref[band] += pw
    got = fourier_band_errors(torch.from_numpy(p), torch.from_numpy(t), edges)
    for name in ref:
        np.testing.assert_allclose(got[name].numpy(), np.sqrt(ref[name]), rtol=1e-10)
