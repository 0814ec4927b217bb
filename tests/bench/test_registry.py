"""Discovery: by-path loading, malformed entries become warnings."""

from __future__ import annotations

import sys

from sciml.bench.registry import discover

from .conftest import write_tree


def test_malformed_entries_are_warnings(tmp_path):
    root = write_tree(
        tmp_path / "pkgs",
        {
            "m/bench.py": """
                def run(ctx):
                    return {}

                BENCHMARKS = [
                    {"name": "Bad Name", "run": run},
                    {"name": "no-run", "run": 3},
                    "not a dict",
                    {"name": "good", "run": run, "references": {"x": {"value": "high"}}},
                ]
                DATASETS = [{"name": "d", "generator": "no_colon"}]
            """,
            "n/bench.py": "BENCHMARKS = 'oops'\n",
            "_private/bench.py": "raise RuntimeError('must not be loaded')\n",
        },
    )
    reg = discover([root])
    assert list(reg.benchmarks) == ["good"]
    assert reg.benchmarks["good"].references == {}
    assert reg.benchmarks["good"].package == "m"
    assert reg.datasets == {}
    text = "\n".join(reg.warnings)
    for needle in ["'Bad Name'", "'run' must be callable", "must be a dict", "'x'", "no_colon"]:
        assert needle in text
    assert "BENCHMARKS must be a list" in text
    assert len(reg.warnings) == 6
    assert reg.files == [root / "m" / "bench.py", root / "n" / "bench.py"]


def test_loaded_under_private_module_name(tmp_path):
    root = write_tree(
        tmp_path / "pkgs",
        {
            "mypkg/__init__.py": "raise ImportError('package __init__ must not run')\n",
            "mypkg/bench.py": "BENCHMARKS = []\nNAME = __name__\n",
        },
    )
    reg = discover([root])
    assert reg.warnings == []
    assert sys.modules["_sciml_bench_mypkg"].NAME == "_sciml_bench_mypkg"
    assert "mypkg" not in sys.modules


def test_real_package_bench_files_load_cleanly():
    """Every sciml/*/bench.py in this checkout loads without warnings (contract check)."""
    reg = discover()
    assert reg.warnings == []
    for bench in reg.benchmarks.values():
        assert bench.source.name == "bench.py" and bench.source.parent.name == bench.package
        for ref in bench.references.values():
            assert ref.source, f"{bench.name}: every reference needs a source"
