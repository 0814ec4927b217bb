"""Throughput and memory figures for operator models (benchmarks only)."""

from __future__ import annotations

import resource
import sys
import time

import torch
from torch import nn

__all__ = ["inference_throughput", "peak_memory_mb", "reset_peak_memory"]


def _vm_hwm_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10
    except OSError:
        return None
    return None


def reset_peak_memory(device: torch.device | str = "cpu") -> bool:
    """Restart peak-memory tracking: CUDA peak stats, or on Linux the process's peak resident set
    size (``/proc/self/clear_refs``). Returns False where the CPU peak cannot be reset."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return True
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return _vm_hwm_mb() is not None


def peak_memory_mb(device: torch.device | str = "cpu") -> float:
    """Peak memory in MiB: CUDA ``max_memory_allocated`` on GPU; on CPU the process's peak
    resident set size since the last :func:`reset_peak_memory` (Linux ``VmHWM``; elsewhere
    ``ru_maxrss``, monotonic over the process lifetime). CPU figures include the interpreter,
    libraries and data already in memory."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    hwm = _vm_hwm_mb()
    if hwm is not None:
        return hwm
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


@torch.no_grad()
def inference_throughput(model: nn.Module, x: torch.Tensor, repeats: int = 3) -> float:
    """Samples per second of ``model(x)`` in eval mode (one warm-up, median of ``repeats``)."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats: expected an int >= 1, got {repeats!r}")
    was = model.training
    model.eval()
    try:
        model(x)
        times = []
        for _ in range(repeats):
            if x.device.type == "cuda":
                torch.cuda.synchronize(x.device)
            t0 = time.perf_counter()
            model(x)
            if x.device.type == "cuda":
                torch.cuda.synchronize(x.device)
            times.append(time.perf_counter() - t0)
    finally:
        model.train(was)
    times.sort()
    return x.shape[0] / times[len(times) // 2]
