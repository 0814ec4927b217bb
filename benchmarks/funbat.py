"""FunBaT benchmarks: time per epoch and peak memory at the Beijing and US-Temp shapes
(R ∈ {2, 3, 5, 7}), compared with the public reference code's figures from issue #7, and the
synthetic 3-mode Tucker accuracy study (RMSE/MAE vs noise and rank) with the baselines.

    python benchmarks/funbat.py                 # scaling + synthetic, writes results/funbat.json
    python benchmarks/funbat.py --part scaling  # only the scaling grid
    python benchmarks/funbat.py --part synthetic --quick

Every scaling configuration runs in a fresh process (peak RSS is its own); timings are medians
over epochs 2…E (the first epoch is excluded); ``cpu_s_per_epoch`` is the process CPU time,
which is less sensitive to other jobs on a shared machine than wall-clock time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from types import SimpleNamespace

from sciml.data import atomic_path
from sciml.tensor.bench import REFERENCE_SCALING, run_synthetic, scaling_subprocess

OUT = Path(__file__).resolve().parent / "results" / "funbat.json"


def _machine() -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    try:
        info["load_average_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def scaling(device: str, epochs: int, threads: int | None) -> list[dict]:
    rows = []
    configs = [(s, r, "tucker") for s in ("beijing", "ustemp") for r in (2, 3, 5, 7)]
    configs += [("beijing", 2, "cp"), ("beijing", 3, "cp")]
    for shape, R, model in configs:
        r = scaling_subprocess(shape, R, model, epochs, device, 0, threads=threads)
        tag = ("cp_" if model == "cp" else "") + f"{shape}_r{R}"
        ref_t = REFERENCE_SCALING.get(f"s_per_epoch_{tag}", {}).get("value")
        ref_m = REFERENCE_SCALING.get(f"peak_mb_{tag}", {}).get("value")
        row = {"shape": shape, "rank": R, "model": model, **r}
        if ref_t:
            row["reference_s_per_epoch"] = ref_t
            row["speedup_wall"] = ref_t / r["s_per_epoch"]
            row["speedup_cpu"] = ref_t / r["cpu_s_per_epoch"]
        if ref_m:
            row["reference_peak_mb"] = ref_m
        rows.append(row)
        print(
            f"{model:6s} {shape:8s} R={R}: {r['s_per_epoch']:.4f} s/epoch wall, "
            f"{r['cpu_s_per_epoch']:.4f} s/epoch CPU, peak RSS {r['peak_rss_mb']:.0f} MB "
            f"(before fit {r['rss_before_fit_mb']:.0f} MB)"
            + (
                f", reference {ref_t} s/epoch -> {ref_t / r['s_per_epoch']:.1f}x wall"
                if ref_t
                else ""
            ),
            flush=True,
        )
    return rows


def synthetic(device: str, quick: bool) -> dict:
    ctx = SimpleNamespace(
        quick=quick,
        device=device,
        seed=0,
        options={},
        log=lambda m: print(m, flush=True),
        progress=lambda it, desc="", total=None: it,
        save_figure=lambda fig, name: None,
    )
    # The recorded full study used lighter baselines than `sciml-bench run funbat-synthetic`.
    overrides = {} if quick else dict(svi_steps=800, gp_points=1000, gp_steps=60)
    out = run_synthetic(ctx, **overrides)
    print(
        f"rank-1 CP: rmse {out['rmse_rank1_cp']:.5f}, {out['s_per_epoch_rank1_cp']:.4f} s/epoch",
        flush=True,
    )
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["all", "scaling", "synthetic"], default="all")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--epochs", type=int, default=6, help="epochs per scaling configuration")
    ap.add_argument(
        "--threads", type=int, default=1, help="intra-op threads of each worker (0: torch default)"
    )
    ap.add_argument("--quick", action="store_true", help="small synthetic study")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    out_path = Path(args.out)
    result = json.loads(out_path.read_text()) if out_path.exists() else {}
    result["machine"] = _machine()
    result.pop("command", None)
    command = " ".join(["python", *sys.argv])
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t0 = time.time()
    if args.part in ("all", "scaling"):
        result["scaling"] = {
            "device": args.device,
            "epochs": args.epochs,
            "threads": args.threads,
            "rows": scaling(args.device, args.epochs, args.threads or None),
            "command": command,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "load_average_at_start": result["machine"].get("load_average_at_start"),
        }
    if args.part in ("all", "synthetic"):
        result["synthetic"] = {
            "quick": args.quick,
            "metrics": synthetic(args.device, args.quick),
            "command": command,
            "started": stamp,
        }
    result["seconds_last_run"] = time.time() - t0
    result.pop("seconds", None)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_path) as tmp:  # temporary file, fsync, rename
        tmp.write_text(json.dumps(result, indent=2, sort_keys=True))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
