"""Synthetic stable AR(p) processes, their Bayes-optimal forecasts and the ``ssm-ar`` dataset."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch

__all__ = [
    "ar_forecast_mse",
    "ar_optimal_forecast",
    "generate_ar_dataset",
    "simulate_ar",
    "stable_ar_coefficients",
]


def stable_ar_coefficients(
    p: int, seed: int = 0, radius: tuple[float, float] = (0.5, 0.95)
) -> np.ndarray:
    """Coefficients ``φ (p,)`` of ``x_t = Σ_i φ_i x_{t-i} + ε_t`` with all roots inside the unit disk.

    Roots: conjugate pairs with moduli ``U[radius]`` and angles ``U[0.1, π - 0.1]`` (one real root
    of random sign if p is odd); ``1 - Σ φ_i zⁱ = Π_j (1 - r_j z)``.
    """
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ValueError(f"p: expected an int >= 1, got {p!r}")
    lo, hi = radius
    if not 0 < lo <= hi < 1:
        raise ValueError(f"radius: expected 0 < lo <= hi < 1, got {radius!r}")
    rng = np.random.default_rng(seed)
    roots: list[complex] = []
    for _ in range(p // 2):
        r, th = rng.uniform(lo, hi), rng.uniform(0.1, math.pi - 0.1)
        roots += [r * np.exp(1j * th), r * np.exp(-1j * th)]
    if p % 2:
        roots.append(rng.choice([-1.0, 1.0]) * rng.uniform(lo, hi))
    poly = np.array([1.0 + 0j])
    for r in roots:
        poly = np.convolve(poly, [1.0, -r])
    return -poly[1:].real.copy()


def simulate_ar(
    phi: np.ndarray, T: int, sigma: float = 1.0, seed: int = 0, burn_in: int = 1000
) -> np.ndarray:
    """Sample ``T`` steps of the AR process (after ``burn_in`` discarded steps): ``(T,)`` float64."""
    phi = np.asarray(phi, dtype=np.float64)
    if phi.ndim != 1 or phi.shape[0] == 0 or not np.isfinite(phi).all():
        raise ValueError(
            f"phi: expected a non-empty 1-D array of finite AR coefficients, got {phi!r}"
        )
    if isinstance(T, bool) or not isinstance(T, numbers.Integral) or T < 1:
        raise ValueError(f"T: expected an int >= 1, got {T!r}")
    if isinstance(burn_in, bool) or not isinstance(burn_in, numbers.Integral) or burn_in < 0:
        raise ValueError(f"burn_in: expected an int >= 0, got {burn_in!r}")
    if not (isinstance(sigma, numbers.Real) and math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma: expected a finite number >= 0, got {sigma!r}")
    p = phi.shape[0]
    rng = np.random.default_rng(seed)
    n = T + burn_in + p
    e = rng.normal(0.0, sigma, size=n)
    x = np.zeros(n)
    for t in range(p, n):
        x[t] = phi @ x[t - p : t][::-1] + e[t]
    return x[-T:]


def ar_optimal_forecast(phi: torch.Tensor, history: torch.Tensor, horizon: int) -> torch.Tensor:
    """Bayes-optimal (conditional-mean) forecast: iterate the recursion with zero noise.

    ``phi (p,)``, ``history (..., lag)`` with lag >= p -> ``(..., horizon)``.
    """
    phi = torch.as_tensor(phi, dtype=history.dtype, device=history.device)
    p = phi.shape[0]
    if history.shape[-1] < p:
        raise ValueError(f"history: expected at least p = {p} steps, got {history.shape[-1]}")
    buf = history[..., -p:]
    out = []
    for _ in range(horizon):
        nxt = (buf.flip(-1) * phi).sum(-1, keepdim=True)
        out.append(nxt)
        buf = torch.cat([buf[..., 1:], nxt], dim=-1)
    return torch.cat(out, dim=-1)


def ar_forecast_mse(phi: np.ndarray, sigma: float, horizon: int) -> np.ndarray:
    """Closed-form MSE of the optimal forecast at steps 1..horizon: ``σ² Σ_{j<h} ψ_j²`` (ψ the
    MA(∞) weights). ``(horizon,)``."""
    phi = np.asarray(phi, dtype=np.float64)
    psi = np.zeros(horizon)
    psi[0] = 1.0
    for j in range(1, horizon):
        psi[j] = sum(phi[i] * psi[j - 1 - i] for i in range(min(len(phi), j)))
    return sigma**2 * np.cumsum(psi**2)


def generate_ar_dataset(
    seed: int,
    orders: list[int] = (2, 4, 8, 16),  # type: ignore[assignment]
    n_train: int = 20000,
    n_val: int = 4000,
    n_test: int = 4000,
    sigma: float = 1.0,
) -> dict:
    """Registry generator for ``ssm-ar``: one contiguous series per order, split chronologically.

    Splits hold ``series_p{p}`` (T_split,); coords hold ``phi_p{p}`` (p,) and ``sigma`` (1,).
    """
    splits: dict[str, dict[str, np.ndarray]] = {"train": {}, "val": {}, "test": {}}
    coords: dict[str, np.ndarray] = {"sigma": np.array([float(sigma)])}
    for p in orders:
        phi = stable_ar_coefficients(int(p), seed=seed * 1000 + int(p))
        x = simulate_ar(phi, n_train + n_val + n_test, sigma, seed=seed * 1000 + int(p) + 1)
        splits["train"][f"series_p{p}"] = x[:n_train]
        splits["val"][f"series_p{p}"] = x[n_train : n_train + n_val]
        splits["test"][f"series_p{p}"] = x[n_train + n_val :]
        coords[f"phi_p{p}"] = phi
    return {"splits": splits, "coords": coords, "kind": "timeseries"}
