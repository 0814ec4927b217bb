"""Atomic writes: readers see the old or the new file, never a partial one."""

from __future__ import annotations

import json
import math

import pytest

from sciml.bench._atomic import atomic_write, atomic_write_json, atomic_write_text


def test_write_replaces_and_leaves_no_temp(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new text")
    assert path.read_text() == "new text"
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_failed_write_keeps_old_content(tmp_path):
    path = tmp_path / "metrics.json"
    atomic_write_text(path, "old")

    def writer(fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, writer)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_json_is_strict_and_nonfinite_become_null(tmp_path):
    path = tmp_path / "m.json"
    atomic_write_json(path, {"a": 1.5, "b": math.nan, "c": [math.inf, 2], "d": tmp_path})
    data = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert data == {"a": 1.5, "b": None, "c": [None, 2], "d": str(tmp_path)}


def test_runner_result_files_are_complete_json(tmp_path, monkeypatch):
    """os.replace is the only way result files appear: record the calls during a run."""
    import os

    from sciml.bench.registry import Benchmark
    from sciml.bench.runner import run_benchmark

    replaced = []
    real_replace = os.replace

    def spy(src, dst):
        replaced.append(os.path.basename(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    bench = Benchmark(
        name="t", description="", datasets=(), references={}, source=tmp_path / "bench.py",
        package="x", run=lambda ctx: {"v": 2.0},
    )  # fmt: skip
    res = run_benchmark(bench, out_root=tmp_path / "runs")
    assert res.status == "ok" and res.metrics == {"v": 2.0}
    assert {"config.json", "metrics.json", "log.txt", "README.md"} <= set(replaced)
    assert sorted(p.name for p in res.out_dir.iterdir()) == [
        "README.md",
        "config.json",
        "log.txt",
        "metrics.json",
    ]
