"""Uniform binning of continuous indices onto a grid (for the discrete baselines)."""

from __future__ import annotations

import torch


class Binner:
    """Per-mode uniform bins over the training range; values outside are clamped to the ends.

    Args:
        n_bins: bins per mode (K,).
    """

    def __init__(self, n_bins: tuple[int, ...]):
        for b in n_bins:
            if not isinstance(b, int) or b < 1:
                raise ValueError(f"n_bins: expected integers >= 1, got {n_bins!r}")
        self.n_bins = tuple(n_bins)

    def fit(self, X: torch.Tensor) -> Binner:
        if X.shape[1] != len(self.n_bins):
            raise ValueError(
                f"n_bins: expected {X.shape[1]} values (one per mode), got {len(self.n_bins)}"
            )
        self.lo = X.min(0).values
        span = X.max(0).values - self.lo
        self.span = torch.where(span > 0, span, torch.ones_like(span))
        return self

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        """(N, K) continuous → (N, K) int64 bin indices."""
        nb = torch.tensor(self.n_bins, dtype=X.dtype, device=X.device)
        b = torch.floor((X - self.lo) / self.span * nb).long()
        return torch.minimum(b.clamp_min(0), (nb - 1).long())

    def centres(self, mode: int) -> torch.Tensor:
        """(n_bins,) bin centres of ``mode`` in index units."""
        n = self.n_bins[mode]
        return (
            self.lo[mode]
            + (torch.arange(n, dtype=self.lo.dtype, device=self.lo.device) + 0.5)
            * self.span[mode]
            / n
        )
