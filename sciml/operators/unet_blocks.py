"""U-Net building blocks (2-D or 3-D): DoubleConv, Down, Up and the 5-level encoder/decoder."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ._common import channels_last_linear, check_input, crop, grid_channels, pad_to_multiple

_CONV = {2: nn.Conv2d, 3: nn.Conv3d}
_NORM = {2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_POOL = {2: nn.MaxPool2d, 3: nn.MaxPool3d}
_MODE = {2: "bilinear", 3: "trilinear"}


class DoubleConv(nn.Sequential):
    """2 × [conv 3×3 (no bias) → BatchNorm → ReLU]: (B, C_in, *S) → (B, C_out, *S)."""

    def __init__(self, c_in: int, c_out: int, c_mid: int | None = None, ndim: int = 2) -> None:
        c_mid = c_out if c_mid is None else c_mid
        conv, norm = _CONV[ndim], _NORM[ndim]
        super().__init__(
            conv(c_in, c_mid, 3, padding=1, bias=False),
            norm(c_mid),
            nn.ReLU(inplace=True),
            conv(c_mid, c_out, 3, padding=1, bias=False),
            norm(c_out),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """Max-pool by 2, then DoubleConv: (B, C_in, *S) → (B, C_out, *S/2)."""

    def __init__(self, c_in: int, c_out: int, ndim: int = 2) -> None:
        super().__init__(_POOL[ndim](2), DoubleConv(c_in, c_out, ndim=ndim))


class Up(nn.Module):
    """(Bi/tri)linear ×2 upsampling, concatenation with the skip, DoubleConv(c_in, c_out, c_in/2)."""

    def __init__(self, c_in: int, c_out: int, ndim: int = 2) -> None:
        super().__init__()
        self.mode = _MODE[ndim]
        self.conv = DoubleConv(c_in, c_out, c_in // 2, ndim=ndim)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2, mode=self.mode, align_corners=True)
        pads: list[int] = []
        for a, b in zip(reversed(skip.shape[2:]), reversed(x.shape[2:])):
            d = a - b
            pads += [d // 2, d - d // 2]
        if any(pads):
            x = F.pad(x, pads)
        return self.conv(torch.cat([skip, x], dim=1))


class UNet5(nn.Module):
    """5-level U-Net on ``width`` channels: encoder w, 2w, 4w, 8w, 8w; decoder back to w.

    ``forward(x, processors=None)``: ``processors`` is an optional list of 5 modules applied to
    the encoder features (finest first) before the decoder uses them (LSM's spectral blocks).
    Spatial sizes must be divisible by 16.
    """

    def __init__(self, width: int, ndim: int = 2) -> None:
        super().__init__()
        w = width
        self.channels = (w, 2 * w, 4 * w, 8 * w, 8 * w)
        self.inc = DoubleConv(w, w, ndim=ndim)
        self.down1 = Down(w, 2 * w, ndim)
        self.down2 = Down(2 * w, 4 * w, ndim)
        self.down3 = Down(4 * w, 8 * w, ndim)
        self.down4 = Down(8 * w, 8 * w, ndim)
        self.up1 = Up(16 * w, 4 * w, ndim)
        self.up2 = Up(8 * w, 2 * w, ndim)
        self.up3 = Up(4 * w, w, ndim)
        self.up4 = Up(2 * w, w, ndim)

    def forward(
        self, x: torch.Tensor, processors: Sequence[Callable] | None = None
    ) -> torch.Tensor:
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        feats = [x1, x2, x3, x4, x5]
        if processors is not None:
            feats = [p(f) for p, f in zip(processors, feats)]
        x = self.up1(feats[4], feats[3])
        x = self.up2(x, feats[2])
        x = self.up3(x, feats[1])
        return self.up4(x, feats[0])


class _UNetOperator(nn.Module):
    """Shared body of :class:`~sciml.operators.LSM` and :class:`~sciml.operators.UNet`.

    ``(B, in_channels, *S) → (B, out_channels, *S)``: lift (C_in + d grid channels → width,
    ``fc0``) → zero-pad to multiples of 16 → :class:`UNet5` (with the optional encoder-feature
    processors of :meth:`_processors`) → 1×1 conv (``outc``) → crop → MLP ``fc1`` → GELU →
    ``fc2``. ``make_blocks(channels)`` builds the per-level modules (stored as ``blocks``) that
    an override of :meth:`_processors` applies.
    """

    PAD_MULTIPLE = 16
    MIN_SIZE = 4

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        width: int,
        ndim: int,
        head_width: int,
        make_blocks: Callable[[tuple[int, ...]], nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.fc0 = nn.Linear(in_channels + ndim, width)
        self.unet = UNet5(width, ndim)
        if make_blocks is not None:  # created here to keep the parameter initialisation order
            self.blocks = make_blocks(self.unet.channels)
        self.outc = _CONV[ndim](width, width, 1)
        self.fc1 = nn.Linear(width, head_width)
        self.fc2 = nn.Linear(head_width, out_channels)
        self._in_channels, self._ndim = in_channels, ndim

    def _processors(self, padded: tuple[int, ...]) -> list[Callable] | None:
        """Callables applied to the 5 encoder features (None: plain U-Net)."""
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(
            x,
            in_channels=self._in_channels,
            ndim=self._ndim,
            min_size=self.MIN_SIZE,
            model=type(self).__name__,
        )
        sizes = tuple(x.shape[2:])
        x = channels_last_linear(self.fc0, torch.cat([x, grid_channels(x)], dim=1))
        x, padded = pad_to_multiple(x, self.PAD_MULTIPLE)
        if self.training and x.shape[0] * math.prod(p // self.PAD_MULTIPLE for p in padded) == 1:
            # BatchNorm at the coarsest level would see one value per channel (torch's message
            # names neither the model nor a remedy)
            raise ValueError(
                f"{type(self).__name__}: in training mode a batch of one on a grid of "
                f"{sizes} (padded to {padded}) leaves one value per channel for BatchNorm at the "
                f"coarsest U-Net level ({'x'.join('1' * len(padded))}); use batches of >= 2 "
                "(e.g. drop_last=True in OperatorTrainConfig / TrainerConfig when the last batch "
                "has one sample), a grid larger than "
                f"{self.PAD_MULTIPLE}, or model.eval() for inference"
            )
        x = crop(self.outc(self.unet(x, self._processors(padded))), sizes)
        return channels_last_linear(self.fc2, F.gelu(channels_last_linear(self.fc1, x)))
