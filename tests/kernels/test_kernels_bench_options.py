"""The ``kernels`` benchmark's one option, ``size``, accepts ``tiny`` only (a typo used to be
ignored silently and ran the full sizes)."""

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "sciml" / "kernels" / "bench.py"


def test_size_option_rejects_other_values(tmp_path):
    spec = importlib.util.spec_from_file_location("_kernels_bench_options", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    (entry,) = mod.BENCHMARKS
    assert set(entry["options"]) == {"size"}

    class Ctx:
        quick, device, out_dir = True, "cpu", tmp_path
        options = {"size": "small"}

        def log(self, msg):
            pass

    with pytest.raises(ValueError, match="size: expected 'tiny'"):
        mod.run_kernels(Ctx())
