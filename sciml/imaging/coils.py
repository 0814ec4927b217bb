"""Synthetic coil sensitivity maps."""

from __future__ import annotations

import math

import torch


def birdcage_maps(
    n_coils: int,
    shape: tuple[int, int],
    radius: float = 1.5,
    dtype: torch.dtype = torch.complex128,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Birdcage-style sensitivities ``(n_coils, ny, nx)``, normalised to unit root-sum-of-squares.

    Coil ``c`` sits at angle ``2 pi c / n_coils`` on a circle of ``radius`` (in units of the
    half field of view); its map is ``exp(i phi) / r`` with ``r`` the distance to the coil.
    """
    if n_coils < 1:
        raise ValueError(f"n_coils must be >= 1, got {n_coils}")
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape must be (ny, nx) with positive sizes, got {shape}")
    if dtype not in (torch.complex64, torch.complex128):
        raise ValueError(f"dtype must be torch.complex64 or torch.complex128, got {dtype}")
    ny, nx = shape
    real = torch.float64 if dtype == torch.complex128 else torch.float32
    c = torch.arange(n_coils, dtype=real, device=device)[:, None, None]
    y = torch.arange(ny, dtype=real, device=device)[None, :, None]
    x = torch.arange(nx, dtype=real, device=device)[None, None, :]
    ang = 2 * math.pi * c / n_coils
    xc = (x - nx / 2) / (nx / 2) - radius * torch.cos(ang)
    yc = (y - ny / 2) / (ny / 2) - radius * torch.sin(ang)
    rr = torch.sqrt(xc**2 + yc**2)
    phi = torch.atan2(xc, -yc) - ang
    maps = torch.polar(1.0 / rr, phi)
    rss = torch.sqrt(torch.sum(maps.abs() ** 2, dim=0, keepdim=True))
    return (maps / rss).to(dtype)
