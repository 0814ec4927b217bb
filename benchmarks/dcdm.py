"""DCDM vs CG / Jacobi-PCG / IC(0)-PCG / pyamg PCG (SA, RS) on unseen obstacle layouts.

Iterations and wall time (median of repeats; setup included and excluded) to relative residual
1e-4 and 1e-6, 2-D 128² / 256², 3-D 32³ / 64³, plus the peak memory of a DCDM solve at 64³
(measured in a fresh subprocess as the growth of the peak RSS during the solve).

    python benchmarks/dcdm.py --quick      # 2-D 128², 3-D 32³, 1 repeat (< 2 min)
    python benchmarks/dcdm.py              # all sizes, 3 repeats on the small ones

DCDM rows (``sciml.linalg.compare.dcdm_config``): ``dcdm`` (reference, k=2), ``-recurrence``,
``-k16``, and our additions (not the paper's): ``-debias`` (q = f(r̂) − f(0)), ``-coarse``
(Nicolaides deflation with 4^d-cell aggregates), ``-coarse-debias`` (both), ``-coarse-debias-k16``.

Writes ``benchmarks/results/dcdm.json`` (``dcdm_quick.json`` with ``--quick``; ``--out`` to
change) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from sciml.data import atomic_path
from sciml.linalg.bench import held_out_problem
from sciml.linalg.compare import DCDM_VARIANTS, run_solvers
from sciml.linalg.pretrained import pretrained

RESULTS = Path(__file__).parent / "results"

_MEM_SCRIPT = r"""
import json, sys, torch
from sciml.linalg.bench import held_out_problem
from sciml.linalg.pretrained import pretrained
from sciml.linalg import dcdm_solve


def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024  # MiB


dim, n = int(sys.argv[1]), int(sys.argv[2])
opts = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
system, b = held_out_problem(dim, n, 0)
model = pretrained(dim)
system.stencil()
dcdm_solve(system, b, model, tol=1e-6, maxiter=1, fallback="none")  # warm-up (allocator, caches)
before = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS
    f.write("5")
# steady state (with a coarse space / debias: their setup is inside the measured solve)
res = dcdm_solve(system, b, model, tol=1e-6, maxiter=10, fallback="none", **opts)
peak = status("VmHWM:")
print(json.dumps({"rss_before_mib": before, "rss_peak_mib": peak,
                  "solve_peak_growth_mib": peak - before, "iterations": res.iterations,
                  "unknowns": system.n}))
"""


def peak_memory(dim: int, n: int, **opts) -> dict:
    """Peak-RSS growth of a DCDM solve (10 iterations after a warm-up, fresh process, CPU;
    the kernel's peak counter VmHWM is reset just before the solve); ``opts``: dcdm_solve
    options (e.g. coarse="deflation", debias=True)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEM_SCRIPT, str(dim), str(n), json.dumps(opts)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _baselines() -> list[str]:
    from sciml.linalg.baselines import BASELINES, has_pyamg

    return [s for s in BASELINES if has_pyamg() or not s.startswith("amg")]


def summary(cases: dict) -> dict:
    """Derived figures: DCDM wall time over pyamg PCG time (setup included / excluded) per case,
    solver and tolerance, and the size ratio of iterations (256²/128², 64³/32³, 128³/64³)."""
    out: dict = {"time_ratio_to_amg": {}, "iteration_size_ratio": {}}
    for case, tab in cases.items():
        for name, rec in tab.items():
            if not (isinstance(rec, dict) and name.startswith("dcdm")):
                continue
            for amg in ("amg-sa-pcg", "amg-rs-pcg"):
                if amg not in tab:
                    continue
                for tol in ("0.0001", "1e-06"):
                    d, a = rec["time"][tol], tab[amg]["time"][tol]
                    # setup excluded on both sides (DCDM's coarse space / f(0) like AMG's hierarchy)
                    # (a row without time_nosetup has no without-setup ratio: never fall back to
                    # its with-setup time, which would mix the two again)
                    d0 = rec.get("time_nosetup", {}).get(tol)
                    a0 = tab[amg].get("time_nosetup", {}).get(tol)
                    key = f"{case}/{name}/{amg}/{tol}"
                    out["time_ratio_to_amg"][key] = {
                        "with_setup": None if d is None or a is None else d / a,
                        "without_setup": None if d0 is None or a0 is None else d0 / a0,
                    }
    for small, large in (("2d_128", "2d_256"), ("3d_32", "3d_64"), ("3d_64", "3d_128")):
        if small in cases and large in cases:
            for name, rec in cases[large].items():
                if isinstance(rec, dict) and name in cases[small]:
                    for tol in ("0.0001", "1e-06"):
                        a, b = cases[small][name]["iters"][tol], rec["iters"][tol]
                        out["iteration_size_ratio"][f"{large}/{small}/{name}/{tol}"] = (
                            None if a is None or b is None else b / a
                        )
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", default=None, help="default results/dcdm.json (dcdm_quick.json)")
    p.add_argument("--no-memory", action="store_true")
    p.add_argument(
        "--cases",
        default=None,
        help="subset like 2d_128,3d_64; results are merged into an existing --out file",
    )
    p.add_argument("--solvers", default=None, help="subset like cg,dcdm-k16 (merged per solver)")
    a = p.parse_args(argv)
    cases = [(2, 128), (3, 32)] if a.quick else [(2, 128), (2, 256), (3, 32), (3, 64)]
    if a.cases:
        cases = [(int(c.split("d_")[0]), int(c.split("d_")[1])) for c in a.cases.split(",")]
    tols = (1e-4, 1e-6)
    results = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
        },
        "quick": a.quick,
        "cases": {},
    }
    t_all = time.perf_counter()
    for dim, n in cases:
        system, b = held_out_problem(dim, n, 0)
        model = pretrained(dim)
        repeats = 1 if a.quick or system.n > 20_000 else 3
        print(f"{dim}-D {n}^{dim} ({system.n} unknowns, {repeats} repeat(s))", flush=True)
        solvers, cap = None, 5000
        if system.n > 200_000:  # 64³: no recurrence row (network calls ~0.3 s)
            solvers = [*_baselines(), *[v for v in DCDM_VARIANTS if v != "dcdm-recurrence"]]
            cap = 400
        if a.solvers:
            solvers = a.solvers.split(",")
        table = run_solvers(
            system, b, model, tols, solvers=solvers, repeats=repeats, dcdm_maxiter=cap, log=print
        )
        results["cases"][f"{dim}d_{n}"] = {"unknowns": system.n, "repeats": repeats, **table}
    if not a.no_memory and (3, 64) in cases:
        results["dcdm_peak_memory_3d_64"] = peak_memory(3, 64)
        print("DCDM peak memory 64^3:", results["dcdm_peak_memory_3d_64"])
        key = "dcdm_peak_memory_3d_64_coarse_debias"
        results[key] = peak_memory(3, 64, coarse="deflation", debias=True)
        print("DCDM + deflation + debias peak memory 64^3:", results[key])
    results["total_seconds"] = time.perf_counter() - t_all

    print()
    print(
        f"{'case':8s} {'solver':16s} {'it 1e-4':>8s} {'it 1e-6':>8s} {'t 1e-4':>8s} {'t 1e-6':>8s} {'setup':>7s}"
    )
    for case, tab in results["cases"].items():
        for name, rec in tab.items():
            if not isinstance(rec, dict):
                continue

            def f(v, fmt):
                return "-" if v is None else format(v, fmt)

            print(
                f"{case:8s} {name:16s} {f(rec['iters']['0.0001'], 'd'):>8s} "
                f"{f(rec['iters']['1e-06'], 'd'):>8s} {f(rec['time']['0.0001'], '.3f'):>8s} "
                f"{f(rec['time']['1e-06'], '.3f'):>8s} {rec['setup']:7.3f}"
            )
    out = Path(a.out) if a.out else RESULTS / ("dcdm_quick.json" if a.quick else "dcdm.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    if a.cases and out.exists():  # merge a partial run into the existing file
        old = json.loads(out.read_text())
        for case, tab in results["cases"].items():  # merge per solver
            old["cases"].setdefault(case, {}).update(tab)
        for key, val in results.items():
            if key != "cases":
                old[key] = val
        results = old
    results["summary"] = summary(results["cases"])
    with atomic_path(out) as tmp:  # temporary file, fsync, rename
        tmp.write_text(json.dumps(results, indent=1))
    print(json.dumps(results["summary"], indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
