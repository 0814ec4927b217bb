"""Usability of ``sciml-bench``: declared options, file modes, argument errors, broken pipes,
``--version``, sub-command error messages, name suggestions and data-generation messages."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import sciml
from sciml.bench import main
from sciml.bench.registry import discover

from .conftest import write_tree

REPO = Path(__file__).resolve().parents[2]

OPT_BENCH = """
def run(ctx):
    return {"n_options": float(len(ctx.options))}


def broken(seed, n):
    raise RuntimeError("generator bug")


BENCHMARKS = [
    {
        "name": "opt-a",
        "description": "declares two options",
        "options": {
            "epochs": "training epochs per model (default 3 quick / 30 full)",
            "models": "comma list of models (default all)",
        },
        "run": run,
    },
    {"name": "opt-b", "options": {"epochs": "epochs (default 1)"}, "run": run},
    {"name": "opt-none", "options": {}, "run": run},
]

DATASETS = [
    {"name": "opt-a", "generator": "fakesci.alpha.core:make_data", "sizes": {"quick": {"n": 2}},
     "kind": "timeseries", "description": "same name as a benchmark"},
    {"name": "opt-broken", "generator": "fakesci.opt.bench:broken", "sizes": {"quick": {"n": 2}},
     "kind": "timeseries"},
]
"""


@pytest.fixture
def opt_root(fake_root):
    """The fake tree plus package ``opt``: benchmarks that declare options."""
    write_tree(fake_root, {"opt/__init__.py": "", "opt/bench.py": OPT_BENCH})
    yield fake_root
    sdata = sys.modules.get("sciml.data")
    if sdata is not None and hasattr(sdata, "unregister_dataset"):
        for name in ("opt-a", "opt-broken"):
            sdata.unregister_dataset(name)


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith("warning: ")]


def _config(out_root: Path, name: str) -> dict:
    (run_dir,) = [p for p in out_root.iterdir() if p.name.startswith(name + "-2")]
    return json.loads((run_dir / "config.json").read_text())


# 1. declared options ------------------------------------------------------------------------


def test_registry_parses_options_and_warns_on_malformed(tmp_path):
    root = write_tree(
        tmp_path / "pkgs",
        {
            "m/bench.py": """
                def run(ctx):
                    return {}

                BENCHMARKS = [
                    {"name": "plain", "run": run},
                    {"name": "none", "run": run, "options": {}},
                    {"name": "two", "run": run, "options": {"lr": "step (default 1e-3)", "k": "k"}},
                    {"name": "bad-type", "run": run, "options": ["lr"]},
                    {"name": "bad-items", "run": run, "options": {"a b": "x", 3: "y", "ok": 4}},
                ]
            """
        },
    )
    reg = discover([root])
    b = reg.benchmarks
    assert b["plain"].options is None and b["none"].options == {}
    assert b["two"].options == {"lr": "step (default 1e-3)", "k": "k"}
    assert b["bad-type"].options is None
    assert b["bad-items"].options == {"ok": ""}
    assert len(reg.warnings) == 4
    assert "'options' must be a dict, got list" in reg.warnings[0]
    assert "'a b'" in reg.warnings[1] and "3" in reg.warnings[2] and "'ok'" in reg.warnings[3]


def test_misspelled_option_is_rejected_before_any_run_dir(opt_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    argv = ["run", "opt-a", "--out", str(out_root), "-o", "epoch=1", "-o", "models=x"]
    assert main(argv) == 2
    (line,) = _errors(capsys.readouterr().err)
    assert "benchmark 'opt-a' has no option 'epoch'" in line
    assert "did you mean 'epochs'?" in line and "valid options: epochs, models" in line
    assert main(["run", "opt-none", "--out", str(out_root), "-o", "epochs=1"]) == 2
    (line,) = _errors(capsys.readouterr().err)
    assert "benchmark 'opt-none' takes no options" in line and "epochs" in line
    assert not out_root.exists()


def test_declared_option_is_accepted(opt_root, tmp_path):
    out_root = tmp_path / "runs"
    assert main(["run", "opt-a", "--out", str(out_root), "-o", "epochs=2"]) == 0
    assert _config(out_root, "opt-a")["options"] == {"epochs": 2}


def test_several_benchmarks_share_options(opt_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    names = ["opt-a", "opt-b", "opt-none"]
    assert main(["run", *names, "--out", str(out_root), "-o", "modles=x"]) == 2
    (line,) = _errors(capsys.readouterr().err)
    assert "none of the 3 selected benchmarks has option 'modles'" in line
    assert "did you mean 'models'?" in line and "valid options: epochs, models" in line
    assert not out_root.exists()
    # declared by some: passed to all, with a note naming the ones that do not use it
    assert main(["run", *names, "--out", str(out_root), "-o", "models=x"]) == 0
    notes = [x for x in capsys.readouterr().err.splitlines() if "note:" in x]
    assert notes == ["sciml-bench: note: option 'models' is not used by opt-b, opt-none"]
    assert all(_config(out_root, n)["options"] == {"models": "x"} for n in names)


def test_benchmarks_without_declared_options_are_unchecked(opt_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    assert main(["run", "beta-one", "opt-b", "--out", str(out_root), "-o", "anything=1"]) == 0
    assert "note: option 'anything' is not used by opt-b" in capsys.readouterr().err
    assert _config(out_root, "beta-one")["options"] == {"anything": 1}


def test_info_shows_options_and_both_entries_of_a_shared_name(opt_root, capsys):
    assert main(["info", "opt-a"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("epochs "))
    assert "training epochs per model (default 3 quick / 30 full)" in row
    assert "benchmark  opt-a" in out and "dataset    opt-a" in out
    assert "fakesci.alpha.core:make_data" in out
    assert main(["info", "opt-none"]) == 0
    assert "options    none" in capsys.readouterr().out
    assert main(["info", "beta-one"]) == 0
    assert "options    not declared" in capsys.readouterr().out


@pytest.mark.parametrize("item", ["runs/x", "./out", "~/runs"])
def test_option_that_looks_like_a_path_hints_out(fake_root, tmp_path, capsys, item):
    assert main(["run", "beta-one", "--out", str(tmp_path / "runs"), "-o", item]) == 2
    assert "(did you mean --out PATH?)" in capsys.readouterr().err


# 2. file modes ------------------------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_written_files_follow_the_umask(fake_root, tmp_path, mask):
    from sciml.bench._atomic import atomic_write_text

    old = os.umask(mask)
    try:
        path = atomic_write_text(tmp_path / "a.txt", "x")
        assert main(["run", "alpha-fig", "--out", str(tmp_path / "runs")]) == 0
        (tmp_path / "plain.txt").write_text("x")
    finally:
        os.umask(old)
    expected = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    assert expected == 0o666 & ~mask
    assert stat.S_IMODE(path.stat().st_mode) == expected
    (run_dir,) = (tmp_path / "runs").iterdir()
    for name in ["config.json", "log.txt", "metrics.json", "line.png", "README.md"]:
        assert stat.S_IMODE((run_dir / name).stat().st_mode) == expected, name


# 3. argument errors -------------------------------------------------------------------------


def test_negative_seed_is_a_usage_error(fake_root, tmp_path, capsys):
    out_root = tmp_path / "runs"
    assert main(["run", "beta-one", "--seed", "-1", "--out", str(out_root)]) == 2
    assert "argument --seed: expected an int >= 0, got '-1'" in capsys.readouterr().err
    assert not out_root.exists()
    assert main(["data", "generate", "alpha-data", "--seed", "-1"]) == 2
    assert "argument --seed: expected an int >= 0" in capsys.readouterr().err


def test_seed_beyond_64_bits_is_a_usage_error(fake_root, tmp_path, capsys):
    """A seed that torch's seeding (2**64) or a dataset file's int64 attribute (2**63) cannot
    hold was accepted: the run was then recorded as failed (exit 1, 'Overflow when unpacking
    long long') and ``data generate`` ran the generator before the writer refused the seed."""
    out_root = tmp_path / "runs"
    for seed in (2**63, 2**64):
        assert main(["run", "alpha-seeded", "--seed", str(seed), "--out", str(out_root)]) == 2
        assert "argument --seed: expected an int below 2**63" in capsys.readouterr().err
        assert not out_root.exists()
        data = tmp_path / "data"
        argv = ["data", "generate", "alpha-data", "--seed", str(seed), "--out", str(data)]
        assert main(argv) == 2
        assert "argument --seed: expected an int below 2**63" in capsys.readouterr().err
        assert not data.exists()
    assert main(["run", "alpha-seeded", "--seed", str(2**63 - 1), "--out", str(out_root)]) == 0


def test_data_generate_bad_out_is_one_line_but_generator_bug_keeps_traceback(
    opt_root, tmp_path, capsys
):
    pytest.importorskip("h5py")
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["data", "generate", "alpha-data", "--out", str(afile)]) == 2
    err = capsys.readouterr().err
    assert f"--out {afile}: cannot create the output directory" in err and "Traceback" not in err
    assert main(["data", "generate", "opt-broken", "--out", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "RuntimeError: generator bug" in err


# 4. broken pipe -----------------------------------------------------------------------------

PIPE_WRAPPER = """
import sys
import sciml.bench.registry as registry
registry.default_roots = lambda: [sys.argv[1]]
from sciml.bench.cli import main
sys.exit(main(["list"]))
"""


def test_list_into_a_closed_pipe_exits_quietly(tmp_path):
    """``sciml-bench list | head -1``: the reader leaves after one line; no traceback."""
    entries = "\n".join(
        f'    {{"name": "b{i:04d}", "description": "{"x" * 60}", "run": run}},' for i in range(3000)
    )  # far more output than a pipe buffers, so the writer is still writing when it closes
    root = write_tree(
        tmp_path / "many",
        {"big/bench.py": f"def run(ctx):\n    return {{}}\n\nBENCHMARKS = [\n{entries}\n]\n"},
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", PIPE_WRAPPER, str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.stdout.readline().startswith(b"Benchmarks (3000)")
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


# 5. --version -------------------------------------------------------------------------------


def test_version_names_the_package_and_its_folder(capsys):
    assert main(["--version"]) == 0
    where = Path(sciml.__file__).resolve().parent
    assert capsys.readouterr().out == f"sciml {sciml.__version__} ({where})\n"


# 6. sub-command errors and suggestions ------------------------------------------------------


def test_mixed_up_flags_are_reported_by_the_sub_command(fake_root, capsys):
    assert main(["run", "beta-one", "--size", "quick"]) == 2
    err = capsys.readouterr().err
    assert "usage: sciml-bench run " in err
    assert "sciml-bench run: error: unrecognized arguments: --size quick" in err
    assert "run takes --quick" in err
    assert main(["data", "generate", "alpha-data", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "usage: sciml-bench data generate " in err
    assert "unrecognized arguments: --quick" in err and "takes --size quick" in err
    assert main(["info", "alpha-ok", "--bogus"]) == 2
    assert "sciml-bench info: error: unrecognized arguments: --bogus" in capsys.readouterr().err


def test_unknown_name_suggests_prefix_and_substring_matches(opt_root, capsys):
    assert main(["info", "opt"]) == 2
    hint = capsys.readouterr().err.split("did you mean ")[1].strip().rstrip("?")
    assert set(hint.split(", ")) == {"opt-a", "opt-b", "opt-none", "opt-broken", "alpha-opts"}
    assert main(["run", "fail", "--out", "runs"]) == 2
    assert "did you mean alpha-fail?" in capsys.readouterr().err


# 7. data generation messages ----------------------------------------------------------------


def test_data_generate_says_generated_then_reused(fake_root, tmp_path, capsys):
    pytest.importorskip("h5py")
    sdata = pytest.importorskip("sciml.data")
    logger = logging.getLogger("sciml")
    handlers, level = list(logger.handlers), logger.level
    argv = ["data", "generate", "alpha-data", "--out", str(tmp_path / "data")]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith(", generated)")
    assert "generating dataset alpha-data (quick, seed 0) -> " in err
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.strip().endswith(", reused from cache)") and "generating" not in err
    assert logger.handlers == handlers and logger.level == level  # nothing left behind
    sdata.unregister_dataset("alpha-data")
