"""Validating, read-only access to sciml HDF5 dataset files with lazy array views."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ._arrays import count_nonfinite
from .errors import DatasetError, MissingKeyError
from .schema import ATTRS, DATETIME_UNIT_ATTR, GROUPS, KINDS, SCHEMA_VERSION, SPLITS, check_splits

__all__ = ["ArrayView", "DatasetFile", "open_dataset"]


def open_h5_readonly(path: str | os.PathLike[str]) -> h5py.File:
    """``h5py.File(path, "r")`` with HDF5's default file locking (a shared lock), so the same
    file can also be opened with plain h5py in the same process. On filesystems without locking
    support set ``HDF5_USE_FILE_LOCKING=FALSE`` (sciml files never change after their rename)."""
    return h5py.File(path, "r")


def _coord_values(obj: h5py.Dataset) -> np.ndarray:
    unit = obj.attrs.get(DATETIME_UNIT_ATTR)
    if unit is not None:
        return np.asarray(obj[()], dtype=np.int64).astype(f"datetime64[{unit}]")
    if h5py.check_string_dtype(obj.dtype) is not None:
        return np.asarray(obj.asstr()[()], dtype=str)
    return np.asarray(obj[()])


def _check_opened(obj: Any, path: str, key: str) -> None:
    """h5py's ``Group.get``/``items`` give None for a link whose object cannot be opened."""
    if obj is None:
        raise DatasetError(
            "cannot open this object; the file is damaged (bad object header?)", path=path, key=key
        )


def _check_numeric(dtype: np.dtype[Any], path: str, key: str) -> None:
    """Split arrays and statistics are numeric (what the writer stores): a string, compound or
    opaque array written by another tool is a :class:`DatasetError` here, not a TypeError
    naming neither file nor key when a Dataset converts a sample to a tensor."""
    if np.dtype(dtype).kind not in "biufc":
        raise DatasetError(
            f"expected a numeric array (bool, int, float or complex), got dtype {dtype}",
            path=path,
            key=key,
        )


class ArrayView:
    """Lazy, read-only view of one array in an open dataset file.

    Indexing reads only what is asked for (``view[i]`` reads one sample, ``view[a:b]`` a block,
    ``view[[3, 1, 3]]`` a gather along axis 0 in any order) and returns NumPy arrays;
    ``np.asarray(view)`` or ``view[()]`` loads everything. Read errors (e.g. a damaged file)
    raise :class:`DatasetError` naming the file and key.
    """

    __slots__ = ("_ds", "_file", "key")

    def __init__(self, file: DatasetFile, ds: h5py.Dataset, key: str) -> None:
        self._file = file
        self._ds = ds
        self.key = key

    @property
    def shape(self) -> tuple[int, ...]:
        """Full shape, sample axis first."""
        return tuple(self._ds.shape)

    @property
    def dtype(self) -> np.dtype[Any]:
        return self._ds.dtype

    @property
    def ndim(self) -> int:
        return len(self._ds.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self._ds.shape, dtype=np.int64))

    @property
    def chunks(self) -> tuple[int, ...] | None:
        """HDF5 chunk shape (``chunks[0]`` samples per chunk), None when stored contiguously."""
        return self._ds.chunks

    def __len__(self) -> int:
        if not self._ds.shape:
            raise TypeError(f"{self.key}: len() of a 0-d array")
        return int(self._ds.shape[0])

    def _check_open(self) -> None:
        if self._file.closed:
            raise DatasetError("the dataset file is closed", path=self._file.path, key=self.key)

    def __getitem__(self, index: Any) -> np.ndarray:
        self._check_open()
        try:
            rest: tuple[Any, ...] = ()
            first = index
            if isinstance(index, tuple) and index:
                first, rest = index[0], index[1:]
            if isinstance(first, list | np.ndarray) and np.asarray(first).dtype.kind in "iu":
                return self._gather(np.asarray(first), rest)
            return np.asarray(self._ds[index])
        except (OSError, RuntimeError) as err:
            raise DatasetError(
                f"read failed ({err}); the file may be damaged", path=self._file.path, key=self.key
            ) from err

    def _gather(self, first: np.ndarray, rest: tuple[Any, ...]) -> np.ndarray:
        # h5py's own fancy indexing is slow (about 10x a loop of single reads for random
        # indices): read each run of consecutive sorted unique indices as one slice instead.
        idx = first.astype(np.int64).reshape(-1)
        n = self.shape[0]
        if idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"index out of range for axis 0 of size {n}")
        idx = np.where(idx < 0, idx + n, idx)
        uniq, inverse = np.unique(idx, return_inverse=True)
        if uniq.size == 0:
            empty = np.asarray(self._ds[(slice(0, 0), *rest)])
            return empty.reshape(first.shape + empty.shape[1:])
        breaks = np.flatnonzero(np.diff(uniq) != 1) + 1
        starts = np.concatenate([[0], breaks])
        stops = np.concatenate([breaks, [uniq.size]])
        parts = [
            np.asarray(self._ds[(slice(uniq[a], uniq[b - 1] + 1), *rest)])
            for a, b in zip(starts, stops)
        ]
        out = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=0)
        return out[inverse.reshape(first.shape)]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[()]
        return out if dtype is None else out.astype(dtype, copy=False)

    def read(self) -> np.ndarray:
        """The whole array as NumPy."""
        return self[()]

    def __repr__(self) -> str:
        return f"ArrayView({self.key!r}, shape={self.shape}, dtype={self.dtype})"


class _Group(Mapping[str, Any]):
    """Read-only mapping whose missing keys raise :class:`MissingKeyError` naming file and group."""

    def __init__(self, items: dict[str, Any], *, path: str, prefix: str, what: str) -> None:
        self._items = items
        self._path = path
        self._prefix = prefix
        self._what = what

    def __getitem__(self, key: str) -> Any:
        try:
            return self._items[key]
        except KeyError:
            raise MissingKeyError(
                f"no {self._what} {key!r}; the file has {sorted(self._items)}",
                path=self._path,
                key=f"{self._prefix}{key}",
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"{{{', '.join(f'{k!r}: {v!r}' for k, v in self._items.items())}}}"


class DatasetFile:
    """An open, validated, read-only sciml dataset file. Use :func:`open_dataset` to create one.

    Attributes:
        path: the file.
        attrs: root attributes; ``params`` decoded from JSON, ``seed`` None when absent,
            ``generator`` None when empty.
        splits: present splits (those with arrays): split -> key -> :class:`ArrayView`.
        coords: coordinate name -> NumPy array (loaded; coordinates are small).
        stats: key -> statistic name -> NumPy array (loaded).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._h5: h5py.File | None = None
        p = Path(self.path)
        if not p.exists():
            raise DatasetError("no such file", path=self.path)
        if p.is_dir():
            raise DatasetError("expected an HDF5 file, got a directory", path=self.path)
        try:
            is_hdf5 = h5py.is_hdf5(self.path)
        except OSError as err:
            raise DatasetError(f"cannot read the file ({err})", path=self.path) from err
        if not is_hdf5:
            raise DatasetError("not an HDF5 file (no HDF5 signature)", path=self.path)
        try:
            self._h5 = open_h5_readonly(self.path)
        except OSError as err:
            raise DatasetError(
                f"cannot open the HDF5 file; truncated or damaged? ({err})", path=self.path
            ) from err
        try:
            self._validate()
        except DatasetError:
            self.close()
            raise
        except (OSError, RuntimeError, ValueError, KeyError) as err:
            # h5py reports damaged metadata (object headers, attributes, links) in several ways
            self.close()
            raise DatasetError(
                f"cannot read the file's structure; truncated or damaged? "
                f"({type(err).__name__}: {err})",
                path=self.path,
            ) from err
        except BaseException:
            self.close()
            raise

    # -- validation ---------------------------------------------------------------------------
    def _validate(self) -> None:
        f = self._h5
        assert f is not None
        path = self.path
        try:
            raw = dict(f.attrs)
        except OSError as err:
            raise DatasetError(f"cannot read root attributes ({err})", path=path) from err
        if "sciml_schema" not in raw:
            raise DatasetError(
                "not a sciml dataset: root attribute 'sciml_schema' is missing",
                path=path,
                key="sciml_schema",
            )
        version = raw["sciml_schema"]
        if isinstance(version, np.generic):
            version = version.item()
        if isinstance(version, bool) or not isinstance(version, int) or version != SCHEMA_VERSION:
            hint = (
                "written by a newer sciml; upgrade sciml"
                if isinstance(version, int) and version > SCHEMA_VERSION
                else "regenerate the file"
            )
            raise DatasetError(
                f"schema version {version!r} is not supported: this sciml reads version "
                f"{SCHEMA_VERSION} ({hint})",
                path=path,
                key="sciml_schema",
            )
        for a in ATTRS:
            if a not in raw:
                raise MissingKeyError(f"root attribute {a!r} is missing", path=path, key=a)
        for a in ("name", "kind", "generator", "params", "created"):
            if isinstance(raw[a], bytes):
                raw[a] = raw[a].decode("utf-8")
            if not isinstance(raw[a], str):
                raise DatasetError(
                    f"root attribute {a!r} must be a string, got {type(raw[a]).__name__}",
                    path=path,
                    key=a,
                )
        if raw["kind"] not in KINDS:
            raise DatasetError(
                f"kind {raw['kind']!r} is not one of {list(KINDS)}", path=path, key="kind"
            )
        try:
            params = json.loads(raw["params"])
        except json.JSONDecodeError as err:
            raise DatasetError(
                f"params is not valid JSON ({err})", path=path, key="params"
            ) from None
        if not isinstance(params, dict):
            raise DatasetError("params must be a JSON object", path=path, key="params")
        seed = raw.get("seed")
        if seed is not None and not isinstance(seed, int | np.integer):
            raise DatasetError(f"seed must be an integer, got {seed!r}", path=path, key="seed")
        attrs: dict[str, Any] = {
            k: (v.item() if isinstance(v, np.generic) else v) for k, v in raw.items()
        }
        attrs.update(
            sciml_schema=int(version),
            params=params,
            seed=None if seed is None else int(seed),
            generator=raw["generator"] or None,
        )
        self.attrs: dict[str, Any] = attrs

        for g in GROUPS:
            try:
                obj = f.get(g, getclass=True)
            except (OSError, RuntimeError, ValueError, KeyError) as err:
                raise DatasetError(
                    f"cannot open group '{g}/'; the file is damaged ({err})", path=path, key=g
                ) from err
            if obj is None:
                raise MissingKeyError(f"group '{g}/' is missing", path=path, key=g)
            if obj is not h5py.Group:
                raise DatasetError(f"'{g}' must be a group", path=path, key=g)

        views: dict[str, dict[str, ArrayView]] = {}
        for split in SPLITS:
            group = f[split]
            items: dict[str, ArrayView] = {}
            for key in group:
                obj = group.get(key)
                _check_opened(obj, path, f"{split}/{key}")
                if not isinstance(obj, h5py.Dataset):
                    raise DatasetError(
                        "expected an array (HDF5 dataset), got a group",
                        path=path,
                        key=f"{split}/{key}",
                    )
                _check_numeric(obj.dtype, path, f"{split}/{key}")
                items[key] = ArrayView(self, obj, f"{split}/{key}")
            if items:
                views[split] = items
        check_splits(views, path=path)
        self.splits: Mapping[str, Mapping[str, ArrayView]] = _Group(
            {s: _Group(v, path=path, prefix=f"{s}/", what="array") for s, v in views.items()},
            path=path,
            prefix="",
            what="split",
        )

        try:
            coords = {}
            for name, obj in f["coords"].items():
                _check_opened(obj, path, f"coords/{name}")
                if not isinstance(obj, h5py.Dataset):
                    raise DatasetError(
                        "expected an array, got a group", path=path, key=f"coords/{name}"
                    )
                coords[name] = _coord_values(obj)
            stats: dict[str, Mapping[str, np.ndarray]] = {}
            for key, obj in f["stats"].items():
                _check_opened(obj, path, f"stats/{key}")
                if not isinstance(obj, h5py.Group):
                    raise DatasetError(
                        "expected a group of statistics", path=path, key=f"stats/{key}"
                    )
                entries = {}
                for s, d in obj.items():
                    _check_opened(d, path, f"stats/{key}/{s}")
                    if not isinstance(d, h5py.Dataset):
                        raise DatasetError("expected an array", path=path, key=f"stats/{key}/{s}")
                    _check_numeric(d.dtype, path, f"stats/{key}/{s}")
                    entries[s] = np.asarray(d[()])
                stats[key] = _Group(entries, path=path, prefix=f"stats/{key}/", what="statistic")
        except (OSError, RuntimeError) as err:
            raise DatasetError(f"cannot read coords/stats ({err})", path=path) from err
        self.coords: Mapping[str, np.ndarray] = _Group(
            coords, path=path, prefix="coords/", what="coordinate"
        )
        self.stats: Mapping[str, Mapping[str, np.ndarray]] = _Group(
            stats, path=path, prefix="stats/", what="statistics for key"
        )

    # -- public -------------------------------------------------------------------------------
    def nonfinite_counts(self) -> dict[str, int]:
        """Scan every split array (block by block) and return ``{"split/key": count}`` for the
        arrays holding NaN/Inf (empty dict when all are finite)."""
        out = {}
        for split, arrays in self.splits.items():
            for key, view in arrays.items():
                n = count_nonfinite(view)
                if n:
                    out[f"{split}/{key}"] = n
        return out

    def check_finite(self) -> None:
        """Raise :class:`DatasetError` naming the first array with NaN/Inf and its count."""
        bad = self.nonfinite_counts()
        if bad:
            first = next(iter(bad))
            raise DatasetError(
                f"{bad[first]} non-finite values (NaN/Inf); all affected: {bad}",
                path=self.path,
                key=first,
            )

    @property
    def closed(self) -> bool:
        return self._h5 is None or not self._h5.id.valid

    def close(self) -> None:
        """Close the file (idempotent). Array views fail afterwards."""
        if self._h5 is not None:
            self._h5.close()
            self._h5 = None

    def __enter__(self) -> DatasetFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __getstate__(self) -> None:
        raise TypeError(
            "an open DatasetFile cannot be pickled or shared across processes; pass the path "
            "and call open_dataset() in each process (the torch Datasets do this for you)"
        )

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        shapes = (
            {s: {k: v.shape for k, v in a.items()} for s, a in self.splits.items()}
            if not self.closed
            else {}
        )
        return f"<DatasetFile {self.path!r} ({state}) name={self.attrs.get('name')!r} kind={self.attrs.get('kind')!r} {shapes}>"


def open_dataset(path: str | os.PathLike[str], *, check_finite: bool = False) -> DatasetFile:
    """Open and validate a sciml dataset file read-only.

    Checks: the file exists and is HDF5 (not truncated), the schema version, the root attributes,
    the groups, and that all splits hold the same keys with equal trailing shapes and dtypes.
    Arrays are not read; ``check_finite=True`` additionally scans them for NaN/Inf.

    Returns a :class:`DatasetFile` (a context manager; or call ``.close()``).

    Raises:
        DatasetError: naming the file and the key for every problem above.
    """
    handle = DatasetFile(path)
    if check_finite:
        try:
            handle.check_finite()
        except BaseException:
            handle.close()
            raise
    return handle
