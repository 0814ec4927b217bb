"""`sciml-bench list` must not import torch/JAX: checked in fresh interpreters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

WRAPPER = """
import sys
import sciml.bench.registry as registry
if len(sys.argv) > 1:
    registry.default_roots = lambda: [sys.argv[1]]
from sciml.bench.cli import main
rc = main(["list"])
heavy = sorted(m for m in ("torch", "jax", "numpy", "matplotlib") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
sys.exit(rc)
"""


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_list_on_fake_tree_imports_nothing_heavy(fake_root):
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(fake_root)],
        capture_output=True, text=True, timeout=120, env=_env(),
        cwd=fake_root.parent,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "alpha-ok" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY="


def test_list_on_real_package_imports_no_torch_or_jax(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER],
        capture_output=True, text=True, timeout=120, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    heavy = proc.stdout.strip().splitlines()[-1].removeprefix("HEAVY=").split(",")
    assert "torch" not in heavy and "jax" not in heavy, proc.stdout


def test_console_script_list(tmp_path):
    exe = Path(sys.executable).parent / "sciml-bench"
    script = str(exe) if exe.exists() else shutil.which("sciml-bench")
    if script is None:
        pytest.skip("sciml-bench console script not installed")
    proc = subprocess.run(
        [script, "list"], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(("Benchmarks (", "no benchmarks found"))
    help_proc = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert help_proc.returncode == 0
    for cmd in ["list", "info", "data", "run", "report", "sysinfo"]:
        assert cmd in help_proc.stdout


def test_python_dash_m_entry_point(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sciml.bench", "info", "no-such-benchmark"],
        capture_output=True, text=True, timeout=120, env=_env(), cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "unknown benchmark or dataset 'no-such-benchmark'" in proc.stderr
