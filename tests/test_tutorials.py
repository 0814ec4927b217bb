"""Every ``tutorials/NN_*.py`` (jupytext percent format) runs top to bottom in smoke mode.

Each tutorial is its own test id. Tutorials run with ``SCIML_SMOKE=1`` (small sizes),
``MPLBACKEND=Agg``, ``SCIML_DATA`` in a temporary folder and a temporary working directory, so
they leave nothing in the repository. One extra test converts a tutorial to a notebook with
jupytext and executes it with nbclient on a kernel that runs this interpreter
(``sys.executable``), proving the notebook path works too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TUTORIALS = sorted((REPO / "tutorials").glob("[0-9][0-9]_*.py"))
TIMEOUT_S = 300


def _smoke_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SCIML_SMOKE="1",
        MPLBACKEND="Agg",
        SCIML_DATA=str(tmp_path / "data"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def _tail(text: str, n: int = 4000) -> str:
    return text if len(text) <= n else "...\n" + text[-n:]


def _run_script(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    work = tmp_path / "cwd"
    work.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, str(path)],
        cwd=work,
        env=_smoke_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


# With no tutorials this collects one "empty parameter set" skip and nothing fails.
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_smoke_mode(path: Path, tmp_path: Path) -> None:
    proc = _run_script(path, tmp_path)
    assert proc.returncode == 0, (
        f"{path.name} exited with {proc.returncode}\n--- stdout ---\n{_tail(proc.stdout)}"
        f"\n--- stderr ---\n{_tail(proc.stderr)}"
    )


def test_script_harness_environment_and_failure(tmp_path):
    """The harness runs in a temp cwd with smoke settings, and a raising script fails it."""
    ok = tmp_path / "01_ok.py"
    ok.write_text(
        "import os, sys\n"
        "from pathlib import Path\n"
        "assert os.environ['SCIML_SMOKE'] == '1' and os.environ['MPLBACKEND'] == 'Agg'\n"
        "Path('litter.txt').write_text('x')\n"
        "print(os.environ['SCIML_DATA'], os.getcwd(), sys.executable)\n",
        encoding="utf-8",
    )
    proc = _run_script(ok, tmp_path)
    assert proc.returncode == 0, proc.stderr
    data, cwd, exe = proc.stdout.split()
    assert Path(data) == tmp_path / "data" and Path(cwd).resolve() == (tmp_path / "cwd").resolve()
    assert Path(exe).resolve() == Path(sys.executable).resolve()
    assert (tmp_path / "cwd" / "litter.txt").exists() and not (REPO / "litter.txt").exists()
    bad = tmp_path / "02_bad.py"
    bad.write_text("raise RuntimeError('tutorial broke')\n", encoding="utf-8")
    proc = _run_script(bad, tmp_path)
    assert proc.returncode != 0 and "tutorial broke" in proc.stderr


def _kernel_for_this_interpreter(tmp_path: Path, env: dict[str, str]) -> str:
    """Write a kernelspec that launches ``sys.executable`` and put it on JUPYTER_PATH."""
    pytest.importorskip("ipykernel")
    name = f"sciml-test-{os.getpid()}"
    spec_dir = tmp_path / "jupyter" / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "sciml tests",
        "language": "python",
        "env": {k: env[k] for k in ("SCIML_SMOKE", "MPLBACKEND", "SCIML_DATA", "PYTHONPATH")},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return name


def _execute_notebook(source: Path, tmp_path: Path, monkeypatch):
    jupytext = pytest.importorskip("jupytext")
    nbclient = pytest.importorskip("nbclient")
    env = _smoke_env(tmp_path)
    kernel = _kernel_for_this_interpreter(tmp_path, env)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    for key in ("SCIML_SMOKE", "MPLBACKEND", "SCIML_DATA"):
        monkeypatch.setenv(key, env[key])
    work = tmp_path / "cwd"
    work.mkdir(exist_ok=True)
    nb = jupytext.read(source)
    client = nbclient.NotebookClient(
        nb,
        kernel_name=kernel,
        timeout=TIMEOUT_S,
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()
    return nb


def _stream_text(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def test_notebook_path_executes_percent_script(tmp_path, monkeypatch):
    """A small percent-format script round-trips through jupytext + nbclient on our kernel."""
    src = tmp_path / "99_probe.py"
    src.write_text(
        "# %% [markdown]\n"
        "# # Probe\n"
        "# %%\n"
        "import os, sys\n"
        "print(sys.executable)\n"
        "print(os.environ['SCIML_SMOKE'], os.getcwd())\n"
        "# %%\n"
        "print(sum(k * k for k in range(10)))\n",
        encoding="utf-8",
    )
    nb = _execute_notebook(src, tmp_path, monkeypatch)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 2 and [c for c in nb.cells if c.cell_type == "markdown"]
    exe, smoke_cwd = _stream_text(code[0]).splitlines()
    assert Path(exe).resolve() == Path(sys.executable).resolve()
    smoke, cwd = smoke_cwd.split(" ", 1)
    assert smoke == "1" and Path(cwd).resolve() == (tmp_path / "cwd").resolve()
    assert int(_stream_text(code[1])) == sum(k * k for k in range(10))


@pytest.mark.skipif(not TUTORIALS, reason="no tutorials yet")
def test_first_tutorial_executes_as_notebook(tmp_path, monkeypatch):
    nb = _execute_notebook(TUTORIALS[0], tmp_path, monkeypatch)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
