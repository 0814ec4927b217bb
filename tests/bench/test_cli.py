"""End-to-end tests of ``sciml-bench`` through ``main([...])`` on a fake package tree."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

import sciml.bench.registry as registry
from sciml.bench import main, parse_options

from .conftest import md_section, md_tables, write_tree


def _run_dirs(out: Path, name: str) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and p.name.startswith(name + "-2"))


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_list_shows_benchmarks_datasets_and_warns(fake_root, capsys):
    assert main(["list"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    for name, desc in [("alpha-ok", "always works"), ("beta-one", "beta benchmark")]:
        row = next(line for line in lines if line.startswith(name + " "))
        assert desc in row
    bench_section = out.split("Datasets")[0].splitlines()
    assert sum(line.startswith("alpha-") for line in bench_section) == 6
    assert "Benchmarks (7):" in out and "Datasets (1):" in out
    data_row = next(line for line in lines if line.startswith("alpha-data "))
    assert "timeseries" in data_row and "quick/full" in data_row
    # the broken file is one warning line naming it; list still succeeds
    warn = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warn) == 1
    assert str(fake_root / "gamma" / "bench.py") in warn[0] and "ImportError" in warn[0]
    # the method package's __init__ was not imported by discovery
    assert "fakesci.alpha" not in sys.modules


def test_info_benchmark_dataset_and_unknown(fake_root, capsys):
    assert main(["info", "alpha-ok"]) == 0
    out = capsys.readouterr().out
    assert str(fake_root / "alpha" / "bench.py") in out
    assert "always works" in out and "alpha-data" in out
    ref_line = next(line for line in out.splitlines() if line.startswith("sum "))
    assert "200" in ref_line and "Made-up et al. 2024, Table 1" in ref_line

    assert main(["info", "alpha-data"]) == 0
    out = capsys.readouterr().out
    assert "fakesci.alpha.core:make_data" in out and '{"n": 400}' in out
    assert "used by    alpha-ok" in out

    assert main(["info", "alpha-okk"]) == 2
    err = capsys.readouterr().err
    assert "unknown benchmark or dataset 'alpha-okk'" in err and "alpha-ok" in err


def test_run_ok_writes_all_files(fake_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    rc = main(["run", "alpha-ok", "--quick", "--seed", "7", "--out", str(out_root)])
    assert rc == 0
    stdout = capsys.readouterr().out
    (run_dir,) = _run_dirs(out_root, "alpha-ok")
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "README.md", "config.json", "log.txt", "metrics.json",
    ]  # fmt: skip

    config = _load(run_dir / "config.json")
    assert config["name"] == "alpha-ok" and config["quick"] is True and config["seed"] == 7
    assert config["device"] == "cpu" and config["options"] == {}
    assert config["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert {"sciml", "torch"} <= set(config["versions"]) and config["hostname"]
    assert config["start_time"]

    metrics = _load(run_dir / "metrics.json")
    assert metrics["status"] == "ok" and metrics["reason"] == ""
    # random was seeded with --seed before run(ctx): same draw as a fresh Random(7)
    assert metrics["metrics"]["rand"] == random.Random(7).random()
    assert metrics["metrics"]["sum"] == float(sum(range(20)))
    assert metrics["references"]["sum"] == {
        "value": 200.0,
        "source": "Made-up et al. 2024, Table 1",
    }
    assert metrics["wall_time_s"] >= 0.0

    log = (run_dir / "log.txt").read_text()
    assert "alpha says 42" in log
    assert "loop: 2/20 (10%)" in log and "loop: 20/20 (100%)" in log
    assert sum("loop:" in line for line in log.splitlines()) == 10
    # console: ctx.log is tee'd; metric table with reference, ratio and a footnoted source
    assert "alpha says 42" in stdout
    lines = stdout.splitlines()
    sum_row = next(line for line in lines if line.startswith("sum "))
    assert "190" in sum_row and "200 [1]" in sum_row and f"{190 / 200:.3g}x" in sum_row
    assert "[1] Made-up et al. 2024, Table 1" in lines  # the source, once, under the table
    half_row = next(line for line in lines if line.startswith("half "))
    assert f"{0.5 / 0.25:.3g}x" in half_row and "0.25 [2]" in half_row
    assert "[2] Ref B" in lines and "[3] Ref C" in lines
    missing_row = next(line for line in lines if line.startswith("missing "))
    assert missing_row.split()[1] == "-"  # reference without a measured value
    # the method package is imported only when the benchmark runs
    assert "fakesci.alpha" in sys.modules


def test_run_seeds_numpy_and_quick_flag(fake_root, tmp_path):
    np = pytest.importorskip("numpy")
    out_root = tmp_path / "runs"
    assert main(["run", "alpha-seeded", "--seed", "3", "--out", str(out_root)]) == 0
    (run_dir,) = _run_dirs(out_root, "alpha-seeded")
    m = _load(run_dir / "metrics.json")["metrics"]
    assert m["np"] == float(np.random.RandomState(3).rand())
    assert m["py"] == random.Random(3).random()
    assert m["quick"] == 0.0


def test_run_failure_exit_code_and_one_line_reason(fake_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    rc = main(["run", "alpha-fail", "--out", str(out_root)])
    assert rc == 1
    err = capsys.readouterr().err.strip().splitlines()
    err_lines = [line for line in err if not line.startswith("warning: ")]
    assert len(err_lines) == 1
    assert "alpha-fail failed: ValueError: boom" in err_lines[0]
    assert "second line" not in err_lines[0]
    (run_dir,) = _run_dirs(out_root, "alpha-fail")
    assert str(run_dir / "log.txt") in err_lines[0]
    log = (run_dir / "log.txt").read_text()
    assert "Traceback (most recent call last)" in log and "second line of the message" in log
    assert "about to fail" in log
    metrics = _load(run_dir / "metrics.json")
    assert metrics["status"] == "failed" and metrics["metrics"] == {}
    assert metrics["reason"] == "ValueError: boom"


def test_run_skipped_is_not_failure(fake_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    assert main(["run", "alpha-skip", "beta-one", "--out", str(out_root)]) == 0
    out = capsys.readouterr().out
    (run_dir,) = _run_dirs(out_root, "alpha-skip")
    metrics = _load(run_dir / "metrics.json")
    assert metrics["status"] == "skipped"
    assert metrics["reason"] == "needs the ETTh1 csv (-o etth1_path=...)"
    assert "skipped: needs the ETTh1 csv" in out
    summary = out.split("Summary:")[1].splitlines()
    assert any(line.startswith("alpha-skip") and " skipped " in line for line in summary)
    assert any(line.startswith("beta-one") and " ok " in line for line in summary)


def test_run_all_continues_after_failure(fake_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    rc = main(["run", "all", "--quick", "--out", str(out_root), "-o", "lr=0.1", "-o", "layers=[1]"])
    assert rc == 1
    out, err = capsys.readouterr()
    names = ["alpha-ok", "alpha-fail", "alpha-skip", "alpha-fig", "alpha-opts", "alpha-seeded"]
    names.append("beta-one")
    statuses = {}
    for name in names:
        (run_dir,) = _run_dirs(out_root, name)
        statuses[name] = _load(run_dir / "metrics.json")["status"]
    assert statuses == {
        "alpha-ok": "ok", "alpha-fail": "failed", "alpha-skip": "skipped", "alpha-fig": "ok",
        "alpha-opts": "ok", "alpha-seeded": "ok", "beta-one": "ok",
    }  # fmt: skip
    summary = out.split("Summary:")[1].strip().splitlines()[2:]
    assert [line.split()[0] for line in summary] == names  # registration order
    assert "1 of 7 benchmarks failed" in err


def test_run_saves_png_figure(fake_root, tmp_path):
    out_root = tmp_path / "runs"
    assert main(["run", "alpha-fig", "--out", str(out_root)]) == 0
    (run_dir,) = _run_dirs(out_root, "alpha-fig")
    png = run_dir / "line.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[:2] == (1 * 120, 2 * 120)  # figsize (2, 1) inches at dpi 120
    assert _load(run_dir / "metrics.json")["figures"] == ["line.png"]


def test_options_go_to_ctx_parsed_as_json(fake_root, tmp_path):
    out_root = tmp_path / "runs"
    argv = ["run", "alpha-opts", "--out", str(out_root), "-o", "lr=1e-3", "-o", "layers=[4, 8, 16]"]
    argv += ["-o", "path=/data/etth1.csv", "-o", "expr=a=b", "-o", "flag=true"]
    assert main(argv) == 0
    (run_dir,) = _run_dirs(out_root, "alpha-opts")
    options = _load(run_dir / "config.json")["options"]
    assert options == {
        "lr": 1e-3, "layers": [4, 8, 16], "path": "/data/etth1.csv", "expr": "a=b", "flag": True,
    }  # fmt: skip
    assert _load(run_dir / "metrics.json")["metrics"] == {"lr": 1e-3, "n_layers": 3.0}


def test_parse_options_unit():
    assert parse_options(["a=1", "b=1.5", "c=x y", "d=null", 'e={"k": [1]}', "f=", "a=2"]) == {
        "a": 2, "b": 1.5, "c": "x y", "d": None, "e": {"k": [1]}, "f": "",
    }  # fmt: skip


@pytest.mark.parametrize("bad", ["novalue", "=3"])
def test_bad_option_is_usage_error(fake_root, tmp_path, capsys, bad):
    assert main(["run", "beta-one", "--out", str(tmp_path / "runs"), "-o", bad]) == 2
    assert "-o expects key=value" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_unknown_benchmark_and_bad_device(fake_root, tmp_path, capsys):
    assert main(["run", "beta-on", "--out", str(tmp_path / "runs")]) == 2
    assert "did you mean beta-one" in capsys.readouterr().err
    assert main(["run", "beta-one", "--device", "tpu"]) == 2
    assert "expected cpu, cuda or cuda:N" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["--help"]) == 0


def test_cuda_requested_without_cuda_exits_2(fake_root, tmp_path, capsys):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    assert main(["run", "beta-one", "--device", "cuda", "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    err = [line for line in err if not line.startswith("warning: ")]
    assert len(err) == 1 and "CUDA is not available" in err[0]
    assert not (tmp_path / "runs").exists()


def test_duplicate_names_error_names_both_files(tmp_path, monkeypatch, capsys):
    run = "def run(ctx):\n    return {}\n"
    root = write_tree(
        tmp_path / "dup",
        {
            "one/bench.py": run + 'BENCHMARKS = [{"name": "same", "run": run}]\n',
            "two/bench.py": run + 'BENCHMARKS = [{"name": "same", "run": run}]\n',
        },
    )
    monkeypatch.setattr(registry, "default_roots", lambda: [root])
    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "duplicate benchmark name 'same'" in err
    assert str(root / "one" / "bench.py") in err and str(root / "two" / "bench.py") in err


def test_report_over_two_runs(fake_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    assert main(["run", "alpha-seeded", "--seed", "1", "--out", str(out_root / "a")]) == 0
    assert main(["run", "alpha-seeded", "--seed", "2", "--out", str(out_root / "b")]) == 0
    assert main(["run", "alpha-fail", "--out", str(out_root / "b")]) == 1
    capsys.readouterr()
    assert main(["report", str(out_root)]) == 0
    out = capsys.readouterr().out
    text = (out_root / "report.md").read_text()
    assert text in out
    assert "3 runs of 2 benchmarks: 2 ok, 1 failed, 0 skipped." in text
    # one section per benchmark: the runs' settings, then metrics as rows and runs as columns
    seeded = md_section(text, "alpha-seeded")
    settings, values = md_tables(seeded)
    assert settings[0] == [
        "run", "status", "wall (s)", "size", "seed", "device", "options", "sciml",
    ]  # fmt: skip
    assert [row[4] for row in settings[1:]] == ["1", "2"]
    assert all(row[1] == "ok" and row[3] == "full" for row in settings[1:])
    assert [row[0].split("/")[0] for row in settings[1:]] == ["a", "b"]
    header = values[0]
    assert header[0] == "metric" and header[1:] == [row[0] for row in settings[1:]]
    assert [row[0] for row in values[1:]] == ["np", "py", "quick"]
    py_values = [float(v) for v in next(r for r in values if r[0] == "py")[1:]]
    assert py_values == [float(f"{random.Random(s).random():.4g}") for s in (1, 2)]
    fail = md_section(text, "alpha-fail")
    (fail_settings,) = md_tables(fail)
    assert len(fail_settings) == 2 and fail_settings[1][1] == "failed: ValueError: boom"
    assert "No metrics recorded." in fail


def test_report_empty_and_missing_dir(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "no runs" in err and out == ""
    assert not (tmp_path / "report.md").exists()
    assert main(["report", str(tmp_path / "nope")]) == 2
    assert not (tmp_path / "nope").exists()


class _FakeData:
    """Stands in for sciml.data: records calls, writes a file the way get_dataset would."""

    def __init__(self):
        self.registered = []

    def register_dataset(self, name, fn, sizes=None, kind=None, description="", *, version=0):
        self.registered.append((name, fn, sizes, kind, description, version))

    def register_declared(self, entries):
        for e in entries:
            self.register_dataset(
                e["name"],
                e["generator"],
                sizes=e["sizes"],
                kind=e.get("kind"),
                description=e.get("description", ""),
                version=e.get("version", 0),
            )

    def data_root(self, root=None):
        return Path(root if root is not None else "default-data-root")

    def dataset_path(self, name, size="quick", *, seed=0, root=None):
        return self.data_root(root) / f"{name}-{size}-{seed}.h5"

    def get_dataset(self, name, size="quick", *, seed=0, root=None, overwrite=False, **kw):
        assert self.registered and self.registered[-1][0] == name
        n = self.registered[-1][2][size]["n"]
        path = self.dataset_path(name, size, seed=seed, root=root)
        path.write_bytes(b"x" * (n * 1000 + seed))
        return path


def test_data_generate_registers_and_reports_size(fake_root, tmp_path, monkeypatch, capsys):
    fake = _FakeData()
    monkeypatch.setitem(sys.modules, "sciml.data", fake)
    out = tmp_path / "data"
    out.mkdir()
    rc = main(
        ["data", "generate", "alpha-data", "--size", "full", "--seed", "5", "--out", str(out)]
    )
    assert rc == 0
    assert fake.registered == [
        (
            "alpha-data",
            "fakesci.alpha.core:make_data",
            {"quick": {"n": 4}, "full": {"n": 400}, "paper": {"n": 40}},
            "timeseries",
            "four numbers",
            0,
        )
    ]
    line = capsys.readouterr().out.strip()
    size = (400 * 1000 + 5) / 1024
    assert line == f"{out / 'alpha-data-full-5.h5'}  ({size:.1f} KiB, generated)"
    assert main(["data", "generate", "nope"]) == 2
    assert main(["data", "generate", "alpha-data", "--size", "huge"]) == 2
    assert "available: quick, full, paper" in capsys.readouterr().err
    # sizes beyond quick/full that a dataset registers can be generated too
    assert main(["data", "generate", "alpha-data", "--size", "paper", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(str(out / "alpha-data-paper-0.h5"))


def test_data_generate_with_real_sciml_data(fake_root, tmp_path, capsys):
    sdata = pytest.importorskip("sciml.data")
    if not hasattr(sdata, "register_dataset"):
        pytest.skip("sciml.data does not export register_dataset yet")
    h5py = pytest.importorskip("h5py")
    np = pytest.importorskip("numpy")
    out = tmp_path / "data"
    try:
        argv = ["data", "generate", "alpha-data", "--seed", "2", "--out", str(out)]
        assert main(argv) == 0
        line = capsys.readouterr().out.strip()
        path = Path(line.split("  (")[0])
        assert path.is_file() and path.is_relative_to(out)
        size = path.stat().st_size
        assert line.endswith((f"({size / 1024:.1f} KiB, generated)", f"({size} B, generated)"))
        with h5py.File(path, "r") as f:
            x = f["train/x"][()]
        expected = np.arange(12, dtype=np.float64).reshape(4, 3) + 2
        np.testing.assert_array_equal(x, expected)
        assert main(argv) == 0  # cached: same file again
        assert capsys.readouterr().out.strip() == line.replace("generated", "reused from cache")
    finally:
        sdata.unregister_dataset("alpha-data")


def test_out_that_cannot_hold_run_directories_is_a_usage_error(fake_root, tmp_path, capsys):
    """``--out`` naming a file, or a folder below a file, is exit code 2 with a message naming
    ``--out`` (it used to escape as a FileExistsError / NotADirectoryError traceback)."""
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    for out in (afile, afile / "sub"):
        assert main(["run", "alpha-ok", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}" in err and "Traceback" not in err
    assert afile.read_text() == "not a directory"


def test_benchmark_calling_sys_exit_is_recorded_as_failed(fake_root, tmp_path, capsys):
    """``sys.exit`` inside ``run(ctx)`` is a failed run with a complete metrics.json, and the
    next benchmark still runs (it used to leave no metrics.json and end the whole command)."""
    write_tree(
        fake_root,
        {
            "eps/__init__.py": "",
            "eps/bench.py": """
                import sys


                def run(ctx):
                    ctx.log("giving up")
                    sys.exit(3)


                BENCHMARKS = [{"name": "eps-exit", "description": "exits", "run": run}]
            """,
        },
    )
    out_root = tmp_path / "runs"
    assert main(["run", "eps-exit", "beta-one", "--out", str(out_root)]) == 1
    capsys.readouterr()
    (run_dir,) = _run_dirs(out_root, "eps-exit")
    record = _load(run_dir / "metrics.json")
    assert record["status"] == "failed" and record["reason"] == "SystemExit: 3"
    assert "giving up" in (run_dir / "log.txt").read_text()
    (beta,) = _run_dirs(out_root, "beta-one")
    assert _load(beta / "metrics.json")["status"] == "ok"


def test_report_skips_malformed_metrics_files_with_a_warning(fake_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    assert main(["run", "beta-one", "--out", str(out_root)]) == 0
    bad = {
        "str_metric": {"name": "x", "status": "ok", "metrics": {"a": "oops"}},
        "list_metrics": {"name": "y", "status": "ok", "metrics": [1, 2]},
        "bad_ref": {"name": "z", "status": "ok", "metrics": {}, "references": {"a": 3}},
    }
    for sub, data in bad.items():
        (out_root / sub).mkdir()
        (out_root / sub / "metrics.json").write_text(json.dumps(data))
    capsys.readouterr()
    assert main(["report", str(out_root)]) == 0
    out, err = capsys.readouterr()
    assert "1 run of 1 benchmark: 1 ok, 0 failed, 0 skipped." in out
    warned = [line for line in err.splitlines() if line.startswith("warning: skipping")]
    assert sorted(Path(line.split()[2]).parent.name for line in warned) == sorted(bad)


def test_runs_started_in_the_same_second_get_distinct_directories(tmp_path):
    """Eight runs of one benchmark started in the same second (threads racing on mkdir): eight
    fresh directories, ``<name>-<stamp>`` then ``-2`` … ``-8``."""
    import datetime as dt
    import threading

    from sciml.bench.runner import make_run_dir

    when = dt.datetime(2026, 1, 2, 3, 4, 5)
    got: list[Path] = []
    barrier = threading.Barrier(8)

    def go():
        barrier.wait()
        got.append(make_run_dir(tmp_path / "runs", "bench-x", when))

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stem = "bench-x-20260102-030405"
    assert sorted(p.name for p in got) == sorted([stem] + [f"{stem}-{i}" for i in range(2, 9)])
    assert all(p.is_dir() and not any(p.iterdir()) for p in got)


@pytest.mark.parametrize("raw", ["NaN", "Infinity", "-Infinity", "[1, NaN]"])
def test_non_finite_option_value_is_a_usage_error(fake_root, tmp_path, capsys, raw):
    """JSON's NaN/Infinity extensions used to reach the benchmark (and ``config.json`` as null)."""
    assert main(["run", "beta-one", "--out", str(tmp_path / "runs"), "-o", f"lr={raw}"]) == 2
    assert "-o lr: expected a finite value" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()
    assert parse_options(["lr=1e308", "s=NaNa"]) == {"lr": 1e308, "s": "NaNa"}  # still parsed
