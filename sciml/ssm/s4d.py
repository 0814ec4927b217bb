"""S4D: diagonal state-space layer (Gu, Gupta, Goel, Ré 2022) with a Vandermonde kernel."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ._layer import SSMLayer, check_positive_int
from .hippo import hippo_nplr

__all__ = ["S4D", "S4DConfig", "s4d_discretize", "s4d_init", "s4d_kernel"]

_INITS = ("lin", "inv", "real", "legs")
_DISC = ("zoh", "bilinear")


@dataclass(frozen=True)
class S4DConfig:
    """S4D hyper-parameters (paper defaults). ``d_state`` N counts real dimensions (N/2 complex modes)."""

    d_state: int = 64
    init: str = "lin"
    discretization: str = "zoh"
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    dropout: float = 0.0
    activation: str = "gelu"
    lr_ssm: float = 1e-3
    chunk: int = 4096


def s4d_init(init: str, n_modes: int, *, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Diagonal ``A`` (n_modes,) complex: lin ``-½ + iπn``, inv ``-½ + i(N/π)(N/(2n+1) - 1)``,
    real ``-(n+1)``, legs = diagonal of NPLR(LegS) with N = 2 n_modes (Im ≥ 0 half)."""
    if init not in _INITS:
        raise ValueError(f"init: expected one of {_INITS}, got {init!r}")
    check_positive_int(n_modes, "n_modes")
    cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    n = torch.arange(n_modes, dtype=dtype)
    N = 2 * n_modes
    if init == "lin":
        return torch.complex(-0.5 * torch.ones_like(n), math.pi * n)
    if init == "inv":
        return torch.complex(-0.5 * torch.ones_like(n), (N / math.pi) * (N / (2 * n + 1) - 1))
    if init == "real":
        return torch.complex(-(n + 1), torch.zeros_like(n))
    lam = hippo_nplr("legs", N, dtype=torch.float64)[0]
    return lam[n_modes:].to(cdtype)  # sorted by Im: the upper half has Im >= 0


def _expm1(z: torch.Tensor) -> torch.Tensor:
    """``exp(z) - 1`` for complex ``z = x + iy`` without cancellation near 0, in real arithmetic
    (every device): ``expm1(x) cos y - 2 sin²(y/2) + i eˣ sin y``."""
    x, y = z.real, z.imag
    return torch.complex(
        torch.expm1(x) * torch.cos(y) - 2 * torch.sin(y / 2) ** 2, torch.exp(x) * torch.sin(y)
    )


def s4d_discretize(
    A: torch.Tensor, dt: torch.Tensor, method: str = "zoh", B: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Ā, B̄)`` for diagonal ``A (H, n)`` complex and steps ``dt (H,)``.

    ZOH: ``Ā = exp(ΔA)``, ``B̄ = (exp(ΔA) - 1)/A · B``. Bilinear: ``Ā = (1 + ΔA/2)/(1 - ΔA/2)``,
    ``B̄ = Δ B/(1 - ΔA/2)``. ``B`` defaults to ones.

    ZOH's ``exp(ΔA) - 1`` is computed without cancellation (:func:`_expm1`): subtracting 1 from
    ``exp(ΔA)`` loses ``log₁₀(1/|ΔA|)`` digits (Δ = 1e-4, |A| = ½: 1e-3 relative error in float32).
    """
    if method not in _DISC:
        raise ValueError(f"discretization: expected one of {_DISC}, got {method!r}")
    dtA = dt[..., None] * A
    if B is None:
        B = torch.ones_like(A)
    if method == "zoh":
        return torch.exp(dtA), _expm1(dtA) / A * B
    den = 1 - dtA / 2
    return (1 + dtA / 2) / den, dt[..., None] * B / den


def s4d_kernel(
    C: torch.Tensor, Abar: torch.Tensor, Bbar: torch.Tensor, L: int, chunk: int = 4096
) -> torch.Tensor:
    """Vandermonde kernel ``K̄_l = 2 Re Σ_n C_n B̄_n Ā_n^l`` -> ``(H, L)`` real.

    ``C, Abar, Bbar``: ``(H, n)`` complex. Computed as ``exp(l · log Ā)`` in chunks of ``chunk``
    time steps (memory ``O(H n chunk)``).
    """
    return _vandermonde(C * Bbar, torch.log(Abar), L, chunk)


def _vandermonde(CB: torch.Tensor, logA: torch.Tensor, L: int, chunk: int) -> torch.Tensor:
    """``2 Re Σ_n CB_n exp(l · logA_n)`` for ``l < L`` in chunks of ``chunk`` -> ``(H, L)``."""
    L = check_positive_int(L, "L")
    chunk = check_positive_int(chunk, "chunk")
    rdtype = CB.real.dtype
    out = []
    for start in range(0, L, chunk):
        ell = torch.arange(start, min(L, start + chunk), device=CB.device, dtype=rdtype)
        V = torch.exp(logA[..., None] * ell)  # (H, n, l)
        out.append(2 * torch.einsum("hn,hnl->hl", CB, V).real)
    return torch.cat(out, dim=-1)


class S4D(SSMLayer):
    """S4D layer: ``(B, L, H) -> (B, L, H)``; conv mode :meth:`forward`, step mode :meth:`step`.

    Parameters: ``log_dt (H,)``, ``A`` as ``(log(-Re A), Im A)`` (H, N/2), ``C`` (H, N/2) complex,
    ``D (H,)``; ``B = 1``. :meth:`param_groups` gives the SSM parameters lr ``config.lr_ssm`` and
    no weight decay.
    """

    def __init__(
        self, d_model: int, config: S4DConfig | None = None, *, seed: int | None = None
    ) -> None:
        config = config or S4DConfig()
        super().__init__(d_model, config.dropout, config.activation)
        self.config = config
        N = check_positive_int(config.d_state, "d_state", 2)
        check_positive_int(config.chunk, "chunk")
        if N % 2:
            raise ValueError(f"d_state: expected an even int (N/2 conjugate pairs), got {N}")
        if config.discretization not in _DISC:
            raise ValueError(
                f"discretization: expected one of {_DISC}, got {config.discretization!r}"
            )
        if not 0 < config.dt_min <= config.dt_max:
            raise ValueError(
                f"dt_min, dt_max: expected 0 < dt_min <= dt_max, got {config.dt_min}, {config.dt_max}"
            )
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        H, n = d_model, N // 2
        log_dt = torch.rand(H, generator=g) * (math.log(config.dt_max) - math.log(config.dt_min))
        self.log_dt = nn.Parameter(log_dt + math.log(config.dt_min))
        A = s4d_init(config.init, n).to(torch.complex64).expand(H, n)
        self.log_A_real = nn.Parameter(torch.log(-A.real).clone().float())
        self.A_imag = nn.Parameter(A.imag.clone().float())
        self.C = nn.Parameter(torch.randn(H, n, 2, generator=g) * math.sqrt(0.5))
        with torch.no_grad():
            self.D.copy_(torch.randn(H, generator=g))

    def ssm_parameters(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(A (H, n) complex, C (H, n) complex, dt (H,))``."""
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        return A, torch.view_as_complex(self.C), torch.exp(self.log_dt)

    def discrete(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(Ā, B̄, C)`` each ``(H, n)`` complex."""
        A, C, dt = self.ssm_parameters()
        Abar, Bbar = s4d_discretize(A, dt, self.config.discretization)
        return Abar, Bbar, C

    def kernel(self, L: int) -> torch.Tensor:
        """``(H, L)``, as :func:`s4d_kernel`; for ZOH with the exponent ``l·ΔA`` itself instead of
        ``l·log Ā``: the log of a rounded ``Ā ≈ 1`` (small Δ) carries an absolute error of one
        rounding unit that the kernel multiplies by l (float32, Δ = 1e-3, L = 8192: 3.8e-5 of
        max|K| through the log, 2.8e-6 directly)."""
        A, C, dt = self.ssm_parameters()
        method = self.config.discretization
        Abar, Bbar = s4d_discretize(A, dt, method)
        logA = dt[..., None] * A if method == "zoh" else torch.log(Abar)
        return _vandermonde(C * Bbar, logA, L, self.config.chunk)

    def default_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        return self._zero_state(
            batch_size, self.config.d_state // 2, self.log_dt, device, dtype, complex_state=True
        )

    def _ssm_step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        Abar, Bbar, C = self.discrete()
        state = Abar * state + Bbar * u[..., None]
        return 2 * (C * state).sum(-1).real.to(u.dtype), state

    def param_groups(self, lr: float, weight_decay: float = 0.0) -> list[dict]:
        """Optimizer groups: SSM parameters (A, dt) at ``config.lr_ssm`` without weight decay."""
        ssm = [self.log_dt, self.log_A_real, self.A_imag]
        ids = {id(p) for p in ssm}
        rest = [p for p in self.parameters() if id(p) not in ids]
        return [
            {"params": ssm, "lr": self.config.lr_ssm, "weight_decay": 0.0},
            {"params": rest, "lr": lr, "weight_decay": weight_decay},
        ]
