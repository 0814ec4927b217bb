"""Unit tests for helper functions of the benchmark scripts (session-12 audit)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_loop_seconds_per_iteration_excludes_setup():
    pytest.importorskip("torch")
    imaging = _load("imaging")
    # cumulative clock: 5 s of setup before iteration 1, then 1 s per iteration
    times = [5.0 + k for k in range(1, 21)]
    assert imaging.loop_seconds_per_iteration(times) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        imaging.loop_seconds_per_iteration([1.0])


def test_tta_compile_estimate_subtracts_the_rounds_the_warmup_ran():
    gphm = _load("gphm")
    tf = [(1.0, 0.5, 50), (2.0, 0.4, 100)]
    tq = [(0.5, 0.9, 0), (1.5, 0.3, 1), (2.5, 0.2, 2)]
    rec = {"traces": {"faithful": tf, "fast": tq}, "faithful_warmup_s": 3.0, "fast_warmup_s": 4.0}
    assert gphm.tta_metrics(rec)["fast_compile_s"] == pytest.approx(4.0 - 1.5)
    rec["config_fast"] = {"theta_warmup": 10}  # warm-up then runs rounds 0..2
    assert gphm.tta_metrics(rec)["fast_compile_s"] == pytest.approx(4.0 - 2.5)
    assert gphm.tta_metrics(rec)["faithful_compile_s"] == pytest.approx(3.0 - 1.0)


def test_masked_fourier_mask_benchmark_variants_agree(tmp_path):
    pytest.importorskip("torch")
    import json

    import torch

    bench = _load("masked_fourier_mask")
    row = bench.time_case(2, 16, torch.device("cpu"), repeats=1)
    assert row["max_abs_diff"] == 0.0  # the three variants compute the same product exactly
    assert {"cached_median_ms", "per_call_copy_over_cached", "cached_over_mask_on_device"} <= set(
        row
    )
    out = tmp_path / "r.json"
    with pytest.raises(SystemExit):
        bench.main(["--repeats", "0", "--out", str(out)])
    assert not out.exists()
    json.dumps(row)
