"""Run every solver on one system and tabulate iterations / wall time to given tolerances."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from sciml.linalg.baselines import BASELINES, has_pyamg, solve_baseline
from sciml.linalg.dcdm import DCDMConfig, DCDMSolver
from sciml.linalg.result import SolveResult
from sciml.linalg.system import PoissonSystem

DCDM_VARIANTS = [
    "dcdm",
    "dcdm-recurrence",
    "dcdm-k16",
    "dcdm-debias",
    "dcdm-coarse",
    "dcdm-coarse-debias",
    "dcdm-coarse-debias-k16",
]


def dcdm_config(name: str, **kwargs) -> DCDMConfig:
    """DCDMConfig from a solver name ``dcdm[-opt]...``; options: ``recurrence`` (residual
    recurrence), ``k<N>`` (N kept directions, default 2), ``coarse`` (deflation coarse space),
    ``additive`` (additive coarse correction), ``b<N>`` (aggregate block N cells, default 4),
    ``debias`` (subtract f(0)). ``kwargs`` are further DCDMConfig fields."""
    parts = name.split("-")
    if parts[0] != "dcdm":
        raise ValueError(f"name: expected 'dcdm[-option...]', got {name!r}")
    opts: dict = {}
    for p in parts[1:]:
        if p == "recurrence":
            opts["residual"] = "recurrence"
        elif p == "coarse":
            opts["coarse"] = "deflation"
        elif p == "additive":
            opts["coarse"] = "additive"
        elif p == "debias":
            opts["debias"] = True
        elif p[:1] in ("k", "b") and p[1:].isdigit():
            opts["k" if p[0] == "k" else "coarse_block"] = int(p[1:])
        else:
            raise ValueError(f"name: unknown DCDM option {p!r} in {name!r}")
    return DCDMConfig(**{**opts, **kwargs})


def run_solvers(
    system: PoissonSystem,
    b,
    model: Callable | None = None,
    tols: Sequence[float] = (1e-4, 1e-6),
    solvers: Sequence[str] | None = None,
    maxiter: int = 5000,
    dcdm_maxiter: int = 5000,
    repeats: int = 1,
    log: Callable[[str], None] | None = None,
) -> dict[str, dict]:
    """Solve ``A x = b`` to ``min(tols)`` with each solver; returns per solver
    ``{"iters": {tol: k}, "time": {tol: s (setup included)}, "time_nosetup": {...},
    "setup": s, "converged": bool, "residuals": [...], "times": [...]}``.

    Solvers: the names in :data:`BASELINES` (AMG skipped without pyamg) plus, when ``model``
    is given, DCDM variants named ``dcdm`` followed by ``-`` options (see :func:`dcdm_config`),
    e.g. ``dcdm``, ``dcdm-recurrence``, ``dcdm-k16``, ``dcdm-coarse-debias``. With ``repeats``
    > 1 the times are medians; ``setup`` includes the coarse-space / f(0) setup of DCDM.
    """
    if solvers is None:
        solvers = [s for s in BASELINES if has_pyamg() or not s.startswith("amg")]
        if model is not None:
            solvers += DCDM_VARIANTS
    tol = min(tols)
    out = {}
    for name in solvers:
        runs: list[SolveResult] = []
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            if name.startswith("dcdm"):
                if model is None:
                    raise ValueError(f"model: needed for solver {name!r}")
                cfg = dcdm_config(name, tol=tol, maxiter=dcdm_maxiter)
                res = DCDMSolver(model, cfg).solve(system, b)
            else:
                res = solve_baseline(name, system, b, tol=tol, maxiter=maxiter)
            res.info["wall"] = time.perf_counter() - t0
            runs.append(res)
        res = runs[0]
        rec = {
            "iters": {str(t): res.iterations_to(t) for t in tols},
            "time": {},
            "time_nosetup": {},
            "setup": float(np.median([r.setup_time for r in runs])),
            "converged": res.converged,
            "fallback_at": res.info.get("fallback_at"),
            **{
                key: res.info[key]
                for key in ("coarse_size", "coarse_setup", "debias_setup")
                if key in res.info
            },
            "residuals": [float(v) for v in res.residuals],
            "times": [float(v) for v in res.times],
        }
        for t in tols:
            ts = [r.time_to(t, True) for r in runs]
            tn = [r.time_to(t, False) for r in runs]
            rec["time"][str(t)] = None if None in ts else float(np.median(ts))
            rec["time_nosetup"][str(t)] = None if None in tn else float(np.median(tn))
        out[name] = rec
        if log is not None:
            it = ", ".join(f"{t:g}: {rec['iters'][str(t)]} it" for t in tols)
            tm = rec["time"][str(tol)]
            log(
                f"  {name:16s} {it}; {tm if tm is None else round(tm, 3)} s (setup {rec['setup']:.3f} s)"
            )
    return out
