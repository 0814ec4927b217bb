"""Method packages register their datasets on import, exactly as ``sciml-bench`` registers them.

Each case runs in a fresh interpreter (an empty registry): ``import sciml.<pkg>`` must register
the package's datasets with the same name, generator, sizes, kind, description and version as
its ``bench.py`` ``DATASETS`` entries (as discovered by the CLI), the CLI's own registration must
then be accepted and change nothing, the reverse order (CLI first, then import) must work too,
and ``get_dataset`` must generate a small file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# (package, its datasets -> (generator, kind, version), (dataset, size, overrides) generated)
CASES = [
    (
        "ssm",
        {"ssm-ar": ("sciml.ssm.ar:generate_ar_dataset", "timeseries", 0)},
        ("ssm-ar", "quick", {}),  # 4 x 12,000 AR samples: ~0.1 s
    ),
    (
        "tensor",
        {
            "funbat-rank1": ("sciml.tensor.synthetic:generate_rank1_cp", "tensor", 0),
            "funbat-synthetic": ("sciml.tensor.synthetic:generate_tucker3", "tensor", 1),
        },
        ("funbat-rank1", "quick", {}),  # 1,350 entries: ~0.02 s
    ),
    (
        "operators",
        {
            "darcy": ("sciml.operators.darcy:generate_darcy", "field", 0),
            "navier-stokes": (
                "sciml.operators.navier_stokes:generate_navier_stokes",
                "field",
                0,
            ),
        },
        ("darcy", "quick", {"resolution": 16, "n_train": 2, "n_test": 1}),  # quick: 320 solves
    ),
]

_SCRIPT = r"""
import importlib, json, sys

pkg, root, gen_name, gen_size, overrides, cli_first = sys.argv[1:7]
import sciml.data as sdata
from sciml.bench import cli
from sciml.bench.registry import discover

FIELDS = ("name", "generator", "sizes", "kind", "description", "version")


def table(specs):
    return {s.name: {f: getattr(s, f) for f in FIELDS} for s in specs}


assert sdata.list_datasets() == {}, sorted(sdata.list_datasets())
declared = [s for s in discover().datasets.values() if s.package == pkg]
if cli_first == "1":
    cli._register_datasets(declared)
    before = table(sdata.list_datasets().values())
mod = importlib.import_module("sciml." + pkg)
after_import = table(sdata.list_datasets().values())
if cli_first == "1":
    assert after_import == before, (before, after_import)
cli._register_datasets(declared)  # what `sciml-bench run`/`data` does: accepted, no change
assert table(sdata.list_datasets().values()) == after_import
mod.register_datasets()  # public and idempotent
assert table(sdata.list_datasets().values()) == after_import
for s in declared:  # restored after an unregister
    sdata.unregister_dataset(s.name)
mod.register_datasets()
assert table(sdata.list_datasets().values()) == after_import
path = sdata.get_dataset(gen_name, gen_size, root=root, **json.loads(overrides))
with sdata.open_dataset(path) as f:
    n_train = {k: list(v.shape) for k, v in f.splits["train"].items()}
print(json.dumps({"registered": after_import, "declared": table(declared), "train": n_train}))
"""


def _run(pkg: str, root: Path, gen: tuple, cli_first: bool) -> dict:
    name, size, overrides = gen
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("SCIML_DATA", None)
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, pkg, str(root), name, size, json.dumps(overrides)]
        + ["1" if cli_first else "0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("pkg", "names", "gen"), CASES, ids=[c[0] for c in CASES])
def test_import_registers_the_bench_datasets(pkg, names, gen, tmp_path: Path) -> None:
    res = _run(pkg, tmp_path, gen, cli_first=False)
    assert sorted(res["registered"]) == sorted(names)
    assert res["registered"] == res["declared"]
    for name, (generator, kind, version) in names.items():
        spec = res["registered"][name]
        assert (spec["generator"], spec["kind"], spec["version"]) == (generator, kind, version)
        assert {"quick", "full"} <= set(spec["sizes"]) and spec["description"]
    assert res["train"] and all(shape[0] > 0 for shape in res["train"].values())


def test_cli_registration_first_then_import(tmp_path: Path) -> None:
    res = _run("tensor", tmp_path, ("funbat-rank1", "quick", {}), cli_first=True)
    assert res["registered"] == res["declared"]
