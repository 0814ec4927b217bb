"""Kernel benchmarks at full size: writes benchmarks/results/kernels.json and prints ratios.

Usage: python benchmarks/kernels.py [--quick] [--device cpu|cuda] [--out PATH]
Ours and the peer (linear_operator, dense matmul, torch conv1d, scipy.fft.dstn) are timed in the same
process: warm-up, repeats, median. Ratios are peer time / our time (> 1: ours is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("JAX_ENABLE_X64", "1")

from sciml.data import atomic_path
from sciml.kernels._benchmark import format_table, run_all


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds, not minutes)")
    parser.add_argument("--device", default="cpu")
    default_out = Path(__file__).parent / "results" / "kernels.json"
    parser.add_argument("--out", type=Path, default=default_out)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    result = run_all(args.quick, args.device, lambda msg: print(msg, flush=True))
    print(format_table(result))
    result["command"] = " ".join(["python benchmarks/kernels.py", *sys.argv[1:]])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:  # temporary file, fsync, rename
        tmp.write_text(json.dumps(result, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
