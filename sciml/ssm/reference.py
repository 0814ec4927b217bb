"""Reference SSM kernels: explicit powers (tests, benchmarks) and repeated squaring (tests,
benchmarks, and ``CompanionConfig(kernel_method="squaring")``, the faster choice on GPUs at
moderate L)."""

from __future__ import annotations

import torch

from ._layer import check_positive_int

__all__ = ["ssm_kernel_naive", "ssm_kernel_squaring"]


def ssm_kernel_naive(A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, L: int) -> torch.Tensor:
    """``K_l = C Aˡ B`` for ``l < L`` by explicit powers (``x ← A x``, L dense matvecs).

    Args: ``A (..., n, n)``, ``B (..., n)``, ``C (..., n)`` (real or complex). Returns ``(..., L)``.
    """
    L = check_positive_int(L, "L")
    if A.shape[-1] != A.shape[-2] or B.shape[-1] != A.shape[-1] or C.shape[-1] != A.shape[-1]:
        raise ValueError(
            f"A, B, C: expected (..., n, n), (..., n), (..., n), got {tuple(A.shape)}, {tuple(B.shape)}, {tuple(C.shape)}"
        )
    x = B
    out = []
    for _ in range(L):
        out.append((C * x).sum(-1))
        x = (A @ x[..., None])[..., 0]
    return torch.stack(out, dim=-1)


def ssm_kernel_squaring(A: torch.Tensor, B: torch.Tensor, C: torch.Tensor, L: int) -> torch.Tensor:
    """``K_l = C Aˡ B`` via the Krylov matrix built by repeated squaring (the public SpaceTime path).

    ``[B, AB, …] ← [X, A^m X]``, ``A^{2m} = A^m A^m``: ``⌈log₂ L⌉`` dense products, memory
    ``O(n L + n²)``. Shapes as :func:`ssm_kernel_naive`.
    """
    L = check_positive_int(L, "L")
    X = B[..., :, None]
    Am = A
    while X.shape[-1] < L:
        X = torch.cat([X, Am @ X], dim=-1)
        if X.shape[-1] < L:
            Am = Am @ Am
    return (C[..., None, :] @ X[..., :L])[..., 0, :]
