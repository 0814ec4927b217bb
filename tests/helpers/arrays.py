"""Array helpers shared by tests: conversion between libraries and relative errors."""

from __future__ import annotations

from typing import Any

import numpy as np

LIBS = ("numpy", "torch", "jax")


def to_lib(x: np.ndarray, lib: str) -> Any:
    """Convert a NumPy array to the given library (float64/complex128 preserved)."""
    if lib == "numpy":
        return np.asarray(x)
    if lib == "torch":
        import torch

        return torch.as_tensor(np.asarray(x))
    if lib == "jax":
        import jax.numpy as jnp

        return jnp.asarray(x)
    raise ValueError(lib)


def to_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def rel_err(a: Any, b: Any) -> float:
    """‖a - b‖ / max(‖b‖, tiny) after conversion to NumPy; shapes must match."""
    a, b = to_numpy(a), to_numpy(b)
    assert a.shape == b.shape, f"shape {a.shape} != {b.shape}"
    return float(np.linalg.norm((a - b).ravel()) / max(np.linalg.norm(b.ravel()), 1e-300))


def random_array(rng: np.random.Generator, shape: tuple[int, ...], complex_: bool) -> np.ndarray:
    x = rng.standard_normal(shape)
    if complex_:
        x = x + 1j * rng.standard_normal(shape)
    return x


def spd(rng: np.random.Generator, n: int, complex_: bool = False) -> np.ndarray:
    m = random_array(rng, (n, n), complex_)
    return m @ m.conj().T + n * np.eye(n)
