"""Time-to-accuracy bookkeeping of ``benchmarks/gphm.py`` on hand-made traces."""

import importlib.util
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "gphm.py"


@pytest.fixture(scope="module")
def tta_metrics():
    spec = importlib.util.spec_from_file_location("_bench_gphm", _PATH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.tta_metrics


def test_speedups_and_compile_time(tta_metrics):
    # faithful: 1 s per checkpoint, error 0.5 → 0.1; fast: 0.2 s per round, 0.3 → 0.01
    rec = {
        "traces": {
            "faithful": [(1.0, 0.5, 50), (2.0, 0.3, 100), (3.0, 0.1, 150)],
            "fast": [(0.2, 0.3, 0), (0.4, 0.05, 1), (0.6, 0.01, 2)],
        },
        "faithful_warmup_s": 4.0,  # compile 3 s + the first chunk (1 s)
        "fast_warmup_s": 2.4,  # compile 2 s + rounds 0 and 1 (0.4 s)
    }
    m = tta_metrics(rec)
    assert m["faithful_time_to_target_s"] == 3.0 and m["fast_time_to_target_s"] == 0.4
    assert m["speedup"] == pytest.approx(7.5)
    assert m["faithful_compile_s"] == pytest.approx(3.0)
    assert m["fast_compile_s"] == pytest.approx(2.0)
    assert m["speedup_including_compile"] == pytest.approx(6.0 / 2.4)
    assert m["speedup_including_warmup"] == pytest.approx(7.0 / 2.8)
    assert m["speedup_lower_bound"] is None  # the faithful path reached 0.3, the first fast error


def test_lower_bound_when_faithful_never_reaches_the_first_fast_error(tta_metrics):
    rec = {
        "traces": {"faithful": [(1.0, 0.9, 50), (10.0, 0.9, 500)], "fast": [(0.5, 0.1, 0)]},
        "faithful_warmup_s": 2.0,
        "fast_warmup_s": 1.0,
    }
    m = tta_metrics(rec)
    assert m["speedup_lower_bound"] == pytest.approx(10.0 / 0.5)
    assert m["fast_compile_s"] == pytest.approx(0.5)
    assert m["speedup_lower_bound_including_compile"] == pytest.approx(11.0 / 1.0)
