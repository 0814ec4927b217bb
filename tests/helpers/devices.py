"""A CPU stand-in for CUDA's same-device checks, for device-agnosticism tests without a GPU.

Tensors on the ``meta`` device carry shapes and dtypes but no data, and most torch ops run on
them. Most, not all, of those ops reject CPU tensors mixed in as CUDA kernels would: elementwise
ops do, but ``meta @ cpu`` works. :func:`strict_devices` fills that gap. Inside it every
op raises if its tensor arguments are on more than one device, as on CUDA. It allows the same
exceptions as CUDA: 0-d CPU tensors (scalars), explicit copies (``.to``, ``copy_``) and CPU index
tensors.
"""

from __future__ import annotations

import contextlib

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

_ALLOWED = {
    "aten::_to_copy",
    "aten::copy_",
    "aten::_copy_from",
    "aten::_copy_from_and_resize",
    "aten::lift_fresh",
    "aten::index",
    "aten::index_put_",
    "aten::_index_put_impl_",
}


class _StrictDevices(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func._schema.name not in _ALLOWED:
            flat, _ = tree_flatten((args, kwargs))
            devices = {
                t.device
                for t in flat
                if isinstance(t, torch.Tensor) and not (t.device.type == "cpu" and t.dim() == 0)
            }
            if len(devices) > 1:
                raise RuntimeError(
                    f"{func}: tensors on several devices {sorted(map(str, devices))} "
                    "(a CUDA run would fail here)"
                )
        return func(*args, **kwargs)


@contextlib.contextmanager
def strict_devices():
    """Raise on any op that mixes devices (see the module docstring)."""
    with _StrictDevices():
        yield


class _DeviceCopies(TorchDispatchMode):
    def __init__(self, log: list):
        super().__init__()
        self.log = log

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._schema.name
        if name == "aten::_to_copy":
            src, dst = args[0], kwargs.get("device")
            if dst is not None and torch.device(dst) != src.device:
                self.log.append((str(src.device), str(dst), tuple(src.shape)))
        elif name == "aten::copy_":
            dst, src = args[0], args[1]
            if isinstance(src, torch.Tensor) and src.device != dst.device:
                self.log.append((str(src.device), str(dst.device), tuple(src.shape)))
        return func(*args, **kwargs)


@contextlib.contextmanager
def device_copies():
    """Record every copy between devices as ``(from, to, shape)`` in the yielded list.

    With ``meta`` standing in for CUDA, a CPU → meta entry is a host-to-device transfer."""
    log: list = []
    with _DeviceCopies(log):
        yield log
