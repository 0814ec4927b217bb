"""Deep Conjugate Direction Method (Kaneda et al., ICML 2023): network search directions,
A-orthogonalised against the last k directions, exact line search; CG fallback on stall."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from sciml.linalg.krylov import pcg
from sciml.linalg.operator import as_matvec, as_rhs
from sciml.linalg.result import SolveResult
from sciml.linalg.stencil import StencilOperator
from sciml.linalg.system import PoissonSystem


@dataclass(frozen=True)
class DCDMConfig:
    """Solver options (paper defaults: tol 1e-4, at most 100 iterations, k = 2, true residual).

    Attributes:
        tol: relative residual tolerance ‖r_k‖ ≤ tol·‖r_0‖.
        maxiter: maximum iterations (DCDM plus fallback CG).
        k: number of previous directions to A-orthogonalise against.
        residual: ``"true"`` recomputes r = b − A x (reference; one extra matvec) or
            ``"recurrence"`` updates r ← r − α A q.
        fallback: ``"cg"`` switches to CG from the current iterate on a stall; ``"none"`` stops.
        stall_patience: window length: a stall is declared when the best relative residual of
            the last ``stall_patience`` iterations is above ``stall_ratio`` × the best one before
            them (a non-positive or non-finite curvature qᵀAq is a stall at once).
        stall_ratio: see ``stall_patience``.
    """

    tol: float = 1e-4
    maxiter: int = 100
    k: int = 2
    residual: str = "true"
    fallback: str = "cg"
    stall_patience: int = 20
    stall_ratio: float = 0.98

    def __post_init__(self):
        if not self.tol > 0:
            raise ValueError(f"tol: expected a positive number, got {self.tol}")
        if int(self.maxiter) < 1:
            raise ValueError(f"maxiter: expected a positive integer, got {self.maxiter}")
        if int(self.k) < 0:
            raise ValueError(f"k: expected a non-negative integer, got {self.k}")
        if self.residual not in ("true", "recurrence"):
            raise ValueError(f"residual: expected 'true' or 'recurrence', got {self.residual!r}")
        if self.fallback not in ("cg", "none"):
            raise ValueError(f"fallback: expected 'cg' or 'none', got {self.fallback!r}")


def _grid_info(A, mask):
    """(shape, index) of the unknowns on the grid."""
    if isinstance(A, PoissonSystem):
        return A.shape, torch.as_tensor(A.index)
    if isinstance(A, StencilOperator):
        return A.shape, A.index.cpu()
    if mask is None:
        raise ValueError(
            "mask: a grid is needed to run the network; pass A as a PoissonSystem or "
            "StencilOperator, or give mask= (fluid bool grid) with a matrix A"
        )
    fluid = np.asarray(mask).astype(bool)
    return tuple(fluid.shape), torch.as_tensor(np.flatnonzero(fluid.ravel()))


class DCDMSolver:
    """DCDM with a direction model ``model``: a torch module mapping (B, 1, *grid) → same, or
    any callable ``r_grid -> q_grid`` (used e.g. for an exact-inverse test "network").

    ``solve(A, b)`` returns a :class:`SolveResult` (x, residuals, times, ``info["fallback_at"]``).
    """

    def __init__(self, model: Callable, config: DCDMConfig = DCDMConfig()):
        self.model = model
        self.config = config

    def _direction(self, r: torch.Tensor, shape, index) -> torch.Tensor:
        model = self.model
        if isinstance(model, torch.nn.Module):
            p = next(model.parameters(), None)
            dev = p.device if p is not None else r.device
            dt = p.dtype if p is not None else torch.float32
        else:
            dev, dt = r.device, r.dtype
        g = torch.zeros(int(np.prod(shape)), device=dev, dtype=dt)
        idx = index.to(dev)
        g[idx] = (r / torch.linalg.vector_norm(r)).to(device=dev, dtype=dt)
        with torch.no_grad():
            q = model(g.reshape(1, 1, *shape))
        return q.reshape(-1)[idx].to(device=r.device, dtype=torch.float64)

    def solve(self, A, b, x0=None, mask=None) -> SolveResult:
        """Solve A x = b.

        Args:
            A: PoissonSystem, StencilOperator, or a matrix/callable together with ``mask``.
            b: (n,) right-hand side over the fluid cells (numpy or torch), finite.
            x0: (n,) initial guess (zeros by default).
            mask: (*grid) bool fluid indicator when A carries no grid.
        """
        cfg = self.config
        device = None
        if isinstance(b, np.ndarray) and isinstance(self.model, torch.nn.Module):
            p = next(self.model.parameters(), None)
            device = p.device if p is not None else None  # numpy input: solve on the model's device
        b = as_rhs(b, device)
        shape, index = _grid_info(A, mask)
        if index.numel() != b.numel():
            raise ValueError(f"b: expected length {index.numel()} (fluid cells), got {b.numel()}")
        matvec = as_matvec(A, b.numel(), b.device)
        t0 = time.perf_counter()
        x = torch.zeros_like(b) if x0 is None else as_rhs(x0, b.device).clone()
        r = b - matvec(x) if x0 is not None else b.clone()
        r0 = torch.linalg.vector_norm(r).item()
        res, times = [1.0], [0.0]
        info = {"fallback_at": None, "matvecs": int(x0 is not None), "network_calls": 0}
        if r0 == 0.0:
            return SolveResult(x, True, 0, res, times, 0.0, "dcdm", info)
        P: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        converged = False
        it = 0
        stalled = False
        while it < cfg.maxiter:
            q = self._direction(r, shape, index)
            info["network_calls"] += 1
            Aq = matvec(q)
            info["matvecs"] += 1
            for p, Ap, pAp in P:
                beta = torch.dot(q, Ap) / pAp
                q = q - beta * p
                Aq = Aq - beta * Ap
            qAq = torch.dot(q, Aq)
            if not torch.isfinite(qAq) or qAq.item() <= 0:
                stalled = True
                break
            alpha = torch.dot(q, r) / qAq
            x = x + alpha * q
            if cfg.residual == "true":
                r = b - matvec(x)
                info["matvecs"] += 1
            else:
                r = r - alpha * Aq
            it += 1
            rel = torch.linalg.vector_norm(r).item() / r0
            res.append(rel)
            times.append(time.perf_counter() - t0)
            if rel <= cfg.tol:
                converged = True
                break
            if cfg.k > 0:
                P.append((q, Aq, qAq))
                P = P[-cfg.k :]
            w = cfg.stall_patience
            if len(res) > w + 1 and min(res[-w:]) > cfg.stall_ratio * min(res[:-w]):
                stalled = True
                break
        if stalled and not converged and cfg.fallback == "cg" and it < cfg.maxiter:
            info["fallback_at"] = it
            rn = torch.linalg.vector_norm(b - matvec(x)).item()
            sub = pcg(matvec, b, None, cfg.tol * r0 / max(rn, 1e-300), cfg.maxiter - it, x0=x)
            info["matvecs"] += 1 + sub.iterations
            t_sub = time.perf_counter() - t0 - sub.times[-1]
            x = sub.x
            res += [rr * rn / r0 for rr in sub.residuals[1:]]
            times += [t + t_sub for t in sub.times[1:]]
            it += sub.iterations
            converged = sub.converged
        info["stalled"] = stalled
        return SolveResult(x, converged, it, res, times, 0.0, "dcdm", info)


def dcdm_solve(
    A,
    b,
    model: Callable,
    tol: float = 1e-4,
    maxiter: int = 100,
    k: int = 2,
    *,
    residual: str = "true",
    fallback: str = "cg",
    x0=None,
    mask=None,
    **options,
) -> SolveResult:
    """Solve A x = b with DCDM (see :class:`DCDMSolver` and :class:`DCDMConfig`).

    Args:
        A: PoissonSystem (or StencilOperator, or matrix with ``mask``), n fluid unknowns.
        b: (n,) right-hand side. model: direction network (B, 1, *grid) → (B, 1, *grid).
        tol: relative residual tolerance. maxiter: iteration cap. k: directions kept.
        residual, fallback, **options: further :class:`DCDMConfig` fields.

    Returns:
        SolveResult with x (n,) float64 and the residual/time history.
    """
    cfg = DCDMConfig(tol=tol, maxiter=maxiter, k=k, residual=residual, fallback=fallback, **options)
    return DCDMSolver(model, cfg).solve(A, b, x0=x0, mask=mask)
