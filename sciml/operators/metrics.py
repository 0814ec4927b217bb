"""Field-prediction metrics (per sample, shape (B,)) and the relative-L2 training loss."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = [
    "RelativeL2Loss",
    "count_parameters",
    "fourier_band_errors",
    "max_error",
    "nrmse",
    "relative_l2",
]

BANDS = (4, 12)
"""Radial wavenumber edges: low |k| < 4, mid 4 ≤ |k| < 12, high |k| ≥ 12 (PDEBench)."""


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    if not isinstance(pred, torch.Tensor) or not isinstance(target, torch.Tensor):
        raise TypeError(
            f"pred and target must be torch tensors, got {type(pred).__name__}, "
            f"{type(target).__name__}"
        )
    if pred.shape != target.shape or pred.ndim < 2:
        raise ValueError(
            f"pred and target must have the same shape (B, ...), got {tuple(pred.shape)} and "
            f"{tuple(target.shape)}"
        )


def relative_l2(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """``‖pred − target‖₂ / ‖target‖₂`` over all non-batch axes: (B, ...) → (B,)."""
    _check_pair(pred, target)
    diff = (pred - target).flatten(1).norm(dim=1)
    return diff / target.flatten(1).norm(dim=1).clamp_min(eps)


def nrmse(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """PDEBench nRMSE: per channel RMSE / RMS(target) over space, averaged over channels.

    (B, C, *S) → (B,).
    """
    _check_pair(pred, target)
    if pred.ndim < 3:
        return relative_l2(pred, target, eps)
    err = (pred - target).flatten(2).pow(2).mean(-1).sqrt()
    ref = target.flatten(2).pow(2).mean(-1).sqrt().clamp_min(eps)
    return (err / ref).mean(-1)


def max_error(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Largest absolute error per sample: (B, ...) → (B,)."""
    _check_pair(pred, target)
    return (pred - target).flatten(1).abs().amax(dim=1)


def fourier_band_errors(
    pred: torch.Tensor, target: torch.Tensor, edges: tuple[int, int] = BANDS
) -> dict[str, torch.Tensor]:
    """RMS of the error restricted to radial wavenumber bands, per sample.

    For (B, C, X, Y) fields (or 3-D (B, C, X, Y, Z) fields) the DFT ê of the error over the
    spatial axes is split by ``|k| = √(Σ_i k_i²)`` (integer wavenumbers) into ``low``
    (|k| < edges[0]), ``mid`` and ``high`` (|k| ≥ edges[1]). Each value is
    ``sqrt(Σ_band |ê|² / N² / C)`` with N the number of grid points, so ``low² + mid² + high²``
    equals the mean squared error (Parseval). (PDEBench's fRMSE divides by the band width
    instead.)

    Returns:
        ``{"low": (B,), "mid": (B,), "high": (B,)}``.
    """
    _check_pair(pred, target)
    if pred.ndim not in (4, 5):
        raise ValueError(
            f"pred: expected (B, C, X, Y) or (B, C, X, Y, Z) fields, got shape {tuple(pred.shape)}"
        )
    lo, hi = edges
    if not 0 <= lo <= hi < float("inf"):
        raise ValueError(f"edges: expected 0 <= low edge <= high edge, got {edges!r}")
    err = (pred - target).to(torch.promote_types(pred.dtype, torch.float32))
    sizes = err.shape[2:]
    dims = tuple(range(2, err.ndim))
    power = torch.fft.fftn(err, dim=dims).abs().pow(2).sum(1) / math.prod(sizes) ** 2
    power = power / err.shape[1]
    k2 = torch.zeros((), device=err.device)
    for i, n in enumerate(sizes):  # squared integer wavenumber along each axis, broadcast
        shape = [1] * len(sizes)
        shape[i] = n
        k2 = k2 + torch.fft.fftfreq(n, d=1.0 / n, device=err.device).reshape(shape) ** 2
    k = torch.sqrt(k2)
    masks = {"low": k < lo, "mid": (k >= lo) & (k < hi), "high": k >= hi}
    axes = tuple(range(1, power.ndim))
    return {name: (power * m).sum(dim=axes).sqrt() for name, m in masks.items()}


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters (complex parameters count 2 real numbers each)."""
    return sum(
        p.numel() * (2 if p.is_complex() else 1) for p in model.parameters() if p.requires_grad
    )


class RelativeL2Loss(nn.Module):
    """Mean over the batch of :func:`relative_l2` (the LSM/FNO training loss).

    Args:
        denormalize: optional callable applied to both prediction and target first (score in
            physical units when the model is trained on normalised data).
        per_frame: for rollouts ``(B, T, ...)``: the sum over the T frames of each frame's
            relative L2 (the loss of the LSM/FNO Navier–Stokes code), then the batch mean.
    """

    def __init__(self, denormalize=None, per_frame: bool = False) -> None:
        super().__init__()
        self.denormalize = denormalize
        self.per_frame = per_frame

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.denormalize is not None:
            pred, target = self.denormalize(pred), self.denormalize(target)
        if self.per_frame:
            _check_pair(pred, target)
            b, t = pred.shape[:2]
            return relative_l2(pred.reshape(b * t, -1), target.reshape(b * t, -1)).sum() / b
        return relative_l2(pred, target).mean()
