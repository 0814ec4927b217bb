"""Partially separable model (PSM) of an image sequence: ``f_t = Σ_k Λ_k ψ_k(t)``.

Spatial basis ``Λ`` ``(R, n, n)`` (``R = K + 1``) multiplied by a field-of-view mask; temporal
basis ``Ψ = z Bᵀ`` ``(R, P)`` where ``z`` ``(R, d)`` are latent knot values and ``B``
``(P, d)`` the fixed cubic-spline interpolation matrix (:func:`spline_matrix`).
"""

from __future__ import annotations

import torch
from torch import nn

from .splines import spline_matrix


def fov_mask(n: int, dtype=torch.float64, device=None) -> torch.Tensor:
    """Disc inscribed in the ``n × n`` image (the field of view of a full rotation), ``(n, n)``."""
    c = (n - 1) / 2.0
    r = torch.arange(n, dtype=torch.float64, device=device) - c
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    return ((xx**2 + yy**2) <= (n / 2.0) ** 2).to(dtype)


class PSM(nn.Module):
    """``forward()`` returns the sequence ``(P, n, n)``; ``temporal()`` the basis ``Ψ (R, P)``.

    Args:
        frames: ``P`` instants. n: image side. rank: ``R = K + 1`` (``1 <= R <= d <= P``).
        knots: ``d`` spline knots (``4 <= d <= P``). use_fov_mask: multiply ``Λ`` by
        :func:`fov_mask`. seed: initialisation (``ψ_0 ≡ 1``, other knot values ``N(0, 0.1²)``,
        ``Λ`` ``N(0, 1e-3²)``).
    """

    def __init__(
        self,
        frames: int,
        n: int,
        rank: int,
        knots: int,
        *,
        use_fov_mask: bool = True,
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        if not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank (K+1) must be a positive int, got {rank!r}")
        if rank > frames:
            raise ValueError(
                f"rank (K+1) = {rank} is larger than the number of instants P = {frames}; "
                "the temporal basis would be rank deficient"
            )
        bmat = spline_matrix(frames, knots, dtype=dtype, device=device)
        if rank > knots:  # Ψ = z Bᵀ with z (R, d) has rank at most d
            raise ValueError(
                f"rank (K+1) = {rank} is larger than the number of spline knots d = {knots}; "
                "the temporal basis Ψ = z Bᵀ would be rank deficient"
            )
        gen = torch.Generator().manual_seed(int(seed))
        z = 0.1 * torch.randn(rank, knots, generator=gen, dtype=torch.float64)
        z[0] = 1.0
        lam = 1e-3 * torch.randn(rank, n, n, generator=gen, dtype=torch.float64)
        self.spatial = nn.Parameter(lam.to(dtype=dtype, device=device))
        self.z = nn.Parameter(z.to(dtype=dtype, device=device))
        self.register_buffer("bmat", bmat)
        mask = (
            fov_mask(n, dtype, device)
            if use_fov_mask
            else torch.ones(n, n, dtype=dtype, device=device)
        )
        self.register_buffer("mask", mask)
        self.frames, self.n, self.rank, self.knots = frames, n, rank, knots

    def temporal(self) -> torch.Tensor:
        """Temporal basis ``Ψ = z Bᵀ`` ``(R, P)``."""
        return self.z @ self.bmat.T

    def spatial_basis(self) -> torch.Tensor:
        """Masked spatial basis ``Λ ⊙ mask`` ``(R, n, n)``."""
        return self.spatial * self.mask

    def forward(self) -> torch.Tensor:
        return torch.einsum("rp,rij->pij", self.temporal(), self.spatial_basis())
