"""SpaceTime training step with the encoder's companion kernel by the fast algorithm vs repeated
squaring (``SpaceTimeConfig.kernel_method``), the paper's ETTh1 architecture (d_model 128,
d_state 64, lag 336), batch 50, float32, in one process: warm-up, then ``--repeats`` timed
forward + backward passes per (method, horizon), median reported, ratio = squaring / fast.

    OMP_NUM_THREADS=1 python benchmarks/spacetime_kernel_method.py [--device cuda] [--repeats 5]

Writes ``benchmarks/results/spacetime_kernel_method[_<device>].json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from sciml.bench import atomic_write_json, device_name, script_provenance
from sciml.ssm import SpaceTime, SpaceTimeConfig

RESULTS = Path(__file__).resolve().parent / "results"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_step(method: str, horizon: int, device: torch.device, repeats: int, batch: int) -> dict:
    """Median wall time (ms) of one forward + backward of the SpaceTime loss terms."""
    model = SpaceTime(SpaceTimeConfig(kernel_method=method), seed=0).to(device)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 336, 1, generator=g).to(device)
    y = torch.randn(batch, horizon, 1, generator=g).to(device)

    def step() -> None:
        out = model(x, horizon)
        loss = (out.forecast - y).square().mean() + (out.one_step - x[:, 1:]).square().mean()
        model.zero_grad(set_to_none=True)
        loss.backward()

    for _ in range(2):
        step()
    _sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        _sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return {"method": method, "horizon": horizon, "median_ms": statistics.median(times),
            "times_ms": times}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--horizons", default="24,720")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    rows, ratios = [], {}
    for h in (int(v) for v in args.horizons.split(",")):
        pair = {m: time_step(m, h, device, args.repeats, args.batch) for m in ("fast", "squaring")}
        rows += pair.values()
        ratios[f"squaring_over_fast_h{h}"] = (
            pair["squaring"]["median_ms"] / pair["fast"]["median_ms"]
        )
        print(f"h={h}: fast {pair['fast']['median_ms']:.1f} ms, squaring "
              f"{pair['squaring']['median_ms']:.1f} ms per training step "
              f"(squaring / fast = {ratios[f'squaring_over_fast_h{h}']:.2f})", flush=True)  # fmt: skip
    prov = script_provenance("benchmarks/spacetime_kernel_method.py", argv)
    res = {
        "benchmark": "spacetime_kernel_method",
        "config": {
            "d_model": 128,
            "d_state": 64,
            "lag": 336,
            "batch": args.batch,
            "dtype": "float32",
            "device": str(device),
            "repeats": args.repeats,
            "torch_threads": prov.pop("torch_threads"),
            "device_name": device_name(device),
        },
        "rows": rows,
        "ratios": ratios,
        **prov,
    }
    out = Path(args.out) if args.out else RESULTS / f"spacetime_kernel_method_{device.type}.json"
    print(f"wrote {atomic_write_json(out, res)}")


if __name__ == "__main__":
    main()
