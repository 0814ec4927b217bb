"""Conjugate gradients and preconditioned CG with one stopping rule ‖r_k‖ ≤ tol·‖r_0‖."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch

from sciml.linalg.operator import as_matvec, as_rhs, as_x0
from sciml.linalg.result import SolveResult


def pcg(
    A,
    b,
    M: Callable[[torch.Tensor], torch.Tensor] | None = None,
    tol: float = 1e-6,
    maxiter: int = 1000,
    x0=None,
    setup_time: float = 0.0,
    method: str | None = None,
) -> SolveResult:
    """Preconditioned conjugate gradients for SPD ``A`` (CG when ``M`` is None).

    Args:
        A: PoissonSystem, StencilOperator, scipy/torch matrix or callable on (n,) tensors.
        b: (n,) right-hand side (numpy or torch); solved in float64 on its device.
        M: callable ``r -> M⁻¹ r`` (SPD preconditioner) or None.
        tol: relative residual tolerance, ‖b − A x_k‖ ≤ tol·‖b − A x_0‖ (recurrence residual).
        maxiter: maximum iterations.
        x0: (n,) initial guess (zeros by default).

    Returns:
        :class:`SolveResult` with residual and time history.
    """
    if not (tol > 0):
        raise ValueError(f"tol: expected a positive number, got {tol}")
    if int(maxiter) < 0:
        raise ValueError(f"maxiter: expected a non-negative integer, got {maxiter}")
    b = as_rhs(b)
    matvec = as_matvec(A, b.numel(), b.device)
    t0 = time.perf_counter()
    x = torch.zeros_like(b) if x0 is None else as_x0(x0, b.numel(), b.device)
    r = b - matvec(x) if x0 is not None else b.clone()
    r0 = torch.linalg.vector_norm(r).item()
    res, times = [1.0], [0.0]
    name = method or ("cg" if M is None else "pcg")
    if r0 == 0.0:
        return SolveResult(x, True, 0, res, times, setup_time, name)
    z = M(r) if M is not None else r
    p = z.clone()
    rz = torch.dot(r, z)
    converged = False
    k = 0
    for k in range(1, int(maxiter) + 1):
        Ap = matvec(p)
        pAp = torch.dot(p, Ap)
        if not math.isfinite(pAp.item()):  # NaN would never converge nor break down
            raise FloatingPointError(
                f"{name}: p·Ap is {pAp.item()} at iteration {k}: the operator or the "
                "preconditioner produced a non-finite value"
            )
        if pAp.item() <= 0:  # breakdown (singular direction)
            k -= 1
            break
        alpha = rz / pAp
        x.add_(alpha * p)
        r.sub_(alpha * Ap)
        rel = torch.linalg.vector_norm(r).item() / r0
        res.append(rel)
        times.append(time.perf_counter() - t0)
        if rel <= tol:
            converged = True
            break
        z = M(r) if M is not None else r
        rz_new = torch.dot(r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return SolveResult(x, converged, k, res, times, setup_time, name)


def cg(A, b, tol: float = 1e-6, maxiter: int = 1000, x0=None) -> SolveResult:
    """Plain conjugate gradients (see :func:`pcg`)."""
    return pcg(A, b, None, tol, maxiter, x0)
