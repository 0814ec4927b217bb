"""DCDM's scale-invariant unsupervised loss ‖b − (qᵀb / qᵀAq) A q‖²."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from sciml.linalg.stencil import StencilOperator
from sciml.linalg.system import FLUID, SOLID


def dcdm_loss(
    q: torch.Tensor, b: torch.Tensor, Aq: torch.Tensor, eps: float = 1e-30
) -> torch.Tensor:
    """Batch mean of ‖b − (qᵀb / qᵀAq) A q‖² for q, b, Aq of shape (B, …).

    Zero exactly when q ∝ A⁻¹b; with c = qᵀb/qᵀAq it equals ‖b‖² − 2c·bᵀAq + c²‖Aq‖².
    """
    if q.shape != b.shape or Aq.shape != b.shape:
        raise ValueError(f"q, b, Aq: expected equal shapes, got {q.shape}, {b.shape}, {Aq.shape}")
    B = q.shape[0]
    qf, bf, Aqf = q.reshape(B, -1), b.reshape(B, -1), Aq.reshape(B, -1)
    coef = (qf * bf).sum(1) / ((qf * Aqf).sum(1) + eps)
    r = bf - coef[:, None] * Aqf
    return (r * r).sum(1).mean()


def apply_cells(u: torch.Tensor, cells: torch.Tensor) -> torch.Tensor:
    """A u with a per-sample operator: ``cells`` (B, 1, *grid) integer cell types (FLUID / SOLID
    / AIR), unit spacing, cells outside the array solid (Neumann walls) — the operator of
    ``build_poisson(cells[i, 0])``. ``u`` (B, 1, *grid); the result is zero off the fluid cells
    (u is read on fluid cells only)."""
    if u.shape != cells.shape:
        raise ValueError(f"u, cells: expected equal shapes, got {u.shape}, {cells.shape}")
    nd = u.ndim - 2
    fluid = (cells == FLUID).to(u.dtype)
    open_ = F.pad((cells != SOLID).to(u.dtype), (1, 1) * nd)  # outside = solid
    u = u * fluid
    # diagonal: number of non-solid neighbours (fluid or air) of each fluid cell
    diag = torch.zeros_like(u)
    for ax in range(nd):
        d = 2 + ax
        inner = open_
        for a2 in range(nd):  # crop the other axes' ghost layers
            if a2 != ax:
                inner = inner.narrow(2 + a2, 1, u.shape[2 + a2])
        diag = diag + inner.narrow(d, 0, u.shape[d]) + inner.narrow(d, 2, u.shape[d])
    y = diag * u
    for ax in range(nd):
        d = 2 + ax
        n = u.shape[d]
        w = fluid.narrow(d, 0, n - 1) * fluid.narrow(d, 1, n - 1)  # fluid–fluid faces
        lo, hi = u.narrow(d, 0, n - 1), u.narrow(d, 1, n - 1)
        spec_hi = [0, 0] * (u.ndim - d)
        spec_hi[-1] = 1
        spec_lo = [0, 0] * (u.ndim - d)
        spec_lo[-2] = 1
        y = y - F.pad(w * hi, spec_hi) - F.pad(w * lo, spec_lo)
    return y * fluid


class DCDMLoss(nn.Module):
    """Loss module for the Trainer: ``loss(q, b)`` with q, b grids (B, 1, *shape).

    With a fixed ``operator`` (the training system's stencil) the target is ``b``; with
    per-sample layouts the target is ``(b, cells)`` (cell-type grids, see :func:`apply_cells`).
    q is masked to fluid cells.
    """

    def __init__(self, operator: StencilOperator | None = None):
        super().__init__()
        self.operator = operator

    def forward(self, q: torch.Tensor, target) -> torch.Tensor:
        if isinstance(target, (tuple, list)):
            b, cells = target
            q = q * (cells == FLUID).to(q.dtype)
            return dcdm_loss(q, b, apply_cells(q, cells))
        if self.operator is None:
            raise ValueError("target: expected (b, cells) when the loss has no fixed operator")
        op = self.operator
        if op.diag.device != q.device or op.diag.dtype != q.dtype:
            op = self.operator = op.to(device=q.device, dtype=q.dtype)
        q = q * op.fluid.to(q.dtype)
        return dcdm_loss(q, target, op.apply(q))
