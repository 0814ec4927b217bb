"""Plain U-Net baseline: LSM without the neural spectral blocks (same lift, padding and head)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ._common import (
    channels_last_linear,
    check_input,
    check_positive_int,
    crop,
    grid_channels,
    pad_to_multiple,
    resolve_config,
)
from .unet_blocks import UNet5

__all__ = ["UNet", "UNetConfig"]

MIN_SIZE = 4


@dataclass(frozen=True)
class UNetConfig:
    """Hyper-parameters of :class:`UNet` (5 levels, channels w, 2w, 4w, 8w, 8w)."""

    in_channels: int = 1
    out_channels: int = 1
    width: int = 32
    ndim: int = 2
    head_width: int = 128

    def __post_init__(self) -> None:
        for name in ("in_channels", "out_channels", "width", "head_width"):
            check_positive_int(f"UNetConfig.{name}", getattr(self, name))
        if self.ndim not in (2, 3):
            raise ValueError(f"UNetConfig.ndim: expected 2 or 3, got {self.ndim!r}")


class UNet(nn.Module):
    """``(B, in_channels, *S) → (B, out_channels, *S)``; pads to multiples of 16 and crops."""

    def __init__(self, config: UNetConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        config = resolve_config(config, UNetConfig, kwargs)
        self.config = cfg = config
        conv = nn.Conv2d if cfg.ndim == 2 else nn.Conv3d
        self.fc0 = nn.Linear(cfg.in_channels + cfg.ndim, cfg.width)
        self.unet = UNet5(cfg.width, cfg.ndim)
        self.outc = conv(cfg.width, cfg.width, 1)
        self.fc1 = nn.Linear(cfg.width, cfg.head_width)
        self.fc2 = nn.Linear(cfg.head_width, cfg.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        check_input(x, in_channels=cfg.in_channels, ndim=cfg.ndim, min_size=MIN_SIZE, model="UNet")
        sizes = tuple(x.shape[2:])
        x = channels_last_linear(self.fc0, torch.cat([x, grid_channels(x)], dim=1))
        x, _ = pad_to_multiple(x, 16)
        x = crop(self.outc(self.unet(x)), sizes)
        return channels_last_linear(self.fc2, F.gelu(channels_last_linear(self.fc1, x)))
