"""Matérn Gaussian processes as linear time-invariant SDEs (Hartikainen & Särkkä, 2010).

A Matérn-ν kernel with ν ∈ {1/2, 3/2, 5/2} is the covariance of ``f(t) = H x(t)`` where
``dx = F x dt + L dβ`` with white noise of spectral density ``Qc``. The stationary state
covariance ``P∞`` solves ``F P∞ + P∞ Fᵀ + L Qc Lᵀ = 0``. Between sorted index values the
process is a Gauss–Markov chain ``x_j = A_j x_{j-1} + q_j`` with ``A_j = expm(F Δ_j)`` and
``Q_j = P∞ − A_j P∞ A_jᵀ``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

__all__ = ["MaternSDE", "matern_sde", "discretise", "state_dim"]

_NUS = (0.5, 1.5, 2.5)


def state_dim(nu: float) -> int:
    """State dimension of the Matérn-ν SDE (1, 2, 3 for ν = 1/2, 3/2, 5/2)."""
    _check_nu(nu)
    return int(nu + 0.5)


def _check_nu(nu: float) -> None:
    if not isinstance(nu, (int, float)) or float(nu) not in _NUS:
        raise ValueError(f"nu: expected one of {_NUS}, got {nu!r}")


@dataclass(frozen=True)
class MaternSDE:
    """State-space form of one Matérn component.

    Attributes (all float tensors, ``d`` = state dimension):
        F: (d, d) drift; L: (d, 1) noise gain; Qc: (1, 1) white-noise spectral density;
        H: (1, d) observation row; Pinf: (d, d) stationary covariance.
    """

    nu: float
    lengthscale: float
    variance: float
    F: torch.Tensor
    L: torch.Tensor
    Qc: torch.Tensor
    H: torch.Tensor
    Pinf: torch.Tensor

    @property
    def dim(self) -> int:
        return self.F.shape[-1]


def matern_sde(
    nu: float,
    lengthscale: float,
    variance: float = 1.0,
    *,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> MaternSDE:
    """Build ``(F, L, Qc, H, P∞)`` of the Matérn-ν SDE with the given lengthscale and variance."""
    _check_nu(nu)
    for name, v in (("lengthscale", lengthscale), ("variance", variance)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name}: expected a float > 0, got {v!r}")
    if not (lengthscale > 0 and math.isfinite(lengthscale)):
        raise ValueError(f"lengthscale: expected a finite value > 0, got {lengthscale!r}")
    if not (variance > 0 and math.isfinite(variance)):
        raise ValueError(f"variance: expected a finite value > 0, got {variance!r}")
    ell, s2 = float(lengthscale), float(variance)
    if nu == 0.5:
        lam = 1.0 / ell
        F = [[-lam]]
        Qc = 2.0 * lam * s2
        Pinf = [[s2]]
    elif nu == 1.5:
        lam = math.sqrt(3.0) / ell
        F = [[0.0, 1.0], [-(lam**2), -2.0 * lam]]
        Qc = 4.0 * lam**3 * s2
        Pinf = [[s2, 0.0], [0.0, lam**2 * s2]]
    else:
        lam = math.sqrt(5.0) / ell
        F = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [-(lam**3), -3.0 * lam**2, -3.0 * lam]]
        Qc = 16.0 / 3.0 * lam**5 * s2
        k = s2 * lam**2 / 3.0
        Pinf = [[s2, 0.0, -k], [0.0, k, 0.0], [-k, 0.0, s2 * lam**4]]
    d = len(F)
    kw = {"dtype": dtype, "device": device}
    L = torch.zeros(d, 1, **kw)
    L[-1, 0] = 1.0
    H = torch.zeros(1, d, **kw)
    H[0, 0] = 1.0
    return MaternSDE(
        nu=float(nu),
        lengthscale=ell,
        variance=s2,
        F=torch.tensor(F, **kw),
        L=L,
        Qc=torch.tensor([[Qc]], **kw),
        H=H,
        Pinf=torch.tensor(Pinf, **kw),
    )


def discretise(sde: MaternSDE, dt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Transition ``A = expm(F Δ)`` and process noise ``Q = P∞ − A P∞ Aᵀ`` for steps ``dt``.

    Args:
        sde: the component SDE.
        dt: (S,) non-negative steps.
    Returns:
        A, Q: (S, d, d) each, on ``dt``'s device.
    """
    if not isinstance(sde, MaternSDE):
        raise TypeError(f"sde: expected a MaternSDE (see matern_sde), got {type(sde).__name__}")
    if not isinstance(dt, torch.Tensor):
        raise TypeError(f"dt: expected a 1-D float tensor, got {type(dt).__name__}")
    if dt.dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dt: expected a float32 or float64 tensor, got {dt.dtype}")
    if dt.ndim != 1:
        raise ValueError(f"dt: expected shape (S,), got {tuple(dt.shape)}")
    if not bool((torch.isfinite(dt) & (dt >= 0)).all()):
        raise ValueError("dt: expected finite steps >= 0, got NaN/inf or negative entries")
    return _discretise(sde, dt)


def _discretise(sde: MaternSDE, dt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``discretise`` without the argument checks (internal callers)."""
    F = sde.F.to(dtype=dt.dtype, device=dt.device)
    Pinf = sde.Pinf.to(dtype=dt.dtype, device=dt.device)
    A = torch.linalg.matrix_exp(dt[:, None, None] * F)
    Q = Pinf - A @ Pinf @ A.mT
    return A, 0.5 * (Q + Q.mT)
