"""Run one benchmark: output directory, config, seeding, status, metrics and result files."""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import random
import socket
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._atomic import atomic_write_json
from ._format import fmt_num, fmt_ratio, text_table
from .context import BenchmarkSkipped, RunContext
from .registry import Benchmark

__all__ = ["RunResult", "make_run_dir", "metrics_table", "run_benchmark", "seed_everything"]


@dataclass
class RunResult:
    """Outcome of one run: ``status`` is ``"ok"``, ``"failed"`` or ``"skipped"``."""

    name: str
    status: str
    out_dir: Path
    wall_time_s: float
    metrics: dict[str, float | None] = field(default_factory=dict)
    reason: str = ""


def make_run_dir(out_root: str | os.PathLike, name: str, when: _dt.datetime | None = None) -> Path:
    """Create and return ``<out_root>/<name>-<YYYYmmdd-HHMMSS>`` (``-2``, ``-3``… if taken)."""
    stamp = (when or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    root = Path(out_root)
    root.mkdir(parents=True, exist_ok=True)
    for i in range(1, 1000):
        path = root / (f"{name}-{stamp}" if i == 1 else f"{name}-{stamp}-{i}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise RuntimeError(f"could not create a fresh run directory for {name!r} under {root}")


def seed_everything(seed: int) -> None:
    """Seed ``random``, NumPy's global generator and torch (CPU and CUDA) with ``seed``."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)  # noqa: NPY002 (legacy global RNG is what we seed)
    except ImportError:
        pass
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


def _version(mod: str) -> str | None:
    try:
        module = __import__(mod)
    except Exception:
        return None
    return str(getattr(module, "__version__", "unknown"))


def _short_reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _check_metrics(result: Any) -> dict[str, float | None]:
    if not isinstance(result, Mapping):
        raise TypeError(
            f"run(ctx) must return a dict of metric -> float, got {type(result).__name__}"
        )
    metrics: dict[str, float | None] = {}
    for key, value in result.items():
        if isinstance(value, str | bytes) or value is None:
            raise TypeError(f"metric {key!r} must be a number, got {value!r}")
        try:
            f = float(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"metric {key!r} must be a number, got {type(value).__name__}") from exc
        metrics[str(key)] = f
    return metrics


def metrics_table(bench: Benchmark, metrics: Mapping[str, float | None]) -> str:
    """Table of each metric beside the published reference, the ratio and the source."""
    rows = []
    for key in list(metrics) + [k for k in bench.references if k not in metrics]:
        value = metrics.get(key)
        ref = bench.references.get(key)
        rows.append(
            [
                key,
                fmt_num(value),
                fmt_num(ref.value) if ref else "-",
                fmt_ratio(value, ref.value) if ref else "-",
                ref.source if ref else "",
            ]
        )
    return text_table(["metric", "value", "reference", "ratio", "source"], rows)


def run_benchmark(
    bench: Benchmark,
    *,
    out_root: str | os.PathLike = "runs",
    quick: bool = False,
    device: str = "cpu",
    seed: int = 0,
    options: Mapping[str, Any] | None = None,
    console: TextIO | None = None,
    argv: list[str] | None = None,
) -> RunResult:
    """Run ``bench`` once and write ``config.json``, ``log.txt``, ``metrics.json`` and figures.

    Never raises for a failing benchmark: the failure is recorded (traceback in ``log.txt``)
    and returned as ``status="failed"``. ``KeyboardInterrupt`` is recorded and re-raised.
    """
    started = _dt.datetime.now(_dt.timezone.utc)
    out_dir = make_run_dir(out_root, bench.name, started.astimezone())
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        pass
    config = {
        "name": bench.name,
        "quick": bool(quick),
        "device": device,
        "seed": int(seed),
        "options": dict(options or {}),
        "benchmark_file": str(bench.source),
        "versions": {
            "sciml": _version("sciml"),
            "torch": _version("torch"),
            "numpy": _version("numpy"),
            "python": platform.python_version(),
        },
        "hostname": socket.gethostname(),
        "platform": platform.platform(),
        "argv": list(argv) if argv is not None else list(sys.argv),
        "start_time": started.isoformat(timespec="seconds"),
    }
    ctx = RunContext(
        out_dir=out_dir,
        quick=quick,
        device=device,
        seed=seed,
        options=dict(options or {}),
        console=console,
    )
    atomic_write_json(out_dir / "config.json", config)
    ctx.log(
        f"== {bench.name} ({'quick' if quick else 'full'}, device={device}, seed={seed}) -> {out_dir}"
    )

    status, reason, metrics = "failed", "", {}
    t0 = time.perf_counter()
    interrupted: BaseException | None = None
    try:
        seed_everything(int(seed))
        result = bench.run(ctx)
        metrics = _check_metrics(result)
        status = "ok"
    except BenchmarkSkipped as exc:
        status, reason = "skipped", exc.reason
    except KeyboardInterrupt as exc:
        status, reason, interrupted = "failed", "interrupted (KeyboardInterrupt)", exc
    except (Exception, SystemExit) as exc:  # sys.exit() in benchmark code is a failure too
        status, reason = "failed", _short_reason(exc)
        ctx.log("".join(traceback.format_exception(exc)).rstrip(), console=False)
    wall = time.perf_counter() - t0

    nonfinite = [k for k, v in metrics.items() if v is not None and not math.isfinite(v)]
    if nonfinite:
        ctx.log(f"warning: non-finite metrics {nonfinite} are written as null")
    record = {
        "name": bench.name,
        "status": status,
        "reason": reason,
        "metrics": metrics,
        "references": {
            k: {"value": r.value, "source": r.source} for k, r in bench.references.items()
        },
        "wall_time_s": wall,
        "quick": bool(quick),
        "device": device,
        "seed": int(seed),
        "start_time": config["start_time"],
        "end_time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "figures": [p.name for p in ctx.figures],
    }
    atomic_write_json(out_dir / "metrics.json", record)
    if status == "ok":
        ctx.log(metrics_table(bench, metrics))
        ctx.log(f"ok in {wall:.1f}s")
    elif status == "skipped":
        ctx.log(f"skipped: {reason}")
    else:
        ctx.log(f"failed after {wall:.1f}s: {reason}", console=False)
    ctx.close()
    if interrupted is not None:
        raise interrupted
    return RunResult(
        name=bench.name,
        status=status,
        out_dir=out_dir,
        wall_time_s=wall,
        metrics=metrics,
        reason=reason,
    )
