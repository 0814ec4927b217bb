"""LSM vs FNO vs U-Net on Darcy flow (and Navier–Stokes), each trained for the same time budget.

Usage: OMP_NUM_THREADS=1 python benchmarks/lsm.py [--budget 420] [--size 64] [--n-train 1000]
       [--n-test 200] [--width 16] [--fno-width 24] [--device cpu] [--ns] [--ns-size 32]
       [--ns-n-train 160] [--ns-n-test 40] [--ns-budget S] [--ns-norm pixel|none]
       [--ns-rounds-per-epoch K] [--skip-darcy] [--merge] [--norm pixel|scalar]
       [--out benchmarks/results/lsm.json]

Scaled to shared CPU cores: the paper trains 500 epochs at 85² with width 32/64 on a GPU; here
every model gets ``--budget`` seconds of training — CPU seconds of this (single-threaded) process
on CPU, wall seconds on CUDA — with the same data, normalisation (Darcy: the papers' per-pixel
unit-Gaussian statistics of the train split with eps = 1e-5, ``--norm pixel``; ``--norm scalar``:
the file's scalar train mean/std), relative-L2 loss, Adam and the paper's StepLR schedule
compressed to the budget. ``--ns`` adds the Navier–Stokes 10→10 rollout
comparison (``--ns-norm pixel``, default: per-pixel unit-Gaussian statistics over the train
samples and all 20 frames, one transform for inputs and rolled-out outputs, de-normalised loss
and scores; ``--ns-rounds-per-epoch K`` checks the budget K times per epoch, since one NS epoch
of a 64² rollout costs minutes). The neuraloperator FNO is included when that package is installed. Writes JSON and
prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from sciml.data import FieldDataset, atomic_path, get_dataset
from sciml.operators import register_datasets, unit_gaussian_frames, unit_gaussian_pairs
from sciml.operators.bench import compare_models


class _Ctx:
    def __init__(self, device: str, seed: int) -> None:
        self.quick, self.device, self.seed, self.options = False, device, seed, {}

    def log(self, msg: str) -> None:
        print(msg, flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budget", type=float, default=420.0, help="training seconds per model")
    p.add_argument("--ns-budget", type=float, default=None, help="NS seconds (default --budget)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--n-train", type=int, default=1000)
    p.add_argument("--n-test", type=int, default=200)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--fno-width", type=int, default=24)
    p.add_argument("--batch-size", type=int, default=20)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--models",
        default=None,
        help="comma list of lsm,fno,unet and, with neuraloperator installed, neuralop_fno,neuralop_fno_padded (Darcy only) (default: all available)",
    )
    p.add_argument("--ns", action="store_true", help="also run Navier–Stokes (ν=1e-5, 10→10)")
    p.add_argument("--ns-size", type=int, default=32)
    p.add_argument("--ns-n-train", type=int, default=160)
    p.add_argument("--ns-n-test", type=int, default=40)
    p.add_argument(
        "--ns-norm",
        choices=("pixel", "none"),
        default="pixel",
        help="NS: per-pixel train mean/std over samples and frames + 1e-5, or raw vorticity",
    )
    p.add_argument(
        "--ns-rounds-per-epoch",
        type=int,
        default=1,
        help="NS: budget checks per epoch (each a disjoint part of the epoch's permutation)",
    )
    p.add_argument(
        "--norm",
        choices=("pixel", "scalar"),
        default="pixel",
        help="Darcy normalisation: per-pixel train mean/std + 1e-5 (papers) or the file's scalar",
    )
    p.add_argument("--skip-darcy", action="store_true", help="only Navier–Stokes (with --ns)")
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the sections of an existing --out file that this run does not recompute",
    )
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "lsm.json")
    a = p.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    register_datasets()
    ctx = _Ctx(a.device, a.seed)
    if a.models:
        ctx.options["models"] = a.models
    defaults = {
        "budget_s": a.budget,
        "width": a.width,
        "fno_width": a.fno_width,
        "batch_size": a.batch_size,
    }
    command = " ".join(["python", *sys.argv])
    machine = {
        "cpu_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "device": a.device,
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if a.device.startswith("cuda") else None,
        "budget_clock": "wall" if a.device.startswith("cuda") else "process CPU time",
        "load_average_at_start": os.getloadavg()[0],
    }
    result: dict = {"benchmark": "lsm same-CPU-time comparison"}
    if a.merge and a.out.exists():
        old = json.loads(a.out.read_text())
        for part in ("darcy", "navier_stokes"):  # files that predate per-section commands
            if part in old and "command" not in old[part]:
                old[part] = {
                    "command": old.get("command"),
                    "machine": old.get("machine"),
                    **old[part],
                }
        result.update({k: v for k, v in old.items() if k in ("darcy", "navier_stokes")})
    result["reference_rel_l2_darcy_85"] = {"lsm": 0.0065, "fno": 0.0108, "unet": 0.0080}
    result["reference_rel_l2_ns_1e-5"] = {"lsm": 0.1535, "fno": 0.1556, "unet": 0.1982}
    if not a.skip_darcy:
        t0 = time.perf_counter()
        path = get_dataset(
            "darcy", "full", seed=a.seed, resolution=a.size, n_train=a.n_train, n_test=a.n_test
        )
        gen_s = time.perf_counter() - t0
        if a.norm == "pixel":  # the FNO/LSM scripts' UnitGaussianNormalizer on train pixels
            train, test, y_norm = unit_gaussian_pairs(
                FieldDataset(path, "train"), FieldDataset(path, "test")
            )
            denormalize = y_norm.decode
        else:  # the file's scalar train mean/std
            train = FieldDataset(path, "train", normalize=True)
            test = FieldDataset(path, "test", normalize=True)
            denormalize = train.denormalize
        curves: dict = {}
        darcy = compare_models(
            ctx,
            train,
            test,
            c_in=1,
            c_out=1,
            autoregressive=False,
            denormalize=denormalize,
            defaults=defaults,
            histories=curves,
        )
        result["darcy"] = {
            "command": command,
            "machine": machine,
            "resolution": a.size,
            "n_train": a.n_train,
            "n_test": a.n_test,
            "normalization": a.norm,
            "data_cache_s": gen_s,
            **darcy,
            "train_loss_per_epoch": curves,
        }
    if a.ns:
        npath = get_dataset(
            "navier-stokes",
            "full",
            seed=a.seed,
            resolution=a.ns_size,
            n_train=a.ns_n_train,
            n_test=a.ns_n_test,
        )
        ntrain, ntest = FieldDataset(npath, "train"), FieldDataset(npath, "test")
        ns_denorm = None
        if a.ns_norm == "pixel":  # one per-pixel transform for every frame (rollouts)
            ntrain, ntest, frame_norm = unit_gaussian_frames(ntrain, ntest)
            ns_denorm = frame_norm.decode
        curves = {}
        ns = compare_models(
            ctx,
            ntrain,
            ntest,
            c_in=10,
            c_out=1,
            autoregressive=True,
            denormalize=ns_denorm,
            padding=0,
            defaults={
                **defaults,
                "budget_s": a.ns_budget or a.budget,
                "rounds_per_epoch": a.ns_rounds_per_epoch,
            },
            histories=curves,
        )
        result["navier_stokes"] = {
            "command": command,
            "machine": machine,
            "resolution": a.ns_size,
            "n_train": a.ns_n_train,
            "n_test": a.ns_n_test,
            "visc": 1e-5,
            "normalization": a.ns_norm,
            "load_average_at_end": os.getloadavg()[0],
            **ns,
            "train_loss_per_round" if a.ns_rounds_per_epoch > 1 else "train_loss_per_epoch": curves,
        }
    with atomic_path(a.out) as tmp:  # unique temporary file, fsync, rename
        tmp.write_text(json.dumps(result, indent=2))
    for part in ("darcy", "navier_stokes"):
        if part not in result:
            continue
        print(f"\n{part}: model  rel_l2   nrmse    params    epochs  s/epoch  infer/s")
        r = result[part]
        for m in ("lsm", "fno", "unet", "neuralop_fno"):
            if f"{m}_rel_l2" in r:
                print(
                    f"  {m:<12} {r[f'{m}_rel_l2']:.4f}  {r[f'{m}_nrmse']:.4f}  "
                    f"{r[f'{m}_params'] / 1e6:6.3f} M  {r[f'{m}_epochs']:6.2f}  "
                    f"{r[f'{m}_s_per_epoch']:7.2f}  {r[f'{m}_infer_samples_per_s']:7.1f}"
                )
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
