"""Kalman filter and RTS smoother for a Gauss–Markov chain observed through Gaussian
pseudo-observations in information form, computed with parallel (associative) scans
(Särkkä & García-Fernández, 2021): O(log S) sequential depth, every step batched.

Chain: ``x_0 ~ N(0, P0)``, ``x_j = A_j x_{j-1} + q_j``, ``q_j ~ N(0, Q_j)``. Each state has a
likelihood factor ``exp(-½ xᵀ G_j x + xᵀ g_j)`` (``G_j`` may be zero or singular).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._scan import associative_scan

__all__ = ["SmootherResult", "kalman_smoother"]


@dataclass(frozen=True)
class SmootherResult:
    """Filtered and smoothed moments; ``gain[j]`` is the RTS gain ``E_j`` (zero for the last
    state) so that ``Cov(x_j, x_{j+1} | data) = E_j P_{j+1}``.

    Shapes: means (S, D); covariances and gains (S, D, D).
    """

    mean: torch.Tensor
    cov: torch.Tensor
    filt_mean: torch.Tensor
    filt_cov: torch.Tensor
    gain: torch.Tensor


def _sym(X: torch.Tensor) -> torch.Tensor:
    return 0.5 * (X + X.mT)


def _filter_op(ei, ej):
    Ai, bi, Ci, ei_, Ji = ei
    Aj, bj, Cj, ej_, Jj = ej
    eye = torch.eye(Ci.shape[-1], dtype=Ci.dtype, device=Ci.device)
    Minv = torch.linalg.inv(eye + Ci @ Jj)
    # X = Aj M^{-1}; Y = M^{-1} Ai (so Ai^T (I + Jj Ci)^{-1} = Y^T)
    X = Aj @ Minv
    Y = Minv @ Ai
    A = X @ Ai
    b = (X @ (bi + (Ci @ ej_[..., None])[..., 0])[..., None])[..., 0] + bj
    C = _sym(X @ Ci @ Aj.mT + Cj)
    eta = (Y.mT @ (ej_ - (Jj @ bi[..., None])[..., 0])[..., None])[..., 0] + ei_
    J = _sym(Y.mT @ Jj @ Ai + Ji)
    return A, b, C, eta, J


def _smooth_op(later, earlier):
    # reversed scan: `later` is the accumulated element nearer the chain's end
    Ex, gx, Lx = later
    Ey, gy, Ly = earlier
    return Ey @ Ex, (Ey @ gx[..., None])[..., 0] + gy, _sym(Ey @ Lx @ Ey.mT + Ly)


def kalman_smoother(
    A: torch.Tensor, Q: torch.Tensor, P0: torch.Tensor, G: torch.Tensor, g: torch.Tensor
) -> SmootherResult:
    """Smoothed marginals of the chain given information-form pseudo-observations.

    Args:
        A: (S, D, D) transitions (``A[0]`` is ignored); Q: (S, D, D) process noise
            (``Q[0]`` ignored); P0: (D, D) prior covariance of ``x_0``;
        G: (S, D, D) observation precisions; g: (S, D) observation information vectors.
    Returns:
        SmootherResult with means (S, D) and covariances (S, D, D).
    """
    _check_chain(A, Q, P0, G, g)
    return _kalman_smoother(A, Q, P0, G, g)


def _check_chain(A, Q, P0, G, g) -> None:
    """Shapes, dtypes, devices and finiteness of ``kalman_smoother``'s arguments."""
    named = {"A": A, "Q": Q, "P0": P0, "G": G, "g": g}
    for name, x in named.items():
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name}: expected a torch.Tensor, got {type(x).__name__}")
        if x.dtype not in (torch.float32, torch.float64):
            raise TypeError(f"{name}: expected a float32 or float64 tensor, got {x.dtype}")
    if g.ndim != 2 or g.shape[0] < 1 or g.shape[1] < 1:
        raise ValueError(f"g: expected shape (S, D) with S, D >= 1, got {tuple(g.shape)}")
    S, D = g.shape
    want = {"A": (S, D, D), "Q": (S, D, D), "P0": (D, D), "G": (S, D, D)}
    for name, shape in want.items():
        if tuple(named[name].shape) != shape:
            raise ValueError(
                f"{name}: expected shape {shape} (from g of shape {(S, D)}), "
                f"got {tuple(named[name].shape)}"
            )
    for name, x in named.items():
        if x.dtype != g.dtype or x.device != g.device:
            raise TypeError(
                f"{name}: expected dtype {g.dtype} on {g.device} (like g), got {x.dtype} on {x.device}"
            )
    finite = torch.stack(
        [torch.isfinite(x).all() for x in (A[1:], Q[1:], P0, G, g)]
    )  # one host sync for all five
    if not bool(finite.all()):
        bad = [
            n for n, ok in zip(("A", "Q", "P0", "G", "g"), finite.tolist(), strict=True) if not ok
        ]
        raise ValueError(f"{', '.join(bad)}: expected finite values, got NaN/inf entries")


def _kalman_smoother(
    A: torch.Tensor, Q: torch.Tensor, P0: torch.Tensor, G: torch.Tensor, g: torch.Tensor
) -> SmootherResult:
    """``kalman_smoother`` without the argument checks (internal callers)."""
    S, D = g.shape
    eye = torch.eye(D, dtype=g.dtype, device=g.device)
    # filtering elements
    Qf = Q.clone()
    Qf[0] = P0
    M = eye + Qf @ G  # (S, D, D)
    Minv_A = torch.linalg.solve(M, A)
    Minv_A[0] = 0.0
    b = torch.linalg.solve(M, (Qf @ g[..., None]))[..., 0]
    C = _sym(torch.linalg.solve(M, Qf))
    # A^T (I + G Q)^{-1} = (M^{-1} A)^T  since (I + G Q) = M^T
    eta = (Minv_A.mT @ g[..., None])[..., 0]
    J = _sym(Minv_A.mT @ G @ A)
    _, mf, Pf, _, _ = associative_scan(_filter_op, (Minv_A, b, C, eta, J))
    # smoothing elements: E_j = Pf_j A_{j+1}^T (A_{j+1} Pf_j A_{j+1}^T + Q_{j+1})^{-1}
    An, Qn = A[1:], Q[1:]
    Pp = _sym(An @ Pf[:-1] @ An.mT + Qn)
    E = torch.linalg.solve(Pp, An @ Pf[:-1]).mT  # Pp symmetric
    gs = mf[:-1] - (E @ (An @ mf[:-1, :, None]))[..., 0]
    Ls = _sym(Pf[:-1] - E @ An @ Pf[:-1])
    E = torch.cat([E, torch.zeros_like(E[:1])])
    gs = torch.cat([gs, mf[-1:]])
    Ls = torch.cat([Ls, Pf[-1:]])
    rev = associative_scan(_smooth_op, (E.flip(0), gs.flip(0), Ls.flip(0)))
    ms, Ps = rev[1].flip(0), rev[2].flip(0)
    return SmootherResult(mean=ms, cov=Ps, filt_mean=mf, filt_cov=Pf, gain=E)
