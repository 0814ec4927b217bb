"""Linear operators with adjoint ``.H`` and normal ``.N`` (SigPy-style ``linop`` layer).

A :class:`Linop` maps tensors of shape ``ishape`` to tensors of shape ``oshape``. Stacked
operators map to/from *block vectors*: tuples of tensors whose shapes are the tuple of shapes in
``oshape``/``ishape``. Operators are device-agnostic: they follow the device of their input (or of
the tensors they were built from, e.g. a sampling mask).

Algebra: ``A @ B`` (composition), ``A + B``, ``A - B``, ``c * A``, ``A.H``, ``A.N = A.H @ A``,
:class:`Vstack` (``[A; B] x = (A x, B x)``), :class:`Hstack` (``[A, B] (u, v) = A u + B v``), and
:func:`lanczos_norm` (the default of :meth:`Linop.norm`) and :func:`power_norm` for the spectral
norm ``||A||`` from ``A.N``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.linalg import eigh_tridiagonal

from . import _vec
from ._vec import Shape, Vec, is_block_shape


def _shape_str(shape: Shape) -> str:
    if is_block_shape(shape):
        return "(" + ", ".join(_shape_str(s) for s in shape) + ")"
    return str(tuple(shape))


def _normalise_shape(shape: Shape) -> tuple:
    if is_block_shape(shape):
        return tuple(_normalise_shape(s) for s in shape)
    return tuple(int(n) for n in shape)


def _check_vec(x: Vec, shape: tuple, name: str, op: str) -> None:
    if is_block_shape(shape):
        if not isinstance(x, tuple) or len(x) != len(shape):
            got = f"tuple of {len(x)}" if isinstance(x, tuple) else type(x).__name__
            raise TypeError(
                f"{op}: {name} must be a tuple of {len(shape)} tensors with shapes "
                f"{_shape_str(shape)}, got {got}"
            )
        for xi, si in zip(x, shape):
            _check_vec(xi, si, name, op)
        return
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{op}: {name} must be a torch.Tensor, got {type(x).__name__}")
    if tuple(x.shape) != shape:
        raise ValueError(f"{op}: {name} must have shape {shape}, got {tuple(x.shape)}")


class Linop:
    """Base class: subclasses implement ``_apply`` and ``_adjoint_linop``.

    Args:
        ishape: input shape (or tuple of shapes for a block input).
        oshape: output shape (or tuple of shapes for a block output).
    """

    def __init__(self, ishape: Shape, oshape: Shape, repr_str: str | None = None):
        self.ishape = _normalise_shape(ishape)
        self.oshape = _normalise_shape(oshape)
        self.repr_str = repr_str or type(self).__name__

    # -- required -----------------------------------------------------------------------------
    def _apply(self, x: Vec) -> Vec:
        raise NotImplementedError

    def _adjoint_linop(self) -> Linop:
        raise NotImplementedError

    def _normal_linop(self) -> Linop:
        return Compose([self.H, self])

    # -- public ---------------------------------------------------------------------------------
    def apply(self, x: Vec) -> Vec:
        """Apply the operator to ``x`` of shape ``ishape``; returns shape ``oshape``."""
        _check_vec(x, self.ishape, "input", self.repr_str)
        return self._apply(x)

    __call__ = apply

    @property
    def H(self) -> Linop:
        """Adjoint operator (``oshape -> ishape``)."""
        return self._adjoint_linop()

    @property
    def N(self) -> Linop:
        """Normal operator ``A^H A`` (``ishape -> ishape``)."""
        return self._normal_linop()

    def norm(
        self, n_iter: int = 50, tol: float = 1e-8, seed: int = 0, method: str = "lanczos", **kw
    ) -> float:
        """Spectral norm estimate from ``n_iter`` products with ``A.N``: ``method="lanczos"``
        (:func:`lanczos_norm`, default) or ``"power"`` (:func:`power_norm`)."""
        if method == "lanczos":
            return lanczos_norm(self, n_iter=n_iter, tol=tol, seed=seed, **kw)
        if method == "power":
            return power_norm(self, n_iter=n_iter, tol=tol, seed=seed, **kw)
        raise ValueError(f"Linop.norm: method must be 'lanczos' or 'power', got {method!r}")

    def __matmul__(self, other):
        if isinstance(other, Linop):
            return Compose([self, other])
        return self.apply(other)

    def __add__(self, other: Linop) -> Linop:
        return Add([self, other])

    def __sub__(self, other: Linop) -> Linop:
        return Add([self, Scale(other, -1.0)])

    def __neg__(self) -> Linop:
        return Scale(self, -1.0)

    def __mul__(self, c: float) -> Linop:
        if isinstance(c, Linop):
            raise TypeError("use A @ B to compose linear operators")
        return Scale(self, c)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"<{self.repr_str}: {_shape_str(self.ishape)} -> {_shape_str(self.oshape)}>"


class Identity(Linop):
    """Identity on ``shape``."""

    def __init__(self, shape: Shape):
        super().__init__(shape, shape)

    def _apply(self, x):
        return x

    def _adjoint_linop(self):
        return self

    def _normal_linop(self):
        return self


class Zero(Linop):
    """Zero operator ``ishape -> oshape`` (needs a template for dtype/device: uses the input)."""

    def __init__(self, ishape: Shape, oshape: Shape):
        super().__init__(ishape, oshape)

    def _apply(self, x):
        dtype, device = _vec.like(x)
        return _vec.zeros(self.oshape, dtype, device)

    def _adjoint_linop(self):
        return Zero(self.oshape, self.ishape)


def _conj(c):
    """Complex conjugate of a scalar of any kind: Python/NumPy number or 0-d torch tensor."""
    if isinstance(c, torch.Tensor):
        return c.conj().resolve_conj()
    conj = getattr(c, "conjugate", None)
    return conj() if conj is not None else c


class Scale(Linop):
    """``c * A`` for a scalar ``c`` (real or complex)."""

    def __init__(self, op: Linop, c: float | complex):
        if isinstance(c, np.generic):  # torch drops the imaginary part of e.g. np.complex64
            c = c.item()
        self.op, self.c = op, c
        super().__init__(op.ishape, op.oshape, f"{c}*{op.repr_str}")

    def _apply(self, x):
        return _vec.scale(self.op._apply(x), self.c)

    def _adjoint_linop(self):
        return Scale(self.op.H, _conj(self.c))


class Compose(Linop):
    """``ops[0] @ ops[1] @ ... @ ops[-1]`` (the last one is applied first)."""

    def __init__(self, ops: Sequence[Linop]):
        ops = list(ops)
        for a, b in zip(ops[:-1], ops[1:]):
            if a.ishape != b.oshape:
                raise ValueError(
                    f"Compose: cannot compose {a!r} after {b!r}: input shape "
                    f"{_shape_str(a.ishape)} != output shape {_shape_str(b.oshape)}"
                )
        self.ops = ops
        super().__init__(ops[-1].ishape, ops[0].oshape, " @ ".join(o.repr_str for o in ops))

    def _apply(self, x):
        for op in reversed(self.ops):
            x = op._apply(x)
        return x

    def _adjoint_linop(self):
        return Compose([op.H for op in reversed(self.ops)])


class Add(Linop):
    """``sum_i ops[i]`` (same shapes)."""

    def __init__(self, ops: Sequence[Linop]):
        ops = list(ops)
        for op in ops[1:]:
            if op.ishape != ops[0].ishape or op.oshape != ops[0].oshape:
                raise ValueError(f"Add: shape mismatch between {ops[0]!r} and {op!r}")
        self.ops = ops
        super().__init__(ops[0].ishape, ops[0].oshape, " + ".join(o.repr_str for o in ops))

    def _apply(self, x):
        out = self.ops[0]._apply(x)
        for op in self.ops[1:]:
            out = _vec.add(out, op._apply(x))
        return out

    def _adjoint_linop(self):
        return Add([op.H for op in self.ops])


class Vstack(Linop):
    """Vertical stack ``x -> (ops[0] x, ..., ops[-1] x)`` (all ops share ``ishape``)."""

    def __init__(self, ops: Sequence[Linop]):
        ops = list(ops)
        if not ops:
            raise ValueError("Vstack: ops must be a non-empty sequence of Linop")
        for op in ops[1:]:
            if op.ishape != ops[0].ishape:
                raise ValueError(
                    f"Vstack: every operator needs input shape {_shape_str(ops[0].ishape)}, "
                    f"{op!r} has {_shape_str(op.ishape)}"
                )
        self.ops = ops
        super().__init__(ops[0].ishape, tuple(op.oshape for op in ops), "Vstack")

    def _apply(self, x):
        return tuple(op._apply(x) for op in self.ops)

    def _adjoint_linop(self):
        return Hstack([op.H for op in self.ops])

    def _normal_linop(self):
        return Add([op.N for op in self.ops])


class Hstack(Linop):
    """Horizontal stack ``(x_0, ..., x_k) -> sum_i ops[i] x_i`` (all ops share ``oshape``)."""

    def __init__(self, ops: Sequence[Linop]):
        ops = list(ops)
        if not ops:
            raise ValueError("Hstack: ops must be a non-empty sequence of Linop")
        for op in ops[1:]:
            if op.oshape != ops[0].oshape:
                raise ValueError(
                    f"Hstack: every operator needs output shape {_shape_str(ops[0].oshape)}, "
                    f"{op!r} has {_shape_str(op.oshape)}"
                )
        self.ops = ops
        super().__init__(tuple(op.ishape for op in ops), ops[0].oshape, "Hstack")

    def _apply(self, x):
        out = None
        for op, xi in zip(self.ops, x):
            if isinstance(op, Zero):
                continue
            v = op._apply(xi)
            out = v if out is None else _vec.add(out, v)
        if out is None:
            dtype, device = _vec.like(x)
            out = _vec.zeros(self.oshape, dtype, device)
        return out

    def _adjoint_linop(self):
        return Vstack([op.H for op in self.ops])


def _unit_start(op: Linop, n_iter: int, seed: int, dtype, device, name: str) -> Vec:
    """Seeded random unit block vector on ``op.ishape`` (checks ``n_iter`` for ``name``)."""
    if n_iter < 1:
        raise ValueError(f"{name}: n_iter must be >= 1, got {n_iter}")
    gen = torch.Generator().manual_seed(int(seed))
    x = _vec.randn(op.ishape, dtype, device or "cpu", gen)
    return _vec.scale(x, 1.0 / _vec.norm(x))


def power_norm(
    op: Linop,
    n_iter: int = 50,
    tol: float = 1e-8,
    seed: int = 0,
    dtype: torch.dtype = torch.complex128,
    device: torch.device | str | None = None,
) -> float:
    """Spectral norm ``||op||_2`` by power iteration on ``op.N`` from a seeded random start.

    Returns ``sqrt(lambda_max(op^H op))``; stops when the eigenvalue estimate changes by less than
    ``tol`` (relative). The estimate is a lower bound that converges from below.
    """
    x = _unit_start(op, n_iter, seed, dtype, device, "power_norm")
    normal = op.N
    lam = 0.0
    for _ in range(n_iter):
        z = normal._apply(x)
        lam_new = _vec.norm(z)
        if lam_new == 0.0:
            return 0.0
        x = _vec.scale(z, 1.0 / lam_new)
        if abs(lam_new - lam) <= tol * lam_new:
            lam = lam_new
            break
        lam = lam_new
    return float(lam) ** 0.5


def lanczos_norm(
    op: Linop,
    n_iter: int = 50,
    tol: float = 1e-8,
    seed: int = 0,
    dtype: torch.dtype = torch.complex128,
    device: torch.device | str | None = None,
) -> float:
    """Spectral norm ``||op||_2`` by Lanczos on ``op.N`` from a seeded random start.

    Returns the square root of the largest Ritz value of the ``k``-step Lanczos tridiagonal
    (``k <= n_iter`` products with ``op.N``). Like power iteration it is a lower bound (up to
    rounding: Ritz values interlace the spectrum), but its error decays like
    ``exp(-4k sqrt(gap))`` instead of ``exp(-2k gap)``: on the clustered spectra of finite-difference
    operators 50 steps come within ~0.05 % of ``||op||`` where power iteration stops ~1 % short.
    Plain three-term recurrence (no re-orthogonalisation, three vectors in memory): lost
    orthogonality only duplicates converged Ritz values, the largest stays a valid estimate.
    Stops when the largest Ritz value changes by less than ``tol`` (relative) or on an invariant
    subspace (then exact).
    """
    v = _unit_start(op, n_iter, seed, dtype, device, "lanczos_norm")
    normal = op.N
    alpha: list[float] = []
    beta: list[float] = []
    v_prev = None
    lam = 0.0
    scale = 0.0  # running size of op.N (largest |alpha|, beta): the breakdown test is scale-free
    for k in range(n_iter):
        w = normal._apply(v)
        alpha.append(float(_vec.vdot(v, w).real))
        w = _vec.axpby(1.0, w, -alpha[-1], v)
        if v_prev is not None:
            w = _vec.axpby(1.0, w, -beta[-1], v_prev)
        b = _vec.norm(w)
        scale = max(scale, abs(alpha[-1]), b)
        if k == 0:
            lam_new = alpha[0]
        else:
            lam_new = float(
                eigh_tridiagonal(
                    np.array(alpha),
                    np.array(beta),
                    eigvals_only=True,
                    select="i",
                    select_range=(k, k),
                )[0]
            )
        converged = k > 0 and abs(lam_new - lam) <= tol * abs(lam_new)
        lam = lam_new
        if converged or b <= 1e-12 * scale:
            break
        beta.append(b)
        v_prev, v = v, _vec.scale(w, 1.0 / b)
    return max(lam, 0.0) ** 0.5
