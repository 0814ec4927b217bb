"""Dynamic MRI benchmark: RDLEDM vs L+S (Otazo et al.), low-rank-only and zero-filled.

Usage (from the repository root)::

    python benchmarks/imaging.py --size quick            # 64x64x16, R=8 (+ ablations with --ablations)
    python benchmarks/imaging.py --size full             # 128x128x32, R=4, 8, 12, all methods, ablations
    python benchmarks/imaging.py --tune                  # hyper-parameter search on the VALIDATION phantom

Quality numbers are on the test phantom (seed 0); hyper-parameters come from the validation
phantom (seed 1) only. Timing: time per iteration is the median of 3 repeats of 20 iterations after
a warm-up, RDLEDM and L+S in the same process (ratios are what transfer between machines), taken
from each solver's own per-iteration clock: iterations 2…20 only, so neither side's setup (RDLEDM's
power iteration for ‖K‖ and operator assembly, the initial ``op.H y`` of both) is counted
(``--timing-only`` re-measures just these figures into an existing entry).
Writes ``benchmarks/results/imaging.json`` (merged with what is already there, written atomically)
and prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from sciml.data import atomic_path
from sciml.imaging import RDLEDM, LPlusS, LPlusSConfig, RDLEDMConfig, bench
from sciml.imaging.experiment import TUNED, VAL_SEED, make_problem, run_method

RESULTS = Path(__file__).parent / "results" / "imaging.json"


class _Ctx:
    def __init__(self, quick, device, seed, options):
        self.quick, self.device, self.seed, self.options = quick, device, seed, options
        self.out_dir = Path("runs")

    def log(self, msg):
        print(msg, flush=True)

    def progress(self, it, desc="", total=None):
        return it


def _solve(name: str, prob, solver: dict):
    """One RDLEDM / L+S reconstruction with the tuned weights (as ``run_method``); returns
    ``(per-iteration clock readings, total seconds incl. setup)``."""
    if name == "rdledm":
        cfg = dataclasses.replace(RDLEDMConfig(), **{**TUNED["rdledm"], **solver})
        res = RDLEDM(cfg).reconstruct(prob.y, prob.op)
    else:
        cfg = dataclasses.replace(LPlusSConfig(), **{**TUNED["lps"], **solver})
        res = LPlusS(cfg).reconstruct(prob.y, prob.op)
    return list(res.history["time"]), res.seconds


def loop_seconds_per_iteration(times: list[float]) -> float:
    """Seconds per iteration from a solver's cumulative per-iteration clock readings, from the
    end of the first iteration to the end of the last: setup before the loop is excluded."""
    if len(times) < 2:
        raise ValueError("need at least two iterations to time the loop")
    return (times[-1] - times[0]) / (len(times) - 1)


def time_per_iteration(prob, n_iter=20, repeats=3) -> dict:
    """Median over ``repeats`` runs of ``n_iter`` iterations after a warm-up, same process, both
    methods timed the same way (loop only; the with-setup figure is reported alongside)."""
    out = {}
    for name, solver in (
        ("rdledm", {"max_iter": n_iter, "tol": 0.0, "objective_every": 0}),
        ("lps", {"max_iter": n_iter, "tol": 0.0}),
    ):
        _solve(name, prob, {**solver, "max_iter": 2})  # warm-up
        runs = [_solve(name, prob, solver) for _ in range(repeats)]
        out[f"sec_per_iter_{name}"] = statistics.median(
            loop_seconds_per_iteration(t) for t, _ in runs
        )
        out[f"sec_per_iter_incl_setup_{name}"] = statistics.median(sec / n_iter for _, sec in runs)
    out["ratio_rdledm_over_lps"] = out["sec_per_iter_rdledm"] / out["sec_per_iter_lps"]
    out["ratio_rdledm_over_lps_incl_setup"] = (
        out["sec_per_iter_incl_setup_rdledm"] / out["sec_per_iter_incl_setup_lps"]
    )
    out["timing"] = "loop only (iterations 2..n), both methods; incl_setup = total / n"
    return out


def iterations_to_convergence(prob, tol=1e-4, max_iter=2000) -> dict:
    res = run_method(
        "rdledm", prob, solver={"max_iter": max_iter, "tol": tol, "objective_every": 0}
    )
    lps = run_method("lps", prob, solver={"max_iter": max_iter, "tol": 2.5e-3})
    return {
        "rdledm_iters_tol1e-4": res["iterations"],
        "rdledm_seconds": res["seconds"],
        "rdledm_psnr_converged": res["psnr"],
        "lps_iters_tol2.5e-3": lps["iterations"],
        "lps_psnr_tol2.5e-3": lps["psnr"],
    }


def radial(n, frames, max_iter, device, accel=8) -> dict:
    """Test cardiac phantom with radial-like masks (seed 1000) instead of Cartesian lines."""
    from sciml.imaging import radial_mask

    mask = radial_mask((frames, n, n), accel, seed=1000)
    prob = make_problem(n, frames, accel, seed=0, mask=mask, device=device)
    out = {"sampled_fraction": float(mask.double().mean())}
    for m in ("rdledm", "lps", "lowrank", "zero_filled"):
        res = run_method(m, prob, solver=None if m == "zero_filled" else {"max_iter": max_iter})
        for k in ("psnr", "ssim", "hfen", "seconds"):
            out[f"{k}_{m}_radial_r{accel}"] = float(res[k])
        print(f"radial R={accel} {m}: PSNR {res['psnr']:.2f} dB SSIM {res['ssim']:.4f}", flush=True)
    out[f"psnr_gain_vs_lps_radial_r{accel}"] = (
        out[f"psnr_rdledm_radial_r{accel}"] - out[f"psnr_lps_radial_r{accel}"]
    )
    return out


def tune(n=64, frames=16, accel=8, max_iter=300) -> dict:
    """Grid / coordinate search on the validation phantom (seed VAL_SEED)."""
    prob = make_problem(n, frames, accel, seed=VAL_SEED)
    log = {"lps": [], "lowrank": [], "rdledm": []}
    for ll, ls in itertools.product([0.03, 0.1, 0.3, 0.5], [0.003, 0.01, 0.02, 0.03]):
        r = run_method(
            "lps", prob, {"lambda_l": ll, "lambda_s": ls}, {"max_iter": max_iter, "tol": 1e-4}
        )
        log["lps"].append({"lambda_l": ll, "lambda_s": ls, "psnr": r["psnr"], "ssim": r["ssim"]})
        print("lps", ll, ls, round(r["psnr"], 2), flush=True)
    for lam in [0.1, 0.3, 1.0, 3.0]:
        r = run_method("lowrank", prob, {"lambda_casorati": lam}, {"max_iter": max_iter})
        log["lowrank"].append({"lambda_casorati": lam, "psnr": r["psnr"], "ssim": r["ssim"]})
        print("lowrank", lam, round(r["psnr"], 2), flush=True)
    cur = dict(TUNED["rdledm"])
    best = run_method("rdledm", prob, cur, {"max_iter": max_iter, "objective_every": 0})["psnr"]
    for k in cur:
        base = cur[k]
        for f in (0.0, 0.5, 2.0):
            cand = {**cur, k: base * f}
            p = run_method("rdledm", prob, cand, {"max_iter": max_iter, "objective_every": 0})[
                "psnr"
            ]
            log["rdledm"].append({**cand, "psnr": p})
            print("rdledm", cand, round(p, 2), flush=True)
            if p > best + 0.05:
                best, cur = p, cand
    log["best_rdledm"] = {**cur, "psnr": best}
    return log


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", choices=["quick", "full"], default="quick")
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--ablations", action="store_true", help="ablations also in quick mode")
    ap.add_argument("--phantom", choices=["cardiac", "deforming"], default="cardiac")
    ap.add_argument("--no-timing", action="store_true", help="skip time/iteration + convergence")
    ap.add_argument("--radial", action="store_true", help="radial-like masks (R=8), generated")
    ap.add_argument("--max-iter", type=int, default=300)
    ap.add_argument(
        "--conv-iter",
        type=int,
        default=1000,
        help="max iterations for the iterations-to-convergence measurement (R=8)",
    )
    ap.add_argument(
        "--timing-only",
        action="store_true",
        help="only re-measure the time per iteration (R=8) into the existing entry of --size",
    )
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path, default=RESULTS, help="JSON file (merged by key)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {}
    meta = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "machine": platform.machine(),
        "threads": args.threads,
        "device": args.device,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if args.device.startswith("cuda"):
        meta["gpu"] = torch.cuda.get_device_name(0)
    if args.timing_only:
        key = f"mri-rdledm-{args.size}"
        old = json.loads(args.out.read_text()) if args.out.exists() else {}
        if key not in old:
            raise SystemExit(f"--timing-only: no entry {key!r} in {args.out}")
        prob = bench.load_problem(args.size, 8, seed=0, device=args.device)
        timing = time_per_iteration(prob)
        entry = old[key]
        superseded = {k: entry["metrics"][k] for k in
                      ("sec_per_iter_rdledm", "sec_per_iter_lps", "ratio_rdledm_over_lps")
                      if k in entry["metrics"]}  # fmt: skip
        entry["metrics"].update(timing)
        entry.setdefault("timing_rerun", []).append(
            {
                "meta": meta,
                "command": " ".join(["python benchmarks/imaging.py", *sys.argv[1:]]),
                "superseded": superseded,
            }  # fmt: skip
        )
        results[key] = entry
        for k, v in timing.items():
            print(f"{k:45s} {v:.4f}" if isinstance(v, float) else f"{k:45s} {v}")
    elif args.tune:
        results["tuning"] = {
            "meta": meta,
            "validation_seed": VAL_SEED,
            **tune(max_iter=args.max_iter),
        }
    else:
        quick = args.size == "quick"
        opts = {"max_iter": args.max_iter, "ablations": args.ablations, "phantom": args.phantom}
        t0 = time.perf_counter()
        n, frames = (64, 16) if quick else (128, 32)
        if args.radial:
            metrics = radial(n, frames, args.max_iter, args.device)
        else:
            metrics = bench.run_mri_rdledm(_Ctx(quick, args.device, 0, opts))
        if not args.no_timing:
            prob = bench.load_problem(args.size, 8, seed=0, device=args.device)
            metrics.update(time_per_iteration(prob))
            metrics.update(iterations_to_convergence(prob, max_iter=args.conv_iter))
        key = f"mri-rdledm-{args.size}" + ("" if args.phantom == "cardiac" else f"-{args.phantom}")
        key += "-radial" if args.radial else ""
        results[key] = {
            "meta": meta,
            "shape": [frames, n, n],
            "tuned": TUNED,
            "max_iter": args.max_iter,
            "phantom": args.phantom,
            "wall_seconds": time.perf_counter() - t0,
            "metrics": metrics,
        }
        print(f"\n{'metric':45s} value")
        for k, v in metrics.items():
            print(f"{k:45s} {v:.4f}" if isinstance(v, float) else f"{k:45s} {v}")
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    results = {**(json.loads(out.read_text()) if out.exists() else {}), **results}
    with atomic_path(out) as tmp:  # temporary file, fsync, rename
        tmp.write_text(json.dumps(results, indent=2, sort_keys=True))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
