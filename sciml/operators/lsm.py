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

from ._common import check_positive_int, resolve_config
from .unet_blocks import _UNetOperator

__all__ = ["LSM", "LSMConfig", "NeuralSpectralBlock"]

PAD_MULTIPLE = _UNetOperator.PAD_MULTIPLE
MIN_SIZE = _UNetOperator.MIN_SIZE


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


class _TrigTransition(torch.autograd.Function):
    """``y = x + Σ_m W[c, m] φ_m(x)`` with φ = [sin(k x), cos(k x)] for the ``nb`` angular factors
    ``k`` (already multiplied by π / nb); ``x`` (C, M), ``W`` (C, 2nb).

    The basis is built once (one sin and one cos pass), the weighted sum and both gradients are
    batched matrix products over the channel axis; autograd of the plain expression would
    evaluate sin/cos again in the backward and run several elementwise passes over the basis.
    Under ``create_graph=True`` (gradient penalties, physics losses, Hessian-vector products) the
    backward recomputes the basis from ``x`` with tracked operations, so higher derivatives exist.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        c, m = x.shape
        nb = k.numel()
        # basis laid out (C, 2nb, M): sin and cos written in place (no concatenation), and the
        # weighted sums below are matrix-vector products along long contiguous rows of M
        arg = k.view(1, nb, 1) * x.unsqueeze(1)  # (C, nb, M)
        basis = x.new_empty(c, 2 * nb, m)
        torch.sin(arg, out=basis[:, :nb])
        torch.cos(arg, out=basis[:, nb:])
        ctx.save_for_backward(basis, x, weight, k)
        return torch.baddbmm(x.unsqueeze(1), weight.unsqueeze(1), basis).squeeze(1)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        basis, x, weight, k = ctx.saved_tensors
        nb = k.numel()
        if torch.is_grad_enabled():
            # create_graph=True: the saved basis carries no graph, rebuild it from x
            arg = k.view(1, nb, 1) * x.unsqueeze(1)
            basis = torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)
        gx = gw = None
        if ctx.needs_input_grad[1]:
            gw = torch.bmm(basis, grad.unsqueeze(-1)).squeeze(-1)
        if ctx.needs_input_grad[0]:
            # d/dx [W_s sin(kx) + W_c cos(kx)] = k W_s cos(kx) − k W_c sin(kx)
            dw = torch.cat([-weight[:, nb:] * k, weight[:, :nb] * k], dim=-1)
            ones = grad.new_ones(()).expand(grad.shape[0], 1, grad.shape[1])
            gx = grad * torch.baddbmm(ones, dw.unsqueeze(1), basis).squeeze(1)
        return gx, gw, None


def _conv1x1(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """1×1 convolution of ``x`` (B, C, L, P) with ``weight`` (O, C), ``bias`` (O,) as one batched
    matrix product (about 2× faster than ``conv2d`` for these thin maps on CPU, forward+backward)."""
    bsz, c, n_l, n_p = x.shape
    o = weight.shape[0]
    out = torch.baddbmm(
        bias.view(1, o, 1).expand(bsz, o, 1), weight.expand(bsz, o, c), x.reshape(bsz, c, -1)
    )
    return out.reshape(bsz, o, n_l, n_p)


class NeuralSpectralBlock(nn.Module):
    """Patch-wise latent attention + trigonometric-basis transition: (B, C, *S) → (B, C, *S).

    Args:
        channels: C (a multiple of ``num_heads``).
        num_basis, num_token, num_heads: see :class:`LSMConfig`.
        ndim: 2 or 3.

    ``forward(x, patch)`` splits ``x`` into patches of side ``patch`` (each spatial size must be a
    multiple), encodes each patch's pixels into ``num_heads × num_token`` tokens by attention,
    evolves the tokens by ``T + Σ_m W[c, m] φ_m(T)``, decodes back by attention and adds ``x``.

    Parameters and arithmetic are those of the paper's code; the computation is laid out on the
    feature map itself (a strided view ``(B, ·, P_1, p_1, P_2, p_2)`` instead of copying patches
    out): the encoder scores ``Z Kᵀ`` are one 1×1 convolution whose weights are ``Z`` composed
    with the key projection, the softmaxes reduce over view axes, and the token transition is a
    fused autograd function.
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
        # output channels interleaved (head, C/H, {key, value}) as in the paper's code
        self.encoder_attn = conv(channels, 2 * channels, 1)
        self.decoder_attn = conv(channels, channels, 1)

    def _encoder_conv(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores ``Z Kᵀ`` (B, H·T, L, P) and values (B, C, L, P) of ``x`` (B, C, L, P)."""
        h, t, c = self.num_heads, self.num_token, self.channels
        w = self.encoder_attn.weight.reshape(c, 2, c)  # (out (head, C/H), {k, v}, in)
        b = self.encoder_attn.bias.reshape(c, 2)
        z = self.latent  # (H, T, C/H)
        w_s = torch.einsum("htd,hdi->hti", z, w[:, 0].reshape(h, c // h, c)).reshape(h * t, c)
        b_s = torch.einsum("htd,hd->ht", z, b[:, 0].reshape(h, c // h)).reshape(h * t)
        out = _conv1x1(x, torch.cat([w_s, w[:, 1]]), torch.cat([b_s, b[:, 1]]))
        return out[:, : h * t], out[:, h * t :]

    def forward(self, x: torch.Tensor, patch: tuple[int, ...]) -> torch.Tensor:
        bsz, c, *sizes = x.shape
        if any(s % p for s, p in zip(sizes, patch)):
            raise ValueError(f"patch: sizes {tuple(sizes)} are not multiples of patch {patch}")
        h, t, d = self.num_heads, self.num_token, c // self.num_heads
        nd = len(sizes)
        counts = [s // p for s, p in zip(sizes, patch)]
        # (B, C, *S) → (B, C, L, P): offset inside the patch (L) outer, patch index (P) inner,
        # so every reduction below runs over an outer axis with long contiguous inner rows
        grid: list[int] = []
        for n_p, p in zip(counts, patch):
            grid += [n_p, p]
        to_lp = [0, 1, *range(3, 2 + 2 * nd, 2), *range(2, 2 + 2 * nd, 2)]
        n_l, n_p = math.prod(patch), math.prod(counts)
        xl = x.reshape(bsz, c, *grid).permute(to_lp).reshape(bsz, c, n_l, n_p)
        # (1) encoder attention: shared tokens attend over each patch's pixels (softmax over L)
        scores, v = self._encoder_conv(xl)
        scores = scores.reshape(bsz, h, t, 1, n_l, n_p)
        attn = torch.softmax(scores, dim=4)
        tokens = (attn * v.reshape(bsz, h, 1, d, n_l, n_p)).sum(dim=4)  # (B, H, T, d, P)
        tokens = tokens + self.latent.reshape(1, h, t, d, 1)
        # (2) latent transition with the trigonometric basis, channels (h, d) first
        flat = tokens.permute(1, 3, 0, 2, 4).reshape(c, -1)
        k = (math.pi * self.modes).to(flat.dtype)
        flat = _TrigTransition.apply(flat, self.weights.to(flat.dtype), k)
        tokens = flat.reshape(h, d, bsz, t, 1, n_p).permute(2, 0, 3, 1, 4, 5)  # (B,H,T,d,1,P)
        # (3) decoder attention: pixels query the tokens (keys = values = tokens), softmax over T
        wq = self.decoder_attn.weight.reshape(c, c)
        q = _conv1x1(xl, wq, self.decoder_attn.bias).reshape(bsz, h, 1, d, n_l, n_p)
        a2 = torch.softmax((q * tokens).sum(dim=3, keepdim=True), dim=2)  # (B, H, T, 1, L, P)
        out = (a2 * tokens).sum(dim=2).reshape(bsz, c, n_l, n_p) + xl
        # back to (B, C, *S)
        out = out.reshape(bsz, c, *patch, *counts)
        back = [0, 1]
        for i in range(nd):
            back += [2 + nd + i, 2 + i]
        return out.permute(back).reshape(bsz, c, *sizes)


class LSM(_UNetOperator):
    """Latent Spectral Model: ``(B, in_channels, *S) → (B, out_channels, *S)``, any ``S ≥ 4``.

    Lift (C_in + d grid channels → width) → zero-pad to multiples of 16 → 5-level U-Net whose
    encoder features each pass a :class:`NeuralSpectralBlock` → 1×1 conv → crop → MLP
    (width → 128 → GELU → out_channels).
    """

    def __init__(self, config: LSMConfig | None = None, **kwargs: Any) -> None:
        cfg = resolve_config(config, LSMConfig, kwargs)
        super().__init__(
            cfg.in_channels,
            cfg.out_channels,
            cfg.width,
            cfg.ndim,
            cfg.head_width,
            make_blocks=lambda chans: nn.ModuleList(
                NeuralSpectralBlock(c, cfg.num_basis, cfg.num_token, cfg.num_heads, cfg.ndim)
                for c in chans
            ),
        )
        self.config = cfg

    def _processors(self, padded: tuple[int, ...]) -> list:
        patch = self.config.patch_size or tuple(p // PAD_MULTIPLE for p in padded)
        if any(p % (PAD_MULTIPLE * q) for p, q in zip(padded, patch)):
            raise ValueError(
                f"LSMConfig.patch_size {patch} must divide the coarsest level "
                f"{tuple(p // PAD_MULTIPLE for p in padded)}"
            )
        return [(lambda f, blk=blk: blk(f, patch)) for blk in self.blocks]
