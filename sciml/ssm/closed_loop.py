"""SpaceTime's closed-loop companion SSM: a decoder whose state predicts its own next input
(``û = kᵀx``) so it rolls out any horizon with ``x_{n+1} = (A + b kᵀ) x_n``, ``y = cᵀx``."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from sciml.kernels import fft_conv

from ._layer import check_positive_int, check_sequence
from .companion import companion_power_apply, normalize_companion, shift_lowrank_kernel

__all__ = ["ClosedLoopCompanionSSM", "ClosedLoopOutput"]


class ClosedLoopOutput(NamedTuple):
    """Outputs of :class:`ClosedLoopCompanionSSM` (all ``(B, ·, H)``).

    ``one_step[:, n]`` = ``cᵀ(A + bkᵀ) x_n`` (open-loop one-step forecast made at lag position n),
    ``next_input[:, n]`` = ``kᵀ x_n`` (prediction of the layer input at n+1),
    ``horizon[:, j-1]`` = ``cᵀ(A + bkᵀ)ʲ x_{lag-1}`` for j = 1..horizon (closed loop).
    """

    one_step: torch.Tensor
    next_input: torch.Tensor
    horizon: torch.Tensor


class ClosedLoopCompanionSSM(nn.Module):
    """Per-channel closed-loop companion SSM (SISO per channel), ``A = S + a e_dᵀ``.

    ``init="shift"`` (default) starts near the delay line ``a ≈ 0, b ≈ c ≈ e_0`` so that the state
    holds the last d inputs and ``k`` is a linear one-step predictor; ``"random"`` draws all four.
    Conv mode (:meth:`forward`) uses fast shift-plus-low-rank kernels for everything: the open-loop
    outputs over the lag, the lag's final state (Krylov kernels with C = I) and the closed-loop
    observability kernels of ``A + b kᵀ`` (rank 2). Step mode: :meth:`step_open` (given the input)
    and :meth:`step_closed` (feeding back ``û = kᵀx``).
    """

    def __init__(
        self,
        d_model: int,
        d_state: int = 64,
        norm: str = "clip",
        init: str = "shift",
        *,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.d_model = check_positive_int(d_model, "d_model")
        self.d_state = d = check_positive_int(d_state, "d_state")
        normalize_companion(torch.zeros(1), norm)
        self.norm = norm
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        self.a = nn.Parameter(torch.randn(d_model, d, generator=g) / d)
        self.b = nn.Parameter(torch.randn(d_model, d, generator=g) / math.sqrt(d))
        self.c = nn.Parameter(torch.randn(d_model, d, generator=g) / math.sqrt(d))
        self.k = nn.Parameter(torch.randn(d_model, d, generator=g) / d)
        if (
            init == "shift"
        ):  # start as a delay line: x_n = (u_n, u_{n-1}, ...), so k is a linear predictor
            with torch.no_grad():
                self.a.mul_(1e-2)
                self.b.mul_(1e-2)[:, 0] += 1.0
                self.c.mul_(1e-2)[:, 0] += 1.0
        elif init != "random":
            raise ValueError(f"init: expected 'shift' or 'random', got {init!r}")

    def _mats(self):
        a = normalize_companion(self.a, self.norm)
        d = self.d_state
        e_d = torch.zeros_like(a)
        e_d[..., d - 1] = 1
        # c1 = (A + b kᵀ)ᵀ c = Sᵀc + e_d (aᵀc) + k (bᵀc)
        c1 = torch.nn.functional.pad(self.c[..., 1:], (0, 1)) + e_d * (a * self.c).sum(
            -1, keepdim=True
        )
        c1 = c1 + self.k * (self.b * self.c).sum(-1, keepdim=True)
        return a, e_d, c1

    def closed_loop_matrix(self) -> torch.Tensor:
        """Dense ``A + b kᵀ`` ``(H, d, d)``."""
        a, e_d, _ = self._mats()
        d = self.d_state
        S = torch.diag(torch.ones(d - 1, dtype=a.dtype, device=a.device), -1)
        return S + a[..., :, None] * e_d[..., None, :] + self.b[..., :, None] * self.k[..., None, :]

    def forward(self, u: torch.Tensor, horizon: int) -> ClosedLoopOutput:
        """``u (B, lag, H)`` -> :class:`ClosedLoopOutput` with a ``horizon``-step closed-loop rollout."""
        check_sequence(u, self.d_model)
        horizon = check_positive_int(horizon, "horizon")
        lag, d = u.shape[1], self.d_state
        a, e_d, c1 = self._mats()
        eye = torch.eye(d, dtype=a.dtype, device=a.device).expand(self.d_model, d, d)
        # open loop (companion A): outputs c1, k and the d state components in one call
        Cs = torch.cat([c1[:, None], self.k[:, None], eye], dim=1)  # (H, d+2, d)
        b = self.b[..., None]
        K = shift_lowrank_kernel(
            a[..., None], e_d[..., None], b, Cs, lag, companion_power_apply(a, b, lag)
        )[:, :, 0]
        ut = u.transpose(-1, -2)  # (B, H, lag)
        y = fft_conv(ut, K[:, :2].transpose(0, 1)[:, None], causal=True)  # (2, B, H, lag)
        x_last = torch.einsum("hil,bhl->bhi", K[:, 2:].flip(-1), ut)  # state after the lag
        # closed loop: A_cl = S + [a, b][e_d, k]ᵀ, rows c1 A_cl^j, j < horizon
        P = torch.stack([a, self.b], dim=-1)
        Q = torch.stack([e_d, self.k], dim=-1)
        Acl_h = torch.linalg.matrix_power(self.closed_loop_matrix(), horizon)
        O = shift_lowrank_kernel(P, Q, eye, c1[:, None], horizon, Acl_h)[:, 0]  # (H, d, horizon)
        y_h = torch.einsum("hij,bhi->bjh", O, x_last)
        return ClosedLoopOutput(y[0].transpose(-1, -2), y[1].transpose(-1, -2), y_h)

    # -- step mode --------------------------------------------------------------------------------
    def default_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        return torch.zeros(
            batch_size,
            self.d_model,
            self.d_state,
            device=device or self.a.device,
            dtype=dtype or self.a.dtype,
        )

    def step_open(
        self, u: torch.Tensor, state: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Feed ``u (B, H)``: ``x ← A x + b u``; returns ``(one_step, next_input, state)``."""
        a, _, c1 = self._mats()
        x = (
            torch.nn.functional.pad(state[..., :-1], (1, 0))
            + a * state[..., -1:]
            + self.b * u[..., None]
        )
        return (c1 * x).sum(-1), (self.k * x).sum(-1), x

    def step_closed(self, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """No input: ``x ← (A + b kᵀ) x``; returns ``(y = cᵀx, state)``."""
        a, _, _ = self._mats()
        u_hat = (self.k * state).sum(-1, keepdim=True)
        x = torch.nn.functional.pad(state[..., :-1], (1, 0)) + a * state[..., -1:] + self.b * u_hat
        return (self.c * x).sum(-1), x
