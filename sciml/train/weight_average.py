"""Bias-corrected exponential moving average of a model's weights (validated in place of them)."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

__all__ = ["WeightAverage"]


class WeightAverage(nn.Module):
    """``model`` plus a bias-corrected exponential moving average of its parameters.

    After the n-th :meth:`update` the average is ``Σ_i β^(n-i) θ_i / Σ_i β^(n-i)`` over the
    parameter values θ_1..θ_n seen at the updates (no pull towards the initial weights; with
    β → 0 it is the latest θ). ``forward`` runs ``model`` in training mode and the average in eval
    mode, so a Trainer validates, selects and checkpoints the averaged weights while the optimiser
    trains ``model``. Buffers are copied from ``model`` at each update.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        if not (isinstance(decay, float | int) and not isinstance(decay, bool) and 0 < decay < 1):
            raise ValueError(f"ema decay: expected a value in (0, 1), got {decay!r}")
        self.model = model
        self.average = copy.deepcopy(model)
        for p in self.average.parameters():
            p.requires_grad_(False)
        self.decay = float(decay)
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.int64))

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return (self.model if self.training else self.average)(*args, **kwargs)

    @torch.no_grad()
    def update(self) -> None:
        """Fold the current parameters of ``model`` into the average."""
        self.n_updates += 1
        n = int(self.n_updates)
        w = (1.0 - self.decay) / (1.0 - self.decay**n)  # 1 / Σ_{i≤n} β^(n-i)
        for a, p in zip(self.average.parameters(), self.model.parameters(), strict=True):
            a.lerp_(p.detach(), w)
        for a, b in zip(self.average.buffers(), self.model.buffers(), strict=True):
            a.copy_(b)
