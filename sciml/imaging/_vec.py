"""Arithmetic on "block vectors": a tensor, or a tuple of block vectors (for stacked operators)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

import torch

Vec = Union[torch.Tensor, tuple]  # noqa: UP007  (recursive alias)
Shape = Union[tuple, list]  # noqa: UP007


def is_block_shape(shape: Shape) -> bool:
    """True when ``shape`` is a tuple of shapes (input/output of a stacked operator)."""
    return len(shape) > 0 and isinstance(shape[0], (tuple, list))


def vmap2(fn: Callable, a: Vec, b: Vec) -> Vec:
    if isinstance(a, tuple):
        return tuple(vmap2(fn, ai, bi) for ai, bi in zip(a, b, strict=True))
    return fn(a, b)


def vmap1(fn: Callable, a: Vec) -> Vec:
    if isinstance(a, tuple):
        return tuple(vmap1(fn, ai) for ai in a)
    return fn(a)


def add(a: Vec, b: Vec) -> Vec:
    return vmap2(torch.add, a, b)


def sub(a: Vec, b: Vec) -> Vec:
    return vmap2(torch.sub, a, b)


def scale(a: Vec, s: float) -> Vec:
    return vmap1(lambda t: t * s, a)


def axpby(alpha: float, a: Vec, beta: float, b: Vec) -> Vec:
    """alpha * a + beta * b."""
    return vmap2(lambda u, v: alpha * u + beta * v, a, b)


def vdot(a: Vec, b: Vec) -> torch.Tensor:
    """<a, b> = sum conj(a) * b over all blocks (complex scalar tensor)."""
    if isinstance(a, tuple):
        out = None
        for ai, bi in zip(a, b, strict=True):
            v = vdot(ai, bi)
            out = v if out is None else out + v
        return out
    return torch.sum(a.conj() * b)


def abs2(x: torch.Tensor) -> torch.Tensor:
    """``|x|²`` elementwise (real result). Avoids torch's slow complex ``abs`` on CPU."""
    if x.is_complex():
        return x.real.square() + x.imag.square()
    return x.square()


def cabs(x: torch.Tensor) -> torch.Tensor:
    """``|x|`` elementwise (real result), fast for complex tensors."""
    return abs2(x).sqrt() if x.is_complex() else x.abs()


def tnorm(x: torch.Tensor, dim=None, keepdim: bool = False) -> torch.Tensor:
    """Euclidean norm of a tensor, optionally over ``dim`` (fast for complex tensors)."""
    if dim is None:
        r = torch.view_as_real(x) if x.is_complex() else x
        return torch.linalg.vector_norm(r)
    return abs2(x).sum(dim=dim, keepdim=keepdim).sqrt()


def norm(a: Vec) -> float:
    """Euclidean norm over all blocks."""
    if isinstance(a, tuple):
        return sum(norm(ai) ** 2 for ai in a) ** 0.5
    return float(tnorm(a))


def zeros(shape: Shape, dtype: torch.dtype, device) -> Vec:
    if is_block_shape(shape):
        return tuple(zeros(s, dtype, device) for s in shape)
    return torch.zeros(tuple(shape), dtype=dtype, device=device)


def randn(shape: Shape, dtype: torch.dtype, device, generator: torch.Generator) -> Vec:
    """Standard normal block vector (complex dtypes get independent real and imaginary parts)."""
    if is_block_shape(shape):
        return tuple(randn(s, dtype, device, generator) for s in shape)
    cpu = torch.randn(tuple(shape), dtype=dtype, generator=generator)
    return cpu.to(device)


def like(a: Vec) -> tuple[torch.dtype, torch.device]:
    """dtype and device of the first tensor in a block vector."""
    while isinstance(a, tuple):
        a = a[0]
    return a.dtype, a.device


Steps = Union[float, tuple]  # noqa: UP007


def bmul(a: Vec, s: Steps) -> Vec:
    """``a * s`` with ``s`` a scalar or a tuple of scalars, one per top-level block of ``a``."""
    if isinstance(s, tuple):
        return tuple(scale(ai, si) for ai, si in zip(a, s, strict=True))
    return scale(a, s)


def smap(fn: Callable, s: Steps) -> Steps:
    """Apply ``fn`` to a scalar step or to each entry of a tuple of steps."""
    return tuple(fn(si) for si in s) if isinstance(s, tuple) else fn(s)
