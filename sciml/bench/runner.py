"""Run one benchmark: output directory, config, seeding, status, metrics and result files."""

from __future__ import annotations

import datetime as _dt
import math
import os
import platform
import random
import shlex
import socket
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ._atomic import atomic_write_json, atomic_write_text
from ._format import (
    Footnotes,
    arrow,
    arrow_legend,
    drop_blank_columns,
    fmt_num,
    fmt_options,
    fmt_reference,
    markdown_table,
    text_table,
    vs_reference,
)
from .context import BenchmarkSkipped, RunContext
from .registry import Benchmark, describe_metric

__all__ = [
    "RunResult",
    "make_run_dir",
    "metrics_table",
    "run_benchmark",
    "run_readme",
    "seed_everything",
]


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


def _reference_json(ref: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"value": ref.value, "source": ref.source}
    if ref.target is not None:
        out["target"] = ref.target
    return out


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


def _legend(arrows: str, published: bool, targets: bool) -> list[str]:
    """Lines explaining the ``better`` and ``vs reference`` columns that are shown."""
    lines = [f"better: {arrows}"] if arrows else []
    how = [
        "value / published figure" if published else "",
        "met / NOT met for a target (>=, <=)" if targets else "",
    ]
    if published or targets:
        lines.append(f"vs reference: {', or '.join(h for h in how if h)}")
    return lines


def metrics_table(
    bench: Benchmark,
    metrics: Mapping[str, float | None],
    *,
    encoding: str | None = None,
    width: int = 100,
) -> str:
    """Console table ``metric | value | better | reference | vs reference``, then the sources.

    ``better`` is the direction from the benchmark's metric glossary (blank where none is
    declared; the column is left out when no metric has one). A reference that is a target
    (``>=``/``<=``) shows ``met``/``NOT met``, a published figure the ratio value / reference.
    Without references the two reference columns are left out. Each distinct source is listed
    once under the table as a numbered footnote (``[n]``) wrapped to ``width`` columns.
    ``encoding`` is the console's, to fall back to words where it cannot print arrows.
    """
    notes = Footnotes()
    rows = []
    for key in list(metrics) + [k for k in bench.references if k not in metrics]:
        value = metrics.get(key)
        ref = bench.references.get(key)
        doc = describe_metric(bench, key)
        row: list[object] = [key, fmt_num(value), arrow(doc.better if doc else None, encoding)]
        if bench.references:
            row += [
                fmt_reference(ref.value, ref.target, notes.mark(ref.source)) if ref else "-",
                vs_reference(value, ref.value, ref.target) if ref else "-",
            ]
        rows.append(row)
    headers = ["metric", "value", "better"]
    if bench.references:
        headers += ["reference", "vs reference"]
    headers, rows = drop_blank_columns(headers, rows, ["better"])
    lines = [text_table(headers, rows)]
    refs = [bench.references[k] for k in metrics if k in bench.references]
    legend = _legend(
        arrow_legend(encoding) if "better" in headers else "",
        any(r.target is None for r in refs),
        any(r.target is not None for r in refs),
    )
    lines += legend
    lines += notes.lines(width)
    return "\n".join(lines)


def _md_code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence}{text}{fence}" if text else ""


def run_readme(bench: Benchmark, config: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """The ``README.md`` of a run directory: what ran, how, and what each metric means.

    Built from the ``config.json`` and ``metrics.json`` contents (``config``, ``record``) and
    the benchmark's glossary; written for failed and skipped runs too.
    """
    status = str(record.get("status"))
    wall = float(record.get("wall_time_s") or 0.0)
    reason = str(record.get("reason") or "")
    if status == "ok":
        status_text = f"ok in {wall:.1f} s"
    elif status == "skipped":
        status_text = f"skipped: {reason}"
    else:
        status_text = f"failed after {wall:.1f} s: {reason} (the traceback is in `log.txt`)"
    versions = config.get("versions") or {}
    argv = [str(a) for a in config.get("argv") or []]
    settings = [
        ["status", status_text],
        ["command", _md_code(shlex.join(argv)) or "-"],
        ["size", "quick" if config.get("quick") else "full"],
        ["seed", config.get("seed", "-")],
        ["device", config.get("device", "-")],
        ["options (-o)", fmt_options(config.get("options"))],
        ["started (UTC)", config.get("start_time", "-")],
        ["host", f"{config.get('hostname', '-')} ({config.get('platform', '-')})"],
        ["versions", ", ".join(f"{k} {v}" for k, v in versions.items() if v) or "-"],
        ["benchmark file", _md_code(str(config.get("benchmark_file", bench.source)))],
    ]
    out = [f"# {bench.name}: {status}", ""]
    if bench.description:
        out += [" ".join(bench.description.split()), ""]
    out += [markdown_table(["setting", "value"], settings), "", "## Metrics", ""]
    metrics = record.get("metrics") or {}
    if not metrics:
        why = {"skipped": "the run was skipped", "failed": "the run failed"}.get(status, "")
        out += [f"No metrics were recorded{' (' + why + ')' if why else ''}.", ""]
    else:
        notes = Footnotes()
        rows = []
        for key in list(metrics) + [k for k in bench.references if k not in metrics]:
            value = metrics.get(key)
            ref = bench.references.get(key)
            doc = describe_metric(bench, key)
            better = doc.better if doc and doc.better != "none" else ""
            row: list[object] = [
                _md_code(key),
                fmt_num(value),
                better,
                (doc.about if doc and doc.about else "(no description)"),
            ]
            if bench.references:
                row += [
                    fmt_reference(ref.value, ref.target, notes.mark(ref.source)) if ref else "-",
                    vs_reference(value, ref.value, ref.target) if ref else "-",
                ]
            rows.append(row)
        headers = ["metric", "value", "better", "description"]
        if bench.references:
            headers += ["reference", "vs reference"]
        out += [markdown_table(headers, rows), ""]
        out += [
            "`better`: whether a lower or a higher value is better (blank: no direction)."
            + (
                " `vs reference`: value / published figure (`0.95x`), or `met` / `NOT met` "
                "for a target (`>=`, `<=`) the project set itself."
                if bench.references
                else ""
            ),
            "",
        ]
        if notes.sources:
            out += ["Reference sources:", ""]
            out += [f"- {line}" for line in notes.lines(width=None)]
            out += [""]
    files = [
        ("README.md", "this file"),
        ("config.json", "the settings above"),
        ("metrics.json", "status, metric values and references"),
        (
            "log.txt",
            "everything the run logged" + (", with the traceback" if status == "failed" else ""),
        ),
    ]
    files += [(str(name), "figure") for name in record.get("figures") or []]
    out += ["## Files", ""] + [f"- `{name}`: {what}" for name, what in files]
    return "\n".join(out) + "\n"


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
        "references": {k: _reference_json(r) for k, r in bench.references.items()},
        "glossary": (
            None
            if bench.metrics is None
            else {p: {"about": d.about, "better": d.better} for p, d in bench.metrics.items()}
        ),
        "wall_time_s": wall,
        "quick": bool(quick),
        "device": device,
        "seed": int(seed),
        "start_time": config["start_time"],
        "end_time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "figures": [p.name for p in ctx.figures],
    }
    atomic_write_json(out_dir / "metrics.json", record)
    try:
        atomic_write_text(out_dir / "README.md", run_readme(bench, config, record))
    except OSError as exc:
        ctx.log(f"warning: could not write README.md: {_short_reason(exc)}")
    if status == "ok":
        encoding = getattr(console if console is not None else sys.stdout, "encoding", None)
        ctx.log(metrics_table(bench, metrics, encoding=encoding))
        ctx.log(f"ok in {wall:.1f}s; what each metric means: {out_dir / 'README.md'}")
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
