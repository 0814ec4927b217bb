"""Matrix unfoldings of an image sequence (Casorati and spatial), as isometric linear operators."""

from __future__ import annotations

import math
from collections.abc import Sequence

from .linop import Identity, Linop


class Unfolding(Linop):
    """Reshape ``x`` of ``shape`` into a matrix whose rows index ``row_axes`` and whose columns
    index the remaining axes (in order). A permutation of entries: ``A^H A = I``.

    Example: for ``x`` of shape ``(T, ny, nx)``, ``row_axes=(1, 2)`` is the Casorati matrix
    ``(ny*nx, T)``; ``row_axes=(1,)`` is the spatial unfolding ``(ny, T*nx)``.
    """

    def __init__(self, shape: Sequence[int], row_axes: Sequence[int]):
        shape = tuple(int(s) for s in shape)
        d = len(shape)
        rows = tuple(sorted(a % d for a in row_axes))
        if not rows or len(set(rows)) != len(rows) or len(rows) == d:
            raise ValueError(
                f"row_axes must be a non-empty proper subset of the axes of {shape}, got {row_axes}"
            )
        cols = tuple(a for a in range(d) if a not in rows)
        self.perm = rows + cols
        self.inv_perm = tuple(self.perm.index(i) for i in range(d))
        self.permuted_shape = tuple(shape[a] for a in self.perm)
        m = math.prod(shape[a] for a in rows)
        n = math.prod(shape[a] for a in cols)
        super().__init__(shape, (m, n), f"Unfolding(rows={rows})")

    def _apply(self, x):
        return x.permute(self.perm).reshape(self.oshape)

    def _adjoint_linop(self):
        return _Folding(self)

    def _normal_linop(self):
        return Identity(self.ishape)


class _Folding(Linop):
    def __init__(self, fwd: Unfolding):
        self.fwd = fwd
        super().__init__(fwd.oshape, fwd.ishape, fwd.repr_str + ".H")

    def _apply(self, y):
        return y.reshape(self.fwd.permuted_shape).permute(self.fwd.inv_perm)

    def _adjoint_linop(self):
        return self.fwd


def casorati(shape: Sequence[int]) -> Unfolding:
    """Casorati unfolding of ``(T, ny, nx)``: ``(ny*nx, T)`` (pixels x frames)."""
    if len(shape) != 3:
        raise ValueError(f"shape must be (T, ny, nx), got {tuple(shape)}")
    return Unfolding(shape, (1, 2))


def spatial_unfolding(shape: Sequence[int]) -> Unfolding:
    """Spatial unfolding of ``(T, ny, nx)``: ``(ny, T*nx)`` (rows x columns·frames)."""
    if len(shape) != 3:
        raise ValueError(f"shape must be (T, ny, nx), got {tuple(shape)}")
    return Unfolding(shape, (1,))
