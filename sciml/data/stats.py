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
        arrays: one array of shape (N, ...) or a mapping key -> array; NumPy arrays, torch
            tensors (copied to the host) or lazy views from :func:`open_dataset` (read block by
            block, never loaded whole).
        axis: axes to reduce; must include the sample axis 0. ``0`` gives per-feature
            statistics of shape ``shape[1:]``; e.g. ``(0, 2, 3)`` on (N, C, H, W) gives per-channel
            statistics of shape (C, 1, 1); ``(0,)`` on a (T, C) series gives shape (C,).

    Returns:
        ``{"mean": m, "std": s}`` for one array, or ``{key: {"mean": m, "std": s}}`` for a
        mapping. Reduced axes other than 0 are kept with size 1 and axis 0 is dropped, so the
        statistics broadcast against one sample and against a batch. ``std`` may contain zeros
        (constant features); :func:`normalize` treats those as 1.
    """
    if not (isinstance(axis, int | np.integer) and not isinstance(axis, bool)) and not (
        isinstance(axis, Sequence)
        and not isinstance(axis, str)
        and all(isinstance(a, int | np.integer) and not isinstance(a, bool) for a in axis)
    ):
        raise TypeError(f"axis: expected an int or a sequence of ints, got {axis!r}")
    if isinstance(arrays, Mapping):
        if not arrays:
            raise ValueError("arrays: expected at least one array, got an empty mapping")
        out = {}
        for k, v in arrays.items():
            out[str(k)] = _check_finite_stats(_one(_as_array(v, str(k)), axis, str(k)), str(k))
        return out
    return _check_finite_stats(_one(_as_array(arrays, "array"), axis, "array"), "array")


def _compute_stats(arrays: Any, axis: Axis = 0) -> dict[str, Any]:
    """``compute_stats`` that lets NaN/inf through (the writer's ``allow_nonfinite=True``)."""
    if isinstance(arrays, Mapping):
        return {str(k): _one(v, axis, str(k)) for k, v in arrays.items()}
    return _one(arrays, axis, "array")


def _as_array(arr: Any, name: str) -> Any:
    if hasattr(arr, "detach") and hasattr(arr, "numpy"):  # torch tensor, on any device
        t = arr.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":  # NumPy has no bfloat16; exact in float32
            t = t.float()
        return t.numpy()
    if hasattr(arr, "dtype") and hasattr(arr, "shape"):
        return arr
    if arr is None or isinstance(arr, str | bytes):
        raise TypeError(f"arrays['{name}']: expected an array of shape (N, ...), got {arr!r}")
    return np.asarray(arr)


def _check_finite_stats(st: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    if not (np.isfinite(st["mean"]).all() and np.isfinite(st["std"]).all()):
        raise ValueError(
            f"arrays['{name}']: contains NaN/inf values, so its mean/std are not finite"
        )
    return st


def _safe_std(std: Any, eps: float | None = None) -> Any:
    if eps is not None:  # the FNO/LSM scripts' convention: std + eps everywhere
        return std + eps
    if isinstance(std, np.ndarray | np.generic | float | int):
        return np.where(np.asarray(std) > 0, std, 1.0)
    return std.where(std > 0, std.new_ones(()))  # torch tensor


def _check_args(x: Any, mean: Any, std: Any, eps: float | None, xname: str) -> None:
    for name, v in ((xname, x), ("mean", mean), ("std", std)):
        if v is None or isinstance(v, str | bytes | list | tuple):
            raise TypeError(
                f"{name}: expected a NumPy array, torch tensor or number, got {type(v).__name__}"
            )
    _check_eps(eps)


def _check_eps(eps: Any) -> float | None:
    """``eps`` of :func:`normalize`: None or a finite float >= 0 (returned as a float)."""
    if eps is None:
        return None
    if isinstance(eps, bool) or not isinstance(eps, int | float | np.floating):
        raise TypeError(f"eps: expected None or a float >= 0, got {eps!r}")
    if not (eps >= 0 and np.isfinite(eps)):
        raise ValueError(f"eps: expected None or a finite float >= 0, got {eps!r}")
    return float(eps)


def normalize(x: Any, mean: Any, std: Any, eps: float | None = None) -> Any:
    """``(x - mean) / std`` (NumPy arrays or torch tensors). By default a zero std is replaced
    by 1; with ``eps`` the scale is ``std + eps`` (the FNO/LSM convention, under which a pixel
    that is constant over the training set is scaled by ``eps`` on the way back)."""
    _check_args(x, mean, std, eps, "x")
    return _normalize(x, mean, std, eps)


def denormalize(z: Any, mean: Any, std: Any, eps: float | None = None) -> Any:
    """Inverse of :func:`normalize` with the same ``eps``: ``z * scale + mean``."""
    _check_args(z, mean, std, eps, "z")
    return _denormalize(z, mean, std, eps)


def _normalize(x: Any, mean: Any, std: Any, eps: float | None = None) -> Any:
    """``normalize`` without the argument checks (per-sample use inside the Datasets)."""
    return (x - mean) / _safe_std(std, eps)


def _denormalize(z: Any, mean: Any, std: Any, eps: float | None = None) -> Any:
    """``denormalize`` without the argument checks."""
    return z * _safe_std(std, eps) + mean
