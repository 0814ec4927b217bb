"""Forward finite differences (TV building blocks) along image or time axes."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .linop import Linop, Vstack


def _check_boundary(boundary: str) -> str:
    if boundary not in ("neumann", "periodic"):
        raise ValueError(f"boundary must be 'neumann' or 'periodic', got {boundary!r}")
    return boundary


class FiniteDifference(Linop):
    """``(D x)_i = x_{i+1} - x_i`` along ``axis`` (same output shape as input).

    ``boundary="neumann"``: the last difference is 0 (non-circular TV); ``"periodic"``: wraps.
    """

    def __init__(self, shape: Sequence[int], axis: int, boundary: str = "neumann"):
        shape = tuple(int(s) for s in shape)
        if not -len(shape) <= axis < len(shape):
            raise ValueError(f"axis must index shape {shape}, got {axis}")
        self.axis = axis % len(shape)
        self.boundary = _check_boundary(boundary)
        super().__init__(shape, shape, f"FiniteDifference(axis={self.axis})")

    def _apply(self, x):
        a = self.axis
        if self.boundary == "periodic":
            return torch.roll(x, -1, dims=a) - x
        out = torch.zeros_like(x)
        n = x.shape[a]
        out.narrow(a, 0, n - 1).copy_(x.narrow(a, 1, n - 1) - x.narrow(a, 0, n - 1))
        return out

    def _adjoint_linop(self):
        return _FiniteDifferenceAdjoint(self)


class _FiniteDifferenceAdjoint(Linop):
    def __init__(self, fwd: FiniteDifference):
        self.fwd = fwd
        super().__init__(fwd.ishape, fwd.ishape, f"FiniteDifference(axis={fwd.axis}).H")

    def _apply(self, y):
        a = self.fwd.axis
        if self.fwd.boundary == "periodic":
            return torch.roll(y, 1, dims=a) - y
        n = y.shape[a]
        out = torch.zeros_like(y)
        # (D^H y)_i = y_{i-1} [i >= 1] - y_i [i <= n-2]
        out.narrow(a, 1, n - 1).add_(y.narrow(a, 0, n - 1))
        out.narrow(a, 0, n - 1).sub_(y.narrow(a, 0, n - 1))
        return out

    def _adjoint_linop(self):
        return self.fwd


def gradient(shape: Sequence[int], axes: Sequence[int] = (-2, -1), boundary: str = "neumann"):
    """Stacked forward differences ``x -> (D_{axes[0]} x, D_{axes[1]} x, ...)`` as a
    :class:`~sciml.imaging.linop.Vstack` (block output, one tensor per axis)."""
    return Vstack([FiniteDifference(shape, a, boundary) for a in axes])


class Gradient(Linop):
    """Stacked forward differences as one tensor: ``x -> stack_k D_{axes[k]} x`` with output
    shape ``(len(axes), *shape)`` (the layout isotropic TV groups over, ``dim=0``)."""

    def __init__(self, shape: Sequence[int], axes: Sequence[int] = (-2, -1), boundary="neumann"):
        shape = tuple(int(s) for s in shape)
        self.diffs = [FiniteDifference(shape, a, boundary) for a in axes]
        super().__init__(shape, (len(self.diffs), *shape), "Gradient")

    def _apply(self, x):
        return torch.stack([d._apply(x) for d in self.diffs], dim=0)

    def _adjoint_linop(self):
        return _GradientAdjoint(self)


class _GradientAdjoint(Linop):
    def __init__(self, fwd: Gradient):
        self.fwd = fwd
        super().__init__(fwd.oshape, fwd.ishape, "Gradient.H")

    def _apply(self, y):
        out = self.fwd.diffs[0].H._apply(y[0])
        for k, d in enumerate(self.fwd.diffs[1:], start=1):
            out = out + d.H._apply(y[k])
        return out

    def _adjoint_linop(self):
        return self.fwd
