"""Wall-clock timing for benchmarks: warm-up, repeats, median, with device synchronisation."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any


def block(result: Any) -> Any:
    """Wait until ``result`` (a torch tensor, JAX array, or a tuple/list of them) is computed."""
    if isinstance(result, tuple | list):
        for r in result:
            block(r)
        return result
    if hasattr(result, "block_until_ready"):
        result.block_until_ready()
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(result, torch.Tensor) and result.is_cuda:
        torch.cuda.synchronize(result.device)
    return result


def time_call(
    fn: Callable[[], Any], *, warmup: int = 1, repeats: int = 5, max_seconds: float = 20.0
) -> dict[str, float]:
    """Median wall time of ``fn()`` in seconds after ``warmup`` calls (JIT compilation excluded).

    Stops repeating early once ``max_seconds`` have been spent (at least one timed call is made).
    Returns ``{"median_s", "min_s", "repeats"}``.
    """
    for _ in range(warmup):
        block(fn())
    times: list[float] = []
    start = time.perf_counter()
    for _ in range(max(repeats, 1)):
        t0 = time.perf_counter()
        block(fn())
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > max_seconds:
            break
    return {"median_s": statistics.median(times), "min_s": min(times), "repeats": float(len(times))}


def time_interleaved(
    fns: Mapping[str, Callable[[], Any]], *, warmup: int = 2, repeats: int = 21
) -> dict[str, float]:
    """Median wall time (seconds) of each ``fns[name]()`` for comparisons in one process.

    Each function is called ``warmup`` times, then ``repeats`` rounds call every function once in
    turn, so a change of machine load during the run affects all of them alike (what a ratio of
    two medians needs). Each result is waited for with :func:`block` (return the tensor whose
    completion marks the end, e.g. the loss after ``backward()``).
    """
    if repeats < 1:
        raise ValueError(f"repeats: expected at least 1, got {repeats}")
    for fn in fns.values():
        for _ in range(warmup):
            block(fn())
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            block(fn())
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}
