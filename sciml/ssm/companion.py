"""Companion SSM (SpaceTime) and the fast ``O((d + L) log(d + L))`` kernel for shift-plus-low-rank
state matrices ``A = S + P Qᵀ`` (S the down-shift: ``S e_i = e_{i+1}``).

Fast kernel: ``Σ_{k<L} Cᵀ Aᵏ B zᵏ = Cᵀ (I - z^L A^L)(I - zA)⁻¹ B``. We evaluate at the "twisted"
L-th roots ``z_k = exp(-2πi (k + ½)/L)`` (``z^L = -1``, so an eigenvalue ``λ = 1`` — a unit root,
common in forecasting — never makes ``I - zA`` singular), i.e. ``B̃ = B + A^L B``. Woodbury on
``(I - zS - zPQᵀ)⁻¹`` leaves only terms ``uᵀ(I - zS)⁻¹v = Σ_m zᵐ uᵀSᵐv``: correlations of u and v
(one FFT of size 2d) evaluated at the L points by one packed complex FFT of size L/2 per
polynomial (see :func:`_eval_twisted`). Odd L is computed as L + 1 and truncated: its twisted
roots include ``z = -1``, singular for an eigenvalue ``λ = -1`` (which ``a / ‖a‖₁`` produces
exactly for an alternating sign pattern); even L excludes ``z = ±1``. Any other eigenvalue
with ``λ^L = -1`` (e.g. the d-th roots of unity of a period-d delay ``a = e_0`` at L = 336,
d = 64) is detected from ``det(I - zA)`` at the points and the affected kernels are
recomputed for ``ρA``, ``ρ < 1`` (see :func:`shift_lowrank_kernel`). For companion
matrices ``A^L B`` is ``x^L b(x) mod q(x)`` (q the characteristic polynomial), computed by binary
exponentiation with FFT polynomial products: ``O(d log d log L)`` extra, no d×d matrix powers.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from torch import nn

from ._layer import SSMLayer, check_positive_int
from .reference import ssm_kernel_squaring

__all__ = [
    "CompanionConfig",
    "CompanionSSM",
    "ShiftSSM",
    "companion_kernel",
    "companion_matrix",
    "companion_power_apply",
    "normalize_companion",
    "shift_kernel",
    "shift_lowrank_kernel",
]


def companion_matrix(a: torch.Tensor) -> torch.Tensor:
    """Dense ``A = S + a e_dᵀ`` (down-shift plus last column ``a``): ``(..., d)`` -> ``(..., d, d)``."""
    d = a.shape[-1]
    S = torch.diag(torch.ones(d - 1, dtype=a.dtype, device=a.device), -1)
    A = S.expand(*a.shape[:-1], d, d).clone()
    A[..., :, -1] = A[..., :, -1] + a
    return A


def normalize_companion(a: torch.Tensor, mode: str = "clip") -> torch.Tensor:
    """Bound ``‖a‖₁ ≤ 1`` so every eigenvalue of the companion matrix lies in the closed unit disk.

    ``clip``: ``a / max(1, ‖a‖₁)``; ``l1``: ``a / ‖a‖₁`` (the public SpaceTime choice); ``none``.
    With ``‖a‖₁ ≤ 1`` the kernel obeys ``K_n = Σ_i a_i K_{n-d+i}`` so ``sup_n |K_n| ≤ max_{n<d} |K_n|``.
    """
    if mode == "none":
        return a
    norm = a.abs().sum(-1, keepdim=True)
    if mode == "l1":
        return a / norm.clamp_min(torch.finfo(a.dtype).tiny)
    if mode == "clip":
        return a / norm.clamp_min(1.0)
    raise ValueError(f"norm: expected 'clip', 'l1' or 'none', got {mode!r}")


def _correlate(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``r_m = Σ_i u_i v_{i-m}`` for ``m < d``: ``u (..., p, d)``, ``v (..., q, d)`` -> ``(..., p, q, d)``."""
    d = u.shape[-1]
    n = 2 * d
    U = torch.fft.rfft(u, n=n)[..., :, None, :]
    V = torch.fft.rfft(v, n=n)[..., None, :, :]
    return torch.fft.irfft(U * V.conj(), n=n)[..., :d]


_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}


@functools.lru_cache(maxsize=64)
def _twiddle(n: int, L: int, sign: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``ζ^(sign·m)`` for ``m < n``, ``ζ = exp(-πi/L)`` (computed in float64, cached)."""
    m = torch.arange(n, dtype=torch.float64)
    w = torch.polar(torch.ones_like(m), (-sign * math.pi / L) * m)
    return w.to(dtype=_COMPLEX.get(dtype, torch.complex128), device=device)


def _fold_antiperiodic(p: torch.Tensor, L: int) -> torch.Tensor:
    """Fold a polynomial of degree >= L using ``z^L = -1`` (length -> L)."""
    n = p.shape[-1]
    q = -(-n // L)
    p = torch.nn.functional.pad(p, (0, q * L - n)).reshape(*p.shape[:-1], q, L)
    sign = 1.0 - 2.0 * (torch.arange(q, device=p.device) % 2).to(p.dtype)
    return (p * sign[:, None]).sum(-2)


def _check_even(L: int) -> None:
    if L % 2:  # odd L would include z = -1 (see shift_lowrank_kernel)
        raise ValueError(f"L: the twisted transforms need an even length, got {L}")


def _eval_twisted(p: torch.Tensor, L: int) -> torch.Tensor:
    """``Σ_m p_m zᵐ`` at ``L/2`` twisted roots (``z^L = -1``; the other half are conjugates).

    "Packed" order: ``z_j = ζ ω^j``, ``ζ = exp(-πi/L)``, ω the (L/2)-th roots of unity, j < L/2
    (together with their conjugates: all L twisted roots). ``p`` real of length n is packed as
    ``u_m = p_m - i p_{m+L/2}`` so one complex FFT of size L/2 suffices (a quarter of a real FFT
    of size 2L). L even. ``p (..., n)`` real -> ``(..., L/2)`` complex.
    """
    _check_even(L)
    n = p.shape[-1]
    if n > L:
        p, n = _fold_antiperiodic(p, L), L
    M = L // 2
    if n <= M:
        v = p * _twiddle(n, L, 1, p.dtype, p.device)
    else:
        hi = torch.nn.functional.pad(p[..., M:], (0, L - n))
        v = torch.complex(p[..., :M], -hi) * _twiddle(M, L, 1, p.dtype, p.device)
    return torch.fft.fft(v, n=M)


def _inverse_twisted(Khat: torch.Tensor, L: int) -> torch.Tensor:
    """Inverse of :func:`_eval_twisted`: the real ``K (..., L)`` with ``Σ_l K_l z_kˡ = Khat_k``."""
    _check_even(L)
    M = L // 2
    real = Khat.real.dtype
    u = torch.fft.ifft(Khat, n=M) * _twiddle(M, L, -1, real, Khat.device)
    return torch.cat([u.real, -u.imag], dim=-1)


def _z_half(L: int, dtype: torch.dtype, device) -> torch.Tensor:
    """The evaluation points of :func:`_eval_twisted`, in its order."""
    _check_even(L)
    k = 2 * torch.arange(L // 2, dtype=torch.float64)
    return torch.polar(torch.ones_like(k), -2 * math.pi * (k + 0.5) / L).to(
        dtype=_COMPLEX.get(dtype, torch.complex128), device=device
    )


def shift_lowrank_kernel(
    P: torch.Tensor,
    Q: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    L: int,
    BL: torch.Tensor,
) -> torch.Tensor:
    """Kernels ``K[o, i, l] = C_oᵀ Aˡ B_i`` (l < L) of ``A = S + P Qᵀ`` in ``O((d + L) log(d + L))``.

    Args:
        P, Q: low-rank factors ``(..., d, r)``.
        B: input vectors ``(..., d, nb)``.
        C: output vectors ``(..., nc, d)``.
        L: kernel length.
        BL: ``A^L B`` ``(..., d, nb)`` (:func:`companion_power_apply` for companion matrices).
    Returns: ``(..., nc, nb, L)`` real.

    For rank 1 the generating function is the rational ``N(z)/(1 - z QᵀMP)`` with the numerator
    ``CᵀMB̃ (1 - z QᵀMP) + z CᵀMP QᵀMB̃`` formed as a polynomial of degree < 2d, so only three
    transforms at the L twisted roots ``z^L = -1`` are needed (two evaluations, one inverse),
    each one complex FFT of size L/2.

    An eigenvalue λ of A on the unit circle with ``λ^L = -1`` (e.g. a period-d delay ``a = e_0``,
    whose eigenvalues are the d-th roots of unity, at d = 64 and L = 24, 48, 168, 336, 720) makes
    ``I - zA`` singular at an evaluation point. Batch elements whose ``det(I - zA)`` gets that
    close to zero (below ``√eps`` times a bound of its magnitude) are recomputed for the
    similar matrix ``ρA``, ``ρ = exp(-1/max(L, d))`` (eigenvalues moved inside the circle), and
    scaled back by ``ρ^-l ≤ e``; every other element keeps the plain computation.
    """
    return _shift_lowrank_kernel(P, Q, B, C, L, BL, fallback=True)


def _shift_lowrank_kernel(
    P: torch.Tensor,
    Q: torch.Tensor,
    B: torch.Tensor,
    C: torch.Tensor,
    L: int,
    BL: torch.Tensor,
    fallback: bool,
) -> torch.Tensor:
    L = check_positive_int(L, "L")
    if L % 2:
        # Odd L would put z = -1 among the evaluation points (z^L = -1), where I - zA is singular
        # whenever A has the eigenvalue -1 — exactly what `a / ‖a‖₁` gives for an alternating sign
        # pattern (0/0: NaN even in float64). Even L excludes z = ±1: compute L + 1 and truncate.
        ABL = torch.nn.functional.pad(BL[..., :-1, :], (0, 0, 1, 0)) + P @ (
            Q.transpose(-1, -2) @ BL
        )
        return _shift_lowrank_kernel(P, Q, B, C, L + 1, ABL, fallback)[..., :L]
    r = P.shape[-1]
    Bt = (B + BL).transpose(-1, -2)  # (..., nb, d)
    Qt, Pt = Q.transpose(-1, -2), P.transpose(-1, -2)  # (..., r, d)
    nc, nb = C.shape[-2], Bt.shape[-2]
    # all four correlations [C; Qᵀ] ⋆ [B̃ᵀ; Pᵀ] with one pair of FFTs
    batch = torch.broadcast_shapes(C.shape[:-2], Qt.shape[:-2], Bt.shape[:-2], Pt.shape[:-2])
    d = C.shape[-1]
    left = torch.cat([C.expand(*batch, nc, d), Qt.expand(*batch, r, d)], dim=-2)
    right = torch.cat([Bt.expand(*batch, nb, d), Pt.expand(*batch, r, d)], dim=-2)
    R = _correlate(left, right)  # (..., nc + r, nb + r, d)
    CMB, CMP = R[..., :nc, :nb, :], R[..., :nc, nb:, :]
    QMB, QMP = R[..., nc:, :nb, :], R[..., nc:, nb:, :]
    if r == 1:
        zQMP = torch.nn.functional.pad(QMP, (1, 0))  # z · QMP
        den = -zQMP
        den[..., 0] = den[..., 0] + 1  # 1 - z QMP = det(I - zA), (..., 1, 1, d+1)
        num = _polymul(CMB, den) + torch.nn.functional.pad(_polymul(CMP, QMB), (1, 0))
        den_hat = _eval_twisted(den, L)  # shared by all C, B
        bad = _near_singular(den_hat, den.abs().sum(-1, keepdim=True)) if fallback else None
        bad = None if bad is None or not bool(bad.any()) else bad[..., 0, 0]  # (...)
        if bad is not None:  # keep the unused branch finite (and its gradient)
            den_hat = torch.where(bad[..., None, None, None], torch.ones_like(den_hat), den_hat)
        K = _inverse_twisted(_eval_twisted(num, L) * den_hat.reciprocal(), L)
    else:
        z = _z_half(L, C.dtype, C.device)
        ev = [_eval_twisted(x, L).movedim(-1, -3) for x in (CMB, CMP, QMB, QMP)]  # (..., F, p, q)
        eye = torch.eye(r, dtype=ev[0].dtype, device=C.device)
        zc = z[:, None, None]
        M = eye - zc * ev[3]  # I - z QᵀMP, det = det(I - zA)
        bad = None
        if fallback:  # |det| on the circle <= prod_i sum_j ||(I - z QᵀMP)_ij||₁ (coefficients)
            norms = QMP.abs().sum(-1) + torch.eye(r, dtype=QMP.dtype, device=QMP.device)
            bad = _near_singular(torch.linalg.det(M), norms.sum(-1).prod(-1)[..., None])
            bad = bad if bool(bad.any()) else None
        if bad is not None:
            M = torch.where(bad[..., None, None, None], eye, M)
        X = torch.linalg.solve(M, ev[2])  # (..., F, r, nb)
        Khat = (ev[0] + zc * (ev[1] @ X)).movedim(-3, -1)
        K = _inverse_twisted(Khat, L)
    if bad is None:  # the common case: nothing near an evaluation point, no extra work
        return K
    return torch.where(bad[..., None, None, None], _scaled_kernel(P, Q, B, C, L, BL), K)


def _near_singular(det_hat: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
    """``det(I - z_k A)`` at the points (last axis) and a bound ``(..., 1)`` of its magnitude on
    the unit circle (from its coefficients; the rounding error of the evaluated determinant is
    about ``eps · bound``) -> True where it gets below ``√eps · bound`` at some point (an
    eigenvalue at, or next to, an evaluation point: the quotient would lose over half the
    digits)."""
    tol2 = torch.finfo(bound.dtype).eps  # (√eps)², compared with |det|² (no complex abs:
    re_im = torch.view_as_real(det_hat)  # on CPU it costs ~15 complex multiplies per element)
    mag2 = torch.addcmul(re_im[..., 0] * re_im[..., 0], re_im[..., 1], re_im[..., 1])
    return torch.amin(mag2, -1) < tol2 * bound[..., 0] ** 2


def _scaled_kernel(P, Q, B, C, L: int, BL: torch.Tensor) -> torch.Tensor:
    """The kernels of ``A = S + PQᵀ`` computed for ``ρA = W (S + P'Q'ᵀ) W⁻¹`` (``W = diag(ρⁱ)``,
    ``P' = ρW⁻¹P``, ``Q' = WQ``), whose eigenvalues ``ρλ`` (|λ| ≤ 1) stay ``≥ 1 - ρ`` inside the unit
    circle: ``Cᵀ Aˡ B = ρ^-l (WC)ᵀ (S + P'Q'ᵀ)ˡ (W⁻¹B)``; ``(S + P'Q'ᵀ)^L W⁻¹B = ρ^L W⁻¹ A^L B``."""
    d = P.shape[-2]
    rho = math.exp(-1.0 / max(L, d))
    w = torch.tensor([rho**i for i in range(d)], dtype=P.dtype, device=P.device)
    K = _shift_lowrank_kernel(
        rho * P / w[:, None],
        Q * w[:, None],
        B / w[:, None],
        C * w,
        L,
        rho**L * BL / w[:, None],
        fallback=False,
    )
    back = torch.tensor([rho**-l for l in range(L)], dtype=K.dtype, device=K.device)
    return K * back


def _polymul(p1: torch.Tensor, p2: torch.Tensor, n_out: int | None = None) -> torch.Tensor:
    """Product of coefficient vectors (last axis) by FFT, truncated to ``n_out`` coefficients."""
    n = p1.shape[-1] + p2.shape[-1] - 1
    n_out = n if n_out is None else n_out
    nf = 1 << (n - 1).bit_length()  # power-of-two FFT length (odd/prime lengths are slow)
    y = torch.fft.irfft(torch.fft.rfft(p1, n=nf) * torch.fft.rfft(p2, n=nf), n=nf)
    return y[..., :n_out]


def _series_inverse(f: torch.Tensor, n: int) -> torch.Tensor:
    """``h = 1/f mod xⁿ`` for ``f[..., 0] = 1`` by Newton iteration ``h ← h(2 - f h)``."""
    h = torch.ones(*f.shape[:-1], 1, dtype=f.dtype, device=f.device)
    k = 1
    while k < n:
        k = min(2 * k, n)
        fh = _polymul(f[..., :k], h, k)
        two_minus = -fh
        two_minus[..., 0] = two_minus[..., 0] + 2
        h = _polymul(h, two_minus, k)
    return h


def companion_power_apply(a: torch.Tensor, V: torch.Tensor, L: int) -> torch.Tensor:
    """``A^L V`` for the companion ``A = S + a e_dᵀ`` without forming powers of A.

    A acts as multiplication by x modulo ``q(x) = x^d - Σ a_i x^i`` on coefficient vectors, so
    ``A^L v = x^L v(x) mod q``: binary exponentiation of x with FFT products; each reduction
    mod q uses the precomputed power-series inverse of the reversed q (``O(d log d)`` each,
    ``O(d log d log L)`` in all).
    Args: ``a (..., d)``, ``V (..., d, m)``, ``L >= 0``. Returns ``(..., d, m)``.
    """
    if isinstance(L, bool) or not isinstance(L, int) or L < 0:
        raise ValueError(f"L: expected an int >= 0, got {L!r}")
    d = a.shape[-1]
    if d == 1:
        return a[..., None] ** L * V
    # reversed q: f = [1, -a_{d-1}, ..., -a_0]; quotient of p (deg <= 2d-2) is rev(rev(p) h mod x^(d-1))
    f = torch.cat([torch.ones_like(a[..., :1]), -a.flip(-1)], dim=-1)
    h = _series_inverse(f, d - 1)
    nf = 1 << (2 * d - 2).bit_length()  # >= 2d - 1: no wrap-around in any product below
    fft, ifft = torch.fft.rfft, torch.fft.irfft
    H, Aspec = fft(h, n=nf), fft(a, n=nf)  # spectra reused by every reduction

    def reduce(p: torch.Tensor, H: torch.Tensor, Aspec: torch.Tensor) -> torch.Tensor:
        """(..., 2d-1) -> (..., d): p mod q."""
        q = ifft(fft(p.flip(-1)[..., : d - 1], n=nf) * H, n=nf)[..., : d - 1]  # rev(quotient)
        return p[..., :d] + ifft(fft(q.flip(-1), n=nf) * Aspec, n=nf)[..., :d]

    def mulmod(p1: torch.Tensor, p2: torch.Tensor | None = None, H=H, Aspec=Aspec) -> torch.Tensor:
        P1 = fft(p1, n=nf)
        P2 = P1 if p2 is None else fft(p2, n=nf)
        return reduce(ifft(P1 * P2, n=nf)[..., : 2 * d - 1], H, Aspec)

    batch = a.shape[:-1]
    # x^j with j < d is its own remainder: start the binary exponentiation at x^(2^s), 2^s < d,
    # with the low s bits of L as a monomial (saves s squarings)
    s = (d - 1).bit_length() - 1  # largest s with 2^s <= d - 1
    low, e = L & ((1 << s) - 1), L >> s
    result = None
    if low:
        result = torch.zeros(*batch, d, dtype=a.dtype, device=a.device)
        result[..., low] = 1
    base = torch.zeros(*batch, d, dtype=a.dtype, device=a.device)
    base[..., 1 << s] = 1  # x^(2^s)
    while e:
        if e & 1:
            result = base if result is None else mulmod(result, base)
        e >>= 1
        if e:
            base = mulmod(base)
    if result is None:  # L = 0
        return V
    # multiply x^L mod q by each column of V (all columns at once)
    Vt = V.transpose(-1, -2)
    return mulmod(result[..., None, :], Vt, H[..., None, :], Aspec[..., None, :]).transpose(-1, -2)


def companion_kernel(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, L: int) -> torch.Tensor:
    """Fast kernel ``K_l = cᵀ Aˡ b`` of ``A = S + a e_dᵀ``: ``a, b, c (..., d)`` -> ``(..., L)``."""
    L = check_positive_int(L, "L")
    if not (a.shape == b.shape == c.shape):
        raise ValueError(
            f"a, b, c: expected equal shapes (..., d), got {tuple(a.shape)}, {tuple(b.shape)}, {tuple(c.shape)}"
        )
    d = a.shape[-1]
    e_d = torch.zeros_like(a)
    e_d[..., d - 1] = 1
    BL = companion_power_apply(a, b[..., None], L)
    K = shift_lowrank_kernel(a[..., None], e_d[..., None], b[..., None], c[..., None, :], L, BL)
    return K[..., 0, 0, :]


def shift_kernel(b: torch.Tensor, c: torch.Tensor, L: int) -> torch.Tensor:
    """Kernel of the shift SSM (``A = S``): ``K_k = Σ_i c_i b_{i-k}`` for k < d, 0 after. ``(..., L)``."""
    L = check_positive_int(L, "L")
    K = _correlate(c[..., None, :], b[..., None, :])[..., 0, 0, :]
    d = K.shape[-1]
    return K[..., :L] if L <= d else torch.nn.functional.pad(K, (0, L - d))


KERNEL_METHODS = ("fast", "squaring")


@dataclass(frozen=True)
class CompanionConfig:
    """Companion / shift SSM hyper-parameters (SpaceTime defaults: d = 64).

    ``kernel_method`` (companion SSM only): ``"fast"`` — :func:`companion_kernel`, the
    ``O((d + L) log(d + L))`` algorithm, fastest on CPU; ``"squaring"`` — the Krylov matrix by
    repeated squaring of the dense A (the public SpaceTime path), ``O(d² L)`` memory, faster on a
    GPU at moderate L because it is a few large products instead of many small kernels
    (H100, 128 kernels, d = 64: 0.9 vs 5.9 ms at L = 1024, 1.6 vs 7.2 ms at L = 8192;
    ``benchmarks/results/ssm_kernels_cuda_h100.json``). Same kernel to rounding.
    """

    d_state: int = 64
    norm: str = "clip"
    dropout: float = 0.0
    activation: str = "identity"
    output_linear: bool = False
    kernel_method: str = "fast"


class CompanionSSM(SSMLayer):
    """SpaceTime companion SSM: per channel ``A = S + a e_dᵀ``, learnable ``a, b, c (H, d)``, skip D.

    Input ``(B, L, H)`` -> ``(B, L, H)``. Kernel by :func:`companion_kernel` (fast, not repeated
    squaring) unless ``config.kernel_method="squaring"``; step mode ``x ← S x + a x_{d-1} + b u``, ``y = cᵀx + D u``.
    """

    def __init__(
        self, d_model: int, config: CompanionConfig | None = None, *, seed: int | None = None
    ) -> None:
        config = config or CompanionConfig()
        super().__init__(d_model, config.dropout, config.activation, config.output_linear)
        self.config = config
        d = check_positive_int(config.d_state, "d_state")
        normalize_companion(torch.zeros(1), config.norm)  # validate
        if config.kernel_method not in KERNEL_METHODS:
            raise ValueError(
                f"kernel_method: expected one of {KERNEL_METHODS}, got {config.kernel_method!r}"
            )
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        self.a = nn.Parameter(torch.randn(d_model, d, generator=g) / d)
        self.b = nn.Parameter(torch.randn(d_model, d, generator=g) / math.sqrt(d))
        self.c = nn.Parameter(torch.randn(d_model, d, generator=g) / math.sqrt(d))
        with torch.no_grad():
            self.D.copy_(torch.randn(d_model, generator=g))

    def a_normalized(self) -> torch.Tensor:
        return normalize_companion(self.a, self.config.norm)

    def kernel(self, L: int) -> torch.Tensor:
        a = self.a_normalized()
        if self.config.kernel_method == "squaring":
            return ssm_kernel_squaring(
                companion_matrix(a), self.b, self.c, check_positive_int(L, "L")
            )
        return companion_kernel(a, self.b, self.c, L)

    def default_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        return self._zero_state(batch_size, self.config.d_state, self.a, device, dtype)

    def _ssm_step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.a_normalized()
        x = (
            torch.nn.functional.pad(state[..., :-1], (1, 0))
            + a * state[..., -1:]
            + self.b * u[..., None]
        )
        return (self.c * x).sum(-1), x


class ShiftSSM(SSMLayer):
    """SpaceTime shift SSM (``A = S``, an FIR filter of length d with factored taps ``cᵀ Sᵏ b``)."""

    def __init__(
        self, d_model: int, config: CompanionConfig | None = None, *, seed: int | None = None
    ) -> None:
        config = config or CompanionConfig()
        super().__init__(d_model, config.dropout, config.activation, config.output_linear)
        self.config = config
        d = check_positive_int(config.d_state, "d_state")
        g = torch.Generator().manual_seed(seed) if seed is not None else None
        self.b = nn.Parameter(torch.randn(d_model, d, generator=g) / math.sqrt(d))
        self.c = nn.Parameter(torch.randn(d_model, d, generator=g) / math.sqrt(d))
        with torch.no_grad():
            self.D.copy_(torch.randn(d_model, generator=g))

    def kernel(self, L: int) -> torch.Tensor:
        return shift_kernel(self.b, self.c, L)

    def default_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        return self._zero_state(batch_size, self.config.d_state, self.b, device, dtype)

    def _ssm_step(self, u: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.nn.functional.pad(state[..., :-1], (1, 0)) + self.b * u[..., None]
        return (self.c * x).sum(-1), x
