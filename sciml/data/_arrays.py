"""Private helpers: turn user arrays (NumPy, torch, lists) into NumPy and scan them in blocks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from .errors import DatasetError

BLOCK_BYTES = 64 * 1024 * 1024
"""Arrays are scanned (finiteness, statistics) and written in blocks of about this many bytes."""


def as_numpy(x: Any, *, path: str | os.PathLike[str] | None, key: str) -> np.ndarray:
    """NumPy view/copy of ``x`` (NumPy array, torch tensor on any device, or nested list).

    Raises :class:`DatasetError` for dtypes HDF5 cannot store faithfully (object, strings,
    bfloat16, ...), naming ``path`` and ``key``.
    """
    if type(x).__module__.split(".")[0] == "torch" and hasattr(x, "detach"):
        if str(x.dtype) in ("torch.bfloat16", "torch.float8_e4m3fn", "torch.float8_e5m2"):
            raise DatasetError(
                f"dtype {x.dtype} has no NumPy/HDF5 equivalent; convert to float32 first",
                path=path,
                key=key,
            )
        x = x.detach().cpu()
        if x.is_conj():
            x = x.resolve_conj()
        if x.is_neg():  # lazy negation, e.g. z.conj().imag: .numpy() refuses it
            x = x.resolve_neg()
        try:
            x = x.numpy()
        except TypeError as err:  # float8/float4 variants, ...: no NumPy dtype
            raise DatasetError(
                f"dtype {x.dtype} has no NumPy/HDF5 equivalent ({err}); convert to float32 first",
                path=path,
                key=key,
            ) from None
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
        raise DatasetError(
            f"expected a numeric array (bool, int, float or complex), got dtype {arr.dtype}",
            path=path,
            key=key,
        )
    return native_byte_order(arr)


def native_byte_order(arr: np.ndarray) -> np.ndarray:
    """``arr`` with its dtype in the machine's byte order (same values): torch cannot read
    big-endian arrays, and HDF5 would otherwise store (and compare) the foreign byte order."""
    if arr.dtype.isnative:
        return arr
    return arr.astype(arr.dtype.newbyteorder("="))


def sample_blocks(n: int, sample_bytes: int, block_bytes: int = BLOCK_BYTES) -> Iterator[slice]:
    """Slices covering ``range(n)`` along the sample axis, each about ``block_bytes`` large."""
    step = max(1, block_bytes // max(sample_bytes, 1))
    for start in range(0, n, step):
        yield slice(start, min(n, start + step))


def count_nonfinite(arr: Any) -> int:
    """Number of NaN/Inf entries of a float/complex array or array view (0 for integer arrays).

    Reads ``arr`` block by block along axis 0, so an HDF5-backed view is never loaded whole.
    """
    dtype = np.dtype(arr.dtype)
    if dtype.kind not in "fc":
        return 0
    shape = tuple(arr.shape)
    if len(shape) == 0:
        return int(not np.isfinite(np.asarray(arr[()])))
    sample_bytes = dtype.itemsize * int(np.prod(shape[1:], dtype=np.int64))
    total = 0
    for sl in sample_blocks(shape[0], sample_bytes):
        block = np.asarray(arr[sl])
        total += int(block.size - np.count_nonzero(np.isfinite(block)))
    return total
