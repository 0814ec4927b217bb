"""Matrix-free 5-/7-point stencil apply of a :class:`PoissonSystem` (torch, any device)."""

from __future__ import annotations

import numpy as np
import torch

from sciml.linalg.system import FLUID, SOLID, PoissonSystem, _padded


class StencilOperator:
    """``y = A u`` on the grid without storing A.

    Holds the diagonal (grid) and, per axis, the coupling weight of each +axis fluid–fluid face.
    ``apply`` works on grids (…, *shape) (batched, e.g. (B, 1, N, N)); ``matvec`` on fluid
    vectors (…, n). Output is zero on non-fluid cells.
    """

    def __init__(self, diag: torch.Tensor, weights: list[torch.Tensor], index: torch.Tensor):
        self.diag = diag
        self.weights = weights
        self.index = index
        self.shape = tuple(diag.shape)
        self.ndim = diag.ndim
        self.n = int(index.numel())

    @classmethod
    def from_system(cls, system: PoissonSystem, device=None, dtype=None) -> StencilOperator:
        dtype = dtype or torch.float64
        mask = system.mask
        fluid = mask == FLUID
        padded = _padded(mask, system.boundary)
        diag = np.zeros(mask.shape)
        weights = []
        inner = tuple(slice(1, -1) for _ in range(mask.ndim))
        for ax, h in enumerate(system.spacing):
            w = 1.0 / h**2
            for s in (-1, 1):
                sl = list(inner)
                sl[ax] = slice(1 + s, 1 + s + mask.shape[ax])
                diag += w * (fluid & (padded[tuple(sl)] != SOLID))
            a = [slice(None)] * mask.ndim
            b = [slice(None)] * mask.ndim
            a[ax] = slice(0, -1)
            b[ax] = slice(1, None)
            weights.append(
                torch.as_tensor(w * (fluid[tuple(a)] & fluid[tuple(b)]), dtype=dtype, device=device)
            )
        return cls(
            torch.as_tensor(diag, dtype=dtype, device=device),
            weights,
            torch.as_tensor(system.index, device=device),
        )

    def to(self, device=None, dtype=None) -> StencilOperator:
        return StencilOperator(
            self.diag.to(device=device, dtype=dtype),
            [w.to(device=device, dtype=dtype) for w in self.weights],
            self.index.to(device=device),
        )

    @property
    def fluid(self) -> torch.Tensor:
        """(*shape) bool fluid indicator (the unknowns, including fluid cells whose every
        neighbour is solid: their diagonal is 0, so ``diag > 0`` would miss them)."""
        g = torch.zeros(int(np.prod(self.shape)), dtype=torch.bool, device=self.diag.device)
        g[self.index.to(self.diag.device)] = True
        return g.reshape(self.shape)

    def apply(self, u: torch.Tensor) -> torch.Tensor:
        """A u for grid fields u of shape (…, *shape)."""
        if tuple(u.shape[-self.ndim :]) != self.shape:
            raise ValueError(f"u: expected trailing grid shape {self.shape}, got {tuple(u.shape)}")
        diag = self.diag.to(u.dtype)
        y = diag * u
        nd = u.ndim
        for ax, w in enumerate(self.weights):
            w = w.to(u.dtype)
            d = nd - self.ndim + ax
            lo = u.narrow(d, 0, u.shape[d] - 1)
            hi = u.narrow(d, 1, u.shape[d] - 1)
            # y_i -= w_i u_{i+1} and y_{i+1} -= w_i u_i for every +ax fluid-fluid face i
            y = y - torch.nn.functional.pad(w * hi, _pad_spec(nd, d, (0, 1)))
            y = y - torch.nn.functional.pad(w * lo, _pad_spec(nd, d, (1, 0)))
        return y

    def matvec(self, x: torch.Tensor) -> torch.Tensor:
        """A x for fluid vectors x of shape (…, n)."""
        if x.shape[-1] != self.n:
            raise ValueError(f"x: expected last dimension {self.n} (fluid cells), got {x.shape}")
        lead = tuple(x.shape[:-1])
        g = x.new_zeros((*lead, int(np.prod(self.shape))))
        idx = self.index.to(x.device)
        g[..., idx] = x
        y = self.apply(g.reshape(*lead, *self.shape)).reshape(*lead, -1)
        return y[..., idx]

    __call__ = matvec


def _pad_spec(nd: int, dim: int, pair: tuple[int, int]) -> tuple[int, ...]:
    """F.pad spec padding only ``dim`` (counted from the front) by ``pair``."""
    spec = [0, 0] * (nd - dim)
    spec[-2:] = pair
    return tuple(spec)
