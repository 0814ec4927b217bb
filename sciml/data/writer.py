"""Atomic writer of sciml HDF5 dataset files (see :mod:`sciml.data.schema` for the layout)."""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import h5py
import numpy as np

from ._arrays import as_numpy, count_nonfinite, sample_blocks
from .atomic import atomic_path
from .errors import DatasetError
from .schema import (
    DATETIME_UNIT_ATTR,
    GROUPS,
    KINDS,
    SCHEMA_VERSION,
    SPLITS,
    check_splits,
    sample_chunks,
)
from .stats import _compute_stats

__all__ = ["params_json", "write_dataset"]

ArrayLike = Any  # numpy.ndarray | torch.Tensor | nested lists
Splits = Mapping[str, Mapping[str, ArrayLike]]


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, tuple | set | frozenset):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def params_json(params: Mapping[str, Any]) -> str:
    """Canonical JSON text of ``params`` (sorted keys, no spaces; NumPy scalars/arrays as numbers
    and lists). Raises TypeError naming ``params`` if something cannot be expressed in JSON."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params: expected a mapping of JSON-serialisable values, got {type(params).__name__}"
        )
    try:
        return json.dumps(
            dict(params),
            sort_keys=True,
            separators=(",", ":"),
            default=_json_default,
            allow_nan=False,
        )
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"params: expected JSON-serialisable values (finite numbers, str, lists, dicts), {err}"
        ) from None


def _check_name(key: Any, what: str, path: Path) -> str:
    if not isinstance(key, str) or not key or "/" in key or key in (".", ".."):
        raise DatasetError(
            f"{what} names must be non-empty strings without '/', got {key!r}", path=path, key=what
        )
    return key


def _coord_array(value: Any, *, path: Path, key: str) -> np.ndarray:
    """Coordinates may also be strings (e.g. channel names) or datetime64 (time stamps)."""
    if not hasattr(value, "detach"):
        arr = np.asarray(value)
        if arr.dtype.kind == "M":
            if np.isnat(arr).any():
                raise DatasetError("NaT (not-a-time) in datetime coordinates", path=path, key=key)
            return arr
        if arr.dtype.kind in "US" or (
            arr.dtype.kind == "O" and all(isinstance(v, str) for v in arr.ravel())
        ):
            return arr.astype(str)
    return as_numpy(value, path=path, key=key)


def _auto_axis(kind: str, ndim: int) -> tuple[int, ...]:
    # Time series: per channel over samples and time; everything else: per feature over samples.
    if kind == "timeseries" and ndim >= 2:
        return tuple(range(ndim - 1))
    return (0,)


def _write_array(group: h5py.Group, key: str, arr: np.ndarray, compression: str | None) -> None:
    chunks = sample_chunks(arr.shape, arr.dtype.itemsize)
    if chunks is None:
        group.create_dataset(key, data=arr)
        return
    ds = group.create_dataset(
        key, shape=arr.shape, dtype=arr.dtype, chunks=chunks, compression=compression
    )
    sample_bytes = arr.dtype.itemsize * int(np.prod(arr.shape[1:], dtype=np.int64))
    for sl in sample_blocks(arr.shape[0], sample_bytes):
        ds[sl] = arr[sl]


def write_dataset(
    path: str | os.PathLike[str],
    splits: Splits,
    *,
    name: str,
    kind: str,
    params: Mapping[str, Any],
    coords: Mapping[str, ArrayLike] | None = None,
    stats: Mapping[str, Mapping[str, ArrayLike]] | Literal["auto"] | None = "auto",
    seed: int | None = None,
    generator: str | None = None,
    allow_nonfinite: bool = False,
    compression: str | None = None,
) -> Path:
    """Validate ``splits`` and write them to ``path`` atomically in the sciml schema.

    The file is written to a temporary file in the same directory, flushed and fsynced, then
    renamed over ``path`` with :func:`os.replace`: a reader (or a crash) sees either the previous
    file or the complete new one, never a partial one. The temporary file is removed on any
    exception; temporaries left by killed writers on this host are removed by the next write.

    Args:
        path: destination ``.h5`` file (parent directories are created).
        splits: ``{"train": {"x": (N_train, ...), "y": ...}, "val": {...}, "test": {...}}``;
            any non-empty subset of train/val/test; NumPy arrays (stored in the machine's byte
            order), torch tensors or lists. Every
            split holds the same keys; a key has the same trailing shape and dtype in all splits
            (axis 0, the sample axis, may differ).
        name: dataset name (root attribute ``name``).
        kind: one of :data:`sciml.data.schema.KINDS`.
        params: generator parameters, stored as JSON text.
        coords: axes to store under ``coords/`` (name -> array): numbers, strings (e.g. channel
            names) or ``datetime64`` time stamps (stored as int64 ticks with the unit in the
            attribute ``datetime64_unit``; read back as ``datetime64``; multiplied units such
            as ``datetime64[10s]`` come back in their base unit, ``datetime64[s]``).
        stats: ``"auto"`` (default): mean/std of every real floating key of ``train`` over the
            sample axis (for ``kind="timeseries"``: over all axes but the last, i.e. per
            channel), skipping keys whose train array has NaN/Inf; ``None``: no statistics; or a
            mapping ``{key: {"mean": arr, "std": arr, ...}}`` (e.g. from :func:`compute_stats`).
        seed: the random seed the data came from (root attribute ``seed``; omitted when None).
        generator: ``"package.module:function"`` that produced the data ("" stored when None).
        allow_nonfinite: store NaN/Inf instead of raising.
        compression: optional h5py filter for the arrays (e.g. ``"gzip"``); none by default so
            that single samples read fast.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        DatasetError: bad splits (inconsistent keys, shapes, dtypes; non-finite values; scalars),
            naming the file and ``split/key``.
        TypeError/ValueError: bad ``name``, ``kind``, ``params``, ``seed`` or ``generator``.
    """
    path = Path(path)
    if not isinstance(name, str) or not name:
        raise TypeError(f"name: expected a non-empty str, got {name!r}")
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {list(KINDS)}, got {kind!r}")
    ptext = params_json(params)
    if seed is not None and (
        isinstance(seed, bool)
        or not isinstance(seed, int | np.integer)
        or not -(2**63) <= int(seed) < 2**63
    ):
        raise TypeError(f"seed: expected an int (64-bit) or None, got {seed!r}")
    if generator is not None and not isinstance(generator, str):
        raise TypeError(
            f"generator: expected a 'package.module:function' str or None, got {generator!r}"
        )
    if path.is_dir():
        raise DatasetError("expected a file path, got an existing directory", path=path)
    if not isinstance(splits, Mapping) or not all(isinstance(v, Mapping) for v in splits.values()):
        raise DatasetError(
            "splits: expected a mapping split -> mapping key -> array, e.g. "
            "{'train': {'x': ..., 'y': ...}}",
            path=path,
        )

    arrays: dict[str, dict[str, np.ndarray]] = {}
    for split, group in splits.items():
        _check_name(split, "split", path)
        arrays[split] = {
            _check_name(k, "key", path): as_numpy(v, path=path, key=f"{split}/{k}")
            for k, v in group.items()
        }
    check_splits(arrays, path=path)

    coord_arrays: dict[str, np.ndarray] = {}
    for cname, value in (coords or {}).items():
        coord_arrays[_check_name(cname, "coordinate", path)] = _coord_array(
            value, path=path, key=f"coords/{cname}"
        )

    nonfinite: dict[str, tuple[int, int]] = {}  # "split/key" -> (count, size)
    every = [(f"{s}/{k}", a) for s, g in arrays.items() for k, a in g.items()]
    every += [(f"coords/{c}", a) for c, a in coord_arrays.items() if a.dtype.kind in "fc"]
    for where, a in every:
        n_bad = count_nonfinite(a)
        if n_bad:
            nonfinite[where] = (n_bad, int(a.size))
    if nonfinite and not allow_nonfinite:
        first = next(iter(nonfinite))
        detail = ", ".join(f"{k}: {n} of {size}" for k, (n, size) in nonfinite.items())
        raise DatasetError(
            f"{nonfinite[first][0]} non-finite values (NaN/Inf) of {nonfinite[first][1]} "
            f"(all affected arrays: {detail}); pass allow_nonfinite=True to store them anyway",
            path=path,
            key=first,
        )

    stat_arrays: dict[str, dict[str, np.ndarray]] = {}
    if isinstance(stats, str):
        if stats != "auto":
            raise ValueError(f"stats: expected 'auto', None or a mapping, got {stats!r}")
        for k, a in arrays.get("train", {}).items():
            if a.dtype.kind == "f" and a.shape[0] > 0 and f"train/{k}" not in nonfinite:
                stat_arrays[k] = _compute_stats(a, axis=_auto_axis(kind, a.ndim))
    elif stats is not None:
        if not isinstance(stats, Mapping) or not all(
            isinstance(v, Mapping) for v in stats.values()
        ):
            raise TypeError(
                "stats: expected 'auto', None or a mapping key -> {'mean': array, 'std': array}, "
                f"got {type(stats).__name__}"
            )
        for k, group in stats.items():
            _check_name(k, "stats key", path)
            stat_arrays[k] = {
                _check_name(s, "statistic", path): as_numpy(v, path=path, key=f"stats/{k}/{s}")
                for s, v in group.items()
            }
            for s, a in stat_arrays[k].items():
                n_bad = count_nonfinite(a)
                if n_bad and not allow_nonfinite:
                    raise DatasetError(
                        f"{n_bad} non-finite values (NaN/Inf) in the statistics",
                        path=path,
                        key=f"stats/{k}/{s}",
                    )

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["sciml_schema"] = np.int64(SCHEMA_VERSION)
            f.attrs["name"] = name
            f.attrs["kind"] = kind
            f.attrs["generator"] = generator or ""
            f.attrs["params"] = ptext
            if seed is not None:
                f.attrs["seed"] = np.int64(seed)
            f.attrs["created"] = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
            for g in GROUPS:
                f.create_group(g)
            for split in SPLITS:
                for k, a in arrays.get(split, {}).items():
                    _write_array(f[split], k, a, compression)
            for cname, a in coord_arrays.items():
                if a.dtype.kind == "M":  # datetime64: int64 ticks + unit attribute
                    unit, count = np.datetime_data(a.dtype)
                    if count != 1:  # e.g. datetime64[10s]: ticks of the base unit, same times
                        a = a.astype(f"datetime64[{unit}]")
                    d = f["coords"].create_dataset(cname, data=a.astype(np.int64))
                    d.attrs[DATETIME_UNIT_ATTR] = unit
                elif a.dtype.kind == "U":
                    f["coords"].create_dataset(
                        cname, data=a.astype(object), dtype=h5py.string_dtype("utf-8")
                    )
                else:
                    f["coords"].create_dataset(cname, data=a)
            for k, group in stat_arrays.items():
                g = f["stats"].create_group(k)
                for s, a in group.items():
                    g.create_dataset(s, data=a)
    return path
