"""A fake ``sciml``-like package tree with bench.py files, wired into discovery."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import sciml.bench.registry as registry

ALPHA_BENCH = '''
"""Fake benchmarks: top level imports nothing heavy (like the real ones)."""

import random


def run_ok(ctx):
    from fakesci.alpha import core  # imports the package __init__ only now

    x = random.random()
    total = 0
    for i in ctx.progress(range(20), desc="loop"):
        total += i
    ctx.log(f"alpha says {core.VALUE}")
    return {"rand": x, "sum": float(total), "half": 0.5}


def run_fail(ctx):
    ctx.log("about to fail")
    raise ValueError("boom\\nsecond line of the message")


def run_skip(ctx):
    ctx.skip("needs the ETTh1 csv (-o etth1_path=...)")


def run_fig(ctx):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    ctx.save_figure(fig, "line")
    return {"n_figs": 1.0}


def run_opts(ctx):
    return {"lr": ctx.options["lr"], "n_layers": float(len(ctx.options["layers"]))}


def run_seeded(ctx):
    import numpy as np

    return {"np": float(np.random.rand()), "py": random.random(), "quick": float(ctx.quick)}


BENCHMARKS = [
    {
        "name": "alpha-ok",
        "description": "always works",
        "datasets": ["alpha-data"],
        "references": {
            "sum": {"value": 200.0, "source": "Made-up et al. 2024, Table 1"},
            "half": {"value": 0.25, "source": "Ref B"},
            "missing": {"value": 3.0, "source": "Ref C"},
        },
        "run": run_ok,
    },
    {"name": "alpha-fail", "description": "always fails", "datasets": [], "run": run_fail},
    {"name": "alpha-skip", "description": "always skips", "datasets": [], "run": run_skip},
    {"name": "alpha-fig", "description": "saves a figure", "run": run_fig},
    {"name": "alpha-opts", "description": "echoes options", "run": run_opts},
    {"name": "alpha-seeded", "description": "seeded draws", "run": run_seeded},
]

DATASETS = [
    {
        "name": "alpha-data",
        "generator": "fakesci.alpha.core:make_data",
        "sizes": {"quick": {"n": 4}, "full": {"n": 400}, "paper": {"n": 40}},
        "kind": "timeseries",
        "description": "four numbers",
    }
]
'''

ALPHA_CORE = """
VALUE = 42


def make_data(seed, n):
    \"\"\"sciml.data generator: fn(seed, **params) -> {"splits": ...}.\"\"\"
    import numpy as np

    x = np.arange(n * 3, dtype=np.float64).reshape(n, 3) + seed
    return {"splits": {"train": {"x": x}, "val": {"x": x[:1] * 2.0}}}
"""

BETA_BENCH = """
def run(ctx):
    return {"beta_metric": 1.0}


BENCHMARKS = [{"name": "beta-one", "description": "beta benchmark", "run": run}]
"""

BROKEN_BENCH = """
raise ImportError("gamma needs a library that is not installed")
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def _drop_fake_modules() -> None:
    for name in [m for m in sys.modules if m == "fakesci" or m.startswith("fakesci.")]:
        del sys.modules[name]


@pytest.fixture
def fake_root(tmp_path, monkeypatch):
    """``tmp/fakesci`` with packages alpha (6 benchmarks), beta (1) and a broken gamma."""
    top = tmp_path / "src"
    pkg = top / "fakesci"
    write_tree(
        pkg,
        {
            "__init__.py": "",
            "alpha/__init__.py": "import sys\nsys.modules[__name__].HEAVY_INIT_RAN = True\n",
            "alpha/core.py": ALPHA_CORE,
            "alpha/bench.py": ALPHA_BENCH,
            "beta/__init__.py": "",
            "beta/bench.py": BETA_BENCH,
            "gamma/__init__.py": "",
            "gamma/bench.py": BROKEN_BENCH,
            "delta/__init__.py": "",  # a package without bench.py is ignored
        },
    )
    monkeypatch.syspath_prepend(str(top))
    monkeypatch.setattr(registry, "default_roots", lambda: [pkg])
    monkeypatch.chdir(tmp_path)
    _drop_fake_modules()
    yield pkg
    _drop_fake_modules()
    # `run` registers discovered datasets with sciml.data; do not leak them into other tests
    sdata = sys.modules.get("sciml.data")
    if sdata is not None and hasattr(sdata, "unregister_dataset"):
        sdata.unregister_dataset("alpha-data")


def md_tables(text: str) -> list[list[list[str]]]:
    """The Markdown tables of ``text``: each a list of rows (header first) of stripped cells."""
    tables: list[list[list[str]]] = []
    prev = ""
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("|---"):
            if not prev.startswith("|"):
                tables.append([])
            tables[-1].append([c.strip() for c in line.strip().strip("|").split(" | ")])
        prev = line
    return tables


def md_section(text: str, name: str) -> str:
    """The body of the ``## name`` section of ``text``."""
    return text.split(f"\n## {name}\n")[1].split("\n## ")[0]
