"""Small helpers around ``torch.distributed`` for data-parallel training under ``torchrun``.

Every helper also works in a plain single process (no process group): then ``rank() == 0``,
``world_size() == 1``, ``barrier()`` does nothing and ``all_reduce_*`` return their input.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

import torch
import torch.distributed as dist

__all__ = [
    "all_gather_object",
    "all_reduce_mean",
    "all_reduce_sum",
    "barrier",
    "env_world_size",
    "init_from_env",
    "is_distributed",
    "is_main_process",
    "local_rank",
    "rank",
    "shutdown",
    "world_size",
]

_created_here = False  # whether init_from_env created the current process group


def env_world_size() -> int:
    """World size announced by the launcher (env ``WORLD_SIZE``; 1 when unset)."""
    value = os.environ.get("WORLD_SIZE", "1")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"environment variable WORLD_SIZE must be an int, got {value!r}") from None


def is_distributed() -> bool:
    """True when a process group with more than one process is initialised."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """Global rank of this process (0 without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return 0


def world_size() -> int:
    """Number of processes (1 without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def local_rank() -> int:
    """Rank on this node (env ``LOCAL_RANK``; 0 when unset)."""
    return int(os.environ.get("LOCAL_RANK", "0"))


def is_main_process() -> bool:
    """True on rank 0: the only process that writes files and shows progress."""
    return rank() == 0


def barrier() -> None:
    """Wait for all processes (no-op in a single process)."""
    if is_distributed():
        dist.barrier()


def all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Sum of ``x`` over processes (a new tensor; ``x`` itself is unchanged)."""
    y = x.detach().clone()
    if is_distributed():
        dist.all_reduce(y, op=dist.ReduceOp.SUM)
    return y


def all_reduce_mean(x: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over processes (a new tensor; integer tensors are promoted to float)."""
    y = all_reduce_sum(x)
    if not (y.is_floating_point() or y.is_complex()):
        y = y.to(torch.get_default_dtype())
    return y / world_size()


def broadcast_buffers(module: torch.nn.Module, src: int = 0) -> None:
    """Copy the buffers of ``module`` (e.g. BatchNorm running statistics) from rank ``src`` to
    every rank, in place (no-op in a single process).

    DDP broadcasts buffers at the start of each forward, so after the last training step every
    rank holds statistics updated from its own shard; this makes them one model again (the same
    convention as DDP: rank ``src`` wins).
    """
    if is_distributed():
        for buf in module.buffers():
            dist.broadcast(buf.data, src=src)


def all_gather_object(obj: Any) -> list[Any]:
    """List of ``obj`` from every rank, in rank order (``[obj]`` in a single process)."""
    if not is_distributed():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def init_from_env(device: torch.device) -> tuple[bool, torch.device]:
    """Join the process group that ``torchrun`` describes in the environment.

    Uses NCCL when ``device`` is CUDA and gloo otherwise. With CUDA the device becomes
    ``cuda:LOCAL_RANK``. Does nothing when ``WORLD_SIZE`` is unset or 1, or when a process
    group already exists (whoever created it owns it).

    A group created here lives until :func:`shutdown`, which runs at interpreter exit: a
    second ``init_process_group`` in the same torchrun worker hangs (the launcher's store
    still holds the first group's rendezvous keys), so the group is created once and reused
    by every later ``Trainer.fit``.

    Returns:
        ``(created, device)``: whether this call created the process group and the device
        this process should use.
    """
    if dist.is_available() and dist.is_initialized():
        if device.type == "cuda":
            device = torch.device("cuda", local_rank())
            torch.cuda.set_device(device)
        return False, device
    if env_world_size() <= 1:
        return False, device
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but torch.distributed is not available in this build")
    for key in ("RANK", "MASTER_ADDR", "MASTER_PORT"):
        if key not in os.environ:
            raise RuntimeError(
                f"WORLD_SIZE={os.environ['WORLD_SIZE']} but environment variable {key} is not set; "
                "launch with torchrun (python -m torch.distributed.run)"
            )
    if device.type == "cuda":
        device = torch.device("cuda", local_rank())
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        backend = "gloo"
    dist.init_process_group(backend=backend, init_method="env://")
    global _created_here
    _created_here = True
    atexit.register(shutdown)
    return True, device


def shutdown() -> None:
    """Destroy the process group if :func:`init_from_env` created it (else do nothing)."""
    global _created_here
    if _created_here and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
    _created_here = False
