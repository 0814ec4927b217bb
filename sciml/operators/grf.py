"""Gaussian random fields with covariance σ²(−Δ + τ²)^(−α) on the unit square / unit torus."""

from __future__ import annotations

import math

import numpy as np


def _check_grf_args(n_samples: int, size: int, alpha: float, tau: float) -> None:
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 1:
        raise ValueError(f"n_samples: expected an int >= 1, got {n_samples!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < 2:
        raise ValueError(f"size: expected an int >= 2 (points per side), got {size!r}")
    if not (alpha > 1.0 and math.isfinite(alpha)):
        raise ValueError(f"alpha: expected a finite float > 1 (smoothness), got {alpha!r}")
    if not (tau > 0.0 and math.isfinite(tau)):
        raise ValueError(f"tau: expected a finite float > 0 (inverse length scale), got {tau!r}")


def grf_neumann(
    n_samples: int, size: int, *, alpha: float = 2.0, tau: float = 3.0, seed: int | None = 0
) -> np.ndarray:
    """Zero-mean GRF on [0, 1]² with Neumann cosine eigenfunctions, sampled at the nodes.

    ``g(x, y) = Σ_{k≠0} ξ_k √λ_k cos(π k₁ x) cos(π k₂ y)``, ``λ_k = σ² (π²|k|² + τ²)^(−α)``,
    ``σ = τ^(α − 1)``, ``ξ_k ~ N(0, 1)`` (the FNO Darcy convention). The sum over
    ``0 ≤ k₁, k₂ < size`` is a DCT-I on the ``size`` nodes ``x_i = i / (size − 1)``, evaluated
    as two dense products (exact, and fast at these sizes).

    Returns:
        float64 array (n_samples, size, size), axis 1 = x, axis 2 = y.
    """
    _check_grf_args(n_samples, size, alpha, tau)
    rng = np.random.default_rng(seed)
    k = np.arange(size, dtype=np.float64)
    sigma = tau ** (alpha - 1.0)
    kk = k[:, None] ** 2 + k[None, :] ** 2
    sqrt_eig = sigma * (math.pi**2 * kk + tau**2) ** (-alpha / 2.0)
    sqrt_eig[0, 0] = 0.0
    nodes = np.linspace(0.0, 1.0, size)
    basis = np.cos(math.pi * nodes[:, None] * k[None, :])  # (points, modes)
    xi = rng.standard_normal((n_samples, size, size)) * sqrt_eig
    return np.einsum("ik,skl,jl->sij", basis, xi, basis, optimize=True)


def grf_periodic(
    n_samples: int, size: int, *, alpha: float = 2.5, tau: float = 7.0, seed: int | None = 0
) -> np.ndarray:
    """Zero-mean GRF on the unit torus, sampled on ``x_i = i / size``.

    ``g = Re Σ_{k≠0} ξ_k √2 σ (4π²|k|² + τ²)^(−α/2) e^{2πi k·x}``, ``σ = τ^(α − 1)``, complex
    standard normal ``ξ_k``, integer wavenumbers ``|k_i| ≤ size/2`` (the FNO Navier–Stokes
    initial condition).

    Returns:
        float64 array (n_samples, size, size).
    """
    _check_grf_args(n_samples, size, alpha, tau)
    rng = np.random.default_rng(seed)
    k = np.fft.fftfreq(size, d=1.0 / size)
    kk = k[:, None] ** 2 + k[None, :] ** 2
    sigma = tau ** (alpha - 1.0)
    sqrt_eig = math.sqrt(2.0) * sigma * (4 * math.pi**2 * kk + tau**2) ** (-alpha / 2.0)
    sqrt_eig[0, 0] = 0.0
    xi = rng.standard_normal((n_samples, size, size)) + 1j * rng.standard_normal(
        (n_samples, size, size)
    )
    return np.fft.ifft2(xi * sqrt_eig * size**2).real
