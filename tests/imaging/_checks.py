"""Reusable checks for linear operators: adjoint identity, linearity, normal operator, dense
matrix (for tiny operators). Every check uses seeded random block vectors."""

from __future__ import annotations

import math

import torch

from sciml.imaging import _vec
from sciml.imaging.linop import Linop


def _rand(shape, gen, dtype=torch.complex128, device="cpu"):
    return _vec.randn(shape, dtype, device, gen)


def check_adjoint(op: Linop, seed: int = 0, rtol: float = 1e-10, device="cpu") -> float:
    """Assert <A x, y> = <x, A^H y> for random complex x, y; returns the relative error."""
    gen = torch.Generator().manual_seed(seed)
    x = _rand(op.ishape, gen, device=device)
    y = _rand(op.oshape, gen, device=device)
    lhs = complex(_vec.vdot(op(x), y))
    rhs = complex(_vec.vdot(x, op.H(y)))
    scale = _vec.norm(op(x)) * _vec.norm(y) + _vec.norm(x) * _vec.norm(op.H(y))
    err = abs(lhs - rhs) / max(scale, 1e-300)
    assert err < rtol, f"{op!r}: adjoint mismatch {lhs} vs {rhs} (rel {err:.2e})"
    return err


def check_linearity(op: Linop, seed: int = 1, rtol: float = 1e-12, device="cpu") -> float:
    """Assert A(a x + b z) = a A x + b A z for random complex scalars and inputs."""
    gen = torch.Generator().manual_seed(seed)
    x = _rand(op.ishape, gen, device=device)
    z = _rand(op.ishape, gen, device=device)
    a, b = 0.7 - 1.3j, -2.1 + 0.4j
    lhs = op(_vec.axpby(a, x, b, z))
    rhs = _vec.axpby(a, op(x), b, op(z))
    err = _vec.norm(_vec.sub(lhs, rhs)) / max(_vec.norm(rhs), 1e-300)
    assert err < rtol, f"{op!r}: not linear (rel {err:.2e})"
    return err


def check_normal(op: Linop, seed: int = 2, rtol: float = 1e-10, device="cpu") -> float:
    """Assert A.N x = A^H (A x)."""
    gen = torch.Generator().manual_seed(seed)
    x = _rand(op.ishape, gen, device=device)
    lhs = op.N(x)
    rhs = op.H(op(x))
    err = _vec.norm(_vec.sub(lhs, rhs)) / max(_vec.norm(rhs), 1e-300)
    assert err < rtol, f"{op!r}: normal mismatch (rel {err:.2e})"
    return err


def check_shapes(op: Linop, device="cpu") -> None:
    """Output shapes and dtype/device of A and A^H follow the declared shapes and the input."""
    gen = torch.Generator().manual_seed(3)
    x = _rand(op.ishape, gen, device=device)
    y = op(x)
    _assert_shape(y, op.oshape)
    _assert_shape(op.H(y), op.ishape)


def _assert_shape(v, shape):
    if isinstance(v, tuple):
        assert len(v) == len(shape)
        for vi, si in zip(v, shape):
            _assert_shape(vi, si)
    else:
        assert tuple(v.shape) == tuple(shape), (tuple(v.shape), shape)


def check_linop(op: Linop, device="cpu") -> None:
    """All generic checks."""
    check_shapes(op, device)
    check_adjoint(op, device=device)
    check_linearity(op, device=device)
    check_normal(op, device=device)


def dense_matrix(op: Linop, dtype=torch.complex128) -> torch.Tensor:
    """Dense matrix of a (tiny, single-tensor) operator by applying it to unit vectors."""
    n = math.prod(op.ishape)
    cols = []
    for j in range(n):
        e = torch.zeros(n, dtype=dtype)
        e[j] = 1
        cols.append(op(e.reshape(op.ishape)).reshape(-1))
    return torch.stack(cols, dim=1)
