"""Copies of a constant tensor on the devices and dtypes it is used with, made once each.

An operator built from a CPU tensor (a sampling mask, coil maps, an index map, normalisation
statistics) and applied to CUDA data would otherwise copy that tensor host → device on every
call: for a 20 × 256 × 256 float64 mask that is 10 MB per apply (what it costs against the FFT it
accompanies: ``benchmarks/masked_fourier_mask.py --device cuda``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads with the first call: importing sciml.kernels stays light
    import torch


class DeviceCache:
    """Memo of ``source.to(device, dtype)`` for constant tensors.

    ``cache.get(t, device, dtype)`` returns ``t`` itself when it already has that device and
    dtype, else a copy made on the first request and reused while ``t`` is the same object and
    unmodified (its in-place version counter is checked). Tensors that require grad (a cached
    copy would cut the graph) and inference-mode tensors (no version counter) are converted on
    every call instead. Use one cache per role (the mask, the maps): it
    keeps one copy per device and dtype, of the latest tensor it was given.
    """

    def __init__(self) -> None:
        self._copies: dict[tuple[torch.device, torch.dtype], tuple] = {}

    def get(
        self,
        source: torch.Tensor,
        device: torch.device | str,
        dtype: torch.dtype | None = None,
    ) -> torch.Tensor:
        """``source`` on ``device`` in ``dtype`` (default: its own dtype)."""
        import torch

        device = torch.device(device)
        dtype = source.dtype if dtype is None else dtype
        if source.device == device and source.dtype == dtype:
            return source
        if source.requires_grad or source.is_inference():
            # a copy would cut the graph; inference tensors keep no version counter, so a
            # change made in place could not be noticed: convert on every call, as before
            return source.to(device=device, dtype=dtype)
        key = (device, dtype)
        hit = self._copies.get(key)
        if hit is not None and hit[0] is source and hit[1] == source._version:
            return hit[2]
        copy = source.detach().to(device=device, dtype=dtype)
        self._copies[key] = (source, source._version, copy)
        return copy

    def clear(self) -> None:
        """Forget every copy (frees their device memory)."""
        self._copies.clear()

    # Pickled (DataLoader workers with the spawn start method) or copied empty: a worker
    # process must not receive GPU tensors it never asked for.
    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state: dict) -> None:
        self._copies = {}
