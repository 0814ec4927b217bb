"""SpaceTime's fixed preprocessing layer: differencing (orders 0–3) and moving-average residuals,
each channel filtered causally by one fixed FIR kernel (conv mode via ``fft_conv``, step mode with
a buffer of past inputs)."""

from __future__ import annotations

import math

import torch
from torch import nn

from sciml.kernels import fft_conv

from ._layer import check_positive_int, check_sequence, check_state_batch

__all__ = ["Preprocess", "differencing_kernel", "moving_average_residual_kernel"]


def differencing_kernel(order: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Binomial row of ``(1 - z)^order``: ``[1]``, ``[1, -1]``, ``[1, -2, 1]``, ``[1, -3, 3, -1]``."""
    if isinstance(order, bool) or not isinstance(order, int) or not 0 <= order <= 3:
        raise ValueError(f"order: expected an int in 0..3, got {order!r}")
    return torch.tensor([(-1) ** j * math.comb(order, j) for j in range(order + 1)], dtype=dtype)


def moving_average_residual_kernel(window: int, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``δ₀ - (1/m) 1_[0, m)``: ``y_t = u_t - mean(u_{t-m+1..t})`` (the residual, not the average)."""
    m = check_positive_int(window, "window")
    k = -torch.full((m,), 1.0 / m, dtype=dtype)
    k[0] += 1.0
    return k


class Preprocess(nn.Module):
    """Fixed causal FIR filters on ``(B, L, H)``: channel h uses kernel ``h mod n_kernels`` from
    ``[diff(o) for o in diff_orders] + [ma_residual(m) for m in ma_windows]``."""

    def __init__(
        self,
        d_model: int,
        diff_orders: tuple[int, ...] = (0, 1, 2, 3),
        ma_windows: tuple[int, ...] = (4, 8, 16, 32),
    ) -> None:
        super().__init__()
        self.d_model = check_positive_int(d_model, "d_model")
        kernels = [differencing_kernel(o) for o in diff_orders]
        kernels += [moving_average_residual_kernel(m) for m in ma_windows]
        if not kernels:
            raise ValueError("diff_orders, ma_windows: expected at least one kernel, got none")
        width = max(k.numel() for k in kernels)
        K = torch.zeros(d_model, width, dtype=torch.float64)
        for h in range(d_model):
            k = kernels[h % len(kernels)]
            K[h, : k.numel()] = k
        self.register_buffer("K", K.float())
        # The filters are applied from this float64 master copy, cast to the input's dtype: the
        # float32 buffer (kept for state dicts) rounds 1/m for m not a power of two, which made
        # a float64 model's moving-average residuals only float32-accurate (5e-8 at m = 3, 5, 7).
        self._K64 = K
        self._taps_cache: dict[tuple, torch.Tensor] = {}

    def _taps(self, like: torch.Tensor) -> torch.Tensor:
        """The exact filters ``(H, width)`` in ``like``'s dtype and on its device."""
        key = (like.dtype, like.device)
        taps = self._taps_cache.get(key)
        if taps is None:
            taps = self._taps_cache[key] = self._K64.to(dtype=like.dtype, device=like.device)
        return taps

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """``u (B, L, H)`` -> ``(B, L, H)``; zero history before the first sample."""
        check_sequence(u, self.d_model)
        return fft_conv(u.transpose(-1, -2), self._taps(u), causal=True).transpose(-1, -2)

    def default_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Buffer of the last ``width - 1`` inputs ``(B, H, width - 1)``, most recent first."""
        return torch.zeros(
            batch_size,
            self.d_model,
            self.K.shape[-1] - 1,
            device=device or self.K.device,
            dtype=dtype or self.K.dtype,
        )

    def step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``u (B, H)`` -> ``(y (B, H), state)``."""
        check_state_batch(state, u.shape[0])
        window = torch.cat([u[..., None], state], dim=-1)  # (B, H, width)
        y = (window * self._taps(u)).sum(-1)
        return y, window[..., :-1]
