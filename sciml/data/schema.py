"""The sciml HDF5 schema (version 1): names, allowed values and the checks shared by writer and reader.

Layout of one file::

    /                       root attributes:
                              sciml_schema  int, SCHEMA_VERSION
                              name          str, dataset name
                              kind          str, one of KINDS
                              generator     str, "package.module:function" ("" when not generated)
                              params        str, JSON object of the generator parameters
                              seed          int, only present when the data came from a seed
                              created       str, ISO-8601 UTC time of writing
    /train/<key>            arrays, axis 0 is the sample axis, chunked along it
    /val/<key>              same keys, same trailing shapes and dtypes as train
    /test/<key>             (a split group with no arrays is an absent split)
    /coords/<name>          axes: numbers, UTF-8 strings, or datetime64 stored as int64 ticks with
                            the unit in the attribute ``datetime64_unit``
    /stats/<key>/<stat>     normalisation statistics computed on train only (mean, std)

Statistics arrays keep the reduced axes as size 1 and drop the sample axis, so that they broadcast
against one sample (shape = trailing shape) as well as against a batch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from .errors import DatasetError

__all__ = [
    "ATTRS",
    "GROUPS",
    "KINDS",
    "SCHEMA_VERSION",
    "SPLITS",
    "check_splits",
    "sample_chunks",
]

SCHEMA_VERSION: int = 1
"""Integer schema version written to the root attribute ``sciml_schema``."""

KINDS: tuple[str, ...] = (
    "field",
    "timeseries",
    "tensor",
    "imaging",
    "linear_system",
    "pde_problem",
)
"""Allowed values of the root attribute ``kind``."""

SPLITS: tuple[str, ...] = ("train", "val", "test")
"""Split groups, in order."""

GROUPS: tuple[str, ...] = (*SPLITS, "coords", "stats")
"""Groups every file has (possibly empty)."""

ATTRS: tuple[str, ...] = ("sciml_schema", "name", "kind", "generator", "params", "created")
"""Root attributes every file has (``seed`` is optional)."""

DATETIME_UNIT_ATTR: str = "datetime64_unit"
"""Attribute of a coordinate array holding datetime64 ticks (int64): the unit, e.g. ``"s"``."""

CHUNK_BYTES: int = 256 * 1024
"""Target size of one chunk: a Dataset reading one sample touches at most this much (unless one
sample is larger, then one chunk holds exactly one sample)."""

MAX_CHUNK_BYTES: int = 64 * 1024 * 1024
"""A single sample larger than this is also split along its largest trailing axes."""


class _ArrayLike(Protocol):
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def dtype(self) -> np.dtype[Any]: ...


def sample_chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...] | None:
    """Chunk shape for an array of ``shape`` chunked along the sample axis (axis 0).

    Holds ``max(1, CHUNK_BYTES // bytes_per_sample)`` samples and the full trailing shape; a single
    sample above ``MAX_CHUNK_BYTES`` is halved along its largest trailing axis until it fits.
    Returns ``None`` (contiguous storage) for arrays with a zero-length axis.
    """
    if len(shape) == 0 or any(s == 0 for s in shape):
        return None
    trailing = list(shape[1:])
    sample_bytes = itemsize * int(np.prod(trailing, dtype=np.int64))
    n = int(max(1, min(shape[0], CHUNK_BYTES // max(sample_bytes, 1))))
    while itemsize * int(np.prod(trailing, dtype=np.int64)) > MAX_CHUNK_BYTES:
        axis = int(np.argmax(trailing))
        trailing[axis] = (trailing[axis] + 1) // 2
    return (n, *trailing)


def check_splits(
    splits: Mapping[str, Mapping[str, _ArrayLike]], *, path: str | os.PathLike[str] | None
) -> None:
    """Check split names, and that all non-empty splits hold the same keys with equal trailing
    shapes and dtypes. Raises :class:`DatasetError` naming ``path`` and the offending key."""
    unknown = sorted(set(splits) - set(SPLITS))
    if unknown:
        raise DatasetError(
            f"unknown split name(s) {unknown}; expected a subset of {list(SPLITS)}", path=path
        )
    present = [(s, splits[s]) for s in SPLITS if s in splits and len(splits[s]) > 0]
    if not present:
        raise DatasetError(
            f"no arrays in any split; expected at least one of {list(SPLITS)} with arrays",
            path=path,
        )
    ref_split, ref = present[0]
    ref_keys = sorted(ref)
    for split, arrays in present[1:]:
        keys = sorted(arrays)
        if keys != ref_keys:
            missing = sorted(set(ref_keys) - set(keys))
            extra = sorted(set(keys) - set(ref_keys))
            bad = (missing or extra)[0]
            raise DatasetError(
                f"split '{split}' has keys {keys} but '{ref_split}' has {ref_keys} "
                f"(missing {missing}, extra {extra}); all splits must hold the same keys",
                path=path,
                key=f"{split}/{bad}",
            )
    for split, arrays in present:
        for key in ref_keys:
            a = arrays[key]
            if len(a.shape) == 0:
                raise DatasetError(
                    "expected an array with a sample axis (ndim >= 1), got a scalar",
                    path=path,
                    key=f"{split}/{key}",
                )
    for split, arrays in present[1:]:
        for key in ref_keys:
            a, r = arrays[key], ref[key]
            if tuple(a.shape[1:]) != tuple(r.shape[1:]):
                raise DatasetError(
                    f"trailing shape {tuple(a.shape[1:])} (full shape {tuple(a.shape)}) differs "
                    f"from '{ref_split}' {tuple(r.shape[1:])} (full shape {tuple(r.shape)}); "
                    "splits may differ only along the sample axis 0",
                    path=path,
                    key=f"{split}/{key}",
                )
            if np.dtype(a.dtype) != np.dtype(r.dtype):
                raise DatasetError(
                    f"dtype {np.dtype(a.dtype)} differs from '{ref_split}' dtype "
                    f"{np.dtype(r.dtype)}",
                    path=path,
                    key=f"{split}/{key}",
                )
