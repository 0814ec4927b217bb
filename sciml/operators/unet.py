"""Plain U-Net baseline: LSM without the neural spectral blocks (same lift, padding and head)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._common import check_positive_int, resolve_config
from .unet_blocks import _UNetOperator

__all__ = ["UNet", "UNetConfig"]

MIN_SIZE = _UNetOperator.MIN_SIZE


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


class UNet(_UNetOperator):
    """``(B, in_channels, *S) → (B, out_channels, *S)``; pads to multiples of 16 and crops.

    LSM without the neural spectral blocks: the same lift, 5-level U-Net and head.
    """

    def __init__(self, config: UNetConfig | None = None, **kwargs: Any) -> None:
        cfg = resolve_config(config, UNetConfig, kwargs)
        super().__init__(cfg.in_channels, cfg.out_channels, cfg.width, cfg.ndim, cfg.head_width)
        self.config = cfg
