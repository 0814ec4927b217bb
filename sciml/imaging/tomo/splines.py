"""Temporal basis of the partially separable model: cubic-spline interpolation as a fixed matrix.

The temporal functions ``ψ_k`` are not free: each is the not-a-knot cubic spline through ``d``
latent knot values ``z_k`` placed uniformly over the ``P`` instants. The spline is linear in the
knot values, so ``Ψ = z Bᵀ`` with a fixed ``(P, d)`` matrix ``B`` (differentiable in ``z``).
The not-a-knot end conditions make the interpolant exact for polynomials of degree ≤ 3.
"""

from __future__ import annotations

import torch


def spline_matrix(
    frames: int,
    knots: int,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Cubic-spline interpolation matrix ``B`` of shape ``(frames, knots)``.

    Knots at ``linspace(0, frames - 1, knots)``, evaluation at the instants ``0..frames-1``;
    not-a-knot end conditions (``knots >= 4``). ``B @ v`` interpolates knot values ``v``.
    """
    if not isinstance(frames, int) or frames < 2:
        raise ValueError(f"frames must be an int >= 2, got {frames!r}")
    if not isinstance(knots, int) or knots < 4:
        raise ValueError(f"knots must be an int >= 4 (cubic not-a-knot spline), got {knots!r}")
    if knots > frames:
        raise ValueError(f"knots ({knots}) must not exceed frames ({frames})")
    d = knots
    xk = torch.linspace(0.0, frames - 1.0, d, dtype=torch.float64)
    h = xk[1:] - xk[:-1]
    # second derivatives m solve E m = F v (v: knot values); rows: not-a-knot, interior, not-a-knot
    e = torch.zeros(d, d, dtype=torch.float64)
    f = torch.zeros(d, d, dtype=torch.float64)
    for i in range(1, d - 1):
        e[i, i - 1], e[i, i], e[i, i + 1] = h[i - 1] / 6, (h[i - 1] + h[i]) / 3, h[i] / 6
        f[i, i - 1], f[i, i], f[i, i + 1] = 1 / h[i - 1], -1 / h[i - 1] - 1 / h[i], 1 / h[i]
    # third derivative continuous at knots 1 and d-2
    e[0, 0], e[0, 1], e[0, 2] = -1 / h[0], 1 / h[0] + 1 / h[1], -1 / h[1]
    e[-1, -3], e[-1, -2], e[-1, -1] = -1 / h[-2], 1 / h[-2] + 1 / h[-1], -1 / h[-1]
    m = torch.linalg.solve(e, f)  # (d, d): second derivatives per unit knot value
    t = torch.arange(frames, dtype=torch.float64)
    seg = torch.clamp(torch.searchsorted(xk, t, right=True) - 1, 0, d - 2)
    x0, x1, hs = xk[seg], xk[seg + 1], h[seg]
    a, b = (x1 - t) / hs, (t - x0) / hs
    eye = torch.eye(d, dtype=torch.float64)
    bmat = (
        a[:, None] * eye[seg]
        + b[:, None] * eye[seg + 1]
        + ((a**3 - a) * hs**2 / 6)[:, None] * m[seg]
        + ((b**3 - b) * hs**2 / 6)[:, None] * m[seg + 1]
    )
    return bmat.to(dtype=dtype, device=device)
