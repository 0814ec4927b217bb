"""Throughput and memory figures for operator models (benchmarks only)."""

from __future__ import annotations

import resource
import sys
import time

import torch
from torch import nn

__all__ = ["inference_throughput", "peak_memory_mb"]


def peak_memory_mb(device: torch.device | str = "cpu") -> float:
    """Peak memory in MiB: CUDA ``max_memory_allocated`` on GPU; the process's peak resident set
    size (``ru_maxrss``, monotonic over the process lifetime) on CPU."""
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


@torch.no_grad()
def inference_throughput(model: nn.Module, x: torch.Tensor, repeats: int = 3) -> float:
    """Samples per second of ``model(x)`` in eval mode (one warm-up, median of ``repeats``)."""
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
