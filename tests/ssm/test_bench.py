import importlib.util
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "sciml" / "ssm" / "bench.py"


def test_bench_top_level_imports_nothing_heavy():
    code = (
        "import importlib.util, sys, json\n"
        f"spec = importlib.util.spec_from_file_location('_b', {str(BENCH)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(json.dumps([k for k in ('torch', 'numpy', 'jax', 'sciml.ssm', 'sciml.bench') if k in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip()) == []


def test_bench_entries_are_well_formed():
    spec = importlib.util.spec_from_file_location("_ssm_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = [b["name"] for b in mod.BENCHMARKS]
    assert names == ["ssm-ar", "ssm-etth1"]
    for b in mod.BENCHMARKS:
        assert callable(b["run"])
        for ref in b["references"].values():
            assert isinstance(ref["value"], float) and ref["source"]
    ds = mod.DATASETS[0]
    assert ds["name"] == "ssm-ar" and ds["generator"] == "sciml.ssm.ar:generate_ar_dataset"
    from sciml.ssm.ar import generate_ar_dataset

    out = generate_ar_dataset(
        0, **{**ds["sizes"]["quick"], "n_train": 40, "n_val": 10, "n_test": 10}
    )
    assert set(out["splits"]["train"]) == {f"series_p{p}" for p in ds["sizes"]["quick"]["orders"]}


class _Ctx:
    quick, device, seed, options = True, "cpu", 0, {"etth1_path": "/nonexistent/ETTh1.csv"}

    def skip(self, reason):
        raise RuntimeError("skipped: " + reason)


def test_etth1_skips_when_absent():
    spec = importlib.util.spec_from_file_location("_ssm_bench2", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    try:
        mod.run_etth1(_Ctx())
    except RuntimeError as exc:
        assert "absent" in str(exc) and "/nonexistent/ETTh1.csv" in str(exc)
    else:
        raise AssertionError("run_etth1 did not skip")
