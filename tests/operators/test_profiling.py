"""Profiling helpers: throughput is positive and consistent with a direct timing; peak memory is
at least the current resident set size read from /proc."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from sciml.operators import inference_throughput, peak_memory_mb, reset_peak_memory


def test_inference_throughput_restores_mode():
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3, padding=1), torch.nn.BatchNorm2d(1))
    m.train()
    thr = inference_throughput(m, torch.randn(4, 1, 8, 8), repeats=2)
    assert thr > 0 and m.training


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_memory_at_least_current_rss():
    status = Path("/proc/self/status").read_text().splitlines()
    rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))
    assert peak_memory_mb("cpu") >= rss_kb / 1024 * 0.99


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_reset_peak_memory_forgets_a_freed_allocation():
    def rss_mb() -> float:
        status = Path("/proc/self/status").read_text().splitlines()
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024

    big = torch.ones(64 * 2**20 // 4)  # 64 MiB, touched
    held = peak_memory_mb("cpu")
    assert held >= rss_mb() * 0.99
    del big
    if not reset_peak_memory("cpu"):
        pytest.skip("/proc/self/clear_refs is not writable here")
    assert peak_memory_mb("cpu") < held - 32  # the freed 64 MiB no longer counts
    assert peak_memory_mb("cpu") >= rss_mb() * 0.99


def test_inference_throughput_is_batch_over_median_call_time(monkeypatch):
    """A fake clock advanced by the model itself: warm-up 100 s (ignored), then 3, 1, 2 s."""
    from sciml.operators import profiling

    clock = [0.0]
    durations = iter([100.0, 3.0, 1.0, 2.0])

    class Timed(torch.nn.Module):
        def forward(self, x):
            clock[0] += next(durations)
            return x

    monkeypatch.setattr(profiling.time, "perf_counter", lambda: clock[0])
    assert inference_throughput(Timed(), torch.zeros(6, 1, 4, 4), repeats=3) == 6 / 2.0
    with pytest.raises(ValueError, match="repeats"):
        inference_throughput(Timed(), torch.zeros(1, 1, 4, 4), repeats=0)
