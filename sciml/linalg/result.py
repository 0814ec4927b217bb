"""Result of an iterative solve: solution plus convergence history."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


@dataclass
class SolveResult:
    """Solution and history of an iterative solve.

    Attributes:
        x: (n,) solution (float64 tensor on the right-hand side's device).
        converged: relative residual reached ``tol``.
        iterations: iterations performed (including fallback iterations).
        residuals: relative residual ‖r_k‖/‖r_0‖ for k = 0..iterations.
        times: seconds since the start of the solve (setup excluded) at each residual.
        setup_time: seconds spent in preconditioner setup (0 when none).
        method: solver name.
        info: extra fields (e.g. ``fallback_at`` for DCDM).
    """

    x: torch.Tensor
    converged: bool
    iterations: int
    residuals: list[float]
    times: list[float]
    setup_time: float = 0.0
    method: str = ""
    info: dict = field(default_factory=dict)

    def iterations_to(self, tol: float) -> int | None:
        """First iteration whose relative residual is <= tol (None if never)."""
        for k, r in enumerate(self.residuals):
            if r <= tol:
                return k
        return None

    def time_to(self, tol: float, include_setup: bool = True) -> float | None:
        """Seconds to reach relative residual tol (setup included by default)."""
        k = self.iterations_to(tol)
        if k is None:
            return None
        return self.times[k] + (self.setup_time if include_setup else 0.0)
