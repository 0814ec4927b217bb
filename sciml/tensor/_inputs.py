"""Validation and conversion of (indices, values) at the public boundary."""

from __future__ import annotations

import numpy as np
import torch


def as_indices(indices, name: str = "indices", K: int | None = None) -> torch.Tensor:
    """(N, K) float tensor (float64 unless a floating tensor is given), on the input's device."""
    if isinstance(indices, torch.Tensor):
        X = indices if indices.is_floating_point() else indices.to(torch.float64)
    elif isinstance(indices, (np.ndarray, list, tuple)):
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
    if K is not None and X.shape[1] != K:
        raise ValueError(f"{name}: expected {K} index columns (one per mode), got {X.shape[1]}")
    if not torch.isfinite(X).all():
        bad = int((~torch.isfinite(X)).sum())
        raise ValueError(f"{name}: expected finite index values, got {bad} NaN/inf entries")
    return X


def as_values(y, N: int, like: torch.Tensor, name: str = "y") -> torch.Tensor:
    """(N,) float tensor with ``like``'s dtype/device."""
    if isinstance(y, torch.Tensor):
        v = y
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
