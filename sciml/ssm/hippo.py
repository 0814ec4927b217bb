"""HiPPO transition matrices (LegS, LegT, FouT), their normal-plus-low-rank (NPLR) forms and the
online HiPPO projection operator.

Conventions follow the S4 code base: ``x'(t) = A x(t) + B u(t)`` with A "negative" (stable), LegT
halved for timescale correctness, FouT from "How to Train Your HiPPO" (Gu et al., 2022).
"""

from __future__ import annotations

import math

import torch

__all__ = [
    "HiPPOProjection",
    "hippo_matrices",
    "hippo_nplr",
    "hippo_rank_correction",
    "legendre_reconstruct",
    "fourier_reconstruct",
]

_MEASURES = ("legs", "legt", "fout")


def _check_measure(measure: str) -> str:
    if not isinstance(measure, str) or measure.lower() not in _MEASURES:
        raise ValueError(f"measure: expected one of {_MEASURES}, got {measure!r}")
    return measure.lower()


def _check_n(N: int, name: str = "N") -> int:
    if isinstance(N, bool) or not isinstance(N, int) or N < 1:
        raise ValueError(f"{name}: expected an int >= 1, got {N!r}")
    return N


def hippo_matrices(
    measure: str, N: int, *, dtype: torch.dtype = torch.float64, device=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """HiPPO transition ``A`` (N, N) and input ``B`` (N,) for ``measure`` in legs / legt / fout.

    - LegS: ``A_nk = -sqrt(2n+1) sqrt(2k+1)`` (n > k), ``-(n+1)`` (n = k), 0 (n < k); ``B_n = sqrt(2n+1)``.
    - LegT: ``A_nk = -½ sqrt(2n+1) sqrt(2k+1) · ((-1)^(n-k) if n < k else 1)``; ``B_n = ½ sqrt(2n+1)``.
    - FouT: 2×2 rotation blocks with frequencies ``π k`` minus ``B Bᵀ``, ``B = [1, 0, √2, 0, √2, …]``.
    """
    measure = _check_measure(measure)
    N = _check_n(N)
    n = torch.arange(N, dtype=dtype, device=device)
    r = torch.sqrt(2 * n + 1)
    i, k = n[:, None], n[None, :]
    if measure == "legs":
        A = -torch.where(
            i > k, r[:, None] * r[None, :], torch.zeros((), dtype=dtype, device=device)
        )
        A = A - torch.diag(n + 1)
        B = r.clone()
    elif measure == "legt":
        sign = torch.where(i < k, (-1.0) ** (i - k), torch.ones((), dtype=dtype, device=device))
        A = -0.5 * r[:, None] * sign * r[None, :]
        B = 0.5 * r
    else:  # fout
        freqs = torch.arange(N // 2, dtype=dtype, device=device)
        d = torch.stack([torch.zeros_like(freqs), freqs], dim=-1).reshape(-1)[1:]
        A = math.pi * (-torch.diag(d, 1) + torch.diag(d, -1))
        if A.shape[0] < N:  # odd N: pad the last row/column
            A = torch.nn.functional.pad(A, (0, N - A.shape[0], 0, N - A.shape[0]))
        B = torch.zeros(N, dtype=dtype, device=device)
        B[0::2] = math.sqrt(2.0)
        B[0] = 1.0
        A = A - B[:, None] * B[None, :]
    return A, B


def hippo_rank_correction(
    measure: str, N: int, *, dtype: torch.dtype = torch.float64, device=None
) -> torch.Tensor:
    """Low-rank correction ``P`` (rank, N) such that ``A + Σ_r P_r P_rᵀ`` is normal.

    LegS: rank 1, ``P_n = sqrt(n + ½)`` (``A + PPᵀ = -½ I + skew``). LegT: rank 2 (odd / even
    entries of ``sqrt(2n+1)/√2``; ``A + PPᵀ`` skew). FouT: rank 1, ``P = B``.
    """
    measure = _check_measure(measure)
    N = _check_n(N)
    n = torch.arange(N, dtype=dtype, device=device)
    if measure == "legs":
        return torch.sqrt(n + 0.5)[None, :]
    if measure == "legt":
        p = torch.sqrt(2 * n + 1) / math.sqrt(2.0)
        p0, p1 = p.clone(), p.clone()
        p0[0::2] = 0.0
        p1[1::2] = 0.0
        return torch.stack([p0, p1], dim=0)
    return hippo_matrices("fout", N, dtype=dtype, device=device)[1][None, :]


def hippo_nplr(
    measure: str, N: int, *, dtype: torch.dtype = torch.float64, device=None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Normal-plus-low-rank decomposition ``A = V (diag(Λ) - P̃ P̃ᴴ) Vᴴ`` with V unitary.

    Returns ``(Lambda (N,), P_tilde (rank, N), B_tilde (N,), V (N, N))`` (complex), eigenvalues sorted
    by imaginary part (the first N//2 have Im ≤ 0: the half S4 keeps). ``P_tilde = Vᴴ P``,
    ``B_tilde = Vᴴ B``. The normal part ``A + PPᵀ`` is a real multiple of I plus a skew-symmetric
    matrix, so it is diagonalised stably with a Hermitian eigensolver.
    """
    A, B = hippo_matrices(measure, N, dtype=dtype, device=device)
    P = hippo_rank_correction(measure, N, dtype=dtype, device=device)
    AP = A + P.T @ P
    w_re = torch.diagonal(AP).mean()
    S = AP - w_re * torch.eye(N, dtype=dtype, device=device)  # skew-symmetric
    cdtype = torch.complex128 if dtype == torch.float64 else torch.complex64
    mu, V = torch.linalg.eigh(S.to(cdtype) * (-1j))  # S v = i mu v
    Lam = w_re.to(cdtype) + 1j * mu.to(cdtype)
    order = torch.argsort(Lam.imag)
    Lam, V = Lam[order], V[:, order]
    Vh = V.conj().T
    return Lam, P.to(cdtype) @ Vh.T, Vh @ B.to(cdtype), V


def legendre_reconstruct(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Evaluate ``Σ_n c_n sqrt(2n+1) P_n(2 s - 1)`` for ``s ∈ [0, 1]`` (fraction of the history).

    Args:
        c: LegS coefficients ``(..., N)``.
        s: points ``(M,)`` in ``[0, 1]`` (0 = start of the history, 1 = now).
    Returns: ``(..., M)``.
    """
    N = c.shape[-1]
    x = 2 * s.to(device=c.device, dtype=c.dtype) - 1  # points given on the CPU follow c
    P = [torch.ones_like(x), x]
    for n in range(1, N - 1):  # Bonnet recursion
        P.append(((2 * n + 1) * x * P[n] - n * P[n - 1]) / (n + 1))
    Pm = torch.stack(P[:N], dim=0)  # (N, M)
    scale = torch.sqrt(2 * torch.arange(N, dtype=c.dtype, device=c.device) + 1)
    return (c * scale) @ Pm


def fourier_reconstruct(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """Evaluate the FouT expansion ``c_0 + Σ_k √2 (c_2k cos(2πks) − c_2k+1 sin(2πks))``.

    The basis is that of :func:`hippo_matrices` ("fout"): 1, an unused slot (index 1), then
    ``√2 cos(2πks)``, ``−√2 sin(2πks)`` for k = 1, 2, …, orthonormal on ``s ∈ [0, 1]``.

    Args:
        c: FouT coefficients ``(..., N)``.
        s: points ``(M,)`` in ``[0, 1]`` (0 = start of the window, 1 = now).
    Returns: ``(..., M)``.
    """
    N = c.shape[-1]
    s = s.to(device=c.device, dtype=c.dtype)
    rows = [torch.ones_like(s), torch.zeros_like(s)]
    for n in range(2, N):
        w = 2 * math.pi * (n // 2) * s
        rows.append(math.sqrt(2.0) * (torch.cos(w) if n % 2 == 0 else -torch.sin(w)))
    return c @ torch.stack(rows[:N], dim=0)


class HiPPOProjection(torch.nn.Module):
    """Online HiPPO projection ``c(t) = argmin ‖u|_{history} - Σ c_n g_n‖_{μ_t}``.

    Continuous dynamics (:meth:`derivative`): LegS ``c' = (A c + B u) / t``; LegT / FouT
    ``c' = 2 (A c + B u) / theta``: the window is the last ``theta`` time units (the matrices of
    :func:`hippo_matrices` carry the S4 code's factor ½, so the rate of a window of length θ is
    2/θ; the coefficients are those of the normalised Legendre / Fourier basis on that window).
    Discretised (:meth:`forward`) with the
    generalised bilinear transform (``alpha = ½``; 0 forward Euler, 1 backward Euler) on a grid of
    step ``dt`` starting at ``t = dt``.

    Args:
        N: number of coefficients.
        measure: legs | legt | fout.
        dt: time step of the input samples (LegS is scale-invariant: only ``t/dt`` matters).
        theta: window length for legt / fout.
        alpha: GBT parameter.
    """

    def __init__(
        self,
        N: int,
        measure: str = "legs",
        dt: float = 1.0,
        theta: float = 1.0,
        alpha: float = 0.5,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        self.measure = _check_measure(measure)
        self.N = _check_n(N)
        if not dt > 0:
            raise ValueError(f"dt: expected > 0, got {dt!r}")
        if not theta > 0:
            raise ValueError(f"theta: expected > 0, got {theta!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha: expected in [0, 1], got {alpha!r}")
        self.dt, self.theta, self.alpha = float(dt), float(theta), float(alpha)
        A, B = hippo_matrices(self.measure, N, dtype=dtype)
        self.register_buffer("A", A)
        self.register_buffer("B", B)

    def derivative(self, t: float, c: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Continuous-time ``dc/dt`` at time ``t`` for coefficients ``c (..., N)`` and input ``u (...)``."""
        rate = 1.0 / t if self.measure == "legs" else 2.0 / self.theta
        return rate * (c @ self.A.T + u[..., None] * self.B)

    def _step_matrices(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        h = 1.0 / k if self.measure == "legs" else 2.0 * self.dt / self.theta
        eye = torch.eye(self.N, dtype=self.A.dtype, device=self.A.device)
        lhs = eye - self.alpha * h * self.A
        Ad = torch.linalg.solve(lhs, eye + (1 - self.alpha) * h * self.A)
        Bd = torch.linalg.solve(lhs, h * self.B)
        return Ad, Bd

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """Coefficients after each sample: ``u (..., L)`` -> ``c (..., L, N)``."""
        if u.ndim < 1:
            raise ValueError(f"u: expected shape (..., L), got {tuple(u.shape)}")
        u = u.to(self.A.dtype)
        c = torch.zeros(*u.shape[:-1], self.N, dtype=u.dtype, device=u.device)
        out = []
        cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        for k in range(u.shape[-1]):
            key = k + 1 if self.measure == "legs" else 0
            if key not in cache:
                cache[key] = self._step_matrices(k + 1)
            Ad, Bd = cache[key]
            c = c @ Ad.T + u[..., k, None] * Bd
            out.append(c)
        return torch.stack(out, dim=-2)

    def reconstruct(self, c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The signal the coefficients ``c (..., N)`` represent, at fractions ``s (M,)`` in [0, 1]:
        LegS the whole history ``u(s t)``; LegT / FouT the last window ``u(t − θ + s θ)``.
        Returns ``(..., M)``."""
        if c.shape[-1] != self.N:
            raise ValueError(f"reconstruct: c must have N={self.N} coefficients, got {c.shape}")
        if self.measure == "fout":
            return fourier_reconstruct(c, s)
        return legendre_reconstruct(c, s)  # LegS (whole history) and LegT (window) alike
