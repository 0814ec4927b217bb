"""Dense references shared by the FunBaT tests: the closed-form Matérn covariance matrix."""

from __future__ import annotations

import torch


def matern_dense(
    nu: float, ell: float, s2: float, a: torch.Tensor, b: torch.Tensor
) -> torch.Tensor:
    """``k(a_i, b_j)`` for Matérn-ν (½, 3/2, 5/2), lengthscale ``ell``, variance ``s2``: (n, m)."""
    r = (a[:, None] - b[None, :]).abs()
    if nu == 0.5:
        return s2 * torch.exp(-r / ell)
    if nu == 1.5:
        x = 3**0.5 * r / ell
        return s2 * (1 + x) * torch.exp(-x)
    x = 5**0.5 * r / ell
    return s2 * (1 + x + x * x / 3) * torch.exp(-x)
