"""Exact fast Poisson solves on boxes: ``-Δ_h u = f`` with the 3-/5-/7-point Laplacian.

* ``bc="dirichlet"``: ``f`` lives on the ``n_i`` interior nodes of a vertex-centred grid; ``u = 0`` on
  the (excluded) boundary nodes at distance ``h_i`` beyond each end. Diagonalised by the DST-I,
  eigenvalues ``4 sin²(π k / (2(n+1))) / h²``, ``k = 1..n`` per axis.
* ``bc="neumann"``: cell-centred grid with homogeneous Neumann faces (mirror ghost cells), diagonalised
  by the DCT-II, eigenvalues ``4 sin²(π k / (2n)) / h²``, ``k = 0..n-1``. The operator is singular
  (constants); the solution returned has **zero mean** and solves the problem with the mean of ``f``
  removed (the least-squares solution when ``f`` is incompatible).

Both transforms are computed with FFTs of length ``2(n+1)`` / ``2n`` along each axis, so the solve
runs wherever the array library's FFT runs (CPU or GPU): ``O(N log N)`` time, ``O(N)`` memory.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Literal

from ._backend import Array, backend
from ._checks import check_array, check_finite


def _along_last(be: Any, x: Array, axis: int, fn: Any) -> Array:
    return be.moveaxis(fn(be.moveaxis(x, axis, -1)), -1, axis)


def _dst1(be: Any, x: Array) -> Array:
    """Unnormalised DST-I along the last axis: ``S_k = Σ_m x_m sin(π (m+1)(k+1) / (n+1))``."""
    n = int(x.shape[-1])
    zero = be.zeros(tuple(x.shape[:-1]) + (1,), x.dtype, like=x)
    ext = be.concat([zero, x, zero, -be.flip(x, -1)], -1)
    spec = be.rfft(ext, 2 * (n + 1), -1)
    return -spec[..., 1 : n + 1].imag / 2


def _dct2(be: Any, x: Array) -> Array:
    """Unnormalised DCT-II along the last axis: ``C_k = Σ_m x_m cos(π k (2m+1) / (2n))``."""
    n = int(x.shape[-1])
    spec = be.rfft(be.concat([x, be.flip(x, -1)], -1), 2 * n, -1)[..., :n]
    k = be.arange(n, x.dtype, like=x)
    return (be.exp(-1j * math.pi * k / (2 * n)) * spec).real / 2


def _idct2(be: Any, c: Array) -> Array:
    """Inverse of :func:`_dct2` (a scaled DCT-III)."""
    n = int(c.shape[-1])
    k = be.arange(n, c.dtype, like=c)
    z = c * be.exp(1j * math.pi * k / (2 * n))
    z = be.concat([z, be.zeros(tuple(c.shape[:-1]) + (1,), z.dtype, like=c)], -1)
    return 2 * be.irfft(z, 2 * n, -1)[..., :n]


def _real_solve(be: Any, f: Array, spacing: tuple[float, ...], bc: str) -> Array:
    d = len(spacing)
    axes = list(range(len(f.shape) - d, len(f.shape)))
    lam = None
    for axis, h in zip(axes, spacing):
        n = int(f.shape[axis])
        if bc == "dirichlet":
            k = be.arange(n, f.dtype, like=f) + 1
            lam_ax = (2 * be.sin(math.pi * k / (2 * (n + 1))) / h) ** 2
        else:
            k = be.arange(n, f.dtype, like=f)
            lam_ax = (2 * be.sin(math.pi * k / (2 * n)) / h) ** 2
        shape = [1] * d
        shape[axis - axes[0]] = n
        lam_ax = lam_ax.reshape(tuple(shape))
        lam = lam_ax if lam is None else lam + lam_ax
    if bc == "dirichlet":
        coef = f
        for axis in axes:
            coef = _along_last(be, coef, axis, lambda v: _dst1(be, v))
        coef = coef / lam
        for axis in axes:
            n = int(f.shape[axis])
            coef = _along_last(be, coef, axis, lambda v, n=n: _dst1(be, v) * (2.0 / (n + 1)))
        return coef
    coef = f
    for axis in axes:
        coef = _along_last(be, coef, axis, lambda v: _dct2(be, v))
    # The constant mode (λ = 0) is dropped: zero-mean solution of the mean-free problem.
    coef = coef / be.where(lam == 0, math.inf, lam)
    for axis in axes:
        coef = _along_last(be, coef, axis, lambda v: _idct2(be, v))
    return coef


def poisson_dst(
    f: Array,
    spacing: float | Sequence[float],
    bc: Literal["dirichlet", "neumann"] = "dirichlet",
) -> Array:
    """Solve ``-Δ_h u = f`` exactly on a 1-/2-/3-D box grid (Dirichlet by DST-I, Neumann by DCT-II).

    Args:
        f: right-hand side ``(..., n_1, ..., n_d)``, real or complex; leading dims are a batch.
        spacing: grid spacing ``h`` (a float: ``d = f.ndim``, which must be 1–3) or one spacing per
            axis (a sequence of length ``d`` ∈ {1, 2, 3}: the trailing ``d`` axes; leading ones batch).
        bc: ``"dirichlet"`` or ``"neumann"`` (see the module docstring for the grids).

    Returns:
        ``u`` with the shape and (floating) dtype of ``f``.
    """
    check_array(f, "f")
    be = backend(f)
    if bc not in ("dirichlet", "neumann"):
        raise ValueError(f"bc must be 'dirichlet' or 'neumann', got {bc!r}")
    if isinstance(spacing, numbers.Real):  # Python or NumPy scalar (np.float32(0.1) included)
        spacing = (float(spacing),) * len(f.shape)
    spacing = tuple(float(h) for h in spacing)
    d = len(spacing)
    if d not in (1, 2, 3) or d > len(f.shape):
        raise ValueError(
            f"spacing must give 1-3 grid axes within f's shape {tuple(f.shape)}, got {d} spacings "
            "(pass one spacing per axis to solve a batch)"
        )
    if any(not h > 0 or not math.isfinite(h) for h in spacing):
        raise ValueError(f"spacing must be positive and finite, got {spacing}")
    if any(int(n) < 1 for n in f.shape[len(f.shape) - d :]):
        raise ValueError(
            f"f must have at least one point per grid axis, got shape {tuple(f.shape)}"
        )
    check_finite(f, "f")
    if not be.is_floating(f):
        f = be.astype(f, be.float64)
    if be.is_complex(f):
        return _real_solve(be, f.real, spacing, bc) + 1j * _real_solve(be, f.imag, spacing, bc)
    return _real_solve(be, f, spacing, bc)
