"""Shared scaffolding of the SSM layers: conv mode (FFT via ``sciml.kernels.fft_conv``) and step
mode (recurrence with explicit state), skip term, activation and position-wise output linear."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sciml.kernels import fft_conv

__all__ = ["SSMLayer", "check_positive_int", "check_sequence"]


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")
    return int(value)


def check_sequence(u: Any, d_model: int, name: str = "u") -> torch.Tensor:
    if not isinstance(u, torch.Tensor):
        raise TypeError(
            f"{name}: expected a torch.Tensor of shape (B, L, {d_model}), got {type(u).__name__}"
        )
    if u.ndim != 3 or u.shape[-1] != d_model:
        raise ValueError(f"{name}: expected shape (B, L, {d_model}), got {tuple(u.shape)}")
    if not u.is_floating_point():
        raise TypeError(f"{name}: expected a floating dtype, got {u.dtype}")
    return u


class SSMLayer(nn.Module):
    """Base class: ``y = W · dropout(act(K̄ * u + D u)) + b`` per channel, input ``(B, L, H)``.

    Subclasses implement :meth:`kernel` (``(H, L)``), :meth:`_ssm_step` and :meth:`default_state`.
    Conv mode (:meth:`forward`) and step mode (:meth:`step`) compute the same map.
    """

    def __init__(
        self,
        d_model: int,
        dropout: float = 0.0,
        activation: str = "gelu",
        output_linear: bool = True,
    ) -> None:
        super().__init__()
        self.d_model = check_positive_int(d_model, "d_model")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout: expected in [0, 1), got {dropout!r}")
        if activation not in ("gelu", "identity"):
            raise ValueError(f"activation: expected 'gelu' or 'identity', got {activation!r}")
        self.D = nn.Parameter(torch.randn(d_model))
        self.activation = nn.GELU() if activation == "gelu" else nn.Identity()
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.output_linear = nn.Linear(d_model, d_model) if output_linear else nn.Identity()

    # -- to implement -------------------------------------------------------------------------
    def kernel(self, L: int) -> torch.Tensor:  # pragma: no cover - abstract
        """Convolution kernel ``(H, L)``."""
        raise NotImplementedError

    def default_state(self, batch_size: int, device=None, dtype=None) -> Any:  # pragma: no cover
        """Zero state for :meth:`step`."""
        raise NotImplementedError

    def _zero_state(
        self,
        batch_size: int,
        n_state: int,
        like: torch.Tensor,
        device=None,
        dtype=None,
        complex_state: bool = False,
    ) -> torch.Tensor:
        """Zeros ``(batch_size, H, n_state)`` on ``like``'s device; complex states (diagonal/DPLR
        SSMs) use the complex dtype matching ``dtype`` (float64 → complex128, else complex64)."""
        dtype = dtype or like.dtype
        if complex_state:
            dtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        return torch.zeros(
            batch_size, self.d_model, n_state, dtype=dtype, device=device or like.device
        )

    def _ssm_step(
        self, u: torch.Tensor, state: Any
    ) -> tuple[torch.Tensor, Any]:  # pragma: no cover
        """One recurrence step of the bare SSM (no skip): ``u (B, H)`` -> ``(y (B, H), state)``."""
        raise NotImplementedError

    # -- shared ---------------------------------------------------------------------------------
    def ssm(self, u: torch.Tensor) -> torch.Tensor:
        """Bare SSM plus skip in conv mode: ``u (B, H, L)`` -> ``(B, H, L)``."""
        k = self.kernel(u.shape[-1]).to(u.dtype)
        return fft_conv(u, k, causal=True) + self.D[:, None] * u

    def _post(self, y: torch.Tensor) -> torch.Tensor:
        return self.output_linear(self.dropout(self.activation(y)))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Conv mode: ``u (B, L, H)`` -> ``(B, L, H)``."""
        check_sequence(u, self.d_model)
        y = self.ssm(u.transpose(-1, -2)).transpose(-1, -2)
        return self._post(y)

    def step(self, u: torch.Tensor, state: Any) -> tuple[torch.Tensor, Any]:
        """Step mode: ``u (B, H)`` and state -> ``(y (B, H), new state)``."""
        if u.ndim != 2 or u.shape[-1] != self.d_model:
            raise ValueError(f"u: expected shape (B, {self.d_model}), got {tuple(u.shape)}")
        check_state_batch(state, u.shape[0])
        y, state = self._ssm_step(u, state)
        return self._post(y + self.D * u), state

    def forward_recurrent(self, u: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """Run :meth:`step` over ``u (B, L, H)``; returns ``(y (B, L, H), final state)``.

        The state carries across calls, so a long sequence can be streamed in pieces.
        """
        check_sequence(u, self.d_model)
        if state is None:
            state = self.default_state(u.shape[0], device=u.device, dtype=u.dtype)
        ys = []
        for t in range(u.shape[1]):
            y, state = self.step(u[:, t], state)
            ys.append(y)
        return torch.stack(ys, dim=1), state


def _state_batch(state: Any) -> int | None:
    """Leading (batch) size of the first tensor in a layer state (tensor or nested tuple/list)."""
    if isinstance(state, torch.Tensor):
        return state.shape[0] if state.ndim else None
    if isinstance(state, (tuple, list)):
        for s in state:
            n = _state_batch(s)
            if n is not None:
                return n
    return None


def check_state_batch(state: Any, batch: int) -> None:
    """A carried state must belong to a stream of the same batch size (it would broadcast
    silently, or fail deep inside a layer)."""
    nb = _state_batch(state)
    if nb is not None and nb != batch:
        raise ValueError(
            f"state: carried for a batch of {nb}, but the input has a batch of {batch} "
            "(start a new stream with state=None)"
        )
