"""Latent Spectral Model (Wu et al., ICML 2023): neural spectral blocks on a 5-level U-Net.

Input and output are channel-first fields ``(B, C, *S)`` (2-D or 3-D). See
``../shared/reference/lsm.md`` for the architecture; defaults follow the paper's code.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
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

__all__ = ["LSM", "LSMConfig", "NeuralSpectralBlock"]

PAD_MULTIPLE = 16
MIN_SIZE = 4


@dataclass(frozen=True)
class LSMConfig:
    """Hyper-parameters of :class:`LSM` (defaults of the paper's code).

    Attributes:
        in_channels: input channels (e.g. 1 for Darcy permeability, 10 past frames for NS).
        out_channels: output channels.
        width: channels of the finest U-Net level (64: ≈19.2 M parameters; the paper uses 32
            on Darcy and 64 on Navier–Stokes).
        num_basis: trigonometric basis size ``nb`` (2·nb features sin/cos).
        num_token: latent tokens per head.
        num_heads: attention heads (must divide ``width``).
        patch_size: patch side per axis; ``None``: padded size / 16 (the same at every level).
        ndim: 2 or 3 spatial dimensions.
        head_width: hidden width of the output MLP.
    """

    in_channels: int = 1
    out_channels: int = 1
    width: int = 64
    num_basis: int = 12
    num_token: int = 4
    num_heads: int = 8
    patch_size: tuple[int, ...] | None = None
    ndim: int = 2
    head_width: int = 128

    def __post_init__(self) -> None:
        for name in (
            "in_channels",
            "out_channels",
            "width",
            "num_basis",
            "num_token",
            "num_heads",
            "head_width",
        ):
            check_positive_int(f"LSMConfig.{name}", getattr(self, name))
        if self.ndim not in (2, 3):
            raise ValueError(f"LSMConfig.ndim: expected 2 or 3, got {self.ndim!r}")
        if self.width % self.num_heads:
            raise ValueError(
                f"LSMConfig.width: expected a multiple of num_heads={self.num_heads}, "
                f"got {self.width}"
            )
        if self.patch_size is not None:
            ps = tuple(self.patch_size)
            if len(ps) != self.ndim or not all(isinstance(p, int) and p >= 1 for p in ps):
                raise ValueError(
                    f"LSMConfig.patch_size: expected None or {self.ndim} ints >= 1, got "
                    f"{self.patch_size!r}"
                )
            object.__setattr__(self, "patch_size", ps)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``softmax(q kᵀ) v`` over the last two axes, unscaled as in the paper's code (fused kernel)."""
    return torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=1.0)


class NeuralSpectralBlock(nn.Module):
    """Patch-wise latent attention + trigonometric-basis transition: (B, C, *S) → (B, C, *S).

    Args:
        channels: C (a multiple of ``num_heads``).
        num_basis, num_token, num_heads: see :class:`LSMConfig`.
        ndim: 2 or 3.

    ``forward(x, patch)`` splits ``x`` into patches of side ``patch`` (each spatial size must be a
    multiple), encodes each patch's pixels into ``num_heads × num_token`` tokens by attention,
    evolves the tokens by ``T + Σ_m W[c, m] φ_m(T)``, decodes back by attention and adds ``x``.
    """

    def __init__(
        self,
        channels: int,
        num_basis: int = 12,
        num_token: int = 4,
        num_heads: int = 8,
        ndim: int = 2,
    ) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"channels: expected a multiple of {num_heads}, got {channels}")
        conv = nn.Conv2d if ndim == 2 else nn.Conv3d
        self.channels = channels
        self.num_heads = num_heads
        self.num_token = num_token
        self.ndim = ndim
        self.register_buffer(
            "modes", torch.arange(num_basis, dtype=torch.float32) / num_basis, persistent=False
        )
        self.weights = nn.Parameter(torch.rand(channels, 2 * num_basis) / channels)
        self.latent = nn.Parameter(
            torch.rand(num_heads, num_token, channels // num_heads) / channels
        )
        self.encoder_attn = conv(channels, 2 * channels, 1)
        self.decoder_attn = conv(channels, channels, 1)

    def _patchify(self, x: torch.Tensor, patch: tuple[int, ...]) -> torch.Tensor:
        """(B, C, *S) → (B·P, C, L) with P patches of L pixels."""
        b, c, *sizes = x.shape
        d = len(sizes)
        shape = [b, c]
        for s, p in zip(sizes, patch):
            shape += [s // p, p]
        x = x.reshape(shape)
        perm = [0, *[2 + 2 * i for i in range(d)], 1, *[3 + 2 * i for i in range(d)]]
        return x.permute(perm).reshape(-1, c, math.prod(patch))

    def _unpatchify(
        self, x: torch.Tensor, sizes: list[int], patch: tuple[int, ...]
    ) -> torch.Tensor:
        d = len(sizes)
        b = x.shape[0] // math.prod(s // p for s, p in zip(sizes, patch))
        c = x.shape[1]
        x = x.reshape(b, *[s // p for s, p in zip(sizes, patch)], c, *patch)
        perm = [0, d + 1]
        for i in range(d):
            perm += [1 + i, d + 2 + i]
        return x.permute(perm).reshape(b, c, *sizes)

    def forward(self, x: torch.Tensor, patch: tuple[int, ...]) -> torch.Tensor:
        _, c, *sizes = x.shape
        if any(s % p for s, p in zip(sizes, patch)):
            raise ValueError(f"patch: sizes {tuple(sizes)} are not multiples of patch {patch}")
        h, t = self.num_heads, self.num_token
        kv = self._patchify(self.encoder_attn(x), patch)  # (N, 2C, L)
        q = self._patchify(self.decoder_attn(x), patch)  # (N, C, L)
        xp = self._patchify(x, patch)
        n, _, L = xp.shape
        # (1) encoder attention: shared tokens attend over the patch's pixels
        kv = kv.reshape(n, h, c // h, 2, L)
        k, v = kv[..., 0, :].transpose(-1, -2), kv[..., 1, :].transpose(-1, -2)  # (N, H, L, C/H)
        z = self.latent.unsqueeze(0).expand(n, -1, -1, -1)  # (N, H, T, C/H)
        tokens = _attention(z, k, v) + z  # softmax_pixels(Z Kᵀ) V + Z
        tokens = tokens.permute(0, 1, 3, 2).reshape(n, c, t)  # (N, C, T)
        # (2) latent transition with the trigonometric basis
        arg = math.pi * tokens.unsqueeze(-1) * self.modes.to(tokens.dtype)
        basis = torch.cat([torch.sin(arg), torch.cos(arg)], dim=-1)  # (N, C, T, 2nb)
        tokens = tokens + (basis * self.weights[:, None, :].to(basis.dtype)).sum(-1)
        # (3) decoder attention: pixels query the tokens (keys = values = tokens)
        tok = tokens.reshape(n, h, c // h, t).transpose(-1, -2)  # (N, H, T, C/H)
        qh = q.reshape(n, h, c // h, L).transpose(-1, -2)  # (N, H, L, C/H)
        out = _attention(qh, tok, tok)  # softmax_tokens(Q Tᵀ) T: (N, H, L, C/H)
        out = out.transpose(-1, -2).reshape(n, c, L) + xp
        return self._unpatchify(out, sizes, patch)


class LSM(nn.Module):
    """Latent Spectral Model: ``(B, in_channels, *S) → (B, out_channels, *S)``, any ``S ≥ 4``.

    Lift (C_in + d grid channels → width) → zero-pad to multiples of 16 → 5-level U-Net whose
    encoder features each pass a :class:`NeuralSpectralBlock` → 1×1 conv → crop → MLP
    (width → 128 → GELU → out_channels).
    """

    def __init__(self, config: LSMConfig | None = None, **kwargs: Any) -> None:
        super().__init__()
        config = resolve_config(config, LSMConfig, kwargs)
        self.config = cfg = config
        conv = nn.Conv2d if cfg.ndim == 2 else nn.Conv3d
        self.fc0 = nn.Linear(cfg.in_channels + cfg.ndim, cfg.width)
        self.unet = UNet5(cfg.width, cfg.ndim)
        self.blocks = nn.ModuleList(
            NeuralSpectralBlock(c, cfg.num_basis, cfg.num_token, cfg.num_heads, cfg.ndim)
            for c in self.unet.channels
        )
        self.outc = conv(cfg.width, cfg.width, 1)
        self.fc1 = nn.Linear(cfg.width, cfg.head_width)
        self.fc2 = nn.Linear(cfg.head_width, cfg.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.config
        check_input(x, in_channels=cfg.in_channels, ndim=cfg.ndim, min_size=MIN_SIZE, model="LSM")
        sizes = tuple(x.shape[2:])
        x = torch.cat([x, grid_channels(x)], dim=1)
        x = channels_last_linear(self.fc0, x)
        x, padded = pad_to_multiple(x, PAD_MULTIPLE)
        patch = cfg.patch_size or tuple(p // PAD_MULTIPLE for p in padded)
        if any(p % (PAD_MULTIPLE * q) for p, q in zip(padded, patch)):
            raise ValueError(
                f"LSMConfig.patch_size {patch} must divide the coarsest level "
                f"{tuple(p // PAD_MULTIPLE for p in padded)}"
            )
        processors = [(lambda f, blk=blk: blk(f, patch)) for blk in self.blocks]
        x = self.unet(x, processors)
        x = crop(self.outc(x), sizes)
        x = channels_last_linear(self.fc1, x)
        return channels_last_linear(self.fc2, torch.nn.functional.gelu(x))
