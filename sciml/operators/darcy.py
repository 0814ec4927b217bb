"""Darcy flow −∇·(a ∇u) = f on [0, 1]², u = 0 on the boundary: 5-point finite differences with
face-averaged coefficients, one sparse direct solve per chunk of samples, and the dataset
generator (GRF permeability → pressure)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .grf import grf_neumann

__all__ = ["darcy_operator", "darcy_solve", "generate_darcy", "threshold_permeability"]


def _check_coeff(a: Any) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[1] < 3:
        raise ValueError(
            f"a: expected nodal coefficients (n, n) or (samples, n, n) with n >= 3, got shape "
            f"{a.shape}"
        )
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("a: expected finite, strictly positive coefficients")
    return a


def darcy_operator(a: Any) -> sp.csr_matrix:
    """Matrix of ``u ↦ −∇·(a ∇u)`` on the interior nodes, block diagonal over samples.

    Args:
        a: nodal coefficients (n, n) or (S, n, n) on the nodes ``x_i = i h``, ``h = 1/(n−1)``
            (boundary nodes included; ``u = 0`` there).

    The flux through the face between nodes p and q uses ``(a_p + a_q) / 2``, so the matrix is
    symmetric positive definite. Unknowns are ordered sample, then x (axis 1), then y (axis 2).

    Returns:
        CSR matrix of size S·(n−2)² (float64).
    """
    a = _check_coeff(a)
    s, n = a.shape[0], a.shape[1]
    m = n - 2
    h2 = (1.0 / (n - 1)) ** 2
    c = a[:, 1:-1, 1:-1]
    a_e = 0.5 * (c + a[:, 2:, 1:-1]) / h2  # face x + h/2
    a_w = 0.5 * (c + a[:, :-2, 1:-1]) / h2
    a_n = 0.5 * (c + a[:, 1:-1, 2:]) / h2  # face y + h/2
    a_s = 0.5 * (c + a[:, 1:-1, :-2]) / h2
    idx = np.arange(s * m * m).reshape(s, m, m)
    rows = [idx.ravel()]
    cols = [idx.ravel()]
    vals = [(a_e + a_w + a_n + a_s).ravel()]
    # couplings to interior neighbours (boundary neighbours carry u = 0)
    rows += [idx[:, :-1, :].ravel(), idx[:, 1:, :].ravel()]
    cols += [idx[:, 1:, :].ravel(), idx[:, :-1, :].ravel()]
    vals += [-a_e[:, :-1, :].ravel(), -a_w[:, 1:, :].ravel()]
    rows += [idx[:, :, :-1].ravel(), idx[:, :, 1:].ravel()]
    cols += [idx[:, :, 1:].ravel(), idx[:, :, :-1].ravel()]
    vals += [-a_n[:, :, :-1].ravel(), -a_s[:, :, 1:].ravel()]
    size = s * m * m
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    )


def darcy_solve(a: Any, f: Any = 1.0, *, chunk: int = 64) -> np.ndarray:
    """Solve −∇·(a ∇u) = f, u = 0 on ∂[0, 1]², for every sample.

    Args:
        a: nodal coefficients (n, n) or (S, n, n), positive.
        f: right-hand side: a scalar or nodal values broadcastable to (S, n, n).
        chunk: samples per sparse direct solve (a block-diagonal system, one SuperLU factorisation).

    Returns:
        float64 nodal solution (S, n, n) (or (n, n) for 2-D ``a``), zero on the boundary.
    """
    squeeze = np.asarray(a).ndim == 2
    a = _check_coeff(a)
    s, n = a.shape[0], a.shape[1]
    f = np.broadcast_to(np.asarray(f, dtype=np.float64), a.shape)
    if not np.all(np.isfinite(f)):
        raise ValueError("f: expected finite right-hand side values")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk: expected an int >= 1, got {chunk!r}")
    u = np.zeros((s, n, n))
    for start in range(0, s, chunk):
        sl = slice(start, min(s, start + chunk))
        mat = darcy_operator(a[sl]).tocsc()
        rhs = f[sl, 1:-1, 1:-1].ravel()
        sol = spla.spsolve(mat, rhs)
        u[sl, 1:-1, 1:-1] = sol.reshape(-1, n - 2, n - 2)
    return u[0] if squeeze else u


def threshold_permeability(g: np.ndarray, high: float = 12.0, low: float = 3.0) -> np.ndarray:
    """Piecewise-constant permeability: ``high`` where ``g ≥ 0``, else ``low``."""
    return np.where(g >= 0.0, high, low)


def generate_darcy(
    seed: int,
    *,
    resolution: int = 64,
    n_train: int = 1000,
    n_test: int = 200,
    alpha: float = 2.0,
    tau: float = 3.0,
    high: float = 12.0,
    low: float = 3.0,
    chunk: int = 64,
    progress: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """Darcy dataset generator for :func:`sciml.data.register_dataset` (``fn(seed, **params)``).

    Permeability ``a`` = threshold of a Neumann GRF (``α``, ``τ``), pressure ``u`` solves
    −∇·(a ∇u) = 1 with u = 0 on the boundary, both on ``resolution × resolution`` nodes (boundary included).

    Returns:
        ``{"splits": {"train": {"x": a, "y": u}, "test": {...}}, "kind": "field", "coords": ...}``
        with ``x`` and ``y`` float32 (N, 1, resolution, resolution) and scalar train statistics
        ``stats[key] = {"mean", "std"}`` of shape (1, 1, 1) (broadcast over every pixel).
    """
    if progress is None:
        from tqdm.auto import tqdm

        def progress(it, **kw):
            return tqdm(it, **kw)

    total = n_train + n_test
    g = grf_neumann(total, resolution, alpha=alpha, tau=tau, seed=seed)
    a = threshold_permeability(g, high, low)
    u = np.zeros_like(a)
    starts = range(0, total, chunk)
    for start in progress(starts, desc=f"darcy {resolution}²", total=math.ceil(total / chunk)):
        sl = slice(start, min(total, start + chunk))
        u[sl] = darcy_solve(a[sl], 1.0, chunk=chunk)
    x = a[:, None].astype(np.float32)
    y = u[:, None].astype(np.float32)
    # scalar unit-Gaussian statistics of the train split: per-pixel statistics (FNO's
    # UnitGaussianNormalizer) left FNO stuck at the mean-field solution (rel. L2 0.26) on this
    # data, and scalar statistics also hold at any resolution
    stats = {
        key: {
            "mean": np.full((1, 1, 1), arr[:n_train].mean()),
            "std": np.full((1, 1, 1), arr[:n_train].std()),
        }
        for key, arr in (("x", x.astype(np.float64)), ("y", y.astype(np.float64)))
    }
    nodes = np.linspace(0.0, 1.0, resolution)
    return {
        "splits": {
            "train": {"x": x[:n_train], "y": y[:n_train]},
            "test": {"x": x[n_train:], "y": y[n_train:]},
        },
        "kind": "field",
        "coords": {"x": nodes, "y": nodes},
        "stats": stats,
    }
