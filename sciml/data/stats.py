"""Normalisation statistics (mean/std over chosen axes), computed on the training split only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, overload

import numpy as np

from ._arrays import sample_blocks

__all__ = ["compute_stats", "denormalize", "normalize"]

Axis = int | Sequence[int]


def _axes(axis: Axis, ndim: int, name: str) -> tuple[int, ...]:
    raw = (axis,) if isinstance(axis, int | np.integer) else tuple(axis)
    out = []
    for a in raw:
        if not -ndim <= int(a) < ndim:
            raise ValueError(
                f"axis: expected axes in [-{ndim}, {ndim}) for array '{name}' of ndim {ndim}, "
                f"got {axis!r}"
            )
        out.append(int(a) % ndim)
    if 0 not in out:
        raise ValueError(
            f"axis: statistics must reduce over the sample axis 0, got {axis!r} for '{name}'"
        )
    return tuple(sorted(set(out)))


def _one(arr: Any, axis: Axis, name: str) -> dict[str, np.ndarray]:
    dtype = np.dtype(arr.dtype)
    if dtype.kind not in "biuf":
        raise TypeError(
            f"arrays['{name}']: expected a real numeric array for mean/std, got dtype {dtype}"
        )
    shape = tuple(arr.shape)
    if len(shape) == 0 or shape[0] == 0:
        raise ValueError(f"arrays['{name}']: expected at least one sample, got shape {shape}")
    axes = _axes(axis, len(shape), name)
    count = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    sample_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
    blocks = list(sample_blocks(shape[0], sample_bytes, block_bytes=16 * 1024 * 1024))
    # Two passes (sum, then squared deviations) in float64: exact to rounding, stable.
    total = None
    for sl in blocks:
        part = np.sum(np.asarray(arr[sl]), axis=axes, keepdims=True, dtype=np.float64)
        total = part if total is None else total + part
    mean = total / count
    sq = None
    for sl in blocks:
        dev = np.asarray(arr[sl], dtype=np.float64) - mean
        part = np.sum(dev * dev, axis=axes, keepdims=True)
        sq = part if sq is None else sq + part
    std = np.sqrt(sq / count)
    return {"mean": mean[0], "std": std[0]}


@overload
def compute_stats(
    arrays: Mapping[str, Any], axis: Axis = 0
) -> dict[str, dict[str, np.ndarray]]: ...
@overload
def compute_stats(arrays: Any, axis: Axis = 0) -> dict[str, np.ndarray]: ...


def compute_stats(arrays: Any, axis: Axis = 0) -> dict[str, Any]:
    """Mean and (population, ddof=0) standard deviation over ``axis``, in float64.

    Args:
        arrays: one array of shape (N, ...) or a mapping key -> array; NumPy arrays or lazy
            views from :func:`open_dataset` (read block by block, never loaded whole).
        axis: axes to reduce; must include the sample axis 0. ``0`` gives per-feature
            statistics of shape ``shape[1:]``; e.g. ``(0, 2, 3)`` on (N, C, H, W) gives per-channel
            statistics of shape (C, 1, 1); ``(0,)`` on a (T, C) series gives shape (C,).

    Returns:
        ``{"mean": m, "std": s}`` for one array, or ``{key: {"mean": m, "std": s}}`` for a
        mapping. Reduced axes other than 0 are kept with size 1 and axis 0 is dropped, so the
        statistics broadcast against one sample and against a batch. ``std`` may contain zeros
        (constant features); :func:`normalize` treats those as 1.
    """
    if isinstance(arrays, Mapping):
        return {str(k): _one(v, axis, str(k)) for k, v in arrays.items()}
    return _one(arrays, axis, "array")


def _safe_std(std: Any, eps: float | None = None) -> Any:
    if eps is not None:  # the FNO/LSM scripts' convention: std + eps everywhere
        return std + eps
    if isinstance(std, np.ndarray | np.generic | float | int):
        return np.where(np.asarray(std) > 0, std, 1.0)
    return std.where(std > 0, std.new_ones(()))  # torch tensor


def normalize(x: Any, mean: Any, std: Any, eps: float | None = None) -> Any:
    """``(x - mean) / std`` (NumPy arrays or torch tensors). By default a zero std is replaced
    by 1; with ``eps`` the scale is ``std + eps`` (the FNO/LSM convention, under which a pixel
    that is constant over the training set is scaled by ``eps`` on the way back)."""
    return (x - mean) / _safe_std(std, eps)


def denormalize(z: Any, mean: Any, std: Any, eps: float | None = None) -> Any:
    """Inverse of :func:`normalize` with the same ``eps``: ``z * scale + mean``."""
    return z * _safe_std(std, eps) + mean
