"""Cartesian k-t sampling masks: variable-density random lines and radial-like lines."""

from __future__ import annotations

import math

import torch


def _check_common(shape, accel: float) -> tuple[int, int, int]:
    if len(shape) != 3 or min(int(s) for s in shape) < 1:
        raise ValueError(f"shape must be (frames, ny, nx) with positive sizes, got {tuple(shape)}")
    if not (isinstance(accel, (int, float)) and math.isfinite(accel) and accel >= 1):
        raise ValueError(f"accel must be a finite number >= 1, got {accel!r}")
    return int(shape[0]), int(shape[1]), int(shape[2])


def variable_density_mask(
    shape: tuple[int, int, int],
    accel: float,
    *,
    n_center: int | None = None,
    power: float = 2.0,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Random phase-encode lines (rows ``ky``) with a fully sampled centre, new draw per frame.

    Each frame samples ``round(ny / accel)`` full readout lines: the ``n_center`` central ones
    (default ``max(2, round(0.04 * ny))``, capped by the line budget) plus lines drawn without
    replacement with probability ``∝ (1 - |ky| / (ny/2))^power + 1e-3``.

    Returns a bool tensor ``(frames, ny, nx)``; the same ``seed`` gives the same mask.
    """
    t, ny, nx = _check_common(shape, accel)
    n_lines = max(1, min(ny, round(ny / accel)))
    if n_center is None:
        n_center = max(2, round(0.04 * ny))
    if n_center < 0:
        raise ValueError(f"n_center must be >= 0, got {n_center}")
    n_center = min(n_center, n_lines)
    gen = torch.Generator().manual_seed(int(seed))
    ky = torch.arange(ny, dtype=torch.float64) - ny // 2
    c0 = ny // 2 - n_center // 2
    center = torch.zeros(ny, dtype=torch.bool)
    center[c0 : c0 + n_center] = True
    weights = (1.0 - ky.abs() / (ny / 2)).clamp_min(0.0) ** power + 1e-3
    weights[center] = 0.0
    rows = torch.zeros(t, ny, dtype=torch.bool)
    n_rand = n_lines - n_center
    for f in range(t):
        rows[f] = center
        if n_rand > 0:
            idx = torch.multinomial(weights, n_rand, replacement=False, generator=gen)
            rows[f, idx] = True
    return rows[:, :, None].expand(t, ny, nx).contiguous().to(device)


def radial_mask(
    shape: tuple[int, int, int],
    accel: float,
    *,
    golden: bool = True,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Radial-like spokes through the k-space centre rasterised on the Cartesian grid.

    Each frame uses the smallest number of spokes whose rasterised coverage reaches
    ``1 / accel``; spoke angles advance by the golden angle (``golden=True``) across frames,
    starting from a seeded random angle. Returns bool ``(frames, ny, nx)``.
    """
    t, ny, nx = _check_common(shape, accel)
    gen = torch.Generator().manual_seed(int(seed))
    start = float(torch.rand((), generator=gen, dtype=torch.float64)) * math.pi
    golden_angle = math.pi * (math.sqrt(5) - 1) / 2 if golden else None
    rmax = 0.5 * math.hypot(ny, nx)
    r = torch.arange(-rmax, rmax + 0.25, 0.25, dtype=torch.float64)

    def raster(angles: torch.Tensor) -> torch.Tensor:
        m = torch.zeros(ny, nx, dtype=torch.bool)
        yy = torch.round(ny // 2 + r[None, :] * torch.sin(angles[:, None])).long()
        xx = torch.round(nx // 2 + r[None, :] * torch.cos(angles[:, None])).long()
        ok = (yy >= 0) & (yy < ny) & (xx >= 0) & (xx < nx)
        m[yy[ok], xx[ok]] = True
        return m

    target = 1.0 / accel
    n_spokes = 1
    while n_spokes < 4 * max(ny, nx):
        ang = start + torch.arange(n_spokes, dtype=torch.float64) * math.pi / n_spokes
        if raster(ang).double().mean() >= target:
            break
        n_spokes += 1
    out = torch.zeros(t, ny, nx, dtype=torch.bool)
    for f in range(t):
        offset = start + (f * golden_angle if golden else 0.0)
        ang = offset + torch.arange(n_spokes, dtype=torch.float64) * math.pi / n_spokes
        out[f] = raster(ang)
    return out.to(device)
