"""Paired comparison of two forecasters on the same test windows: the ratio of their MSEs with a
circular block bootstrap confidence interval (consecutive windows overlap, so their errors are
correlated; resampling blocks of consecutive windows keeps that correlation)."""

from __future__ import annotations

import numpy as np

__all__ = ["block_bootstrap_means", "mse_ratio_ci"]


def _as_series(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"{name}: expected shape (n,) or (n, m) with n >= 2, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name}: contains non-finite values")
    return a


def block_bootstrap_means(x, block: int, n_boot: int = 2000, seed: int = 0) -> np.ndarray:
    """Circular block bootstrap of the column means of ``x (n, m)`` -> ``(n_boot, m)``.

    Each resample joins ``⌈n / block⌉`` blocks of ``block`` consecutive rows (wrapping around),
    starting at uniform random rows, truncated to n rows; all columns use the same rows (paired).
    """
    a = _as_series(x, "x")
    n = a.shape[0]
    if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= n:
        raise ValueError(f"block: expected an int in [1, n = {n}], got {block!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot: expected an int >= 1, got {n_boot!r}")
    k = -(-n // block)
    last = n - (k - 1) * block  # rows taken from the final block
    csum = np.concatenate([np.zeros((1, a.shape[1])), np.cumsum(np.concatenate([a, a]), 0)])
    starts = np.random.default_rng(seed).integers(0, n, size=(n_boot, k))
    total = (csum[starts[:, :-1] + block] - csum[starts[:, :-1]]).sum(1)
    total += csum[starts[:, -1] + last] - csum[starts[:, -1]]
    return total / n


def mse_ratio_ci(
    window_mse_a,
    window_mse_b,
    block: int,
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, float]:
    """``MSE_a / MSE_b`` over paired windows ``(n,)`` with a percentile block-bootstrap interval.

    Returns ``ratio``, ``lo``, ``hi`` (the ``level`` interval) and ``p_below_one`` (share of
    resamples with ratio < 1, i.e. a ahead). ``block``: windows per block — at least the span over
    which window errors stay correlated (the horizon, and the series' seasonality).
    """
    a, b = _as_series(window_mse_a, "window_mse_a"), _as_series(window_mse_b, "window_mse_b")
    if a.shape != b.shape or a.shape[1] != 1:
        raise ValueError(
            f"window_mse_a, window_mse_b: expected equal shapes (n,), got {a.shape}, {b.shape}"
        )
    if not 0.0 < level < 1.0:
        raise ValueError(f"level: expected in (0, 1), got {level!r}")
    means = block_bootstrap_means(np.concatenate([a, b], 1), block, n_boot, seed)
    ratios = means[:, 0] / means[:, 1]
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    return {
        "ratio": float(a.mean() / b.mean()),
        "lo": float(lo),
        "hi": float(hi),
        "p_below_one": float((ratios < 1).mean()),
    }
