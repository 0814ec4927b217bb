"""Filtered back-projection baselines: per frame and with a sliding window of instants.

FBP (Kak & Slaney, ch. 3): filter every projection with the discrete Ram-Lak kernel
``h[0] = 1/4, h[k odd] = -1/(π k)², h[k even] = 0`` (unit detector spacing, linear convolution
via a zero-padded FFT), back-project with the exact adjoint of :class:`Radon` and scale by
``π / K`` for ``K`` views spread over ``[0, π)`` (or ``[0, 2π)`` with opposite views).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .radon import Radon


def ramp_filter(g: torch.Tensor) -> torch.Tensor:
    """Ram-Lak filtering of projections ``(..., n_det)`` along the last axis (of the real part;
    real output)."""
    nd = g.shape[-1]
    m = 2 ** math.ceil(math.log2(2 * nd))
    k = torch.arange(m, device=g.device)
    k = torch.where(k <= m // 2, k, k - m).to(torch.float64)  # circular lags
    h = torch.where(k == 0, torch.full_like(k, 0.25), torch.zeros_like(k))
    odd = (k.abs() % 2) == 1
    h = torch.where(odd, -1.0 / (math.pi * k) ** 2, h)
    hf = torch.fft.rfft(h)
    real = g.real.dtype if g.is_complex() else g.dtype
    out = torch.fft.irfft(torch.fft.rfft(g.real.to(torch.float64), n=m) * hf, n=m)[..., :nd]
    return out.to(real)


def _check_sino(g, op: Radon, name: str = "g") -> torch.Tensor:
    if not isinstance(op, Radon):
        raise TypeError(f"op must be a sciml.imaging.tomo.Radon, got {type(op).__name__}")
    if not isinstance(g, torch.Tensor):
        # via NumPy: a Python list of floats becomes float64 (torch's default would be float32)
        g = torch.as_tensor(np.asarray(g))
    if tuple(g.shape) != tuple(op.oshape):
        raise ValueError(
            f"{name} has shape {tuple(g.shape)}, expected {op.oshape} "
            "(instants, views per instant, detector bins)"
        )
    if not bool(torch.isfinite(g).all()):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return g


def fbp(g: torch.Tensor, op: Radon, clip: bool = False) -> torch.Tensor:
    """FBP of each instant from its own views: ``(P, V, n_det)`` → ``(P, n, n)``.

    With one view per instant this is the (poor) per-frame baseline. ``clip`` clamps at 0.
    """
    g = _check_sino(g, op)
    x = op.H(ramp_filter(g)) * (math.pi / op.views)
    return x.clamp(min=0) if clip else x


def sliding_window_fbp(g: torch.Tensor, op: Radon, window: int, clip: bool = False):
    """FBP of instant ``t`` from the views of instants ``t - ⌊w/2⌋ … t + ⌈w/2⌉ - 1`` (shifted
    at the ends so that every frame uses ``window`` instants): ``(P, V, n_det)`` → ``(P, n, n)``.
    """
    g = _check_sino(g, op)
    p = op.frames
    if not isinstance(window, int) or not 1 <= window <= p:
        raise ValueError(f"window must be an int in [1, {p}], got {window!r}")
    start = torch.arange(p) - window // 2
    start = start.clamp(0, p - window)
    rows = start[:, None] + torch.arange(window)[None, :]  # (P, window)
    ang = op.angles[rows].reshape(p, window * op.views)
    gw = g[rows.to(g.device)].reshape(p, window * op.views, op.n_det)
    opw = Radon(ang, op.n, op.n_det, cache=False)
    x = opw.H(ramp_filter(gw)) * (math.pi / (window * op.views))
    return x.clamp(min=0) if clip else x
