"""Validation and conversion of (indices, values) at the public boundary."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch


def check_mode_count(K: int, max_modes: int, model: str) -> None:
    """Tucker models index their core with one einsum letter per mode: a clear error beyond
    ``max_modes`` (a core of R^K entries is out of reach there anyway)."""
    if K > max_modes:
        raise ValueError(
            f"{model}: supports at most {max_modes} modes (one einsum subscript per mode of the "
            f"R^K Tucker core), got K={K}; a CP model has no such limit"
        )


def as_indices(indices, name: str = "indices", K: int | None = None) -> torch.Tensor:
    """(N, K) float tensor (float64 unless a floating tensor is given), on the input's device."""
    if isinstance(indices, torch.Tensor):
        if indices.is_complex() or indices.dtype in (torch.float16, torch.bfloat16):
            raise TypeError(
                f"{name}: expected a real float32/float64 (or integer) tensor, got {indices.dtype}"
            )
        # EP is not differentiated through its inputs: detach so the fit never builds a graph
        X = (indices if indices.is_floating_point() else indices.to(torch.float64)).detach()
    elif isinstance(indices, (np.ndarray, list, tuple)):
        if np.iscomplexobj(indices):
            raise TypeError(f"{name}: expected real index values, got a complex array")
        try:
            X = torch.as_tensor(np.asarray(indices, dtype=np.float64))
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"{name}: expected a numeric (N, K) array, got {type(indices).__name__}"
            ) from e
    else:
        raise TypeError(
            f"{name}: expected a torch.Tensor or numpy array of shape (N, K), got {type(indices).__name__}"
        )
    if X.ndim != 2:
        raise ValueError(f"{name}: expected shape (N, K), got {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one entry, got shape {tuple(X.shape)}")
    if X.shape[1] == 0:
        raise ValueError(f"{name}: expected at least one index column, got shape {tuple(X.shape)}")
    if K is not None and X.shape[1] != K:
        raise ValueError(f"{name}: expected {K} index columns (one per mode), got {X.shape[1]}")
    if not torch.isfinite(X).all():
        bad = int((~torch.isfinite(X)).sum())
        raise ValueError(f"{name}: expected finite index values, got {bad} NaN/inf entries")
    return X


def as_values(y, N: int, like: torch.Tensor, name: str = "y") -> torch.Tensor:
    """(N,) float tensor with ``like``'s dtype/device."""
    if isinstance(y, torch.Tensor):
        if y.is_complex():
            raise TypeError(f"{name}: expected a real tensor, got {y.dtype}")
        v = y.detach()  # EP is not differentiated through its data
    elif isinstance(y, (np.ndarray, list, tuple)):
        try:
            v = torch.as_tensor(np.asarray(y, dtype=np.float64))
        except (TypeError, ValueError) as e:
            raise TypeError(
                f"{name}: expected a numeric array of shape (N,), got {type(y).__name__}"
            ) from e
    else:
        raise TypeError(
            f"{name}: expected a torch.Tensor or numpy array of shape (N,), got {type(y).__name__}"
        )
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(f"{name}: expected shape (N,), got {tuple(v.shape)}")
    if v.shape[0] != N:
        raise ValueError(f"{name}: expected {N} values (one per index row), got {v.shape[0]}")
    v = v.to(dtype=like.dtype, device=like.device)
    if not torch.isfinite(v).all():
        bad = int((~torch.isfinite(v)).sum())
        raise ValueError(f"{name}: expected finite values, got {bad} NaN/inf entries")
    return v


def check_int(name: str, value, minimum: int, allow_none: bool = False) -> None:
    """``value`` is an int >= ``minimum`` (or None when allowed); ValueError naming ``name``."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name}: expected an integer >= {minimum}{extra}, got {value!r}")


def check_lr(lr, name: str = "lr") -> None:
    """A finite learning rate > 0."""
    if (
        isinstance(lr, bool)
        or not isinstance(lr, numbers.Real)
        or not (lr > 0 and math.isfinite(lr))
    ):
        raise ValueError(f"{name}: expected a finite float > 0, got {lr!r}")
