"""Input validation shared by the kernels: every error names the argument and the shapes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._backend import backend, is_traced


def check_array(x: Any, name: str) -> None:
    """``x`` must be an array (NumPy, torch or JAX: anything with a ``shape``); None, strings,
    lists and scalars get a TypeError naming the argument instead of a failure deep inside."""
    if isinstance(x, str) or not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise TypeError(f"{name}: expected a NumPy, torch or JAX array, got {type(x).__name__}")


def check_finite(x: Any, name: str) -> None:
    """Raise ValueError if ``x`` holds NaN/Inf (skipped for JAX tracers, whose values are unknown)."""
    if is_traced(x):
        return
    be = backend(x)
    if not be.all_finite(x):
        raise ValueError(
            f"{name} contains {be.count_nonfinite(x)} non-finite value(s) (shape {tuple(x.shape)})"
        )


def check_factors(factors: Sequence[Any], name: str = "factors", square: bool = False) -> None:
    """Factors must be a non-empty sequence of 2-D arrays (square ones when ``square``)."""
    if isinstance(factors, str) or not isinstance(factors, Sequence) or len(factors) == 0:
        raise ValueError(f"{name} must be a non-empty sequence of 2-D arrays, got {type(factors)}")
    for i, a in enumerate(factors):
        shape = tuple(getattr(a, "shape", ()))
        if len(shape) != 2:
            raise ValueError(f"{name}[{i}] must be 2-D, got shape {shape}")
        if square and shape[0] != shape[1]:
            raise ValueError(f"{name}[{i}] must be square for a solve, got shape {shape}")
        if min(shape) == 0:
            raise ValueError(f"{name}[{i}] has an empty dimension: shape {shape}")
