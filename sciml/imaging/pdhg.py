"""Primal-dual hybrid gradient (Chambolle-Pock) for ``min_x g(x) + f(K x)`` (``alg`` layer).

Iteration (x-first form, Goldstein et al. 2015), with over-relaxation ``ρ`` (Condat 2013):

    x̃ = prox_{τ g}(x - τ Kᴴ y)
    ỹ = prox_{σ f*}(y + σ K((1 + θ) x̃ - θ x))
    (x, y) ← ρ (x̃, ỹ) + (1 - ρ) (x, y)

Convergence needs ``τ σ ||K||² < 1``. Residuals (Goldstein et al.):
``p = (x - x̃)/τ - Kᴴ(y - ỹ)``, ``d = (y - ỹ)/σ - θ K(x - x̃)`` (elements of
``∂g(x̃) + Kᴴỹ`` and ``∂f*(ỹ) - K x̃``; the ``θ`` comes from the extrapolation); relative
versions divide by ``max(||x̃||/τ, ||Kᴴ ỹ||)`` and ``max(||ỹ||/σ, ||K x̃||)``. Adaptive steps
rebalance τ/σ (keeping τσ fixed) when one residual dominates the other by a factor ``Δ``; the
adaptation strength decays geometrically, which preserves convergence. One ``K`` and one ``Kᴴ``
per iteration (the images of the iterates are carried along).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import _vec
from ._vec import Vec
from .linop import Linop


@dataclass
class PDHGHistory:
    """Per-iteration record (lists of floats); ``objective`` holds ``nan`` where not evaluated."""

    objective: list = field(default_factory=list)
    primal_residual: list = field(default_factory=list)
    dual_residual: list = field(default_factory=list)
    tau: list = field(default_factory=list)
    time: list = field(default_factory=list)
    converged: bool = False
    iterations: int = 0

    def as_dict(self) -> dict:
        return {
            "objective": list(self.objective),
            "primal_residual": list(self.primal_residual),
            "dual_residual": list(self.dual_residual),
            "tau": list(self.tau),
            "time": list(self.time),
            "converged": self.converged,
            "iterations": self.iterations,
        }


class PrimalDualHybridGradient:
    """PDHG with ``_update``/``_done`` steps (SigPy ``alg`` style).

    Args:
        K: the linear operator.
        prox_g: ``(tau, x) -> prox_{tau g}(x)``.
        prox_fconj: ``(sigma, y) -> prox_{sigma f*}(y)``.
        x0, y0: initial primal and dual points (block vectors of shapes ``K.ishape``/``K.oshape``).
        tau, sigma: step sizes with ``tau * sigma * ||K||² < 1``; or tuples of per-block steps
            (diagonal preconditioning, one entry per top-level block of ``x`` / ``y``) with
            ``||Σ^{1/2} K T^{1/2}|| < 1``.
        theta: extrapolation (1 = Chambolle-Pock); rho: relaxation in (0, 2).
        adaptive: rebalance the steps from the residuals (alpha0=0.5, eta=0.95, delta=1.5).
        max_iter, tol: stop when both relative residuals are below ``tol`` or after ``max_iter``.
        objective: optional ``x -> float``, evaluated every ``objective_every`` iterations.
    """

    def __init__(
        self,
        K: Linop,
        prox_g: Callable[[float, Vec], Vec],
        prox_fconj: Callable[[float, Vec], Vec],
        x0: Vec,
        y0: Vec,
        *,
        tau: float | tuple,
        sigma: float | tuple,
        theta: float = 1.0,
        rho: float = 1.0,
        adaptive: bool = False,
        max_iter: int = 500,
        tol: float = 1e-4,
        objective: Callable[[Vec], float] | None = None,
        objective_every: int = 1,
    ):
        steps = [
            *(tau if isinstance(tau, tuple) else (tau,)),
            *(sigma if isinstance(sigma, tuple) else (sigma,)),
        ]
        if not all(float(v) > 0 for v in steps):
            raise ValueError(f"tau and sigma must be > 0, got tau={tau}, sigma={sigma}")
        if not 0 < rho < 2:
            raise ValueError(f"rho (relaxation) must be in (0, 2), got {rho}")
        self.K, self.prox_g, self.prox_fconj = K, prox_g, prox_fconj
        self.x, self.y = x0, y0
        self.tau, self.sigma, self.theta, self.rho = tau, sigma, theta, rho
        self.adaptive, self.alpha, self.eta, self.delta = adaptive, 0.5, 0.95, 1.5
        self.max_iter, self.tol = int(max_iter), float(tol)
        self.objective, self.objective_every = objective, max(1, int(objective_every))
        self.Kx = K._apply(x0)
        self.KHy = K.H._apply(y0)
        self.history = PDHGHistory()
        self.iter = 0
        self._rel = (float("inf"), float("inf"))

    def _update(self) -> None:
        tau, sigma, th = self.tau, self.sigma, self.theta
        K = self.K
        inv = _vec.smap(lambda v: 1.0 / v, tau), _vec.smap(lambda v: 1.0 / v, sigma)
        xt = self.prox_g(tau, _vec.sub(self.x, _vec.bmul(self.KHy, tau)))
        Kxt = K._apply(xt)
        yt = self.prox_fconj(
            sigma, _vec.add(self.y, _vec.bmul(_vec.axpby(1 + th, Kxt, -th, self.Kx), sigma))
        )
        KHyt = K.H._apply(yt)
        dx, dy = _vec.sub(self.x, xt), _vec.sub(self.y, yt)
        p = _vec.norm(_vec.sub(_vec.bmul(dx, inv[0]), _vec.sub(self.KHy, KHyt)))
        # y-step optimality: (y - ỹ)/σ + K x̃ + θ K(x̃ - x) ∈ ∂f*(ỹ)
        d = _vec.norm(_vec.sub(_vec.bmul(dy, inv[1]), _vec.scale(_vec.sub(self.Kx, Kxt), th)))
        rel_p = p / max(_vec.norm(_vec.bmul(xt, inv[0])), _vec.norm(KHyt), 1e-300)
        rel_d = d / max(_vec.norm(_vec.bmul(yt, inv[1])), _vec.norm(Kxt), 1e-300)
        r = self.rho
        if r == 1.0:
            self.x, self.y, self.Kx, self.KHy = xt, yt, Kxt, KHyt
        else:
            self.x = _vec.axpby(r, xt, 1 - r, self.x)
            self.y = _vec.axpby(r, yt, 1 - r, self.y)
            self.Kx = _vec.axpby(r, Kxt, 1 - r, self.Kx)
            self.KHy = _vec.axpby(r, KHyt, 1 - r, self.KHy)
        if self.adaptive:
            if p > self.delta * d:
                f = 1.0 / (1 - self.alpha)
                self.tau = _vec.smap(lambda v: v * f, tau)
                self.sigma = _vec.smap(lambda v: v / f, sigma)
                self.alpha *= self.eta
            elif p < d / self.delta:
                f = 1 - self.alpha
                self.tau = _vec.smap(lambda v: v * f, tau)
                self.sigma = _vec.smap(lambda v: v / f, sigma)
                self.alpha *= self.eta
        self.iter += 1
        self._rel = (rel_p, rel_d)
        h = self.history
        h.primal_residual.append(rel_p)
        h.dual_residual.append(rel_d)
        h.tau.append(tau[0] if isinstance(tau, tuple) else tau)

    def _done(self) -> bool:
        return self.iter >= self.max_iter or max(self._rel) < self.tol

    def run(self) -> Vec:
        """Iterate until :meth:`_done`; returns the primal iterate (history in ``.history``)."""
        t0 = time.perf_counter()
        h = self.history
        while not self._done():
            self._update()
            if self.objective is not None and (
                self.iter % self.objective_every == 0 or self._done()
            ):
                h.objective.append(float(self.objective(self.x)))
            else:
                h.objective.append(float("nan"))
            h.time.append(time.perf_counter() - t0)
        h.iterations = self.iter
        h.converged = max(self._rel) < self.tol
        return self.x
