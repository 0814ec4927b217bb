"""RED-PSM benchmark: dynamic CT (and dynamic MRI), Radon operator memory and speed.

Usage (from the repository root)::

    python benchmarks/redpsm.py --ct quick             # 64x64, P=32: RED-PSM, PSM, FBP, SW-FBP
    python benchmarks/redpsm.py --ct p128 --ct p256    # full: 128x128, paper hyper-parameters
    python benchmarks/redpsm.py --mri                  # cardiac cine 64x64x16, R=8
    python benchmarks/redpsm.py --radon                # operator memory + apply time (CPU/GPU)
    python benchmarks/redpsm.py --tune                 # λ, β grid on the VALIDATION phantom
    python benchmarks/redpsm.py --ct p128 --seed 1     # full setting on the validation phantom
    python benchmarks/redpsm.py --timing p128          # seconds per outer iteration

Quality numbers are final iterates on the test phantom (seed 0); weights were chosen on the
validation phantom (seed 1). Writes ``benchmarks/results/redpsm.json`` (merged with what is
there) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from sciml.data import atomic_path
from sciml.imaging.tomo.dncnn import FrameDenoiser, load_denoiser
from sciml.imaging.tomo.experiment import (
    CT_SETTINGS,
    VAL_SEED,
    ct_config,
    make_ct_problem,
    run_ct,
    run_mri,
)
from sciml.imaging.tomo.radon import Radon, acquisition_angles

RESULTS = Path(__file__).parent / "results" / "redpsm.json"


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _clean(out: dict) -> dict:
    return {m: {k: v for k, v in r.items() if isinstance(v, float)} for m, r in out.items()}


def bench_radon(device: str) -> dict:
    """Memory of the cached Joseph weights vs the dense float32 matrix; median apply times."""
    out = {}
    for p in (128, 256):
        op = Radon(acquisition_angles(p), 128)
        x = torch.rand(p, 128, 128, dtype=torch.float64, device=device)
        y = op(x)
        op.H(y)  # warm-up (builds the cache)
        _sync(device)  # the warm-up must finish before the first timed call starts
        tf, ta = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            y = op(x)
            _sync(device)
            tf.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            op.H(y)
            _sync(device)
            ta.append(time.perf_counter() - t0)
        dense_public = 4 * p * 256 * 128 * 128  # the public code: P x 256 bins x 128^2, float32
        out[f"P{p}"] = {
            "radon_mbytes": op.nbytes / 2**20,
            "dense_mbytes_same_detector": op.dense_nbytes / 2**20,
            "dense_mbytes_public_code": dense_public / 2**20,
            "forward_s": statistics.median(tf),
            "adjoint_s": statistics.median(ta),
        }
    return out


def sec_per_outer(setting: str, device: str, outer: int = 3) -> dict:
    """Seconds per RED-PSM outer iteration (25 Adam steps + denoiser on all frames + dual) from
    the iteration timestamps (initialisation excluded), and one denoiser pass alone."""
    s = CT_SETTINGS[setting]
    prob = make_ct_problem(s["n"], s["frames"], device=device)
    cfg = ct_config(setting, outer_iters=outer, init_iters=0)
    den = FrameDenoiser(load_denoiser(device=device))
    den(prob.x)  # warm-up
    _sync(device)  # the warm-up must finish before the clock starts
    t0 = time.perf_counter()
    den(prob.x)
    _sync(device)
    t_den = time.perf_counter() - t0
    out = run_ct(prob, cfg, denoiser=den, methods=("redpsm",))
    per = out["redpsm"]["sec_per_outer"]
    return {"s": per, "denoiser_s": t_den, "inner_step_s": (per - t_den) / cfg.inner_iters}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ct", action="append", default=[], choices=list(CT_SETTINGS))
    ap.add_argument("--mri", action="store_true")
    ap.add_argument("--radon", action="store_true")
    ap.add_argument(
        "--timing",
        action="append",
        default=[],
        choices=list(CT_SETTINGS),
        help="seconds per outer iteration only",
    )
    ap.add_argument(
        "--outer",
        type=int,
        default=None,
        help="override outer_iters (and init_iters=300) for a reduced --ct run",
    )
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    dev_name = (
        torch.cuda.get_device_name()
        if args.device.startswith("cuda")
        else (platform.processor() or platform.machine())
    )
    meta = {
        "device": args.device,
        "device_name": dev_name,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }

    def save() -> None:  # after every setting, so a long run keeps what finished
        with atomic_path(RESULTS) as tmp:  # temporary file, fsync, rename
            tmp.write_text(json.dumps(results, indent=1, sort_keys=True))

    for setting in args.ct:
        s = CT_SETTINGS[setting]
        prob = make_ct_problem(s["n"], s["frames"], seed=args.seed, device=args.device)
        over = {} if args.outer is None else {"outer_iters": args.outer, "init_iters": 300}
        key = f"ct_{setting}" if args.outer is None else f"ct_{setting}_outer{args.outer}"
        key += "" if args.seed == 0 else f"_seed{args.seed}"  # seed 1 = validation phantom
        raw = run_ct(prob, ct_config(setting, **over), monitor=True)
        hist = raw["redpsm"]["result"].history
        every = max(1, len(hist["time"]) // 20)
        out = _clean(raw)
        results[key] = {
            "n": s["n"],
            "P": s["frames"],
            "config": {**s["config"], **over},
            "seed": args.seed,
            **meta,
            "radon_mbytes": prob.op.nbytes / 2**20,
            "dense_mbytes_public_code": 4 * s["frames"] * 256 * s["n"] ** 2 / 2**20,
            "methods": out,
            # monitoring only (never used for selection): PSNR of f_psm every few iterations
            "monitor_psnr_psm": {
                str(k + 1): hist["psnr_psm"][k] for k in range(every - 1, len(hist["time"]), every)
            },
            "final_split": hist["split"][-1],
        }
        save()
        print(f"ct {setting} ({args.device})")
        for m, r in out.items():
            print(
                f"  {m:8s} PSNR {r['psnr']:6.2f} SSIM {r['ssim']:.4f} HFEN {r['hfen']:.4f} "
                f"{r['seconds']:8.1f} s",
                flush=True,
            )
    if args.mri:
        out = _clean(run_mri("quick", seed=args.seed, device=args.device))
        results["mri_quick"] = {**meta, "methods": out}
        for m, r in out.items():
            print(f"  mri {m:11s} PSNR {r['psnr']:6.2f} SSIM {r['ssim']:.4f} {r['seconds']:6.1f} s")
    if args.radon:
        results[f"radon_{args.device}"] = {**meta, **bench_radon(args.device)}
        print(json.dumps(results[f"radon_{args.device}"], indent=1))
    for setting in args.timing:
        sec = sec_per_outer(setting, args.device)
        results.setdefault("sec_per_outer", {})[f"{setting}_{args.device}"] = {**meta, **sec}
        print(f"{setting} {args.device}: {sec}")
        save()
    if args.tune:
        prob = make_ct_problem(64, 32, seed=VAL_SEED, device=args.device)
        grid = {}
        for lam, beta in ((0.05, 0.1), (0.5, 1.0), (2.5, 5.0), (5.0, 10.0)):
            r = run_ct(prob, ct_config("quick", lam=lam, beta=beta), methods=("redpsm",))
            grid[f"lam={lam},beta={beta}"] = r["redpsm"]["psnr"]
            print(f"lam={lam} beta={beta}: PSNR {r['redpsm']['psnr']:.2f} (validation)")
        results["tune_quick_val"] = grid
    save()
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
