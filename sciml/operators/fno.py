"""Fourier Neural Operator baseline (Li et al., ICLR 2021), 2-D, channel-first like :class:`LSM`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sciml.kernels import fourier_mode_mix

from ._common import (
    channels_last_linear,
    check_input,
    check_positive_int,
    grid_channels,
    resolve_config,
)

__all__ = ["FNO", "FNOConfig", "SpectralConv2d"]

MIN_SIZE = 4


@dataclass(frozen=True)
class FNOConfig:
    """Hyper-parameters of :class:`FNO` (FNO-2D defaults: 12 modes, width 32, 4 layers).

    Attributes:
        padding: zero padding added at the end of each axis (non-periodic problems; 0 for the torus).
    """

    in_channels: int = 1
    out_channels: int = 1
    modes: int = 12
    width: int = 32
    layers: int = 4
    padding: int = 8
    head_width: int = 128

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "modes", "width", "layers", "head_width"):
            check_positive_int(f"FNOConfig.{name}", getattr(self, name))
        check_positive_int("FNOConfig.padding", self.padding, 0)


class SpectralConv2d(nn.Module):
    """Truncated Fourier mode mixing: (B, C_in, X, Y) → (B, C_out, X, Y).

    Keeps ``-modes ≤ k_x < modes`` and ``0 ≤ k_y < modes`` of ``rfft2`` (fewer if the grid is
    smaller) and multiplies each kept mode by a learned complex C_in × C_out matrix: the shared
    kernel :func:`sciml.kernels.fourier_mode_mix`. ``w_pos`` holds ``k_x = 0 … modes − 1`` and
    ``w_neg`` ``k_x = −modes … −1``, real and imaginary parts in a trailing axis of size 2.
    """

    def __init__(self, c_in: int, c_out: int, modes: int) -> None:
        super().__init__()
        self.modes = modes
        scale = 1.0 / (c_in * c_out)
        # complex weights stored as real (..., 2) pairs: Module.to(float dtype) keeps them intact
        self.w_pos = nn.Parameter(scale * torch.rand(c_in, c_out, modes, modes, 2))
        self.w_neg = nn.Parameter(scale * torch.rand(c_in, c_out, modes, modes, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (C_in, C_out, 2·modes, modes): k_x in FFT order, the layout fourier_mode_mix expects
        weight = torch.view_as_complex(torch.cat([self.w_pos, self.w_neg], dim=2))
        return fourier_mode_mix(x, weight, check=False)  # FNO.forward validated the input


class FNO(nn.Module):
    """FNO-2D: lift (C_in + 2 grid → width), ``layers`` × [spectral conv + 1×1 conv, GELU],
    projection width → 128 → C_out. ``(B, C_in, X, Y) → (B, C_out, X, Y)``."""

    def __init__(self, config: FNOConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        config = resolve_config(config, FNOConfig, kwargs)
        self.config = cfg = config
        self.fc0 = nn.Linear(cfg.in_channels + 2, cfg.width)
        self.spectral = nn.ModuleList(
            SpectralConv2d(cfg.width, cfg.width, cfg.modes) for _ in range(cfg.layers)
        )
        self.pointwise = nn.ModuleList(
            nn.Conv2d(cfg.width, cfg.width, 1) for _ in range(cfg.layers)
        )
        self.fc1 = nn.Linear(cfg.width, cfg.head_width)
        self.fc2 = nn.Linear(cfg.head_width, cfg.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        check_input(x, in_channels=cfg.in_channels, ndim=2, min_size=MIN_SIZE, model="FNO")
        nx, ny = x.shape[2:]
        x = channels_last_linear(self.fc0, torch.cat([x, grid_channels(x)], dim=1))
        if cfg.padding:
            x = F.pad(x, [0, cfg.padding, 0, cfg.padding])
        for i, (sc, pw) in enumerate(zip(self.spectral, self.pointwise)):
            x = sc(x) + pw(x)
            if i < cfg.layers - 1:
                x = F.gelu(x)
        x = x[..., :nx, :ny]
        return channels_last_linear(self.fc2, F.gelu(channels_last_linear(self.fc1, x)))
