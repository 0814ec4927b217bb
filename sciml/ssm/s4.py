"""S4 layer with the diagonal-plus-low-rank (DPLR) kernel: Cauchy sums at the roots of unity and a
Woodbury correction (Gu, Goel, Ré, ICLR 2022). Pure PyTorch, memory-chunked over frequencies."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from ._layer import SSMLayer, check_positive_int
from .hippo import hippo_nplr

__all__ = ["S4", "S4Config", "cauchy", "dplr_dense", "dplr_kernel"]


@dataclass(frozen=True)
class S4Config:
    """S4 hyper-parameters (paper defaults). ``d_state`` N counts real dimensions (N/2 modes kept)."""

    d_state: int = 64
    measure: str = "legs"
    l_max: int = 1024
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    dropout: float = 0.0
    activation: str = "gelu"
    lr_ssm: float = 1e-3
    chunk: int = 2048


def cauchy(v: torch.Tensor, g: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """Conjugate-symmetric Cauchy sum ``Σ_n v_n/(g - λ_n) + conj(v_n)/(g - conj λ_n)``.

    ``v, lam (..., n)``, ``g (..., F)`` -> ``(..., F)``. Memory ``O(n F)`` (chunk F when large).
    """
    gd = g[..., None, :]
    vl, ll = v[..., :, None], lam[..., :, None]
    return (vl / (gd - ll) + vl.conj() / (gd - ll.conj())).sum(-2)


def _kernel_chunk(
    omega: torch.Tensor,
    Lambda: torch.Tensor,
    P: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    dt: torch.Tensor,
) -> torch.Tensor:
    """``K̂(ω)`` for frequencies ``omega (F,)`` (none equal to -1). Shapes as :func:`dplr_kernel`."""
    g = (2.0 / dt)[:, None] * (1 - omega) / (1 + omega)  # (H, F)
    r = P.shape[-2]
    k00 = cauchy(C * B, g, Lambda)  # (H, F)
    k01 = torch.stack([cauchy(C * P[:, i], g, Lambda) for i in range(r)], dim=-2)  # (H, r, F)
    k10 = torch.stack([cauchy(P[:, i].conj() * B, g, Lambda) for i in range(r)], dim=-2)
    k11 = torch.stack(
        [
            torch.stack([cauchy(P[:, i].conj() * P[:, j], g, Lambda) for j in range(r)], -2)
            for i in range(r)
        ],
        dim=-3,
    )  # (H, r, r, F)
    if r == 1:
        corr = k01[:, 0] * k10[:, 0] / (1 + k11[:, 0, 0])
    else:
        eye = torch.eye(r, dtype=k11.dtype, device=k11.device)
        sol = torch.linalg.solve(
            eye + k11.movedim(-1, 1), k10.movedim(-1, 1)[..., None]
        )  # (H,F,r,1)
        corr = (k01.movedim(-1, 1)[..., None, :] @ sol)[..., 0, 0]
    return 2 / (1 + omega) * (k00 - corr)


def dplr_kernel(
    Lambda: torch.Tensor,
    P: torch.Tensor,
    B: torch.Tensor,
    C_tilde: torch.Tensor,
    dt: torch.Tensor,
    L: int,
    chunk: int = 2048,
) -> torch.Tensor:
    """S4 kernel ``K̄_l = C Āˡ B̄`` (l < L) of the bilinear-discretised DPLR system, as ``(H, L)``.

    Continuous system (in the eigenbasis, conjugate pairs implicit): ``A = diag(Λ) - P Pᴴ``;
    ``C_tilde = C (I - Ā^L)`` (S4 learns C̃ directly). ``K̂(ω) = 2/(1+ω) [k00 - k01 (1+k11)⁻¹ k10]``
    with Cauchy sums at ``g(ω) = (2/Δ)(1-ω)/(1+ω)``; ω = -1 uses the closed form ``Δ Re Σ C̃ B``.

    Args:
        Lambda: ``(H, n)`` complex eigenvalues (one of each conjugate pair).
        P: ``(H, r, n)`` complex low-rank factor.
        B, C_tilde: ``(H, n)`` complex.
        dt: ``(H,)`` positive steps.
        L: kernel length; ``chunk``: frequencies per Cauchy evaluation (memory ``O(H n chunk)``).
    """
    L = check_positive_int(L, "L")
    chunk = check_positive_int(chunk, "chunk")
    rdtype = dt.dtype
    k = torch.arange(L // 2 + 1, dtype=rdtype, device=dt.device)
    omega = torch.polar(torch.ones_like(k), -2 * math.pi * k / L)
    nyquist = L % 2 == 0
    omega_main = omega[:-1] if nyquist else omega
    parts = []
    grad = torch.is_grad_enabled() and any(t.requires_grad for t in (Lambda, P, B, C_tilde, dt))
    for s in range(0, omega_main.shape[0], chunk):
        om = omega_main[s : s + chunk]
        if grad and omega_main.shape[0] > chunk:
            parts.append(
                checkpoint(_kernel_chunk, om, Lambda, P, B, C_tilde, dt, use_reentrant=False)
            )
        else:
            parts.append(_kernel_chunk(om, Lambda, P, B, C_tilde, dt))
    if nyquist:
        last = dt * (C_tilde * B).sum(-1).real
        parts.append(last[:, None].to(parts[0].dtype) if parts else last[:, None])
    Khat = torch.cat(parts, dim=-1)
    return torch.fft.irfft(Khat, n=L)


def dplr_dense(
    Lambda: torch.Tensor, P: torch.Tensor, B: torch.Tensor, dt: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense bilinear discretisation of the full (both conjugate halves) DPLR system.

    Returns ``Ā (H, 2n, 2n)`` and ``B̄ (H, 2n)`` complex; the full C is ``[C, conj C]``. For tests and
    step-mode setup (``O(n³)``).
    """
    Lf = torch.cat([Lambda, Lambda.conj()], -1)
    Pf = torch.cat([P, P.conj()], -1)  # (H, r, 2n)
    Bf = torch.cat([B, B.conj()], -1)
    A = torch.diag_embed(Lf) - Pf.transpose(-1, -2) @ Pf.conj()
    eye = torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)
    half = (dt / 2)[:, None, None].to(A.dtype)
    lhs = eye - half * A
    Abar = torch.linalg.solve(lhs, eye + half * A)
    Bbar = torch.linalg.solve(lhs, (dt[:, None].to(A.dtype) * Bf)[..., None])[..., 0]
    return Abar, Bbar


class S4(SSMLayer):
    """S4 layer ``(B, L, H) -> (B, L, H)``, L ≤ ``config.l_max``; NPLR init from ``config.measure``.

    Parameters per channel: ``Λ`` as ``(log(-Re Λ), Im Λ)``, ``P``, ``B``, ``C̃ = C(I - Ā^{l_max})``,
    ``log_dt``. Step mode uses the O(N) DPLR recurrence with ``C = C̃ (I - Ā^{l_max})⁻¹`` and the
    other step quantities from :meth:`setup_step`, redone automatically when a parameter has
    changed since (an optimiser step, ``load_state_dict``, a dtype or device move) — also in the
    middle of a stream.
    """

    def __init__(
        self, d_model: int, config: S4Config | None = None, *, seed: int | None = None
    ) -> None:
        config = config or S4Config()
        super().__init__(d_model, config.dropout, config.activation)
        self.config = config
        N = check_positive_int(config.d_state, "d_state", 2)
        if N % 2:
            raise ValueError(f"d_state: expected an even int, got {N}")
        check_positive_int(config.l_max, "l_max")
        if not 0 < config.dt_min <= config.dt_max:
            raise ValueError(
                f"dt_min, dt_max: expected 0 < dt_min <= dt_max, got {config.dt_min}, {config.dt_max}"
            )
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        H, n = d_model, N // 2
        Lam, Pt, Bt, _ = hippo_nplr(config.measure, N)
        Lam, Pt, Bt = Lam[:n], Pt[:, :n], Bt[:n]  # Im <= 0 half
        Lam = torch.complex(Lam.real.clamp(max=-1e-4), Lam.imag)
        log_dt = torch.rand(H, generator=g, dtype=torch.float64) * (
            math.log(config.dt_max) - math.log(config.dt_min)
        ) + math.log(config.dt_min)
        C = torch.randn(H, n, 2, generator=g, dtype=torch.float64) * math.sqrt(0.5)
        C = torch.view_as_complex(C)
        Lam_h = Lam.expand(H, n)
        P_h = Pt.expand(H, *Pt.shape).clone()
        B_h = Bt.expand(H, n).clone()
        with torch.no_grad():
            Abar, _ = dplr_dense(Lam_h, P_h, B_h, torch.exp(log_dt))
            ALm = torch.linalg.matrix_power(Abar, config.l_max)
            Cf = torch.cat([C, C.conj()], -1)
            Ct = (Cf[:, None, :] @ (torch.eye(N, dtype=Abar.dtype) - ALm))[:, 0, :n]
        self.log_dt = nn.Parameter(log_dt.float())
        self.log_L_real = nn.Parameter(torch.log(-Lam_h.real).clone().float())
        self.L_imag = nn.Parameter(Lam_h.imag.clone().float())
        self.P = nn.Parameter(torch.view_as_real(P_h).clone().float())
        self.B = nn.Parameter(torch.view_as_real(B_h).clone().float())
        self.C_tilde = nn.Parameter(torch.view_as_real(Ct).clone().float())
        with torch.no_grad():
            self.D.copy_(torch.randn(H, generator=g))
        self._step_cache: tuple | None = None
        self._step_key: tuple | None = None

    def ssm_parameters(self):
        """``(Λ (H,n), P (H,r,n), B (H,n), C̃ (H,n), dt (H,))``."""
        Lam = torch.complex(-torch.exp(self.log_L_real), self.L_imag)
        return (
            Lam,
            torch.view_as_complex(self.P),
            torch.view_as_complex(self.B),
            torch.view_as_complex(self.C_tilde),
            torch.exp(self.log_dt),
        )

    def kernel(self, L: int) -> torch.Tensor:
        if L > self.config.l_max:
            raise ValueError(f"L: expected <= l_max = {self.config.l_max}, got {L}")
        Lam, P, B, Ct, dt = self.ssm_parameters()
        return dplr_kernel(Lam, P, B, Ct, dt, self.config.l_max, self.config.chunk)[..., :L]

    def setup_step(self) -> None:
        """Recover ``C = C̃ (I - Ā^{l_max})⁻¹`` and the discretised ``B̄`` for the O(N) recurrence."""
        Lam, P, B, Ct, dt = self.ssm_parameters()
        n = Lam.shape[-1]
        Abar, Bbar = dplr_dense(Lam, P, B, dt)
        eye = torch.eye(2 * n, dtype=Abar.dtype, device=Abar.device)
        ALm = torch.linalg.matrix_power(Abar, self.config.l_max)
        Ctf = torch.cat([Ct, Ct.conj()], -1)
        C = torch.linalg.solve((eye - ALm).transpose(-1, -2), Ctf[..., None])[..., 0][:, :n]
        half = (dt / 2)[:, None]
        Dinv = 1 / (1 - half * Lam)  # (H, n)
        # M = I + Vᴴ D⁻¹ U (r x r, real) with U = Δ/2 P, V = P over both halves
        M = (
            2
            * (P.conj()[:, :, None, :] * ((half * Dinv)[:, None, :] * P)[:, None, :, :])
            .sum(-1)
            .real
        )
        M = M + torch.eye(P.shape[-2], dtype=M.dtype, device=M.device)
        self._step_cache = (Lam, P, C, Bbar[:, :n], dt, Dinv, torch.linalg.inv(M))
        self._step_key = self._parameter_key()

    def _parameter_key(self) -> tuple:
        """Identifies the parameter values the step cache was built from: in-place updates bump
        ``_version``, ``.to()``/``.double()`` replace the storage; with grad mode, since a cache
        built without grad would silently cut the SSM parameters out of the graph."""
        params = (self.log_dt, self.log_L_real, self.L_imag, self.P, self.B, self.C_tilde)
        return (torch.is_grad_enabled(),) + tuple(
            (p._version, p.data_ptr(), p.dtype, p.device) for p in params
        )

    def _apply_Abar(self, x: torch.Tensor) -> torch.Tensor:
        Lam, P, _, _, dt, Dinv, Minv = self._step_cache
        half = (dt / 2)[:, None]
        s = 2 * (P.conj() * x[..., None, :]).sum(-1).real  # (B, H, r)
        y = x + half * (Lam * x - (s[..., None] * P).sum(-2))
        t = Dinv * y
        s2 = 2 * (P.conj() * t[..., None, :]).sum(-1).real
        sol = (Minv @ s2[..., None])[..., 0]  # (B, H, r)
        return t - half * Dinv * (sol[..., None] * P).sum(-2)

    def default_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        self.setup_step()
        return self._zero_state(
            batch_size, self.config.d_state // 2, self.log_dt, device, dtype, complex_state=True
        )

    def _ssm_step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self._step_cache is None or self._step_key != self._parameter_key():
            self.setup_step()
        _, _, C, Bbar, *_ = self._step_cache
        state = self._apply_Abar(state) + Bbar * u[..., None]
        return 2 * (C * state).sum(-1).real.to(u.dtype), state

    def param_groups(self, lr: float, weight_decay: float = 0.0) -> list[dict]:
        """Optimizer groups: ``Λ, P, B, dt`` at ``config.lr_ssm`` without weight decay."""
        ssm = [self.log_dt, self.log_L_real, self.L_imag, self.P, self.B]
        ids = {id(p) for p in ssm}
        rest = [p for p in self.parameters() if id(p) not in ids]
        return [
            {"params": ssm, "lr": self.config.lr_ssm, "weight_decay": 0.0},
            {"params": rest, "lr": lr, "weight_decay": weight_decay},
        ]
