"""Deep Conjugate Direction Method (Kaneda et al., ICML 2023): network search directions,
A-orthogonalised against the last k directions, exact line search; CG fallback on stall."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from sciml.linalg.coarse import CoarseSpace
from sciml.linalg.krylov import pcg
from sciml.linalg.operator import as_matvec, as_rhs, as_x0
from sciml.linalg.result import SolveResult
from sciml.linalg.stencil import StencilOperator
from sciml.linalg.system import PoissonSystem
from sciml.train import first_floating_tensor


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
        coarse: ``None`` (default: the reference method), ``"deflation"`` or ``"additive"``: a
            two-level correction with piecewise-constant aggregates over ``coarse_block^d``
            cells (:class:`~sciml.linalg.coarse.CoarseSpace`; our addition, not the paper's).
            Deflation starts from the coarse solution, keeps Zᵀr = 0 and A-projects every
            direction off range(Z); additive uses q = s·f(r) + Z E⁻¹ Zᵀ r with s the network
            direction's own A-optimal step. Setup time goes to ``SolveResult.setup_time``.
        coarse_block: aggregate edge length in cells.
        debias: subtract the network's response to a zero input, q = f(r/‖r‖) − f(0) (our
            addition, not the paper's). The shipped networks' biases give ‖f(0)‖ comparable to
            ‖f(r/‖r‖)‖, and more so on larger grids where the unit-norm input is smaller per
            cell; f(0) is one network call per grid, counted in ``setup_time``.
    """

    tol: float = 1e-4
    maxiter: int = 100
    k: int = 2
    residual: str = "true"
    fallback: str = "cg"
    stall_patience: int = 20
    stall_ratio: float = 0.98
    coarse: str | None = None
    coarse_block: int = 4
    debias: bool = False

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
        if self.coarse not in (None, "deflation", "additive"):
            raise ValueError(
                f"coarse: expected None, 'deflation' or 'additive', got {self.coarse!r}"
            )
        w = self.stall_patience
        if isinstance(w, bool) or not isinstance(w, int) or w < 1:
            raise ValueError(f"stall_patience: expected a positive integer, got {w!r}")
        if not 0 < self.stall_ratio < float("inf"):
            raise ValueError(f"stall_ratio: expected a finite number > 0, got {self.stall_ratio}")
        if int(self.coarse_block) < 1:
            raise ValueError(f"coarse_block: expected a positive integer, got {self.coarse_block}")


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
    Options ``coarse`` / ``debias`` of :class:`DCDMConfig` are our additions (not the paper's);
    f(0) for ``debias`` is cached on the solver: make a new solver after changing the weights.
    """

    def __init__(self, model: Callable, config: DCDMConfig = DCDMConfig()):
        self.model = model
        self.config = config
        self._bias: dict = {}  # (shape, device) -> f(0) on the grid (debias option)

    def _model_device(self, r: torch.Tensor):
        """Device and dtype the model's input is built in: those of the module's first floating
        parameter or buffer; the right-hand side's (float64) for tensor-free modules/callables."""
        t = first_floating_tensor(self.model, complex_ok=False)
        return (t.device, t.dtype) if t is not None else (r.device, r.dtype)

    def bias_output(self, shape, device, dtype) -> torch.Tensor:
        """The network's response to a zero input on this grid, f(0) (cached)."""
        key = (tuple(shape), str(device), dtype)
        if key not in self._bias:
            with torch.no_grad():
                g = torch.zeros((1, 1, *shape), device=device, dtype=dtype)
                self._bias[key] = self.model(g).reshape(-1)
        return self._bias[key]

    def _direction(self, r: torch.Tensor, shape, index) -> torch.Tensor:
        dev, dt = self._model_device(r)
        g = torch.zeros(int(np.prod(shape)), device=dev, dtype=dt)
        idx = index.to(dev)
        g[idx] = (r / torch.linalg.vector_norm(r)).to(device=dev, dtype=dt)
        with torch.no_grad():
            q = self.model(g.reshape(1, 1, *shape)).reshape(-1)
        if self.config.debias:
            q = q - self.bias_output(shape, dev, dt)
        return q[idx].to(device=r.device, dtype=torch.float64)

    def solve(
        self, A, b, x0=None, mask=None, coarse_space: CoarseSpace | None = None
    ) -> SolveResult:
        """Solve A x = b.

        Args:
            A: PoissonSystem, StencilOperator, or a matrix/callable together with ``mask``.
            b: (n,) right-hand side over the fluid cells (numpy or torch), finite.
            x0: (n,) initial guess (zeros by default).
            mask: (*grid) bool fluid indicator when A carries no grid.
            coarse_space: a prebuilt :class:`CoarseSpace` for A (reused, no setup time);
                by default one is built when ``config.coarse`` is set.

        With a coarse space the history's first entry is the relative residual after the
        coarse start (deflation), still relative to ‖b − A x0‖.
        """
        cfg = self.config
        device = None
        if isinstance(b, np.ndarray):
            p = first_floating_tensor(self.model, complex_ok=False)
            device = p.device if p is not None else None  # numpy input: solve on the model's device
        b = as_rhs(b, device)
        shape, index = _grid_info(A, mask)
        if index.numel() != b.numel():
            raise ValueError(f"b: expected length {index.numel()} (fluid cells), got {b.numel()}")
        matvec = as_matvec(A, b.numel(), b.device)
        cs, setup = coarse_space, 0.0
        if cfg.coarse is not None and cs is None:
            cs = CoarseSpace(A, shape, index, cfg.coarse_block, device=b.device)
            setup = cs.setup_time
        elif cfg.coarse is None and cs is not None:
            raise ValueError("coarse_space: given, but config.coarse is None (set 'deflation')")
        setup_info = {"coarse_setup": setup, "debias_setup": 0.0}
        if cs is not None and (cs.agg.size != b.numel()):
            raise ValueError(f"coarse_space: built for {cs.agg.size} unknowns, b has {b.numel()}")
        if cfg.debias:
            tb = time.perf_counter()
            dev, dt = self._model_device(b)
            if (tuple(shape), str(dev), dt) not in self._bias:
                self.bias_output(shape, dev, dt)
                setup_info["debias_setup"] = time.perf_counter() - tb
                setup += setup_info["debias_setup"]
        method = "dcdm" if cs is None else f"dcdm-{cfg.coarse}"
        t0 = time.perf_counter()
        x = torch.zeros_like(b) if x0 is None else as_x0(x0, b.numel(), b.device)
        r = b - matvec(x) if x0 is not None else b.clone()
        r0 = torch.linalg.vector_norm(r).item()
        res, times = [1.0], [0.0]
        info = {"fallback_at": None, "matvecs": int(x0 is not None), "network_calls": 0}
        if cs is not None:
            info["coarse_size"] = cs.m
        if cs is not None or cfg.debias:
            info.update(setup_info)
        if r0 == 0.0:
            return SolveResult(x, True, 0, res, times, setup, method, info)
        if cs is not None and cfg.coarse == "deflation":  # coarse start: Zᵀ r = 0
            x = x + cs.correction(r)
            r = b - matvec(x)
            info["matvecs"] += 1
            res[0] = torch.linalg.vector_norm(r).item() / r0
            times[0] = time.perf_counter() - t0
            if res[0] <= cfg.tol:
                return SolveResult(x, True, 0, res, times, setup, method, info)
        P: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = []
        converged = False
        it = 0
        stalled = False
        index = index.to(self._model_device(b)[0])  # once, not per iteration
        while it < cfg.maxiter:
            q = self._direction(r, shape, index)
            info["network_calls"] += 1
            Aq = matvec(q)
            info["matvecs"] += 1
            if cs is not None and cfg.coarse == "deflation":
                q, Aq = cs.project(q, Aq, matvec)
                info["matvecs"] += 1
            elif cs is not None:  # additive: scaled network direction + coarse correction
                fAf = torch.dot(q, Aq)
                s = torch.dot(q, r) / fAf if torch.isfinite(fAf) and fAf.item() > 0 else 1.0
                zc = cs.correction(r)
                q, Aq = s * q + zc, s * Aq + matvec(zc)
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
            calls = [0]

            def counted(v: torch.Tensor) -> torch.Tensor:
                calls[0] += 1
                return matvec(v)

            sub = pcg(counted, b, None, cfg.tol * r0 / max(rn, 1e-300), cfg.maxiter - it, x0=x)
            info["matvecs"] += 1 + calls[0]  # ‖b − A x‖ above, then CG's own (r_0 and per step)
            t_sub = time.perf_counter() - t0 - sub.times[-1]
            x = sub.x
            res += [rr * rn / r0 for rr in sub.residuals[1:]]
            times += [t + t_sub for t in sub.times[1:]]
            it += sub.iterations
            converged = sub.converged
        info["stalled"] = stalled
        return SolveResult(x, converged, it, res, times, setup, method, info)


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
    coarse: str | None = None,
    coarse_block: int = 4,
    **options,
) -> SolveResult:
    """Solve A x = b with DCDM (see :class:`DCDMSolver` and :class:`DCDMConfig`).

    Args:
        A: PoissonSystem (or StencilOperator, or matrix with ``mask``), n fluid unknowns.
        b: (n,) right-hand side. model: direction network (B, 1, *grid) → (B, 1, *grid).
        tol: relative residual tolerance. maxiter: iteration cap. k: directions kept.
        coarse, coarse_block: optional two-level correction (``"deflation"`` / ``"additive"``,
            our addition; see :class:`DCDMConfig`).
        residual, fallback, **options: further :class:`DCDMConfig` fields.

    Returns:
        SolveResult with x (n,) float64 and the residual/time history.
    """
    cfg = DCDMConfig(
        tol=tol,
        maxiter=maxiter,
        k=k,
        residual=residual,
        fallback=fallback,
        coarse=coarse,
        coarse_block=coarse_block,
        **options,
    )
    return DCDMSolver(model, cfg).solve(A, b, x0=x0, mask=mask)
