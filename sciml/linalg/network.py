"""DCDM network: a small fully convolutional U-Net-like CNN approximating r ↦ A⁻¹r up to scale."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class DCDMNetConfig:
    """Architecture (reference 64³ model: 16 filters, 3-wide kernels, blocks 2 / 3 / 2 ≈ 97k
    parameters in 3-D; the 2-D variant uses the same layout with 2-D convolutions)."""

    dim: int = 3
    channels: int = 16
    kernel_size: int = 3
    blocks_full: int = 2
    blocks_half: int = 3
    blocks_up: int = 2

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _use_mkldnn(x: torch.Tensor) -> bool:
    return (
        x.device.type == "cpu" and x.dtype == torch.float32 and torch.backends.mkldnn.is_available()
    )


class _FastConv:
    """Convolution mixin: on CPU float32 it calls oneDNN directly. PyTorch's own heuristic sends
    small batch-1 inputs (e.g. every DCDM solver call at 32³, the half-resolution layers at 64³)
    to the slow im2col kernel, ~10× slower; the result is the same convolution."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        if not _use_mkldnn(x):
            return super().forward(x)
        d = len(self.kernel_size)
        return torch.mkldnn_convolution(
            x.contiguous(), self.weight, self.bias, self.padding, self.stride, (1,) * d, 1
        )


class _Conv2d(_FastConv, nn.Conv2d):
    pass


class _Conv3d(_FastConv, nn.Conv3d):
    pass


class _Block(nn.Module):
    def __init__(self, conv, c, k):
        super().__init__()
        self.a = conv(c, c, k, padding=k // 2)
        self.b = conv(c, c, k, padding=k // 2)

    def forward(self, h):
        return h + F.relu(self.b(F.relu(self.a(h))))


class DCDMNet(nn.Module):
    """Input conv (linear) → full-resolution residual blocks → average-pool(2) → half-resolution
    blocks → upsample(2) + skip → blocks → 1×1 linear head.

    Input/output: (B, 1, *grid) with grid 2-D or 3-D (odd sizes are padded internally).
    """

    def __init__(self, config: DCDMNetConfig = DCDMNetConfig()):
        super().__init__()
        if config.dim not in (2, 3):
            raise ValueError(f"config.dim: expected 2 or 3, got {config.dim}")
        minima = {
            "channels": 1,
            "kernel_size": 1,
            "blocks_full": 0,
            "blocks_half": 0,
            "blocks_up": 0,
        }
        for name, minimum in minima.items():
            value = getattr(config, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"config.{name}: expected an int >= {minimum}, got {value!r}")
        if config.kernel_size % 2 == 0:
            raise ValueError(
                f"config.kernel_size: expected an odd int (same-size convolutions), "
                f"got {config.kernel_size}"
            )
        self.config = config
        conv = _Conv2d if config.dim == 2 else _Conv3d
        c, k = config.channels, config.kernel_size
        self.inp = conv(1, c, k, padding=k // 2)
        self.full = nn.Sequential(*[_Block(conv, c, k) for _ in range(config.blocks_full)])
        self.half_res = nn.Sequential(*[_Block(conv, c, k) for _ in range(config.blocks_half)])
        self.up = nn.Sequential(*[_Block(conv, c, k) for _ in range(config.blocks_up)])
        self.head = conv(c, 1, 1)
        self._pool = F.avg_pool2d if config.dim == 2 else F.avg_pool3d

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        d = self.config.dim
        if x.ndim != d + 2 or x.shape[1] != 1:
            raise ValueError(
                f"x: expected shape (B, 1, *grid) with a {d}-D grid, got {tuple(x.shape)}"
            )
        size = x.shape[2:]
        pad = []
        for s in reversed(size):
            pad += [0, s % 2]
        if any(pad):
            x = F.pad(x, pad)
        h = self.full(self.inp(x))
        g = self.half_res(self._pool(h, 2))
        g = F.interpolate(g, scale_factor=2, mode="nearest") + h
        y = self.head(self.up(g))
        if any(pad):
            y = y[(slice(None), slice(None), *[slice(0, s) for s in size])]
        return y
