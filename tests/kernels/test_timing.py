"""time_interleaved: warm-up calls, interleaved rounds, median per function (fake clock)."""

import itertools

import pytest

from sciml.kernels import timing


def test_calls_are_warmed_up_then_interleaved_and_medians_taken(monkeypatch):
    calls: list[str] = []
    fns = {name: (lambda name=name: calls.append(name)) for name in ("a", "b")}
    # each timed call reads the clock twice; durations a: 1, 5, 3 and b: 2, 2, 9 clock units
    durations = iter([1, 2, 5, 2, 3, 9])
    clock = itertools.count()
    ticks = []

    def fake_clock():
        if len(ticks) % 2 == 0:
            ticks.append(next(clock) * 100)
        else:
            ticks.append(ticks[-1] + next(durations))
        return ticks[-1]

    monkeypatch.setattr(timing.time, "perf_counter", fake_clock)
    med = timing.time_interleaved(fns, warmup=2, repeats=3)
    assert calls == ["a", "a", "b", "b"] + ["a", "b"] * 3
    assert med == {"a": 3, "b": 2}


def test_repeats_must_be_positive():
    with pytest.raises(ValueError, match="repeats"):
        timing.time_interleaved({"a": lambda: None}, repeats=0)
