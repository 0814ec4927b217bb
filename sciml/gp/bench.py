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

QUICK = {
    # name: (grid override or None, fast-path config overrides)
    "poisson1d-sin100": (None, {"outer_iters": 15}),
    "poisson2d-sin6cos20": (None, {"outer_iters": 4, "theta_steps": 10, "collocation": "interior"}),
}


def fast_config_overrides(name: str, ndim: int, grid: tuple[int, ...] | None = None) -> dict:
    """Fast-path settings used by the benchmark: one rule per dimension / grid size, no
    per-problem tuning on test error. 2-D: residual on interior points (the square collocation
    system) with closed-form τ updates; fewer rounds on large grids (CPU budget)."""
    big = (
        grid is not None and max(grid) > 600 if ndim == 1 else grid is not None and min(grid) > 300
    )
    if ndim == 1:
        return {"outer_iters": 20 if big else 40, "theta_steps": 20}
    if big:  # 400² and up: PCG at the default cap (2000; 1000 left the solves too inexact)
        return {"outer_iters": 4, "theta_steps": 20, "collocation": "interior"}
    return {"outer_iters": 10, "theta_steps": 20, "collocation": "interior", "cg_maxiter": 1000}


MODEL_KEYS = (
    "collocation",
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
        "run": run_gphm,
    },
]
