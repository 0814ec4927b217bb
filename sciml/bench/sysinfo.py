"""``sciml-bench sysinfo``: the software and hardware a run sees."""

from __future__ import annotations

import importlib
import os
import platform
import sys
from typing import Any

__all__ = ["collect_sysinfo", "format_sysinfo"]


def _memory_bytes() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _module_version(name: str) -> str | None:
    try:
        mod = importlib.import_module(name)
    except Exception:
        return None
    return str(getattr(mod, "__version__", "unknown"))


def collect_sysinfo() -> dict[str, Any]:
    """Python, platform, CPUs, memory, torch (+CUDA), JAX (+devices), NumPy/SciPy/h5py versions.

    Libraries that are not installed are reported as ``None``.
    """
    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "memory_gib": None,
        "sciml": _module_version("sciml"),
    }
    mem = _memory_bytes()
    if mem is not None:
        info["memory_gib"] = round(mem / 2**30, 1)
    for name in ("numpy", "scipy", "h5py"):
        info[name] = _module_version(name)
    info["torch"] = _module_version("torch")
    info["cuda_available"] = False
    info["cuda_devices"] = []
    if info["torch"] is not None:
        import torch

        info["cuda_available"] = bool(torch.cuda.is_available())
        info["torch_cuda"] = torch.version.cuda
        if info["cuda_available"]:
            info["cuda_devices"] = [
                torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())
            ]
        info["torch_threads"] = torch.get_num_threads()
    info["jax"] = _module_version("jax")
    info["jax_devices"] = []
    if info["jax"] is not None:
        try:
            import jax

            info["jax_devices"] = [str(d) for d in jax.devices()]
        except Exception as exc:  # e.g. a broken accelerator plugin
            info["jax_devices"] = [f"error: {type(exc).__name__}: {exc}"]
    return info


def device_name(device: Any) -> str:
    """What a result file records as the device: the GPU's name for a CUDA device, else the
    processor (or machine type when the platform does not report one)."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def script_provenance(script: str, argv: list[str] | None = None) -> dict[str, Any]:
    """``command`` (``python <script> <args>``; ``argv`` defaults to this process's arguments),
    torch's thread count and ``OMP_NUM_THREADS``: the fields a stand-alone benchmark script
    stores beside its figures so they can be reproduced."""
    import torch

    args = sys.argv[1:] if argv is None else list(argv)
    return {
        "command": " ".join([f"python {script}", *args]),
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }


def format_sysinfo(info: dict[str, Any]) -> str:
    """Aligned ``key: value`` lines; ``None`` shows as ``not installed``/``unknown``."""
    width = max(len(k) for k in info)
    lines = []
    for key, value in info.items():
        if value is None:
            shown = "not installed" if key in {"numpy", "scipy", "h5py", "torch", "jax"} else "none"
        elif isinstance(value, list):
            shown = ", ".join(map(str, value)) if value else "none"
        else:
            shown = str(value)
        lines.append(f"{key.ljust(width)}  {shown}")
    return "\n".join(lines)
