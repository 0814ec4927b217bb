"""Image-sequence quality metrics: PSNR, SSIM (per frame, averaged), HFEN, relative ℓ2.

Inputs are sequences ``(T, ny, nx)`` (a single ``(ny, nx)`` image is treated as ``T = 1``). For
PSNR/SSIM/HFEN complex inputs are compared in magnitude; the data range is that of the whole
ground-truth sequence (``max - min`` of ``|ref|``), as in the RED-PSM evaluation protocol.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _pair(x, ref, name="x"):
    for nm, v in ((name, x), ("ref", ref)):
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{nm} must be a torch.Tensor, got {type(v).__name__}")
    if x.shape != ref.shape:
        raise ValueError(
            f"{name} and ref must have the same shape, got {tuple(x.shape)} and {tuple(ref.shape)}"
        )
    if x.dim() == 2:
        x, ref = x[None], ref[None]
    if x.dim() != 3:
        raise ValueError(f"{name} must have shape (T, ny, nx) or (ny, nx), got {tuple(x.shape)}")
    return x, ref


def _mag(v: torch.Tensor) -> torch.Tensor:
    return (v.abs() if v.is_complex() else v).to(torch.float64)


def _data_range(ref: torch.Tensor, data_range: float | None) -> float:
    rng = float(ref.max() - ref.min()) if data_range is None else float(data_range)
    if not (math.isfinite(rng) and rng > 0):
        where = "data_range" if data_range is not None else "the range max - min of |ref|"
        raise ValueError(
            f"{where} must be finite and > 0, got {rng} (pass data_range= for a constant ref)"
        )
    return rng


def psnr(x: torch.Tensor, ref: torch.Tensor, data_range: float | None = None) -> float:
    """``10 log10(range² / MSE)`` over the whole sequence (dB)."""
    x, ref = _pair(x, ref)
    x, ref = _mag(x), _mag(ref)
    mse = float(torch.mean((x - ref) ** 2))
    rng = _data_range(ref, data_range)
    if not math.isfinite(mse):
        raise ValueError(f"x and ref must be finite: their mean squared difference is {mse}")
    return float("inf") if mse == 0 else 10.0 * math.log10(rng**2 / mse)


def _gauss1d(sigma: float, radius: int, dtype, device) -> torch.Tensor:
    t = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    g = torch.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def _sep_filter_valid(img: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Separable 2-D correlation with a symmetric kernel, 'valid' region; ``img (B, H, W)``."""
    n = k.numel()
    out = F.conv2d(img[:, None], k.view(1, 1, n, 1))
    return F.conv2d(out, k.view(1, 1, 1, n))[:, 0]


def ssim_frames(
    x: torch.Tensor,
    ref: torch.Tensor,
    data_range: float | None = None,
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """SSIM of each frame (Wang et al. 2004; Gaussian window σ=1.5, 11 taps, population
    statistics), averaged over the interior where the window fits. Returns ``(T,)``."""
    x, ref = _pair(x, ref)
    x, ref = _mag(x), _mag(ref)
    rng = _data_range(ref, data_range)
    radius = int(3.5 * sigma + 0.5)
    if min(x.shape[-2:]) < 2 * radius + 1:
        raise ValueError(
            f"frames must be at least {2 * radius + 1} pixels wide for SSIM, got "
            f"{tuple(x.shape[-2:])}"
        )
    g = _gauss1d(sigma, radius, x.dtype, x.device)
    mx, my = _sep_filter_valid(x, g), _sep_filter_valid(ref, g)
    sxx = _sep_filter_valid(x * x, g) - mx * mx
    syy = _sep_filter_valid(ref * ref, g) - my * my
    sxy = _sep_filter_valid(x * ref, g) - mx * my
    c1, c2 = (k1 * rng) ** 2, (k2 * rng) ** 2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return s.mean(dim=(-2, -1))


def ssim(x: torch.Tensor, ref: torch.Tensor, data_range: float | None = None) -> float:
    """Mean over frames of :func:`ssim_frames`, data range of the whole reference sequence."""
    return float(ssim_frames(x, ref, data_range).mean())


def _reflect_pad(img: torch.Tensor, r: int, dim: int) -> torch.Tensor:
    """Half-sample symmetric padding (``d c b a | a b c d | d c b a``), as scipy's 'reflect'."""
    n = img.shape[dim]
    idx = torch.arange(-r, n + r, device=img.device)
    period = 2 * n
    idx = idx % period
    idx = torch.where(idx >= n, period - 1 - idx, idx)
    return img.index_select(dim, idx)


def laplacian_of_gaussian(x: torch.Tensor, sigma: float = 1.5, truncate: float = 4.0):
    """Per-frame Laplacian of Gaussian of ``(T, ny, nx)`` real frames; kernels and 'reflect'
    boundaries as ``scipy.ndimage.gaussian_laplace``."""
    radius = int(truncate * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    g0 = torch.exp(-0.5 * (t / sigma) ** 2)
    g0 = g0 / g0.sum()
    g2 = (t**2 / sigma**4 - 1.0 / sigma**2) * g0
    n = t.numel()
    pad = _reflect_pad(_reflect_pad(x, radius, -2), radius, -1)[:, None]

    def filt(ky, kx):
        out = F.conv2d(pad, ky.view(1, 1, n, 1))
        return F.conv2d(out, kx.view(1, 1, 1, n))[:, 0]

    return filt(g2, g0) + filt(g0, g2)


def hfen(x: torch.Tensor, ref: torch.Tensor, sigma: float = 1.5) -> float:
    """High-frequency error norm ``||LoG(|x|) - LoG(|ref|)||_F / ||LoG(|ref|)||_F`` (LoG with
    σ=1.5 applied frame by frame)."""
    x, ref = _pair(x, ref)
    mr = _mag(ref)
    # a constant |ref| has no high frequencies: its LoG is only the truncated kernel's non-zero
    # sum (≈ 1e-4 of the level at σ = 1.5), so the ratio would measure that artefact
    if float(mr.max() - mr.min()) == 0:
        raise ValueError("hfen is undefined for a constant |ref| (no high-frequency content)")
    lx = laplacian_of_gaussian(_mag(x), sigma)
    lr = laplacian_of_gaussian(mr, sigma)
    return float(torch.linalg.vector_norm(lx - lr) / torch.linalg.vector_norm(lr))


def rel_l2(x: torch.Tensor, ref: torch.Tensor) -> float:
    """``||x - ref||₂ / ||ref||₂`` over the whole sequence (complex values compared as is)."""
    x, ref = _pair(x, ref)
    return float(torch.linalg.vector_norm(x - ref) / torch.linalg.vector_norm(ref))


def psnr_frames(x: torch.Tensor, ref: torch.Tensor, data_range: float | None = None):
    """PSNR of each frame ``(T,)`` with the data range of the whole reference sequence."""
    x, ref = _pair(x, ref)
    x, ref = _mag(x), _mag(ref)
    rng = _data_range(ref, data_range)
    mse = torch.mean((x - ref) ** 2, dim=(-2, -1))
    return 10.0 * torch.log10(rng**2 / mse)
