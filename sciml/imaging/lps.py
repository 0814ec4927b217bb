"""L+S baseline (Otazo, Candès, Sodickson, MRM 2015): low-rank plus sparse-in-temporal-Fourier.

Iteration (their Algorithm 1, iterative soft-thresholding)::

    L ← SVT(M - S_prev, λ_L σ₁(M - S_prev))     (threshold relative to the largest singular value)
    S ← Tᴴ soft(T(M - L_prev), λ_S)              (T: orthonormal centred FFT along time)
    M ← L + S - Aᴴ(A(L + S) - y)
    stop when ||M - M_prev|| < tol ||M_prev||

started from ``M = Aᴴ y``, ``S = 0``, ``L_prev = M``.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import torch

from sciml.kernels import fftc, ifftc

from . import _vec
from .linop import Linop
from .prox import soft_threshold, svt
from .rdledm import check_measurements
from .unfold import casorati


@dataclass(frozen=True)
class LPlusSConfig:
    """Otazo et al. defaults: ``lambda_l = 0.01`` (relative to σ₁), ``lambda_s = 0.01`` (absolute,
    for their data scaling), 50 iterations, tol 2.5e-3. ``svd_method`` as in :func:`svt`."""

    lambda_l: float = 0.01
    lambda_s: float = 0.01
    max_iter: int = 50
    tol: float = 2.5e-3
    svd_method: str = "gram"

    def __post_init__(self):
        for name in ("lambda_l", "lambda_s", "tol"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"LPlusSConfig.{name} must be a finite number >= 0, got {v!r}")
        if self.max_iter < 1:
            raise ValueError(f"LPlusSConfig.max_iter must be >= 1, got {self.max_iter}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class LPlusSResult:
    """``x = L + S`` ``(T, ny, nx)`` and the parts; ``history`` has ``change`` and ``time``."""

    x: torch.Tensor
    L: torch.Tensor
    S: torch.Tensor
    history: dict
    seconds: float


class LPlusS:
    """``LPlusS(config).reconstruct(y, op)``."""

    def __init__(self, config: LPlusSConfig | None = None):
        self.config = config or LPlusSConfig()

    def reconstruct(self, y, op: Linop) -> LPlusSResult:
        c = self.config
        y = check_measurements(y, op)
        t0 = time.perf_counter()
        cas = casorati(op.ishape)
        m = op.H(y)
        s = torch.zeros_like(m)
        l_prev = m
        hist = {"change": [], "time": [], "converged": False, "iterations": 0}
        for it in range(c.max_iter):
            m0 = m
            xm = cas(m - s)
            sigma1 = torch.linalg.matrix_norm(xm, ord=2) if c.svd_method == "svd" else None
            if sigma1 is None:
                sigma1 = torch.clamp(torch.linalg.eigvalsh(xm.mH @ xm)[-1], min=0.0).sqrt()
            l = cas.H(svt(xm, c.lambda_l * float(sigma1), c.svd_method))
            s = ifftc(soft_threshold(fftc(m - l_prev, axes=0), c.lambda_s), axes=0)
            ls = l + s
            m = ls - op.H(op(ls) - y)
            l_prev = l
            change = _vec.norm(m - m0) / max(_vec.norm(m0), 1e-300)
            hist["change"].append(change)
            hist["time"].append(time.perf_counter() - t0)
            hist["iterations"] = it + 1
            if change < c.tol:
                hist["converged"] = True
                break
        return LPlusSResult(x=l + s, L=l, S=s, history=hist, seconds=time.perf_counter() - t0)
