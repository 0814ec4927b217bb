"""Companion SSM kernel speed: ours (fast O((d+L) log(d+L)) algorithm) vs repeated squaring vs
explicit powers, d = 64, 128 kernels, float32, L in {1024, 8192, 65536}.

Each (method, L) runs in a fresh subprocess (so peak-RSS deltas are per measurement): one warm-up
call, then ``--repeats`` timed calls; the median is reported. The speed ratios are also measured
**in one process per L** (``same_process``): every method warmed up, then ``--repeats`` rounds in
which each method is timed once in turn (interleaved, so load changes hit all alike); ratios of
the medians. Writes ``benchmarks/results/ssm_kernels.json`` and prints a table.

    OMP_NUM_THREADS=1 python benchmarks/ssm_kernels.py --repeats 3 [--device cpu] [--quick]

Reference (issue #5, public SpaceTime code on this CPU, 128 kernels, d = 64): repeated squaring
47 / 398 / 3831 ms, its unused fast routine 7.4 / 20.9 / 283 ms at L = 1024 / 8192 / 65536.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

PUBLIC_MS = {
    "squaring": {1024: 47.0, 8192: 398.0, 65536: 3831.0},
    "fast": {1024: 7.4, 8192: 20.9, 65536: 283.0},
}


def _problem(L: int, device: str, H: int, d: int):
    """The benchmark's inputs (seed 0) and ``run(method)`` computing the kernels ``(H, L)``."""
    import torch

    from sciml.ssm import (
        companion_kernel,
        companion_matrix,
        normalize_companion,
        ssm_kernel_naive,
        ssm_kernel_squaring,
    )

    g = torch.Generator().manual_seed(0)
    a = normalize_companion(torch.randn(H, d, generator=g), "l1").to(device)
    b, c = (torch.randn(H, d, generator=g).to(device) for _ in range(2))
    A = companion_matrix(a)

    def run(method: str):
        with torch.no_grad():
            if method == "ours":
                return companion_kernel(a, b, c, L)
            if method == "squaring":
                return ssm_kernel_squaring(A, b, c, L)
            return ssm_kernel_naive(A, b, c, L)

    return (a, b, c), run


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _same_process(methods: list[str], L: int, repeats: int, device: str, H: int, d: int) -> dict:
    """All ``methods`` in this process: one warm-up each, then ``repeats`` interleaved rounds."""
    _, run = _problem(L, device, H, d)
    for m in methods:
        run(m)  # warm-up
        _sync(device)
    wall: dict = {m: [] for m in methods}
    cpu: dict = {m: [] for m in methods}
    for _ in range(repeats):
        for m in methods:
            c0, t0 = time.process_time(), time.perf_counter()
            run(m)
            _sync(device)
            wall[m].append(time.perf_counter() - t0)
            cpu[m].append(time.process_time() - c0)
    return {
        "L": L,
        "repeats": repeats,
        "median_ms": {m: 1e3 * statistics.median(v) for m, v in wall.items()},
        "median_cpu_ms": {m: 1e3 * statistics.median(v) for m, v in cpu.items()},
    }


def _worker(method: str, L: int, repeats: int, device: str, H: int, d: int) -> dict:
    import resource

    import torch

    from sciml.ssm import companion_kernel

    (a, b, c), run_method = _problem(L, device, H, d)

    def run():
        return run_method(method)

    def sync():
        _sync(device)

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    if not (method == "naive" and L > 8192):  # explicit powers: a Python loop, nothing to warm
        K = run()  # warm-up
        sync()
    times, cpu_times = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        K = run()
        sync()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    out = {
        "method": method,
        "L": L,
        "median_ms": 1e3 * statistics.median(times),
        "times_ms": [1e3 * t for t in times],
        # process CPU time: with 1 thread, robust to other processes competing for the cores
        "median_cpu_ms": 1e3 * statistics.median(cpu_times),
        "peak_rss_delta_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024.0,
    }
    if device.startswith("cuda"):
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
    if method != "ours":  # agreement with ours on the same inputs
        ref = companion_kernel(a.double(), b.double(), c.double(), L)
        out["max_rel_diff_vs_ours_f64"] = float((K.double() - ref).abs().max() / ref.abs().max())
    return out


def _run_worker(flag: str, what: str, L: int, repeats: int, args) -> subprocess.CompletedProcess:
    """This script as a fresh subprocess in worker mode (``flag`` = ``--worker`` for one method,
    ``--worker-same`` for several in one process)."""
    cmd = [sys.executable, __file__, flag, what, str(L), "--repeats", str(repeats)]
    cmd += ["--device", args.device, "--kernels", str(args.kernels), "--d", str(args.d)]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--kernels", type=int, default=128)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--lengths", default="1024,8192,65536")
    ap.add_argument("--methods", default="ours,squaring,naive")
    ap.add_argument("--quick", action="store_true", help="L = 1024 only, 2 repeats")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "ssm_kernels.json"))
    ap.add_argument("--worker", nargs=2, metavar=("METHOD", "L"), help=argparse.SUPPRESS)
    ap.add_argument("--worker-same", nargs=2, metavar=("METHODS", "L"), help=argparse.SUPPRESS)
    ap.add_argument(
        "--same-process-methods",
        default="ours,squaring",
        help="methods timed together in one process per L (explicit powers are slow at long L)",
    )
    args = ap.parse_args()
    if args.worker_same:
        methods, L = args.worker_same[0].split(","), int(args.worker_same[1])
        out = _same_process(methods, L, args.repeats, args.device, args.kernels, args.d)
        print(json.dumps(out))
        return
    if args.worker:
        print(
            json.dumps(
                _worker(
                    args.worker[0],
                    int(args.worker[1]),
                    args.repeats,
                    args.device,
                    args.kernels,
                    args.d,
                )
            )
        )
        return
    lengths = [1024] if args.quick else [int(x) for x in args.lengths.split(",")]
    repeats = 2 if args.quick else args.repeats
    rows = []
    for L in lengths:
        for method in args.methods.split(","):
            # explicit powers are L sequential matvecs: fewer repeats at long L
            rep = 1 if method == "naive" and L > 8192 else repeats
            res = _run_worker("--worker", method, L, rep, args)
            if res.returncode != 0:
                rows.append(
                    {"method": method, "L": L, "error": res.stderr.strip().splitlines()[-1:]}
                )
                print(f"{method} L={L}: failed: {res.stderr.strip()[-300:]}", flush=True)
                continue
            row = json.loads(res.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{method:9s} L={L:6d}  {row['median_ms']:10.1f} ms wall  {row['median_cpu_ms']:10.1f} ms CPU"
                f"  peak RSS +{row['peak_rss_delta_mb']:.0f} MB",
                flush=True,
            )
    same = []
    for L in lengths:
        res = _run_worker("--worker-same", args.same_process_methods, L, repeats, args)
        if res.returncode != 0:
            print(f"same-process L={L}: failed: {res.stderr.strip()[-300:]}", flush=True)
            continue
        same.append(json.loads(res.stdout.strip().splitlines()[-1]))
        print(f"same process L={L:6d}  CPU ms {same[-1]['median_cpu_ms']}", flush=True)
    by = {(r["method"], r["L"]): r for r in rows if "median_ms" in r}
    ratios = {}
    for sp in same:
        cpu_ms = sp["median_cpu_ms"]
        for m in cpu_ms:
            if m != "ours" and "ours" in cpu_ms:
                ratios[f"same_process_{m}_over_ours_cpu_L{sp['L']}"] = cpu_ms[m] / cpu_ms["ours"]
    for L in lengths:
        ours = by.get(("ours", L))
        if not ours:
            continue
        for m in ("squaring", "naive"):
            if (m, L) in by:
                ratios[f"{m}_over_ours_L{L}"] = by[(m, L)]["median_ms"] / ours["median_ms"]
                ratios[f"{m}_over_ours_cpu_L{L}"] = (
                    by[(m, L)]["median_cpu_ms"] / ours["median_cpu_ms"]
                )
        ratios[f"ours_over_public_fast_L{L}"] = ours["median_ms"] / PUBLIC_MS["fast"].get(
            L, float("nan")
        )
        ratios[f"ours_cpu_over_public_fast_L{L}"] = ours["median_cpu_ms"] / PUBLIC_MS["fast"].get(
            L, float("nan")
        )
        if ("squaring", L) in by:
            # machine-independent comparison: public fast/squaring ratio vs ours/our squaring
            ratios[f"ours_over_squaring_L{L}"] = (
                ours["median_ms"] / by[("squaring", L)]["median_ms"]
            )
            ratios[f"public_fast_over_public_squaring_L{L}"] = (
                PUBLIC_MS["fast"][L] / PUBLIC_MS["squaring"][L]
            )
    try:
        import torch

        threads = torch.get_num_threads()
        dev = (
            torch.cuda.get_device_name()
            if args.device.startswith("cuda")
            else platform.processor() or platform.machine()
        )
    except Exception:  # pragma: no cover
        threads, dev = None, platform.machine()
    result = {
        "benchmark": "ssm_kernels",
        "config": {
            "kernels": args.kernels,
            "d": args.d,
            "dtype": "float32",
            "device": args.device,
            "repeats": repeats,
            "torch_threads": threads,
            "device_name": dev,
            "load_avg": list(__import__("os").getloadavg()),
        },
        "public_reference_ms": PUBLIC_MS,
        "rows": rows,
        "same_process": same,
        "ratios": ratios,
        "command": "python benchmarks/ssm_kernels.py " + " ".join(sys.argv[1:]),
    }
    from sciml.data import atomic_path

    with atomic_path(args.out) as tmp:  # temporary file, fsync, rename
        tmp.write_text(json.dumps(result, indent=2))
    print(json.dumps(ratios, indent=1))


if __name__ == "__main__":
    main()
