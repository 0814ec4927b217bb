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


def test_dataset_version_is_parsed_and_checked(tmp_path):
    root = write_tree(
        tmp_path / "pkgs",
        {
            "m/bench.py": """
                DATASETS = [
                    {"name": "d0", "generator": "a.b:c", "sizes": {"quick": {}}},
                    {"name": "d1", "generator": "a.b:c", "sizes": {"quick": {}}, "version": 3},
                    {"name": "d2", "generator": "a.b:c", "sizes": {"quick": {}}, "version": -1},
                ]
            """,
        },
    )
    reg = discover([root])
    assert reg.datasets["d0"].version == 0 and reg.datasets["d1"].version == 3
    assert "d2" not in reg.datasets
    assert len(reg.warnings) == 1 and "'version'" in reg.warnings[0]


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
