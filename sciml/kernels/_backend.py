"""Array-library dispatch: one algorithm, three array kinds (torch, JAX, NumPy).

Each kernel asks ``backend(x)`` for a small namespace of the operations it needs. Results stay in the
input's library (and, for torch, on the input's device). JAX is imported lazily so that torch-only
users never pay for it.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

Array = Any  # torch.Tensor | jax.Array | np.ndarray


def _is_torch(x: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def _is_jax(x: Any) -> bool:
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.Array | jax.core.Tracer)


def is_traced(x: Any) -> bool:
    """True for JAX tracers (inside jit/grad/vmap): their values cannot be inspected."""
    jax = sys.modules.get("jax")
    return jax is not None and isinstance(x, jax.core.Tracer)


class _NumpyLike:
    """Shared code for NumPy and jax.numpy, whose APIs coincide on what we use."""

    name = "numpy"

    def __init__(self, xp: Any, fft: Any, linalg: Any, scipy_linalg: Any) -> None:
        self.xp = xp
        self.float64 = xp.float64
        self.fft = fft
        self.linalg = linalg
        self.sla = scipy_linalg

    def asarray(self, x: Any, like: Array | None = None) -> Array:
        return self.xp.asarray(x)

    def result_dtype(self, *arrays: Array) -> Any:
        return self.xp.result_type(*arrays)

    def astype(self, x: Array, dtype: Any) -> Array:
        return x.astype(dtype) if x.dtype != dtype else x

    def is_complex(self, x: Array) -> bool:
        return bool(self.xp.iscomplexobj(x))

    def is_floating(self, x: Array) -> bool:
        return bool(self.xp.issubdtype(x.dtype, self.xp.inexact))

    def real_dtype(self, dtype: Any) -> Any:
        return self.xp.finfo(dtype).dtype

    def complex_dtype(self, dtype: Any) -> Any:
        return self.xp.result_type(dtype, self.xp.complex64)

    def moveaxis(self, x: Array, src: int, dst: int) -> Array:
        return self.xp.moveaxis(x, src, dst)

    def concat(self, arrays: list[Array], axis: int) -> Array:
        return self.xp.concatenate(arrays, axis=axis)

    def swap_last(self, x: Array) -> Array:
        return self.xp.swapaxes(x, -1, -2)

    def swap_first(self, x: Array) -> Array:
        return self.xp.swapaxes(x, 0, 1)

    def flip(self, x: Array, axis: int) -> Array:
        return self.xp.flip(x, axis=axis)

    def zeros(self, shape: tuple[int, ...], dtype: Any, like: Array) -> Array:
        return self.xp.zeros(shape, dtype=dtype)

    def arange(self, n: int, dtype: Any, like: Array) -> Array:
        return self.xp.arange(n, dtype=dtype)

    def conj_t(self, a: Array) -> Array:
        return self.xp.conj(a).T

    def all_finite(self, x: Array) -> bool:
        return bool(self.xp.all(self.xp.isfinite(x)))

    def count_nonfinite(self, x: Array) -> int:
        return int(self.xp.sum(~self.xp.isfinite(x)))

    def rfft(self, x: Array, n: int, axis: int) -> Array:
        return self.fft.rfft(x, n=n, axis=axis)

    def irfft(self, x: Array, n: int, axis: int) -> Array:
        return self.fft.irfft(x, n=n, axis=axis)

    def cfft(self, x: Array, n: int, axis: int) -> Array:
        return self.fft.fft(x, n=n, axis=axis)

    def icfft(self, x: Array, n: int, axis: int) -> Array:
        return self.fft.ifft(x, n=n, axis=axis)

    def fftn_ortho(self, x: Array, axes: tuple[int, ...], inverse: bool) -> Array:
        f = self.fft.ifftn if inverse else self.fft.fftn
        return f(x, axes=axes, norm="ortho")

    def rfftn(self, x: Array, axes: tuple[int, ...]) -> Array:
        return self.fft.rfftn(x, axes=axes)

    def irfftn(self, x: Array, s: tuple[int, ...], axes: tuple[int, ...]) -> Array:
        return self.fft.irfftn(x, s=s, axes=axes)

    def einsum(self, spec: str, *operands: Array) -> Array:
        return self.xp.einsum(spec, *operands)

    def set_block(self, y: Array, index: tuple, value: Array) -> Array:
        """``y`` with ``y[index] = value``, in place."""
        y[index] = value
        return y

    def fftshift(self, x: Array, axes: tuple[int, ...]) -> Array:
        return self.fft.fftshift(x, axes=axes)

    def ifftshift(self, x: Array, axes: tuple[int, ...]) -> Array:
        return self.fft.ifftshift(x, axes=axes)

    def exp(self, x: Array) -> Array:
        return self.xp.exp(x)

    def cos(self, x: Array) -> Array:
        return self.xp.cos(x)

    def sin(self, x: Array) -> Array:
        return self.xp.sin(x)

    def where(self, cond: Array, a: Any, b: Array) -> Array:
        return self.xp.where(cond, a, b)

    def log(self, x: Array) -> Array:
        return self.xp.log(x)

    def eigh(self, a: Array) -> tuple[Array, Array]:
        return self.linalg.eigh(a)

    def slogdet(self, a: Array) -> tuple[Array, Array]:
        return self.linalg.slogdet(a)

    def cho_factor(self, a: Array) -> Array:
        return self.linalg.cholesky(a)

    def cho_solve(self, l_factor: Array, b: Array) -> Array:
        return self.sla.cho_solve((l_factor, True), b)

    def lu_factor(self, a: Array) -> Any:
        return self.sla.lu_factor(a)

    def lu_solve(self, lu: Any, b: Array) -> Array:
        return self.sla.lu_solve(lu, b)

    def lu_singular(self, lu: Any) -> bool:
        """True if the LU factors have a zero or non-finite pivot (the matrix is singular)."""
        pivots = self.xp.diagonal(lu[0])
        return not bool(self.xp.all(self.xp.isfinite(pivots) & (pivots != 0)))

    def cholesky_succeeded(self, l_factor: Array) -> bool:
        return self.all_finite(l_factor)

    def outer_flat(self, a: Array, b: Array, op: str) -> Array:
        out = a[:, None] * b[None, :] if op == "mul" else a[:, None] + b[None, :]
        return out.reshape(-1)

    def sum(self, x: Array) -> Array:
        return self.xp.sum(x)

    def max_abs(self, x: Array) -> float:
        return float(self.xp.max(self.xp.abs(x)))

    def min(self, x: Array) -> Array:
        return self.xp.min(x)


class _NumpyBackend(_NumpyLike):
    name = "numpy"

    def cho_factor(self, a: Array) -> Array:
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            return np.full_like(a, np.nan)

    def lu_factor(self, a: Array) -> Any:
        # a singular matrix is reported by ``lu_singular`` (a ValueError naming the factor)
        # instead of SciPy's LinAlgWarning followed by an error about NaNs in lu_solve
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self.sla.LinAlgWarning)
            return self.sla.lu_factor(a)


class _JaxBackend(_NumpyLike):
    name = "jax"

    def set_block(self, y: Array, index: tuple, value: Array) -> Array:
        """``y`` with ``y[index] = value`` as a new array (JAX arrays are immutable)."""
        return y.at[index].set(value)


class _TorchBackend:
    name = "torch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.float64 = torch.float64

    def asarray(self, x: Any, like: Array | None = None) -> Array:
        t = self.torch
        if like is not None:
            return t.as_tensor(x, device=like.device)
        return t.as_tensor(x)

    def result_dtype(self, *arrays: Array) -> Any:
        dtype = arrays[0].dtype
        for a in arrays[1:]:
            dtype = self.torch.promote_types(dtype, a.dtype)
        return dtype

    def astype(self, x: Array, dtype: Any) -> Array:
        return x.to(dtype) if x.dtype != dtype else x

    def is_complex(self, x: Array) -> bool:
        return x.is_complex()

    def is_floating(self, x: Array) -> bool:
        return x.is_floating_point() or x.is_complex()

    def real_dtype(self, dtype: Any) -> Any:
        return self.torch.empty((), dtype=dtype).real.dtype

    def complex_dtype(self, dtype: Any) -> Any:
        return self.torch.promote_types(dtype, self.torch.complex64)

    def moveaxis(self, x: Array, src: int, dst: int) -> Array:
        return self.torch.movedim(x, src, dst)

    def concat(self, arrays: list[Array], axis: int) -> Array:
        return self.torch.cat(arrays, dim=axis)

    def swap_last(self, x: Array) -> Array:
        return x.transpose(-1, -2)

    def swap_first(self, x: Array) -> Array:
        return x.transpose(0, 1)

    def flip(self, x: Array, axis: int) -> Array:
        return self.torch.flip(x, dims=(axis,))

    def zeros(self, shape: tuple[int, ...], dtype: Any, like: Array) -> Array:
        return self.torch.zeros(shape, dtype=dtype, device=like.device)

    def arange(self, n: int, dtype: Any, like: Array) -> Array:
        return self.torch.arange(n, dtype=dtype, device=like.device)

    def conj_t(self, a: Array) -> Array:
        return a.mH

    def all_finite(self, x: Array) -> bool:
        return bool(self.torch.isfinite(x).all())

    def count_nonfinite(self, x: Array) -> int:
        return int((~self.torch.isfinite(x)).sum())

    def rfft(self, x: Array, n: int, axis: int) -> Array:
        return self.torch.fft.rfft(x, n=n, dim=axis)

    def irfft(self, x: Array, n: int, axis: int) -> Array:
        return self.torch.fft.irfft(x, n=n, dim=axis)

    def cfft(self, x: Array, n: int, axis: int) -> Array:
        return self.torch.fft.fft(x, n=n, dim=axis)

    def icfft(self, x: Array, n: int, axis: int) -> Array:
        return self.torch.fft.ifft(x, n=n, dim=axis)

    def fftn_ortho(self, x: Array, axes: tuple[int, ...], inverse: bool) -> Array:
        f = self.torch.fft.ifftn if inverse else self.torch.fft.fftn
        return f(x, dim=axes, norm="ortho")

    def rfftn(self, x: Array, axes: tuple[int, ...]) -> Array:
        return self.torch.fft.rfftn(x, dim=axes)

    def irfftn(self, x: Array, s: tuple[int, ...], axes: tuple[int, ...]) -> Array:
        return self.torch.fft.irfftn(x, s=s, dim=axes)

    def einsum(self, spec: str, *operands: Array) -> Array:
        return self.torch.einsum(spec, *operands)

    def set_block(self, y: Array, index: tuple, value: Array) -> Array:
        """``y`` with ``y[index] = value``, in place (autograd records it)."""
        y[index] = value
        return y

    def fftshift(self, x: Array, axes: tuple[int, ...]) -> Array:
        return self.torch.fft.fftshift(x, dim=axes)

    def ifftshift(self, x: Array, axes: tuple[int, ...]) -> Array:
        return self.torch.fft.ifftshift(x, dim=axes)

    def exp(self, x: Array) -> Array:
        return self.torch.exp(x)

    def cos(self, x: Array) -> Array:
        return self.torch.cos(x)

    def sin(self, x: Array) -> Array:
        return self.torch.sin(x)

    def where(self, cond: Array, a: Any, b: Array) -> Array:
        return self.torch.where(cond, a, b)

    def log(self, x: Array) -> Array:
        return self.torch.log(x)

    def eigh(self, a: Array) -> tuple[Array, Array]:
        return self.torch.linalg.eigh(a)

    def slogdet(self, a: Array) -> tuple[Array, Array]:
        return self.torch.linalg.slogdet(a)

    def cho_factor(self, a: Array) -> Array:
        l_factor, info = self.torch.linalg.cholesky_ex(a)
        if int(info) != 0:
            return self.torch.full_like(a, float("nan"))
        return l_factor

    def cho_solve(self, l_factor: Array, b: Array) -> Array:
        return self.torch.cholesky_solve(b, l_factor)

    def lu_factor(self, a: Array) -> Any:
        # ``_ex``: a singular matrix is reported by ``lu_singular`` (a ValueError naming the
        # factor) instead of a RuntimeError from inside torch
        lu, pivots, _ = self.torch.linalg.lu_factor_ex(a)
        return lu, pivots

    def lu_solve(self, lu: Any, b: Array) -> Array:
        return self.torch.linalg.lu_solve(lu[0], lu[1], b)

    def lu_singular(self, lu: Any) -> bool:
        """True if the LU factors have a zero or non-finite pivot (the matrix is singular)."""
        pivots = lu[0].diagonal()
        if pivots.device.type == "meta":  # no values to inspect (shape/device propagation)
            return False
        return not bool((self.torch.isfinite(pivots) & (pivots != 0)).all())

    def cholesky_succeeded(self, l_factor: Array) -> bool:
        return self.all_finite(l_factor)

    def outer_flat(self, a: Array, b: Array, op: str) -> Array:
        out = a[:, None] * b[None, :] if op == "mul" else a[:, None] + b[None, :]
        return out.reshape(-1)

    def sum(self, x: Array) -> Array:
        return x.sum()

    def max_abs(self, x: Array) -> float:
        return float(x.detach().abs().max())

    def min(self, x: Array) -> Array:
        """The smallest entry, detached (read as a number for checks, never differentiated)."""
        return x.detach().min()


_CACHE: dict[str, Any] = {}


def backend(x: Any) -> Any:
    """The namespace for ``x``'s array library: torch, JAX, or NumPy (anything else)."""
    if _is_torch(x):
        key = "torch"
    elif _is_jax(x):
        key = "jax"
    else:
        key = "numpy"
    if key not in _CACHE:
        if key == "torch":
            _CACHE[key] = _TorchBackend()
        elif key == "jax":
            import jax.numpy as jnp
            import jax.scipy.linalg as jsla

            _CACHE[key] = _JaxBackend(jnp, jnp.fft, jnp.linalg, jsla)
        else:
            import scipy.linalg as sla

            _CACHE[key] = _NumpyBackend(np, np.fft, np.linalg, sla)
    return _CACHE[key]


def convert_all(be: Any, *arrays: Any) -> list[Array]:
    """``arrays`` in ``be``'s library. Arrays of another library (NumPy) are converted onto the
    device of the first array already in ``be``'s library, never onto the device of a NumPy array
    (which would move a CUDA computation to the CPU)."""
    like = next((a for a in arrays if backend(a).name == be.name), None)
    return [a if backend(a).name == be.name else be.asarray(a, like=like) for a in arrays]


def common_backend(*arrays: Any, names: tuple[str, ...]) -> Any:
    """The backend shared by all arrays; NumPy inputs mixed with torch/JAX are converted."""
    kinds = {backend(a).name for a in arrays}
    kinds.discard("numpy")
    if len(kinds) > 1:
        raise TypeError(f"{', '.join(names)} mix array libraries {sorted(kinds)}; pass one kind")
    for a in arrays:
        if backend(a).name != "numpy":
            return backend(a)
    return backend(arrays[0])
