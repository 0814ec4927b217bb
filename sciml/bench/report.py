"""``sciml-bench report``: collect run directories and render a Markdown report.

One section per benchmark: a table of the runs' settings (from each run's ``config.json``), then
a table with the metrics as rows and the runs as columns (oldest first), and the reference (a
published figure or a project target) checked against the latest run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._atomic import atomic_write_text
from ._format import (
    Footnotes,
    arrow,
    arrow_legend,
    drop_blank_columns,
    fmt_num,
    fmt_options,
    fmt_reference,
    markdown_table,
    vs_reference,
)
from .registry import BETTER, TARGETS, MetricDoc, match_metric

__all__ = [
    "RunRecord",
    "collect_runs",
    "filters_note",
    "render_report",
    "select_runs",
    "write_report",
]


@dataclass(frozen=True)
class RunRecord:
    """One run directory: its ``metrics.json`` (``data``) and ``config.json`` (``config``, empty
    when missing or unreadable); ``run`` is the directory relative to the scan root."""

    run: str
    path: Path
    data: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.data.get("name"))

    @property
    def sort_key(self) -> tuple[str, str, str]:
        return (self.name, str(self.data.get("start_time", "")), self.run)


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


def _read_config(run_dir: Path) -> dict[str, Any]:
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return config if isinstance(config, dict) else {}


def collect_runs(root: str | os.PathLike) -> tuple[list[RunRecord], list[str]]:
    """Find every ``metrics.json`` below ``root``; return the records (by benchmark, then start
    time) and warnings for unreadable or malformed files."""
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
        run = rel if rel != "." else path.parent.name
        records.append(RunRecord(run=run, path=path, data=data, config=_read_config(path.parent)))
    records.sort(key=lambda r: r.sort_key)
    return records, warnings


def select_runs(
    records: Iterable[RunRecord], benchmarks: Sequence[str] | None = None, latest: bool = False
) -> list[RunRecord]:
    """The runs of the named ``benchmarks`` (all when empty/``None``); with ``latest`` only the
    newest run (latest start time) of each benchmark."""
    chosen = [r for r in records if not benchmarks or r.name in benchmarks]
    chosen.sort(key=lambda r: r.sort_key)
    if latest:
        newest: dict[str, RunRecord] = {}
        for rec in chosen:
            newest[rec.name] = rec
        chosen = list(newest.values())
    return chosen


# -- rendering ----------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) else None


def _glossary(data: Mapping[str, Any]) -> dict[str, MetricDoc]:
    """The glossary a run recorded (``metrics.json`` ``glossary``), malformed entries dropped."""
    raw = data.get("glossary")
    docs: dict[str, MetricDoc] = {}
    if not isinstance(raw, dict):
        return docs
    for pattern, doc in raw.items():
        if isinstance(doc, dict) and doc.get("better") in BETTER:
            docs[str(pattern)] = MetricDoc(about=str(doc.get("about") or ""), better=doc["better"])
    return docs


def _run_ids(recs: Sequence[RunRecord], name: str) -> tuple[list[str], bool]:
    """Column headers: each run's directory without the ``<benchmark>-`` prefix of its last
    component (``a/alpha-20260102-030405`` -> ``a/20260102-030405``), unless that is ambiguous
    (then the directories as they are); the flag says whether they were shortened."""
    short = []
    for rec in recs:
        head, _, last = rec.run.rpartition("/")
        if last.startswith(name + "-") and len(last) > len(name) + 1:
            last = last[len(name) + 1 :]
        short.append(f"{head}/{last}" if head else last)
    full = [r.run for r in recs]
    if len(set(short)) != len(short):
        return full, False
    return short, short != full


def _status(data: Mapping[str, Any]) -> str:
    status = str(data.get("status"))
    return f"{status}: {data['reason']}" if data.get("reason") else status


def _settings_table(recs: Sequence[RunRecord], ids: Sequence[str]) -> str:
    rows = []
    for rec, rid in zip(recs, ids):
        d, c = rec.data, rec.config
        wall = _num(d.get("wall_time_s"))
        quick = c.get("quick", d.get("quick"))
        versions = c.get("versions") if isinstance(c.get("versions"), dict) else {}
        rows.append(
            [
                rid,
                _status(d),
                f"{wall:.1f}" if wall is not None else "-",
                "-" if quick is None else ("quick" if quick else "full"),
                c.get("seed", d.get("seed", "-")),
                c.get("device", d.get("device", "-")),
                fmt_options(c.get("options")) if c else "?",
                versions.get("sciml") or "-",
            ]
        )
    headers = ["run", "status", "wall (s)", "size", "seed", "device", "options", "sciml"]
    return markdown_table(headers, rows)


def _section(name: str, recs: Sequence[RunRecord], encoding: str | None) -> list[str]:
    ids, shortened = _run_ids(recs, name)
    latest = recs[-1].data
    refs = {k: r for k, r in (latest.get("references") or {}).items() if isinstance(r, dict)}
    glossary: dict[str, MetricDoc] = {}
    for rec in reversed(recs):  # the newest run that recorded a glossary
        glossary = _glossary(rec.data)
        if glossary:
            break
    keys: dict[str, None] = {}
    for rec in recs:
        keys.update(dict.fromkeys(rec.data.get("metrics") or {}))
    keys.update(dict.fromkeys(refs))

    out = [f"## {name}", ""]
    n = len(recs)
    where = f"(without the `{name}-` prefix)" if shortened else "under the report's folder"
    out += [
        f"{n} run{'s' if n != 1 else ''}, oldest first; `run` is the run's directory {where}.",
        "",
        _settings_table(recs, ids),
        "",
    ]
    if not keys:
        return out + ["No metrics recorded.", ""]

    notes = Footnotes()
    used: dict[str, MetricDoc] = {}
    rows = []
    for key in keys:
        match = match_metric(glossary, key)
        if match:
            used[match[0]] = match[1]
        row: list[object] = [key, arrow(match[1].better if match else None, encoding)]
        row += [fmt_num(_num((rec.data.get("metrics") or {}).get(key))) for rec in recs]
        if refs:
            ref = refs.get(key)
            ref_v = _num(ref.get("value")) if ref else None
            target = ref.get("target") if ref and ref.get("target") in TARGETS else None
            value = _num((latest.get("metrics") or {}).get(key))
            row += [
                fmt_reference(ref_v, target, notes.mark(ref.get("source"))) if ref else "-",
                vs_reference(value, ref_v, target) if ref else "-",
            ]
        rows.append(row)
    headers = ["metric", "better", *ids]
    if refs:
        headers += ["reference", "latest vs reference"]
    headers, rows = drop_blank_columns(headers, rows, ["better"])
    out += [markdown_table(headers, rows), ""]
    if "better" in headers:
        out += [f"better: {arrow_legend(encoding)}."]
    if refs:
        out += [
            "latest vs reference: the newest run's value / a published figure, or `met` / "
            "`NOT met` for a target (`>=`, `<=`)."
        ]
    if notes.sources:
        out += ["", "Reference sources:", ""] + [f"- {line}" for line in notes.lines(None)]
    described = {p: d for p, d in used.items() if d.about}
    if described:
        out += ["", "Metrics:", ""] + [f"- `{p}`: {d.about}" for p, d in described.items()]
    return out + [""]


def render_report(
    records: Sequence[RunRecord], *, filters: str = "", encoding: str | None = None
) -> str:
    """Markdown report: a summary line, then one section per benchmark (runs as columns).

    ``filters`` (e.g. ``--latest``) is noted under the title; ``encoding`` is the console's,
    for the direction arrows (words where it cannot encode them).
    """
    by_name: dict[str, list[RunRecord]] = {}
    for rec in sorted(records, key=lambda r: r.sort_key):
        by_name.setdefault(rec.name, []).append(rec)
    n_ok = sum(r.data.get("status") == "ok" for r in records)
    n_failed = sum(r.data.get("status") == "failed" for r in records)
    n_skipped = sum(r.data.get("status") == "skipped" for r in records)
    nb = len(by_name)
    out = [
        "# sciml-bench report",
        "",
        f"{len(records)} run{'s' if len(records) != 1 else ''} of {nb} "
        f"benchmark{'s' if nb != 1 else ''}: {n_ok} ok, "
        f"{n_failed} failed, {n_skipped} skipped."
        + (f" Selected with {filters}." if filters else ""),
        "",
    ]
    for name, recs in by_name.items():
        out += _section(name, recs, encoding)
    return "\n".join(out).rstrip("\n") + "\n"


def filters_note(benchmarks: Sequence[str] | None, latest: bool) -> str:
    """``--benchmark a, --latest``: the selection flags, for the report's summary line."""
    flags = [f"--benchmark {b}" for b in benchmarks or ()]
    return ", ".join(flags + (["--latest"] if latest else []))


def write_report(
    root: str | os.PathLike,
    *,
    benchmarks: Sequence[str] | None = None,
    latest: bool = False,
    encoding: str | None = None,
) -> tuple[str, Path | None, list[RunRecord], list[str]]:
    """Render the report for the runs under ``root`` and write ``root/report.md`` atomically.

    Returns ``(text, path, records, warnings)``; with no (selected) runs nothing is written and
    ``path`` is ``None``.
    """
    records, warnings = collect_runs(root)
    records = select_runs(records, benchmarks, latest)
    if not records:
        return "", None, records, warnings
    text = render_report(records, filters=filters_note(benchmarks, latest), encoding=encoding)
    path = atomic_write_text(Path(root) / "report.md", text)
    return text, path, records, warnings
