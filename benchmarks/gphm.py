"""GP-HM benchmark: accuracy and wall time per problem and path, time-to-accuracy of the fast path
vs the faithful (Adam, as published) path, and peak memory of one fast-path round on 2-D grids.

    python benchmarks/gphm.py --fresh               # everything (long: all 11 problems)
    python benchmarks/gphm.py --problems poisson1d-sin100,allencahn1d-sin100 --no-tta --no-memory
    python benchmarks/gphm.py --no-accuracy --no-memory --faithful-budget 180

Errors are relative L2 on a uniform test grid of 300 points per dimension, evaluated for reporting
only; nothing is selected on test data. Each row says what was reported (``"selection"``): the
final iterate, or (1-D rule) the round with the smallest PDE residual on held-out collocation
points off the grid; ``rel_l2_final_iterate`` gives the final iterate's error in every row.
Writes ``benchmarks/results/gphm.json`` (``--fresh`` starts it empty, otherwise rows are merged
with what the script wrote before) and prints a table. Problems without a row are listed under
``"not_run"``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from sciml.data import atomic_path

RESULTS = Path(__file__).resolve().parent / "results" / "gphm.json"


def _load() -> dict:
    if RESULTS.exists():
        return json.loads(RESULTS.read_text())
    return {}


def _save(res: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(RESULTS) as tmp:  # temporary file, fsync, rename
        tmp.write_text(json.dumps(res, indent=2, sort_keys=True))


def accuracy(
    names: list[str], save=None, outer_iters: int | None = None, kernel: str = "gm"
) -> dict:
    """Fast-path rows; ``kernel`` 'gm' (the default model) or 'stm' (Student-t mixture, ν = 5/2),
    same rule otherwise. Each row is compared with the best reference figure and with the
    reference figure of the same kernel family where the page gives one."""
    from sciml.gp import GPHMConfig, GPHMSolver, get_problem
    from sciml.gp.bench import REFERENCE_L2, REFERENCE_L2_BY_KERNEL, fast_config_overrides
    from sciml.gp.solver import GPHMSolution

    out = {}
    for name in names:
        prob = get_problem(name)
        over = fast_config_overrides(name, prob.ndim, prob.grid)
        if outer_iters is not None:
            over = {**over, "outer_iters": outer_iters}
        if kernel != "gm":
            over = {**over, "kernel": kernel}
        c0 = time.process_time()
        last: dict = {}
        solver = GPHMSolver(prob, GPHMConfig(path="fast", **over))
        sol = solver.solve(monitor=last.update)  # keeps the last recorded state (no work)
        cpu = time.process_time() - c0
        err = sol.relative_l2(300)
        # the final iterate's error too, when the reported state was selected on held-out data
        err_final = err
        if sol.history["selection"] != "final":
            err_final = GPHMSolution(prob, solver.config, solver.spec, last["U"], last["axes"],
                                     last["params"], last["active"], last["log_tau"],
                                     last["loss"]).relative_l2(300)  # fmt: skip
        out[name] = {
            "path": "fast",
            "selection": sol.history["selection"],
            "selected_step": sol.history["selected_step"],
            "rounds": sol.history["final_step"],
            "grid": list(prob.grid),
            "config": over,
            "rel_l2": err,
            "rel_l2_final_iterate": err_final,
            "wall_s": sol.wall_time,
            "cpu_s_incl_setup_and_compile": cpu,
            "reference_rel_l2": REFERENCE_L2[name],
            "ratio_to_reference": err / REFERENCE_L2[name],
            "kernel": kernel,
            "cg_iters_total": int(sum(sol.history.get("cg_iters", []))),
            "cg_iters_per_round": [int(k) for k in sol.history.get("cg_iters", [])],
        }
        same = REFERENCE_L2_BY_KERNEL.get(kernel, {}).get(name)
        if same is not None:
            out[name]["reference_rel_l2_same_kernel"] = same
            out[name]["ratio_to_reference_same_kernel"] = err / same
        if "holdout_residual" in sol.history:
            out[name]["holdout_residual"] = sol.history["holdout_residual"]
        if any(sol.history.get("profiled_cg_iters", [])):
            out[name]["profiled_cg_iters_per_round"] = [
                int(k) for k in sol.history["profiled_cg_iters"]
            ]
        out[name]["log_tau_final"] = [float(v) for v in last["log_tau"]]
        print(f"{name:24s} grid={prob.grid} rel_l2={err:.3e} ({sol.history['selection']}; final "
              f"iterate {err_final:.3e}; ref {REFERENCE_L2[name]:.1e}) wall={sol.wall_time:.1f}s "
              f"cpu={cpu:.1f}s", flush=True)  # fmt: skip
        if save is not None:
            save(name, out[name])
    return out


def faithful_rows(names: list[str], budget: float, save=None) -> dict:
    """The faithful path (Adam on U, θ, τ jointly, lr 0.01, as published) on each problem for
    ``budget`` seconds after JIT warm-up, same model as the fast-path row; reports the final
    iterate's relative L2 (no selection), steps, seconds per step."""
    from sciml.gp import GPHMConfig, GPHMSolver, get_problem
    from sciml.gp.bench import MODEL_KEYS, REFERENCE_L2, fast_config_overrides

    out = {}
    for name in names:
        prob = get_problem(name)
        model = {k: v for k, v in fast_config_overrides(name, prob.ndim, prob.grid).items()
                 if k in MODEL_KEYS}  # fmt: skip
        cfg = GPHMConfig(path="faithful", steps=10**7, log_every=50, time_limit=budget, **model)
        solver = GPHMSolver(prob, cfg)
        warm = solver.warmup()
        c0 = time.process_time()
        sol = solver.solve()
        steps = sol.history["step"][-1]
        err = sol.relative_l2(300)
        out[name] = {
            "path": "faithful",
            "grid": list(prob.grid),
            "model": model,
            "budget_s": budget,
            "steps": steps,
            "s_per_step": sol.wall_time / max(steps, 1),
            "rel_l2_final_iterate": err,
            "wall_s": sol.wall_time,
            "cpu_s": time.process_time() - c0,
            "warmup_s": warm,
            "reference_rel_l2": REFERENCE_L2[name],
            "ratio_to_reference": err / REFERENCE_L2[name],
        }
        print(f"{name:24s} faithful grid={prob.grid} rel_l2={err:.3e} after {steps} steps "
              f"({sol.wall_time:.0f} s, {out[name]['s_per_step'] * 1e3:.1f} ms/step; warm-up "
              f"{warm:.1f} s)", flush=True)  # fmt: skip
        if save is not None:
            save(name, out[name])
    return out


def time_to_accuracy(name: str, budget: float, grid=None) -> dict:
    """Run the faithful path for ``budget`` seconds and the fast path, same model, same process;
    compare the time each needs to reach the faithful path's final test error.

    Both solvers are warmed up first (:meth:`GPHMSolver.warmup` compiles their jitted functions),
    so the traces are steady-state times without JIT compilation; the compile + first-iteration
    times are reported separately and a ratio including them is given too."""
    from sciml.gp import GPHMConfig, GPHMSolver, get_problem
    from sciml.gp.bench import MODEL_KEYS, fast_config_overrides
    from sciml.gp.solver import GPHMSolution

    prob = get_problem(name, grid)
    n_test = 300 if prob.ndim == 1 else 100

    def tracker(solver, rec):
        def mon(st):
            sol = GPHMSolution(prob, solver.config, solver.spec, st["U"], st["axes"],
                               st["params"], st["active"], st["log_tau"], st["loss"])  # fmt: skip
            rec.append((st["time"], sol.relative_l2(n_test), st["step"]))

        return mon

    fast_over = fast_config_overrides(name, prob.ndim, prob.grid)
    model = {k: v for k, v in fast_over.items() if k in MODEL_KEYS}
    runs = {}
    for path, cfg in [
        (
            "faithful",
            GPHMConfig(path="faithful", steps=10**7, log_every=50, time_limit=budget, **model),
        ),  # fmt: skip
        ("fast", GPHMConfig(path="fast", **fast_over)),
    ]:
        solver = GPHMSolver(prob, cfg)
        warm = solver.warmup()
        rec: list = []
        sol = solver.solve(monitor=tracker(solver, rec))
        runs[path] = {"trace": rec, "final_rel_l2": rec[-1][1], "wall_s": sol.wall_time,
                      "warmup_s": warm}  # fmt: skip
        print(f"  {name} {path}: warm-up {warm:.1f}s; final rel_l2={rec[-1][1]:.3e} after "
              f"{sol.wall_time:.1f}s ({rec[-1][2]} {'steps' if path == 'faithful' else 'rounds'})",
              flush=True)  # fmt: skip
    steps = runs["faithful"]["trace"][-1][2]
    out = {
        "grid": list(prob.grid),
        "config_fast": fast_over,
        "test_points_per_dim": n_test,
        "timing": "steady state: both solvers warmed up (JIT compiled) before the timed run",
        "faithful_budget_s": budget,
        "faithful_warmup_s": runs["faithful"]["warmup_s"],
        "fast_warmup_s": runs["fast"]["warmup_s"],
        "faithful_s_per_step": runs["faithful"]["wall_s"] / max(steps, 1),
        "faithful_steps": steps,
        "fast_wall_s": runs["fast"]["wall_s"],
        "traces": {k: v["trace"] for k, v in runs.items()},
    }
    out.update(tta_metrics(out))
    print(f"  time-to-accuracy {name}: target {out['target_rel_l2']:.3e}: faithful "
          f"{out['faithful_time_to_target_s']}, fast {out['fast_time_to_target_s']}, speedup "
          f"{out['speedup']} (incl. warm-up {out['speedup_including_warmup']}); lower bound "
          f"{out['speedup_lower_bound']}", flush=True)  # fmt: skip
    return out


def tta_metrics(rec: dict) -> dict:
    """Time-to-accuracy figures from the two traces ``(time, test error, step)``.

    * ``speedup``: faithful time / fast time to reach the faithful path's final error (meaningful
      when the faithful path made progress: its error went below its first checkpoint's).
    * ``speedup_lower_bound``: the fast path's first checkpoint error ``e1`` at time ``t1``; if
      the faithful path never reached ``e1`` within its run, its time to ``e1`` exceeds its
      elapsed time, so the speedup to ``e1`` is at least ``elapsed / t1``.
    * ``*_compile_s``: JIT compilation estimated as the warm-up's wall time minus the steady-state
      time of the same work (the warm-up runs one Adam chunk = the faithful trace's first point,
      and the fast path's rounds 0 and 1 = the fast trace's second point, or rounds 0-2 with
      ``theta_warmup``); ``*_including_compile``
      add it to both times. ``*_including_warmup`` adds the whole warm-up instead, which counts the
      warm-up's iterations twice (a conservative figure).
    """
    tf, tq = rec["traces"]["faithful"], rec["traces"]["fast"]
    target = tf[-1][1]

    def first_time(trace, level):
        for t, e, _ in trace:
            if e <= level:
                return t
        return None

    t_faith, t_fast = first_time(tf, target), first_time(tq, target)
    ok = bool(t_faith and t_fast)
    w_faith, w_fast = rec["faithful_warmup_s"], rec["fast_warmup_s"]
    faith_min = min(e for _, e, _ in tf)
    t1, e1 = tq[0][0], tq[0][1]
    elapsed = tf[-1][0]
    lower = elapsed / t1 if (faith_min > e1 and t1 > 0) else None
    c_faith = max(w_faith - tf[0][0], 0.0)
    # the fast warm-up runs rounds 0..k with k = 1 (+1 with a marginal θ warm-up, see
    # GPHMSolver.warmup): subtract the steady-state time of the same rounds
    k = 1 + int(rec.get("config_fast", {}).get("theta_warmup", 0) > 0)
    c_fast = max(w_fast - tq[min(k, len(tq) - 1)][0], 0.0)
    return {
        "faithful_compile_s": c_faith,
        "fast_compile_s": c_fast,
        "speedup_including_compile": ((t_faith + c_faith) / (t_fast + c_fast)) if ok else None,
        "speedup_lower_bound_including_compile": (
            (elapsed + c_faith) / (t1 + c_fast) if lower is not None else None
        ),
        "target_rel_l2": target,
        "faithful_final_rel_l2": target,
        "faithful_min_rel_l2": faith_min,
        "faithful_made_progress": bool(target < tf[0][1]),
        "faithful_time_to_target_s": t_faith,
        "fast_time_to_target_s": t_fast,
        "speedup": (t_faith / t_fast) if ok else None,
        "speedup_including_warmup": ((t_faith + w_faith) / (t_fast + w_fast)) if ok else None,
        "fast_first_checkpoint": {"time_s": t1, "rel_l2": e1},
        "speedup_lower_bound": lower,
        "speedup_lower_bound_including_warmup": (
            (elapsed + w_faith) / (t1 + w_fast) if lower is not None else None
        ),
        "fast_final_rel_l2": tq[-1][1],
    }


_MEM_SNIPPET = r"""
import resource, sys, json, jax
from sciml.gp import GPHMConfig, GPHMSolver, get_problem
from sciml.gp.bench import fast_config_overrides
n, rule = int(sys.argv[1]), sys.argv[2]
prob = get_problem("poisson2d-sin100", (n, n))
# one fast-path round; PCG capped at 10 iterations (memory does not grow with iterations)
if rule == "block":  # round-2 rule: block θ steps, slice preconditioner
    cfg = dict(collocation="interior", tau_step=1.0)
else:  # the benchmark's 2-D Poisson rule: profiled θ steps, geig, held-out selection
    cfg = {**fast_config_overrides("poisson2d-sin100", 2, (n, n)), "profiled_cg_maxiter": 10}
cfg.update(outer_iters=1, theta_steps=2, cg_maxiter=10)
solver = GPHMSolver(prob, GPHMConfig(**cfg))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sol = solver.solve()
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": n, "rss_before_kb": base, "rss_peak_kb": peak, "wall_s": sol.wall_time,
                  "cg_iters": sol.history["cg_iters"]}))
"""


def memory(ns=(400, 1000), rules=("block", "profiled")) -> dict:
    """Peak RSS of one fast-path round per grid and rule, each in a fresh subprocess; keys
    ``"<n>"`` (block rule, as in round 2) and ``"<n>-profiled"``."""
    out = {}
    for rule in rules:
        for n in ns:
            key = str(n) if rule == "block" else f"{n}-{rule}"
            out[key] = {**_memory_one(n, rule), "rule": rule}
    return out


def _memory_one(n: int, rule: str) -> dict:
    r = subprocess.run([sys.executable, "-c", _MEM_SNIPPET, str(n), rule],
                       capture_output=True, text=True, timeout=1800)  # fmt: skip
    if r.returncode != 0:
        print(f"  memory {n}^2 ({rule}) failed: {r.stderr[-500:]}", flush=True)
        return {"error": r.stderr[-2000:]}
    rec = json.loads(r.stdout.strip().splitlines()[-1])
    N = n * n
    rec["peak_increase_mb"] = (rec["rss_peak_kb"] - rec["rss_before_kb"]) / 1024
    rec["peak_rss_mb"] = rec["rss_peak_kb"] / 1024
    rec["one_grid_vector_mb"] = 8 * N / 2**20
    rec["sum_factor_sq_mb"] = 8 * 2 * n * n / 2**20
    rec["dense_covariance_would_be_gb"] = 8 * N * N / 2**30
    print(f"  memory {n}^2 ({rule}): peak RSS {rec['peak_rss_mb']:.0f} MB "
          f"(+{rec['peak_increase_mb']:.0f} MB during one fast round; one grid vector "
          f"{rec['one_grid_vector_mb']:.1f} MB, dense C would be "
          f"{rec['dense_covariance_would_be_gb']:.0f} GB)", flush=True)  # fmt: skip
    return rec


def main(argv=None) -> None:
    from sciml.gp import list_problems

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--problems", default=",".join(list_problems()))
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--no-tta", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--faithful-budget", type=float, default=300.0)
    ap.add_argument("--memory-rules", default="block,profiled", help="fast-path rules to measure")
    ap.add_argument("--tta-problems", default="poisson1d-sin100,poisson2d-sin6cos20")
    ap.add_argument("--fresh", action="store_true", help="start the JSON file empty")
    ap.add_argument(
        "--kernel",
        default="gm",
        choices=["gm", "stm"],
        help="spectral-mixture family of the accuracy rows (stm rows go to 'accuracy_stm')",
    )
    ap.add_argument(
        "--faithful-rows",
        type=float,
        default=None,
        metavar="SECONDS",
        help="instead of the fast-path rows, run the faithful path on each of --problems for "
        "SECONDS (section 'accuracy_faithful')",
    )
    ap.add_argument(
        "--outer-iters",
        type=int,
        default=None,
        help="override the number of fast-path rounds (recorded in each row)",
    )
    ap.add_argument(
        "--recompute-tta",
        action="store_true",
        help="recompute the time-to-accuracy figures from the stored traces and exit",
    )
    args = ap.parse_args(argv)
    res = {} if args.fresh else _load()
    # with --fresh, rows already on disk are stale; rows other processes write later are kept
    section = "accuracy" if args.kernel == "gm" else f"accuracy_{args.kernel}"
    if args.faithful_rows is not None:
        section = "accuracy_faithful"
    stale = set(_load().get(section, {})) if args.fresh else set()

    mine: dict = {}  # rows this process measured

    def rows_on_disk() -> dict:
        return {k: v for k, v in _load().get(section, {}).items() if k not in stale}

    if args.recompute_tta:
        for rec in res.get("time_to_accuracy", {}).values():
            rec.update(tta_metrics(rec))
        _save(res)
        print(f"recomputed time-to-accuracy figures in {RESULTS}")
        return
    res.setdefault("runs", []).append(" ".join(["python benchmarks/gphm.py", *sys.argv[1:]]))
    import jax

    res["machine"] = {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                      "jax_backend": jax.default_backend(),
                      "jax_devices": [d.device_kind for d in jax.devices()],
                      "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%d %H:%M UTC",
                      time.gmtime())}  # fmt: skip
    if not args.no_accuracy:

        def save_one(name, rec):
            # re-read the rows other processes may have written since this one started
            mine[name] = rec
            res[section] = {**rows_on_disk(), **mine}
            _save(res)

        if args.faithful_rows is not None:
            faithful_rows(args.problems.split(","), args.faithful_rows, save_one)
        else:
            accuracy(args.problems.split(","), save_one, args.outer_iters, args.kernel)
    res[section] = {**rows_on_disk(), **mine}
    done = set(res.get("accuracy", {}))
    res["not_run"] = [n for n in list_problems() if n not in done]
    _save(res)
    if not args.no_tta:
        for name in args.tta_problems.split(","):
            res.setdefault("time_to_accuracy", {})[name] = time_to_accuracy(
                name, args.faithful_budget
            )
            _save(res)
    if not args.no_memory:
        res["memory"] = memory(rules=args.memory_rules.split(","))
        _save(res)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
