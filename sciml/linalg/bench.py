"""sciml-bench benchmarks of sciml.linalg (top level imports nothing heavy)."""

from __future__ import annotations

RITZ_SIZES_2D = {
    "quick": {"dim": 2, "grid": 32, "steps": 200, "n_train": 100, "n_val": 20},
    "full": {"dim": 2, "grid": 64, "steps": 1000, "n_train": 2000, "n_val": 100},
}
RITZ_SIZES_3D = {
    "quick": {"dim": 3, "grid": 16, "steps": 200, "n_train": 100, "n_val": 10},
    "full": {"dim": 3, "grid": 32, "steps": 500, "n_train": 800, "n_val": 50},
    # the shipped 3-D model's last stage: 4× the vectors of "full" (same Lanczos basis)
    "large": {"dim": 3, "grid": 32, "steps": 500, "n_train": 3200, "n_val": 100},
    # 64³ fine-tuning stage of the shipped 3-D model (the reference trains its 64³ model at 64³)
    "x64": {"dim": 3, "grid": 64, "steps": 300, "n_train": 400, "n_val": 16},
    # A/B only: empty box + 7 random obstacle layouts (own Lanczos run each), cell types stored
    "mixed": {"dim": 3, "grid": 32, "steps": 500, "n_train": 1500, "n_val": 80, "layouts": 7},
}

DATASETS = [
    {
        "name": f"dcdm-ritz-{d}d",
        "generator": "sciml.linalg.ritz:generate_ritz",
        "kind": "linear_system",
        "description": f"DCDM {d}-D training right-hand sides from Lanczos Ritz vectors "
        "(card: datasets/dcdm-ritz.md)",
        "sizes": sizes,
    }
    for d, sizes in ((2, RITZ_SIZES_2D), (3, RITZ_SIZES_3D))
]

SIZES = {2: {"quick": [128], "full": [128, 256]}, 3: {"quick": [32], "full": [32, 64]}}
TOLS = (1e-4, 1e-6)


def held_out_problem(dim: int, n: int, seed: int = 0):
    """Unseen obstacle layout (5 random spheres/boxes, air top face) and a smoke-like rhs."""
    from sciml.linalg import build_poisson, random_obstacles, smoke_rhs

    system = build_poisson(random_obstacles((n,) * dim, 5, seed=1000 + 17 * seed + n))
    return system, smoke_rhs(system, seed=2000 + seed)


def flatten(prefix: str, table: dict) -> dict[str, float]:
    """``run_solvers`` output → flat metrics ``{prefix}{solver}_iters_{tol}`` etc. (NaN when the
    tolerance was not reached)."""
    out = {}
    nan = float("nan")
    for name, rec in table.items():
        for t in TOLS:
            k = rec["iters"][str(t)]
            out[f"{prefix}{name}_iters_{t:g}"] = nan if k is None else float(k)
            v = rec["time"][str(t)]
            out[f"{prefix}{name}_time_{t:g}"] = nan if v is None else v
            v = rec["time_nosetup"][str(t)]
            out[f"{prefix}{name}_time_nosetup_{t:g}"] = nan if v is None else v
        out[f"{prefix}{name}_setup"] = rec["setup"]
    for amg in ("amg-sa-pcg", "amg-rs-pcg"):
        for dc in ("dcdm", "dcdm-coarse-debias"):
            if amg not in table or dc not in table:
                continue
            for t in TOLS:
                a, d = out[f"{prefix}{amg}_time_{t:g}"], out[f"{prefix}{dc}_time_{t:g}"]
                out[f"{prefix}{dc}_over_{amg}_time_{t:g}"] = d / a
                a = out[f"{prefix}{amg}_time_nosetup_{t:g}"]
                d = out[f"{prefix}{dc}_time_nosetup_{t:g}"]  # setup excluded on both sides
                out[f"{prefix}{dc}_over_{amg}_time_nosetup_{t:g}"] = d / a
    return out


def residual_figure(table: dict, title: str):
    """Relative residual vs iteration and vs wall time (setup included) for every solver."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(11, 4))
    for name, rec in table.items():
        r = rec["residuals"]
        ax[0].semilogy(range(len(r)), r, label=name)
        ax[1].semilogy([t + rec["setup"] for t in rec["times"]], r, label=name)
    for a, xl in zip(ax, ("iteration", "wall time incl. setup [s]")):
        a.set_xlabel(xl)
        a.set_ylabel("‖r‖ / ‖r₀‖")
        a.axhline(1e-4, color="gray", lw=0.5)
        a.axhline(1e-6, color="gray", lw=0.5)
        a.grid(True, which="both", alpha=0.3)
    ax[0].set_xscale("log")
    ax[1].set_xscale("log")
    ax[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def _run(ctx, dim: int) -> dict[str, float]:
    from sciml.linalg.compare import run_solvers
    from sciml.linalg.pretrained import pretrained

    model = pretrained(dim, device=ctx.device)
    metrics: dict[str, float] = {}
    sizes = SIZES[dim]["quick" if ctx.quick else "full"]
    for n in sizes:
        ctx.log(f"{dim}-D {n}^{dim}, unseen obstacle layout")
        system, b = held_out_problem(dim, n, ctx.seed)
        solvers = None
        if dim == 3:  # 3-D network calls are slow on CPU: the reference DCDM + our two-level one
            from sciml.linalg.baselines import BASELINES, has_pyamg

            solvers = [s for s in BASELINES if has_pyamg() or not s.startswith("amg")]
            solvers += ["dcdm", "dcdm-coarse-debias"]
        table = run_solvers(system, b, model, TOLS, solvers=solvers, dcdm_maxiter=400, log=ctx.log)
        metrics.update(flatten(f"n{n}_", table))
        metrics[f"n{n}_unknowns"] = float(system.n)
        ctx.save_figure(residual_figure(table, f"{dim}-D {n}^{dim} obstacles"), f"residuals_{n}")
    if dim == 3:
        metrics.update(_cube_anchor(ctx))
    return metrics


def _cube_anchor(ctx) -> dict[str, float]:
    """Dirichlet unit cube 64³ (random rhs): CG / pyamg iterations and DST time (anchor table)."""
    import time

    import numpy as np

    from sciml.linalg import box_mask, build_poisson
    from sciml.linalg.baselines import has_pyamg, solve_baseline, solve_dst

    n = 64
    system = build_poisson(box_mask((n,) * 3), spacing=1.0 / (n + 1), boundary="air")
    b = np.random.default_rng(ctx.seed).standard_normal(system.n)
    out = {}
    names = ["cg"] + (["amg-sa-pcg", "amg-rs-pcg"] if has_pyamg() else [])
    for name in names:
        res = solve_baseline(name, system, b, tol=1e-6)
        for t in TOLS:
            k = res.iterations_to(t)
            out[f"cube64_{name}_iters_{t:g}"] = float("nan") if k is None else float(k)
        out[f"cube64_{name}_setup"] = res.setup_time
    solve_dst(system, b)  # warm-up
    t0 = time.perf_counter()
    res = solve_dst(system, b)
    out["cube64_dst_time"] = time.perf_counter() - t0
    out["cube64_dst_relres"] = res.residuals[-1]
    ctx.log(f"  cube 64^3 anchors: {out}")
    return out


def run_2d(ctx) -> dict[str, float]:
    return _run(ctx, 2)


def run_3d(ctx) -> dict[str, float]:
    return _run(ctx, 3)


_ANCHOR = "DCDM reference page, anchor table (2-core CPU, Dirichlet unit cube)"

# Metric names: n<n>_<solver>_<metric>_<tol> on an unseen n^d obstacle layout; tol 0.0001 or
# 1e-06 is the relative residual ‖r‖/‖r₀‖ reached. Solvers: cg, jacobi-pcg, ic-pcg (IC(0)),
# amg-sa-pcg / amg-rs-pcg (pyamg smoothed-aggregation / Ruge-Stüben AMG as preconditioner),
# dcdm* (the learned DCDM solver and its variants).
_TOL = "to ‖r‖/‖r₀‖ ≤ tol (name suffix) on the unseen n^d layout (prefix n<n>)"
_METRICS = {
    "n*_over_*_time_nosetup_*": {
        "about": f"DCDM seconds / pyamg AMG-PCG seconds {_TOL}, setups excluded (< 1: DCDM faster)",
        "better": "lower",
    },
    "n*_over_*_time_*": {
        "about": f"DCDM seconds / pyamg AMG-PCG seconds {_TOL}, setups included (< 1: DCDM faster)",
        "better": "lower",
    },
    "n*_iters_*": {
        "about": f"iterations {_TOL}; NaN: not reached",
        "better": "lower",
    },
    "n*_time_nosetup_*": {
        "about": f"seconds of iterations {_TOL}, setup excluded; NaN: not reached",
        "better": "lower",
    },
    "n*_time_*": {
        "about": f"seconds {_TOL}, setup included; NaN: not reached",
        "better": "lower",
    },
    "n*_setup": {
        "about": "seconds of setup before the first iteration (IC(0) factorisation, AMG "
        "hierarchy, DCDM coarse space; cg: 0)",
        "better": "lower",
    },
    "n*_unknowns": {
        "about": "unknowns (fluid cells) of the n^d test system",
        "better": "none",
    },
}
_CUBE = "Dirichlet unit cube 64³, random right-hand side (anchor problem)"
_CUBE_METRICS = {
    "cube64_*_iters_*": {
        "about": f"iterations until ‖r‖/‖r₀‖ ≤ tol (the suffix); {_CUBE}",
        "better": "lower",
    },
    "cube64_*_setup": {
        "about": f"seconds of the pyamg AMG hierarchy setup (cg: 0); {_CUBE}",
        "better": "lower",
    },
    "cube64_dst_time": {
        "about": f"seconds of the exact fast sine-transform (DST) Poisson solve; {_CUBE}",
        "better": "lower",
    },
    "cube64_dst_relres": {
        "about": f"relative residual ‖b − A u‖/‖b‖ of the DST solve (round-off level); {_CUBE}",
        "better": "lower",
    },
}

BENCHMARKS = [
    {
        "name": "dcdm-2d",
        "description": "DCDM (shipped 2-D model) vs CG / Jacobi / IC(0) / pyamg PCG on unseen "
        "2-D obstacle layouts (128², full adds 256²): iterations and time to 1e-4, 1e-6",
        "datasets": ["dcdm-ritz-2d"],
        "references": {},
        "metrics": _METRICS,
        "options": {},
        "run": run_2d,
    },
    {
        "name": "dcdm-3d",
        "description": "DCDM (shipped 3-D model) vs CG / Jacobi / IC(0) / pyamg PCG on unseen "
        "3-D obstacle layouts (32³, full adds 64³) + Dirichlet-cube 64³ anchors",
        "datasets": ["dcdm-ritz-3d"],
        "references": {
            "cube64_cg_iters_0.0001": {"value": 106, "source": _ANCHOR},
            "cube64_cg_iters_1e-06": {"value": 158, "source": _ANCHOR},
            "cube64_amg-sa-pcg_iters_0.0001": {"value": 5, "source": _ANCHOR},
            "cube64_amg-sa-pcg_iters_1e-06": {"value": 8, "source": _ANCHOR},
            "cube64_amg-rs-pcg_iters_0.0001": {"value": 4, "source": _ANCHOR},
            "cube64_amg-rs-pcg_iters_1e-06": {"value": 5, "source": _ANCHOR},
            "cube64_amg-sa-pcg_setup": {"value": 0.64, "source": _ANCHOR},
            "cube64_amg-rs-pcg_setup": {"value": 0.85, "source": _ANCHOR},
            "cube64_dst_time": {"value": 0.02, "source": _ANCHOR},
        },
        "metrics": {**_METRICS, **_CUBE_METRICS},
        "options": {},
        "run": run_3d,
    },
]
