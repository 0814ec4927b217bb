"""``MaskedFourier`` applied to data on another device or in another precision than its mask:
the mask converted on every apply (the code before session 14) vs once (``DeviceCache``), and
the operator built from a mask already on the data's device and in its precision (the floor).

One forward apply ``A x = M ⊙ F x`` of complex64 frames, mask stored as float64 on the CPU (what
a boolean mask becomes), in one process: warm-up, then ``--repeats`` interleaved timings,
median reported, ratio = per-call / cached. On a GPU the per-call variant pays a host-to-device
copy of the mask; on the CPU it pays a float64 → float32 conversion.

    OMP_NUM_THREADS=1 python benchmarks/masked_fourier_mask.py [--device cuda] [--repeats 21]

Writes ``benchmarks/results/masked_fourier_mask_<device>.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch

from sciml.bench import atomic_write_json, device_name, script_provenance
from sciml.imaging import MaskedFourier
from sciml.kernels import fftc
from sciml.kernels.timing import time_interleaved

RESULTS = Path(__file__).resolve().parent / "results"


def time_case(frames: int, n: int, device: torch.device, repeats: int) -> dict:
    g = torch.Generator().manual_seed(0)
    mask_cpu = (torch.rand(frames, n, n, generator=g) < 0.25).double()
    x = torch.randn(frames, n, n, dtype=torch.complex64, generator=g).to(device)
    cached = MaskedFourier(mask_cpu)
    on_device = MaskedFourier(mask_cpu.to(device=device, dtype=torch.float32))
    fns: dict[str, Callable[[], torch.Tensor]] = {
        "cached": lambda: cached(x),
        "per_call_copy": lambda: (
            mask_cpu.to(device=device, dtype=torch.float32) * fftc(x, axes=(-2, -1))
        ),
        "mask_on_device": lambda: on_device(x),
    }
    ref = fns["per_call_copy"]()
    err = max(float((fn() - ref).abs().max()) for fn in fns.values())

    med = {k: 1e3 * v for k, v in time_interleaved(fns, warmup=2, repeats=repeats).items()}
    row = {"frames": frames, "n": n, "max_abs_diff": err}
    row |= {f"{k}_median_ms": v for k, v in med.items()}
    row["per_call_copy_over_cached"] = med["per_call_copy"] / med["cached"]
    row["cached_over_mask_on_device"] = med["cached"] / med["mask_on_device"]
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.repeats < 1:
        ap.error("--repeats: expected at least 1")
    device = torch.device(args.device)
    rows = []
    for frames, n in [(20, 128), (20, 256), (8, 512)]:  # cine-MRI sizes
        row = time_case(frames, n, device, args.repeats)
        rows.append(row)
        print(
            f"T={frames} {n}²: cached {row['cached_median_ms']:.2f} ms, per-call / cached "
            f"{row['per_call_copy_over_cached']:.2f}, cached / mask on device "
            f"{row['cached_over_mask_on_device']:.2f}",
            flush=True,
        )
    prov = script_provenance("benchmarks/masked_fourier_mask.py", argv)
    res = {
        "benchmark": "masked_fourier_mask",
        "config": {
            "data": "complex64",
            "mask": "float64 on the CPU",
            "device": str(device),
            "repeats": args.repeats,
            "torch_threads": prov.pop("torch_threads"),
            "device_name": device_name(device),
        },
        "rows": rows,
        **prov,
    }
    out = Path(args.out) if args.out else RESULTS / f"masked_fourier_mask_{device.type}.json"
    print(f"wrote {atomic_write_json(out, res)}")


if __name__ == "__main__":
    main()
