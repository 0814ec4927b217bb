"""Metric glossary (``metrics``), project targets (``target``), the console table, the run
directory's README.md and the per-benchmark report (``--benchmark``, ``--latest``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sciml.bench import main
from sciml.bench.registry import Benchmark, MetricDoc, Reference, describe_metric, discover
from sciml.bench.runner import metrics_table

from .conftest import md_section, md_tables, write_tree

GLOS_BENCH = """
def run(ctx):
    return {
        "psnr_gain_r8": float(ctx.options.get("gain", 5.8)),
        "rel_err": float(ctx.options.get("err", 0.04)),
        "p16_s4d_ratio1": 234.8,
        "best_epoch": 7.0,
        "extra": 1.0,
    }


def run_skip(ctx):
    ctx.skip("needs the phantom data")


BENCHMARKS = [
    {
        "name": "glos-a",
        "description": "glossary, targets and a published figure",
        "references": {
            "psnr_gain_r8": {"value": 1.0, "target": ">=", "source": "project target: 1 dB"},
            "rel_err": {"value": 0.05, "target": "<=", "source": "project target: below 5 %"},
            "p16_s4d_ratio1": {"value": 200.0, "source": "Paper 2024, Table 3"},
        },
        "metrics": {
            "psnr_*": {"about": "PSNR gain over L+S at R = 8, dB", "better": "higher"},
            "rel_err": {"about": "relative L2 error", "better": "lower"},
            "p*_ratio1": {"about": "time per step relative to ratio 1", "better": "lower"},
            "best_epoch": {"about": "epoch of the best validation loss", "better": "none"},
        },
        "options": {"gain": "gain to report", "err": "error to report"},
        "run": run,
    },
    {
        "name": "glos-skip",
        "description": "always skips",
        "metrics": {"x": {"about": "never measured", "better": "lower"}},
        "run": run_skip,
    },
]
"""

DOWN, UP = "\u2193", "\u2191"


@pytest.fixture
def glos_root(fake_root):
    """The fake tree plus package ``glos``: benchmarks with a glossary and targets."""
    write_tree(fake_root, {"glos/__init__.py": "", "glos/bench.py": GLOS_BENCH})
    return fake_root


def _bench(references=None, metrics=None) -> Benchmark:
    return Benchmark(
        name="t", description="", datasets=(), references=references or {},
        run=lambda ctx: {}, source=Path("bench.py"), package="x", metrics=metrics,
    )  # fmt: skip


def _text_rows(table: str) -> dict[str, list[str]]:
    """Rows of a ``text_table`` (first line header, second the rule) keyed by the first cell."""
    lines = table.splitlines()
    rule = lines[1]
    starts = [0] + [m.end() for m in re.finditer(r"-  ", rule)]
    rows = {}
    for line in [lines[0], *lines[2:]]:
        if not line or line.startswith(("[", "better:", "vs reference:")):
            continue
        cells = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None])]
        rows[cells[0]] = cells
    return rows


def _run_dirs(out: Path, name: str) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and p.name.startswith(name + "-2"))


# registry -----------------------------------------------------------------------------------


def test_registry_parses_metrics_and_targets_and_warns_on_malformed(tmp_path):
    root = write_tree(
        tmp_path / "pkgs",
        {
            "m/bench.py": """
                def run(ctx):
                    return {}

                BENCHMARKS = [
                    {"name": "plain", "run": run},
                    {"name": "good", "run": run, "metrics": {
                        "p*_ratio1": {"about": " time ratio ", "better": "lower"},
                        "psnr": {"about": "PSNR, dB", "better": "higher"},
                        "n": {"about": "count", "better": "none"},
                    }},
                    {"name": "bad-type", "run": run, "metrics": ["psnr"]},
                    {"name": "bad-items", "run": run, "metrics": {
                        "": {"about": "empty", "better": "lower"},
                        3: {"about": "int", "better": "lower"},
                        "s": "a string",
                        "b": {"about": "b", "better": "up"},
                        "c": {"about": 4, "better": "lower"},
                        "ok": {"about": "fine", "better": "higher"},
                    }},
                    {"name": "targets", "run": run, "references": {
                        "x": {"value": 1, "source": "s", "target": ">="},
                        "y": {"value": 2.5, "source": "s", "target": "<="},
                        "z": {"value": 3, "source": "s", "target": "=="},
                        "w": {"value": 4, "source": "s"},
                        "v": {"value": 5, "source": "s", "target": None},
                    }},
                ]
            """
        },
    )
    reg = discover([root])
    b = reg.benchmarks
    assert b["plain"].metrics is None and b["bad-type"].metrics is None
    assert b["good"].metrics == {
        "p*_ratio1": MetricDoc(about="time ratio", better="lower"),
        "psnr": MetricDoc(about="PSNR, dB", better="higher"),
        "n": MetricDoc(about="count", better="none"),
    }
    assert list(b["good"].metrics) == ["p*_ratio1", "psnr", "n"]  # declaration order kept
    assert b["bad-items"].metrics == {
        "b": MetricDoc(about="b", better="none"),
        "c": MetricDoc(about="", better="lower"),
        "ok": MetricDoc(about="fine", better="higher"),
    }
    refs = b["targets"].references
    assert refs["x"] == Reference(value=1.0, source="s", target=">=")
    assert refs["y"].target == "<=" and refs["z"].target is None and refs["z"].value == 3.0
    assert refs["w"].target is None and refs["v"].target is None
    assert len(reg.warnings) == 7, reg.warnings
    w = reg.warnings
    assert "'metrics' must be a dict, got list" in w[0]
    assert "''" in w[1] and "3" in w[2] and "'s'" in w[3]
    assert "'better' of metric 'b'" in w[4] and "'up'" in w[4]
    assert "'about' of metric 'c'" in w[5]
    assert "'target'" in w[6] and "'z'" in w[6] and "'=='" in w[6]


def test_describe_metric_first_matching_pattern_wins():
    glossary = {
        "p*_ratio1": MetricDoc("ratio", "lower"),
        "p16_*": MetricDoc("p16", "higher"),
        "best_epoch": MetricDoc("epoch", "none"),
        "*": MetricDoc("anything else", "none"),
    }
    bench = _bench(metrics=glossary)
    assert describe_metric(bench, "p16_s4d_ratio1").about == "ratio"  # matches 1st, 2nd and 4th
    assert describe_metric(bench, "p16_s4d_ratio2").about == "p16"
    assert describe_metric(bench, "best_epoch").about == "epoch"
    assert describe_metric(bench, "zzz").about == "anything else"
    narrow = _bench(metrics={"P*": MetricDoc("upper", "lower"), "psnr?": MetricDoc("q", "higher")})
    assert describe_metric(narrow, "p16") is None  # case-sensitive
    assert describe_metric(narrow, "psnr1").about == "q" and describe_metric(narrow, "psnr") is None
    assert describe_metric(_bench(metrics=None), "p16_s4d_ratio1") is None
    assert describe_metric(_bench(metrics={}), "p16_s4d_ratio1") is None


# console table ------------------------------------------------------------------------------


def test_console_table_targets_met_and_not_met_in_both_directions():
    refs = {
        "gain_hi": Reference(1.0, "project target: 1 dB", ">="),
        "gain_lo": Reference(1.0, "project target: 1 dB", ">="),
        "err_lo": Reference(0.05, "project target: 5 %", "<="),
        "err_hi": Reference(0.05, "project target: 5 %", "<="),
        "psnr": Reference(30.0, "Paper 2024, Table 3"),
        "unmeasured": Reference(2.0, "Paper 2024, Table 3"),
    }
    glossary = {"gain_*": MetricDoc("gain", "higher"), "err_*": MetricDoc("error", "lower")}
    metrics = {
        "gain_hi": 5.813, "gain_lo": 0.4, "err_lo": 0.04, "err_hi": 0.07, "psnr": 27.0,
        "steps": 12.0,
    }  # fmt: skip
    table = metrics_table(_bench(refs, glossary), metrics)
    lines = table.splitlines()
    rows = _text_rows(table)
    assert rows["metric"] == ["metric", "value", "better", "reference", "vs reference"]
    assert rows["gain_hi"] == ["gain_hi", "5.813", UP, ">= 1 [1]", "met"]
    assert rows["gain_lo"] == ["gain_lo", "0.4", UP, ">= 1 [1]", "NOT met"]
    assert rows["err_lo"] == ["err_lo", "0.04", DOWN, "<= 0.05 [2]", "met"]
    assert rows["err_hi"] == ["err_hi", "0.07", DOWN, "<= 0.05 [2]", "NOT met"]
    assert rows["psnr"] == ["psnr", "27", "", "30 [3]", "0.9x"]  # a published figure: ratio
    assert rows["steps"] == ["steps", "12", "", "-", "-"]  # no glossary entry, no reference
    assert rows["unmeasured"] == ["unmeasured", "-", "", "2 [3]", "-"]
    # each source once, as a numbered footnote under the table; no source column
    assert [line for line in lines if line.startswith("[")] == [
        "[1] project target: 1 dB", "[2] project target: 5 %", "[3] Paper 2024, Table 3",
    ]  # fmt: skip
    assert "source" not in lines[0]
    assert any(line.startswith("better: ") and "lower is better" in line for line in lines)
    assert max(len(line) for line in lines) <= 100


def test_console_table_threshold_exactly_met_and_long_source_wrapped():
    refs = {
        "a": Reference(1.0, "x " * 80, ">="),
        "b": Reference(2.0, "y", "<="),
    }
    table = metrics_table(_bench(refs), {"a": 1.0, "b": 2.0})
    rows = _text_rows(table)
    assert rows["a"][-1] == "met" and rows["b"][-1] == "met"
    assert "better" not in rows["metric"]  # no glossary: the direction column is left out
    assert max(len(line) for line in table.splitlines()) <= 100
    assert "vs reference: met / NOT met for a target (>=, <=)" in table.splitlines()


def test_console_table_without_references_has_no_reference_columns():
    glossary = {"loss": MetricDoc("training loss", "lower")}
    table = metrics_table(_bench({}, glossary), {"loss": 0.5, "n": 3.0})
    rows = _text_rows(table)
    assert rows["metric"] == ["metric", "value", "better"]
    assert rows["loss"] == ["loss", "0.5", DOWN] and rows["n"] == ["n", "3", ""]
    assert "reference" not in table and "[1]" not in table
    plain = metrics_table(_bench(), {"n": 3.0})  # neither references nor glossary
    assert _text_rows(plain)["metric"] == ["metric", "value"]
    words = metrics_table(_bench({}, glossary), {"loss": 0.5}, encoding="ascii")
    assert _text_rows(words)["loss"] == ["loss", "0.5", "lower"]  # no arrows on an ASCII console


def test_run_prints_the_table_and_info_prints_the_glossary(glos_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    assert main(["run", "glos-a", "--out", str(out_root), "-o", "gain=0.4"]) == 0
    out = capsys.readouterr().out
    rows = _text_rows(out[out.index("metric ") :].split("\nok in ")[0])
    assert rows["psnr_gain_r8"][1:] == ["0.4", UP, ">= 1 [1]", "NOT met"]
    assert rows["rel_err"][1:] == ["0.04", DOWN, "<= 0.05 [2]", "met"]
    assert rows["p16_s4d_ratio1"][1:] == ["234.8", DOWN, "200 [3]", f"{234.8 / 200:.3g}x"]
    assert rows["best_epoch"][2] == "" and rows["extra"][2] == ""
    (run_dir,) = _run_dirs(out_root, "glos-a")
    assert f"what each metric means: {run_dir / 'README.md'}" in out
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["references"]["rel_err"]["target"] == "<="
    assert "target" not in record["references"]["p16_s4d_ratio1"]
    assert record["glossary"]["p*_ratio1"] == {
        "about": "time per step relative to ratio 1", "better": "lower",
    }  # fmt: skip

    assert main(["info", "glos-a"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    i_opt = next(i for i, line in enumerate(lines) if line.startswith("options"))
    i_met = next(i for i, line in enumerate(lines) if line.startswith("metrics ("))
    i_ref = next(i for i, line in enumerate(lines) if line.startswith("references"))
    assert i_opt < i_met < i_ref
    glossary = _text_rows("\n".join(lines[i_met + 1 : i_ref]))
    assert glossary["metric"] == ["metric", "better", "about"]
    assert glossary["psnr_*"] == ["psnr_*", UP, "PSNR gain over L+S at R = 8, dB"]
    assert glossary["best_epoch"] == ["best_epoch", "", "epoch of the best validation loss"]
    ref_row = next(line for line in lines if line.startswith("psnr_gain_r8 "))
    assert ">= 1" in ref_row and "project target: 1 dB" in ref_row
    assert main(["info", "beta-one"]) == 0
    assert "metrics    not described" in capsys.readouterr().out


# run directory README.md --------------------------------------------------------------------


def test_run_dir_readme_describes_settings_and_metrics(glos_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    argv = ["run", "glos-a", "--quick", "--seed", "5", "--out", str(out_root)]
    assert main([*argv, "-o", "gain=0.4", "-o", "err=0.07"]) == 0
    (run_dir,) = _run_dirs(out_root, "glos-a")
    text = (run_dir / "README.md").read_text()
    assert text.startswith("# glos-a: ok\n\nglossary, targets and a published figure\n")
    settings, metrics = md_tables(text)
    s = {row[0]: row[1] for row in settings[1:]}
    assert s["status"].startswith("ok in ")
    assert s["command"] == f"`sciml-bench {' '.join(argv)} -o gain=0.4 -o err=0.07`"
    assert s["size"] == "quick" and s["seed"] == "5" and s["device"] == "cpu"
    assert s["options (-o)"] == "gain=0.4, err=0.07"
    assert s["versions"].startswith("sciml ")
    assert metrics[0] == ["metric", "value", "better", "description", "reference", "vs reference"]
    m = {row[0]: row[1:] for row in metrics[1:]}
    assert m["`psnr_gain_r8`"] == ["0.4", "higher", "PSNR gain over L+S at R = 8, dB",
                                   ">= 1 [1]", "NOT met"]  # fmt: skip
    assert m["`rel_err`"] == ["0.07", "lower", "relative L2 error", "<= 0.05 [2]", "NOT met"]
    assert m["`p16_s4d_ratio1`"][1:] == ["lower", "time per step relative to ratio 1",
                                         "200 [3]", f"{234.8 / 200:.3g}x"]  # fmt: skip
    assert m["`best_epoch`"][1:3] == ["", "epoch of the best validation loss"]
    assert m["`extra`"][1:3] == ["", "(no description)"]
    assert "- [1] project target: 1 dB" in text and "- [3] Paper 2024, Table 3" in text
    for name in ["config.json", "metrics.json", "log.txt"]:
        assert f"- `{name}`" in text


def test_run_dir_readme_for_skipped_and_failed_runs(glos_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    assert main(["run", "glos-skip", "--out", str(out_root)]) == 0
    assert main(["run", "alpha-fail", "--out", str(out_root)]) == 1
    (skip_dir,) = _run_dirs(out_root, "glos-skip")
    text = (skip_dir / "README.md").read_text()
    assert text.startswith("# glos-skip: skipped\n")
    assert "| status | skipped: needs the phantom data |" in text
    assert "No metrics were recorded (the run was skipped)." in text
    (fail_dir,) = _run_dirs(out_root, "alpha-fail")
    text = (fail_dir / "README.md").read_text()
    assert text.startswith("# alpha-fail: failed\n")
    status = next(line for line in text.splitlines() if line.startswith("| status |"))
    assert "failed after" in status and "ValueError: boom" in status and "log.txt" in status
    assert "No metrics were recorded (the run failed)." in text


# report -------------------------------------------------------------------------------------


@pytest.fixture
def three_runs(glos_root, tmp_path, capsys):
    """``runs/``: glos-a twice (quick seed 0; full seed 5 with options), beta-one once."""
    out_root = tmp_path / "runs"
    assert main(["run", "glos-a", "--quick", "--out", str(out_root)]) == 0
    argv = ["run", "glos-a", "--seed", "5", "--out", str(out_root)]
    assert main([*argv, "-o", "gain=0.4", "-o", "err=0.07"]) == 0
    assert main(["run", "beta-one", "--out", str(out_root)]) == 0
    capsys.readouterr()
    return out_root


def test_report_one_section_per_benchmark_runs_as_columns(three_runs, capsys):
    assert main(["report", str(three_runs)]) == 0
    out = capsys.readouterr().out
    text = (three_runs / "report.md").read_text()
    assert text in out and f"wrote {three_runs / 'report.md'}" in out
    assert "3 runs of 2 benchmarks: 3 ok, 0 failed, 0 skipped." in text
    assert [line for line in text.splitlines() if line.startswith("## ")] == [
        "## beta-one", "## glos-a",
    ]  # fmt: skip
    settings, values = md_tables(md_section(text, "glos-a"))
    assert settings[0] == [
        "run", "status", "wall (s)", "size", "seed", "device", "options", "sciml",
    ]  # fmt: skip
    ids = [row[0] for row in settings[1:]]
    dirs = _run_dirs(three_runs, "glos-a")
    assert ids == [d.name.removeprefix("glos-a-") for d in dirs]  # oldest first
    assert [row[1:5] for row in settings[1:]][0][0] == "ok"
    assert [(r[3], r[4], r[6]) for r in settings[1:]] == [
        ("quick", "0", "-"), ("full", "5", "gain=0.4, err=0.07"),
    ]  # fmt: skip
    assert values[0] == ["metric", "better", *ids, "reference", "latest vs reference"]
    v = {row[0]: row[1:] for row in values[1:]}
    assert list(v) == ["psnr_gain_r8", "rel_err", "p16_s4d_ratio1", "best_epoch", "extra"]
    # the reference is checked against the latest run (the second column): both targets missed
    assert v["psnr_gain_r8"] == [UP, "5.8", "0.4", ">= 1 [1]", "NOT met"]
    assert v["rel_err"] == [DOWN, "0.04", "0.07", "<= 0.05 [2]", "NOT met"]
    assert v["p16_s4d_ratio1"] == [DOWN, "234.8", "234.8", "200 [3]", f"{234.8 / 200:.3g}x"]
    assert v["extra"] == ["", "1", "1", "-", "-"]
    section = md_section(text, "glos-a")
    assert "- [2] project target: below 5 %" in section
    assert "- `p*_ratio1`: time per step relative to ratio 1" in section
    # beta-one: no glossary, no references -> neither a direction nor reference columns
    b_settings, b_values = md_tables(md_section(text, "beta-one"))
    assert len(b_settings) == 2
    assert b_values[0] == ["metric", b_settings[1][0]] and b_values[1] == ["beta_metric", "1"]


def test_report_benchmark_and_latest_filters(three_runs, capsys):
    assert main(["report", str(three_runs), "--benchmark", "glos-a"]) == 0
    text = (three_runs / "report.md").read_text()
    assert "2 runs of 1 benchmark" in text and "Selected with --benchmark glos-a." in text
    assert "## glos-a" in text and "## beta-one" not in text

    assert main(["report", str(three_runs), "--latest"]) == 0
    text = (three_runs / "report.md").read_text()
    assert "2 runs of 2 benchmarks" in text and "Selected with --latest." in text
    settings, values = md_tables(md_section(text, "glos-a"))
    assert len(settings) == 2 and settings[1][4] == "5"  # the newest run only
    assert values[0][2:3] == [settings[1][0]] and len(values[0]) == 5

    argv = ["report", str(three_runs), "--benchmark", "beta-one", "--benchmark", "glos-a"]
    assert main([*argv, "--latest"]) == 0
    text = (three_runs / "report.md").read_text()
    assert "## glos-a" in text and "## beta-one" in text and "2 runs of 2 benchmarks" in text
    capsys.readouterr()

    (three_runs / "report.md").unlink()
    assert main(["report", str(three_runs), "--benchmark", "glos"]) == 2
    err = capsys.readouterr().err
    assert "no runs of benchmark 'glos'" in err and "did you mean glos-a" in err
    assert not (three_runs / "report.md").exists()


def test_report_without_runs_writes_nothing(tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    (empty / "sub" / "config.json").write_text("{}")
    assert main(["report", str(empty)]) == 1
    out, err = capsys.readouterr()
    assert "no runs (metrics.json files) found" in err and "not written" in err
    assert "wrote" not in out and not (empty / "report.md").exists()


def test_report_reads_runs_written_before_glossaries_and_targets(tmp_path, capsys):
    """A metrics.json without ``glossary`` or ``target`` (older runs) and without config.json
    still reports: blank direction, ratio against the reference, settings from metrics.json."""
    run = tmp_path / "runs" / "old-20250101-000000"
    run.mkdir(parents=True)
    record = {
        "name": "old", "status": "ok", "reason": "", "metrics": {"m": 2.0},
        "references": {"m": {"value": 4.0, "source": "S"}}, "wall_time_s": 1.25,
        "quick": True, "device": "cpu", "seed": 3, "start_time": "2025-01-01T00:00:00+00:00",
    }  # fmt: skip
    (run / "metrics.json").write_text(json.dumps(record))
    assert main(["report", str(tmp_path / "runs")]) == 0
    settings, values = md_tables((tmp_path / "runs" / "report.md").read_text())
    assert settings[1] == ["20250101-000000", "ok", "1.2", "quick", "3", "cpu", "?", "-"]
    assert values[0] == ["metric", "20250101-000000", "reference", "latest vs reference"]
    assert values[1] == ["m", "2", "4 [1]", "0.5x"]
