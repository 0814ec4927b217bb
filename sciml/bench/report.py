"""``sciml-bench report``: collect run directories and render a Markdown table."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._atomic import atomic_write_text
from ._format import fmt_num, fmt_ratio, markdown_table

__all__ = ["RunRecord", "collect_runs", "render_report", "write_report"]


@dataclass(frozen=True)
class RunRecord:
    """One run directory's ``metrics.json`` (``run`` is the directory relative to the scan root)."""

    run: str
    path: Path
    data: dict[str, Any]


def _check_record(data: Any) -> None:
    """Raise ValueError unless ``data`` has the shape the runner writes (what the table reads)."""
    if not isinstance(data, dict) or "name" not in data or "status" not in data:
        raise ValueError("missing 'name' or 'status'")
    metrics = data.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise ValueError(f"'metrics' must be an object, got {type(metrics).__name__}")
    for key, value in metrics.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"metric {key!r} must be a number or null, got {value!r}")
    refs = data.get("references") or {}
    if not isinstance(refs, dict) or not all(isinstance(r, dict) for r in refs.values()):
        raise ValueError("'references' must map metric -> {'value': ..., 'source': ...}")
    for key, ref in refs.items():
        value = ref.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"reference {key!r} must be a number or null, got {value!r}")


def collect_runs(root: str | os.PathLike) -> tuple[list[RunRecord], list[str]]:
    """Find every ``metrics.json`` below ``root``; return the records and warnings for bad files."""
    root = Path(root)
    records: list[RunRecord] = []
    warnings: list[str] = []
    for path in sorted(root.rglob("metrics.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            _check_record(data)
        except (OSError, ValueError) as exc:
            warnings.append(f"skipping {path}: {type(exc).__name__}: {exc}")
            continue
        rel = path.parent.relative_to(root).as_posix()
        records.append(RunRecord(run=rel if rel != "." else path.parent.name, path=path, data=data))
    records.sort(key=lambda r: (str(r.data.get("name")), str(r.data.get("start_time", "")), r.run))
    return records, warnings


def render_report(records: list[RunRecord]) -> str:
    """Markdown table: one row per (run, metric) with reference, ratio, source and wall time."""
    headers = [
        "benchmark",
        "run",
        "status",
        "metric",
        "value",
        "reference",
        "ratio",
        "source",
        "wall time (s)",
    ]
    rows: list[list[object]] = []
    for rec in records:
        d = rec.data
        metrics = d.get("metrics") or {}
        refs = d.get("references") or {}
        wall = d.get("wall_time_s")
        wall_s = f"{float(wall):.1f}" if isinstance(wall, int | float) else "-"
        mode = "quick" if d.get("quick") else "full"
        status = str(d.get("status"))
        if d.get("reason"):
            status = f"{status}: {d['reason']}"
        keys = list(metrics) + [k for k in refs if k not in metrics]
        if not keys:
            rows.append([d["name"], f"{rec.run} ({mode})", status, "-", "-", "-", "-", "", wall_s])
            continue
        for key in keys:
            value = metrics.get(key)
            ref = refs.get(key) or {}
            ref_v = ref.get("value")
            rows.append(
                [
                    d["name"],
                    f"{rec.run} ({mode})",
                    status,
                    key,
                    fmt_num(value),
                    fmt_num(ref_v),
                    fmt_ratio(value, ref_v),
                    ref.get("source", ""),
                    wall_s,
                ]
            )
    n_ok = sum(r.data.get("status") == "ok" for r in records)
    n_failed = sum(r.data.get("status") == "failed" for r in records)
    n_skipped = sum(r.data.get("status") == "skipped" for r in records)
    head = (
        f"# sciml-bench report\n\n{len(records)} runs: {n_ok} ok, {n_failed} failed, "
        f"{n_skipped} skipped.\n\n"
    )
    return head + markdown_table(headers, rows) + "\n"


def write_report(root: str | os.PathLike) -> tuple[str, Path, list[RunRecord], list[str]]:
    """Render the report for ``root`` and write it to ``root/report.md`` atomically."""
    records, warnings = collect_runs(root)
    text = render_report(records)
    path = atomic_write_text(Path(root) / "report.md", text)
    return text, path, records, warnings
