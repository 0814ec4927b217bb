"""sciml-bench registration for GP-HM (no heavy imports at module level)."""

from __future__ import annotations

# Reference figures (authors' logs, relative L2, min over checkpoints; see the reference page).
REFERENCE_L2 = {
    "poisson1d-sin100": 4.0e-7,
    "poisson1d-xsin200": 9.0e-7,
    "poisson1d-sin6cos100": 1.5e-6,
    "poisson1d-mix": 3.5e-4,
    "poisson1d-sin500": 9.9e-4,
    "allencahn1d-sin100": 7.7e-7,
    "allencahn1d-sin6cos100": 4.2e-6,
    "poisson2d-sin100": 6.5e-5,
    "poisson2d-sin6cos20": 2.2e-4,
    "allencahn2d-mix": 2.6e-3,
    "advection2d": 1.4e-4,
}
# The same figures by kernel family where the reference page gives one (GM = Gaussian mixture,
# StM = Student-t mixture); a run is compared with the figure of the kernel it uses as well.
REFERENCE_L2_BY_KERNEL = {
    "gm": {"poisson1d-sin100": 4.0e-7, "poisson1d-xsin200": 1.6e-6, "poisson1d-sin6cos100": 1.5e-6,
           "poisson1d-mix": 3.5e-4, "allencahn1d-sin100": 7.7e-7,
           "allencahn1d-sin6cos100": 4.2e-6, "poisson2d-sin100": 6.5e-5,
           "allencahn2d-mix": 2.6e-3},
    "stm": {"poisson1d-sin100": 6.5e-7, "poisson1d-xsin200": 9.0e-7, "poisson1d-sin6cos100": 5.5e-6,
            "poisson1d-sin500": 9.9e-4, "poisson2d-sin100": 6.9e-5, "advection2d": 1.4e-4},
}  # fmt: skip

# 1-D: profiled θ steps (U re-solved at every step); their trajectories fluctuate from round to
# round, so the reported state is selected on held-out collocation points (never by test points);
# the final iterate's test error is reported next to it. Round 4: the held-out criterion is the
# inverse-Laplacian error estimate ‖Δ_h⁻¹r‖ (predictor − g as Dirichlet data) on one held-out point
# per grid cell (the plain residual norm weights an error component of wavenumber k by k², so it
# hardly sees smooth errors, nor the boundary); holdout_points set per row below.
ONE_D = {"theta_steps": 20, "theta_update": "profiled", "select": "holdout",
         "holdout_norm": "inverse_laplacian", "value_field": "predictor"}  # fmt: skip
# 2-D: interior collocation. Linear second-order operators (the Poisson problems): the
# generalised-eigenbasis block preconditioner with the P⁻¹-norm stopping rule (chosen on the
# linear-solver convergence at a fixed state). First-order (advection2d) and nonlinear
# (allencahn2d-mix) operators keep the round-2 setting ("slice", plain residual rule): geig failed
# on both (advection: slow PCG convergence at a fixed state; Allen–Cahn: error 0.94 with every
# Gauss–Newton solve at the cap, observed on the benchmark's test error — disclosed in
# docs/status/gphm.md).
TWO_D = {"theta_steps": 20, "collocation": "interior"}


# Linear second-order operators (the Poisson rows) also take profiled θ steps (round 4): every
# Adam step on θ re-solves U by PCG warm-started at the previous U (at most 50 iterations) and
# uses the envelope gradient there; the reported state is selected by the 1-D held-out rule.
TWO_D_PROFILED = {"theta_update": "profiled", "profiled_cg_maxiter": 50, "select": "holdout",
                  "holdout_norm": "inverse_laplacian", "value_field": "predictor"}  # fmt: skip


def _two_d_solver(name: str) -> dict:
    from .problems import get_problem, parse_field

    p = get_problem(name)
    top = max(max(parse_field(f, p.ndim)) for f in p.fields)
    if p.linear and top >= 2:
        return {"precond": "geig", "cg_norm": "preconditioned", **TWO_D_PROFILED}
    return {}


def fast_config_overrides(name: str, ndim: int, grid: tuple[int, ...] | None = None) -> dict:
    """Fast-path settings used by the benchmark: one rule per dimension / grid size / operator
    class, no per-problem tuning on test error. 1-D: 40 rounds of profiled θ steps, held-out
    selection (inverse-Laplacian norm, one point per cell). 2-D: residual on interior points (the
    square collocation system) with closed-form τ updates, fewer rounds on large grids (CPU
    budget); the Poisson rows with geig, profiled θ steps and the 1-D held-out rule."""
    if grid is None:
        from .problems import get_problem

        grid = get_problem(name).grid
    big = ndim > 1 and min(grid) > 300
    cells = {"holdout_points": min(grid) - 1}  # one held-out point per grid cell
    if ndim == 1:
        return {"outer_iters": 40, **ONE_D, **cells}  # round 4: 40 rounds also on n = 900
    two = {**TWO_D, **_two_d_solver(name)}
    if "select" in two:
        two.update(cells)
    if big:  # 400² and up: PCG at the default cap 2000
        return {"outer_iters": 4, **two}
    return {"outer_iters": 10, "cg_maxiter": 1000, **two}


QUICK = {
    # name: (grid override or None, fast-path config overrides); the 1-D row uses the full rule
    # (≈ 35 CPU-s), the 2-D row the full 2-D Poisson rule with fewer rounds and θ steps and no
    # held-out selection (final iterate)
    "poisson1d-sin100": (None, fast_config_overrides("poisson1d-sin100", 1, (400,))),
    "poisson2d-sin6cos20": (
        None,
        {
            "outer_iters": 3,
            "theta_steps": 5,
            "collocation": "interior",
            "cg_maxiter": 500,
            "precond": "geig",
            "cg_norm": "preconditioned",
            "theta_update": "profiled",
            "profiled_cg_maxiter": 50,
            "value_field": "predictor",
        },
    ),  # fmt: skip
}


MODEL_KEYS = (
    "collocation",
    "value_field",
)  # settings that change the model (shared by both paths in comparisons)


def run_gphm(ctx) -> dict:
    import jax

    from sciml.gp import GPHMConfig, GPHMSolver, get_problem, list_problems

    names = list(QUICK) if ctx.quick else list_problems()
    metrics: dict[str, float] = {}
    for name in ctx.progress(names, desc="gphm problems", total=len(names)):
        if ctx.quick:
            grid, over = QUICK[name]
            prob = get_problem(name, grid)
        else:
            prob = get_problem(name)
            over = fast_config_overrides(name, prob.ndim, prob.grid)
        cfg = GPHMConfig(path="fast", **over)
        sol = GPHMSolver(prob, cfg).solve()
        err = sol.relative_l2(300 if prob.ndim == 1 else (100 if ctx.quick else 300))
        metrics[f"{name}_rel_l2"] = err
        metrics[f"{name}_time_s"] = sol.wall_time
        ctx.log(f"{name} grid={prob.grid} rel_l2={err:.3e} time={sol.wall_time:.1f}s")
    jax.clear_caches()
    return metrics


BENCHMARKS = [
    {
        "name": "gphm",
        "description": "GP-HM fast path (PCG/Gauss-Newton + kernel Adam) on the GP-HM problems; "
        "quick: poisson1d-sin100 and poisson2d-sin6cos20 (200^2), few rounds",
        "datasets": [],
        "references": {
            f"{k}_rel_l2": {"value": v, "source": "Fang et al. ICLR 2024, authors' logs (GP-HM)"}
            for k, v in REFERENCE_L2.items()
        },
        # names: <problem>_<metric>, problem e.g. poisson1d-sin100 (PDE, dimension, exact solution)
        "metrics": {
            "*_rel_l2": {
                "about": "relative L2 error ‖u − u_exact‖₂ / ‖u_exact‖₂ of the solution on a "
                "uniform test grid (300 points per axis; quick 2-D: 100)",
                "better": "lower",
            },
            "*_time_s": {
                "about": "wall-clock seconds of the GP-HM solve (training) for this problem",
                "better": "lower",
            },
        },
        "options": {},
        "run": run_gphm,
    },
]
