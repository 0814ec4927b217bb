"""DCDM's scale-invariant unsupervised loss ‖b − (qᵀb / qᵀAq) A q‖²."""

from __future__ import annotations

import torch
from torch import nn

from sciml.linalg.stencil import StencilOperator


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


class DCDMLoss(nn.Module):
    """Loss module for the Trainer: ``loss(q, b)`` with q, b grids (B, 1, *shape); A applied
    matrix-free by the stencil of the training system; q is masked to fluid cells."""

    def __init__(self, operator: StencilOperator):
        super().__init__()
        self.operator = operator

    def forward(self, q: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        op = self.operator
        if op.diag.device != q.device or op.diag.dtype != q.dtype:
            op = self.operator = op.to(device=q.device, dtype=q.dtype)
        q = q * op.fluid.to(q.dtype)
        return dcdm_loss(q, b, op.apply(q))
