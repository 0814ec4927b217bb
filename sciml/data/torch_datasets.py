"""torch ``Dataset``s over sciml HDF5 files that read one sample at a time.

Every Dataset validates the file once at construction and closes it again, so no open HDF5 handle
exists when a ``DataLoader`` forks its workers. The file is then opened lazily, once per process
(the process id is checked on every access), which makes the Datasets safe with any
``num_workers`` and with the ``fork``, ``spawn`` and ``forkserver`` start methods (pickling drops
the handle). ``__getitems__`` reads a whole batch in one HDF5 call where the layout allows it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from sciml.kernels import DeviceCache

from ._arrays import native_byte_order
from .errors import DatasetError, MissingKeyError
from .reader import ArrayView, DatasetFile, open_dataset
from .stats import _check_eps, _denormalize, _normalize

__all__ = ["ArrayDataset", "FieldDataset", "TensorEntryDataset", "WindowDataset"]

_ABANDONED: list[DatasetFile] = []
"""Handles inherited through fork: kept referenced and never touched in the child process."""


def _complex_of(dtype: torch.dtype) -> torch.dtype:
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _to_tensor(a: np.ndarray, float_dtype: torch.dtype | None) -> torch.Tensor:
    # (ascontiguousarray would make 0-d 1-d); files from other tools may be big-endian
    t = torch.from_numpy(native_byte_order(np.asarray(a, order="C")))
    if float_dtype is None:
        return t
    if t.is_complex():
        return t.to(_complex_of(float_dtype))
    return t.to(float_dtype)


def _index(i: Any, n: int) -> int:
    if isinstance(i, torch.Tensor):
        i = i.item()
    i = int(i)
    if not -n <= i < n:
        raise IndexError(f"index {i} out of range for a Dataset of length {n}")
    return i + n if i < 0 else i


class _H5Dataset(Dataset):
    """Base class: lazy per-process file handle, pickling without the handle."""

    def __init__(self, path: str | os.PathLike[str], split: str) -> None:
        if not isinstance(split, str):
            raise TypeError(f"split: expected a str such as 'train', got {split!r}")
        self.path = os.fspath(path)
        self.split = split
        self._file: DatasetFile | None = None
        self._pid: int | None = None

    def _split(self, f: DatasetFile) -> Mapping[str, ArrayView]:
        return f.splits[self.split]

    def _require(self, f: DatasetFile, key: Any, argname: str) -> ArrayView:
        if not isinstance(key, str):
            raise TypeError(f"{argname}: expected a str key, got {key!r}")
        arrays = self._split(f)
        if key not in arrays:
            raise MissingKeyError(
                f"{argname}={key!r} is not an array of split '{self.split}'; it has {sorted(arrays)}",
                path=self.path,
                key=f"{self.split}/{key}",
            )
        return arrays[key]

    def _stats(self, f: DatasetFile, key: str) -> tuple[np.ndarray, np.ndarray]:
        if key not in f.stats or "mean" not in f.stats[key] or "std" not in f.stats[key]:
            raise MissingKeyError(
                "normalize=True needs stats/<key>/mean and stats/<key>/std (train statistics); "
                f"the file has statistics for {sorted(f.stats)}",
                path=self.path,
                key=f"stats/{key}",
            )
        mean, std = np.asarray(f.stats[key]["mean"]), np.asarray(f.stats[key]["std"])
        return native_byte_order(mean), native_byte_order(std)

    def _arrays(self) -> Mapping[str, ArrayView]:
        """The split's array views, opening the file in this process on first use."""
        pid = os.getpid()
        if self._file is None or self._pid != pid or self._file.closed:
            if self._file is not None and self._pid != pid:
                _ABANDONED.append(self._file)  # inherited through fork: do not touch it here
            self._file = open_dataset(self.path)
            self._pid = pid
        return self._split(self._file)

    def close(self) -> None:
        """Close this process's handle (it is reopened on the next access)."""
        if self._file is not None:
            if self._pid == os.getpid():
                self._file.close()
            else:
                _ABANDONED.append(self._file)  # inherited through fork: do not touch it here
        self._file = None
        self._pid = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_file"] = None
        state["_pid"] = None
        return state

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        return [self[i] for i in indices]


class FieldDataset(_H5Dataset):
    """Pairs ``(x[i], y[i])`` of fields, e.g. PDE input/solution pairs or measurements/images.

    Args:
        path: sciml dataset file.
        split: ``"train"``, ``"val"`` or ``"test"``.
        x_key, y_key: array keys; both must have the same number of samples.
        normalize: standardise x and y with the stored train statistics
            ``stats/<key>/{mean,std}`` (zero std treated as 1); undo with :meth:`denormalize`.
        dtype: floating dtype of the returned tensors (complex data gets the matching complex
            dtype, integer data is cast to ``dtype``).
        eps: with ``normalize``, scale by ``std + eps`` instead (the FNO/LSM convention for
            per-pixel statistics: a pixel constant over the training set, such as a Dirichlet
            boundary, is multiplied by ``eps`` on the way back, so it drops out of a loss on
            de-normalised outputs); None (default) keeps "zero std treated as 1".

    Returns per item: ``(x, y)`` with the stored sample shapes ``x_shape``, ``y_shape``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        split: str,
        x_key: str = "x",
        y_key: str = "y",
        normalize: bool = False,
        dtype: torch.dtype = torch.float32,
        *,
        eps: float | None = None,
    ) -> None:
        super().__init__(path, split)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise TypeError(f"dtype: expected a floating torch dtype, got {dtype!r}")
        self.x_key, self.y_key = x_key, y_key
        self.normalize = bool(normalize)
        self.eps = _check_eps(eps)
        self.dtype = dtype
        self._mean: dict[str, torch.Tensor] = {}
        self._stats_on: dict[tuple[str, str], DeviceCache] = {}  # denormalize's device copies
        self._std: dict[str, torch.Tensor] = {}
        self._mean64: dict[str, torch.Tensor] = {}  # normalisation runs in float64, then casts
        self._std64: dict[str, torch.Tensor] = {}
        with open_dataset(path) as f:
            x = self._require(f, x_key, "x_key")
            y = self._require(f, y_key, "y_key")
            if len(x) != len(y):
                raise DatasetError(
                    f"x_key={x_key!r} has {len(x)} samples but y_key={y_key!r} has {len(y)}",
                    path=self.path,
                    key=f"{split}/{y_key}",
                )
            self._len = len(x)
            self.x_shape, self.y_shape = x.shape[1:], y.shape[1:]
            for key, view in ((x_key, x), (y_key, y)):
                if not self.normalize:
                    continue
                if view.dtype.kind == "c":
                    raise DatasetError(
                        "normalize=True is for real data, got complex",
                        path=self.path,
                        key=f"{split}/{key}",
                    )
                mean, std = self._stats(f, key)
                try:
                    ok = (
                        np.broadcast_shapes(mean.shape, std.shape, view.shape[1:]) == view.shape[1:]
                    )
                except ValueError:
                    ok = False
                if not ok:
                    raise DatasetError(
                        f"statistics of shapes {mean.shape}/{std.shape} do not broadcast to the "
                        f"sample shape {view.shape[1:]}",
                        path=self.path,
                        key=f"stats/{key}",
                    )
                self._mean[key] = torch.as_tensor(mean, dtype=dtype)
                self._std[key] = torch.as_tensor(std, dtype=dtype)
                self._mean64[key] = torch.as_tensor(mean, dtype=torch.float64)
                self._std64[key] = torch.as_tensor(std, dtype=torch.float64)

    def __len__(self) -> int:
        return self._len

    def _convert(self, a: np.ndarray, key: str) -> torch.Tensor:
        if not self.normalize:
            return _to_tensor(a, self.dtype)
        # (x - mean) / std in float64, rounded once to ``dtype``: in float32 an offset field
        # (1e5 ± 1) would lose its digits to the rounding of x and mean before the subtraction
        t = _to_tensor(a, torch.float64)
        return _normalize(t, self._mean64[key], self._std64[key], self.eps).to(self.dtype)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = _index(i, self._len)
        arrays = self._arrays()
        return (
            self._convert(arrays[self.x_key][i], self.x_key),
            self._convert(arrays[self.y_key][i], self.y_key),
        )

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        idx = [_index(i, self._len) for i in indices]
        arrays = self._arrays()
        xs = self._convert(arrays[self.x_key][idx], self.x_key)
        ys = self._convert(arrays[self.y_key][idx], self.y_key)
        return list(zip(xs.unbind(0), ys.unbind(0)))

    def denormalize(self, t: torch.Tensor, key: str | None = None) -> torch.Tensor:
        """Undo the normalisation of ``t`` (one sample or a batch, any device) for ``key``
        (default ``y_key``): ``t * std + mean`` (``std + eps`` with ``eps``). Identity when
        ``normalize=False``."""
        key = self.y_key if key is None else key
        if key not in (self.x_key, self.y_key):
            raise ValueError(f"key: expected {self.x_key!r} or {self.y_key!r}, got {key!r}")
        if not self.normalize:
            return t
        # called on every batch of a training loss: copy the statistics to a GPU once
        caches = self._stats_on
        # from the float64 copies: a float64 ``t`` gets the statistics unrounded (a float32 ``t``
        # the same values as before: float64 -> float32 rounds once)
        mean = caches.setdefault((key, "mean"), DeviceCache()).get(
            self._mean64[key], t.device, t.dtype
        )
        std = caches.setdefault((key, "std"), DeviceCache()).get(
            self._std64[key], t.device, t.dtype
        )
        return _denormalize(t, mean, std, self.eps)


class WindowDataset(_H5Dataset):
    """Sliding windows over a time series: ``(window (lag, C), target (horizon, C))``.

    The series at ``key`` is stored as (T,) (one channel), (T, C), or (N, T, C) for N series of
    equal length. Window ``j`` of series ``s`` starts at ``t0 = j * stride`` and covers
    ``[t0, t0 + lag)``; its target covers ``[t0 + lag, t0 + lag + horizon)``. Windows are
    numbered series by series. Store evaluation splits with ``lag`` steps of history in front
    (see :func:`sciml.data.ett_splits`) so that the first target starts at the split border.

    Args:
        path, split: file and split.
        key: array key of the series.
        lag, horizon: window and forecast lengths (>= 1).
        stride: step between window starts (>= 1).
        normalize: standardise with ``stats/<key>/{mean,std}`` (per channel; shape (), (C,) or
            (1, C)); undo with :meth:`denormalize`.
        dtype: floating dtype of the returned tensors.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        split: str,
        key: str = "series",
        *,
        lag: int,
        horizon: int,
        stride: int = 1,
        normalize: bool = False,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(path, split)
        for name, v in (("lag", lag), ("horizon", horizon), ("stride", stride)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {v!r}")
        self.key, self.lag, self.horizon, self.stride = key, int(lag), int(horizon), int(stride)
        self.normalize = bool(normalize)
        self.dtype = dtype
        with open_dataset(path) as f:
            view = self._require(f, key, "key")
            if view.dtype.kind not in "biuf":
                raise DatasetError(
                    f"expected a real series, got dtype {view.dtype}",
                    path=self.path,
                    key=f"{split}/{key}",
                )
            if view.ndim == 1:
                self.n_series, self.length, self.channels = 1, view.shape[0], 1
            elif view.ndim == 2:
                self.n_series, (self.length, self.channels) = 1, view.shape
            elif view.ndim == 3:
                self.n_series, self.length, self.channels = view.shape
            else:
                raise DatasetError(
                    f"expected a series of shape (T,), (T, C) or (N, T, C), got {view.shape}",
                    path=self.path,
                    key=f"{split}/{key}",
                )
            self._ndim = view.ndim
            span = self.lag + self.horizon
            if span > self.length:
                raise ValueError(
                    f"lag + horizon = {self.lag} + {self.horizon} = {span} exceeds the series "
                    f"length T = {self.length} of split '{split}' in {self.path} [{split}/{key}]"
                )
            self.windows_per_series = (self.length - span) // self.stride + 1
            self._mean = torch.zeros((), dtype=dtype)
            self._std = torch.ones((), dtype=dtype)
            self._mean64 = self._std64 = self._mean  # set below with normalize
            if self.normalize:
                mean, std = self._stats(f, key)
                if mean.size not in (1, self.channels) or std.size not in (1, self.channels):
                    raise DatasetError(
                        f"per-channel statistics must have 1 or C={self.channels} entries, got "
                        f"shapes {mean.shape}/{std.shape} (compute them with "
                        "compute_stats(series, axis=(0, 1)) for (N, T, C) series)",
                        path=self.path,
                        key=f"stats/{key}",
                    )
                self._mean = torch.as_tensor(mean.reshape(-1), dtype=dtype)
                self._std = torch.as_tensor(std.reshape(-1), dtype=dtype)
                self._mean64 = torch.as_tensor(mean.reshape(-1), dtype=torch.float64)
                self._std64 = torch.as_tensor(std.reshape(-1), dtype=torch.float64)

    def __len__(self) -> int:
        return self.n_series * self.windows_per_series

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = _index(i, len(self))
        s, j = divmod(i, self.windows_per_series)
        t0 = j * self.stride
        t1 = t0 + self.lag + self.horizon
        view = self._arrays()[self.key]
        seg = view[s, t0:t1] if self._ndim == 3 else view[t0:t1]
        if self.normalize:  # in float64, rounded once to ``dtype`` (see FieldDataset)
            t = _to_tensor(seg, torch.float64).reshape(t1 - t0, self.channels)
            t = _normalize(t, self._mean64, self._std64).to(self.dtype)
        else:
            t = _to_tensor(seg, self.dtype).reshape(t1 - t0, self.channels)
        return t[: self.lag], t[self.lag :]

    def denormalize(self, t: torch.Tensor) -> torch.Tensor:
        """Undo the normalisation of ``t`` (..., C) on any device; identity without it."""
        if not self.normalize:
            return t
        mean, std = self._mean64.to(t.device, t.dtype), self._std64.to(t.device, t.dtype)
        return _denormalize(t, mean, std)


class TensorEntryDataset(_H5Dataset):
    """Observed entries of a K-mode tensor: ``(index (K,) int64, value () float)``.

    ``index_key`` holds (N, K) integer indices, ``value_key`` the (N,) (or (N, 1)) values.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        split: str,
        index_key: str = "indices",
        value_key: str = "values",
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__(path, split)
        self.index_key, self.value_key, self.dtype = index_key, value_key, dtype
        with open_dataset(path) as f:
            idx = self._require(f, index_key, "index_key")
            val = self._require(f, value_key, "value_key")
            where = f"{split}/{index_key}"
            if idx.ndim != 2 or idx.dtype.kind not in "iu":
                raise DatasetError(
                    f"expected integer indices of shape (N, K), got {idx.dtype} {idx.shape}",
                    path=self.path,
                    key=where,
                )
            if not (val.ndim == 1 or (val.ndim == 2 and val.shape[1] == 1)):
                raise DatasetError(
                    f"expected values of shape (N,) or (N, 1), got {val.shape}",
                    path=self.path,
                    key=f"{split}/{value_key}",
                )
            if len(idx) != len(val):
                raise DatasetError(
                    f"{len(idx)} indices but {len(val)} values",
                    path=self.path,
                    key=f"{split}/{value_key}",
                )
            self._len = len(idx)
            self.order = idx.shape[1]

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = _index(i, self._len)
        arrays = self._arrays()
        index = torch.from_numpy(arrays[self.index_key][i].astype(np.int64))
        value = _to_tensor(np.asarray(arrays[self.value_key][i]).reshape(()), self.dtype)
        return index, value

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        idx = [_index(i, self._len) for i in indices]
        arrays = self._arrays()
        index = torch.from_numpy(arrays[self.index_key][idx].astype(np.int64))
        value = _to_tensor(arrays[self.value_key][idx].reshape(len(idx)), self.dtype)
        return list(zip(index.unbind(0), value.unbind(0)))


class ArrayDataset(_H5Dataset):
    """Tuples ``(a[i], b[i], ...)`` of the arrays ``keys`` of one split (same sample count).

    Args:
        keys: array keys (a single str gives 1-tuples).
        float_dtype: cast floating (and complex) arrays to this dtype (complex to the matching
            complex dtype); ``None`` keeps the stored dtypes. Integer/bool arrays keep theirs.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        split: str,
        keys: Sequence[str] | str,
        float_dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(path, split)
        self.keys = (keys,) if isinstance(keys, str) else tuple(keys)
        if not self.keys:
            raise ValueError("keys: expected at least one array key, got none")
        self.float_dtype = float_dtype
        with open_dataset(path) as f:
            views = [self._require(f, k, "keys") for k in self.keys]
            lengths = {k: len(v) for k, v in zip(self.keys, views)}
            if len(set(lengths.values())) != 1:
                raise DatasetError(
                    f"keys must have the same number of samples, got {lengths}",
                    path=self.path,
                    key=f"{split}/{self.keys[-1]}",
                )
            self._len = lengths[self.keys[0]]
            self._floating = {k: v.dtype.kind in "fc" for k, v in zip(self.keys, views)}

    def __len__(self) -> int:
        return self._len

    def _convert(self, a: np.ndarray, key: str) -> torch.Tensor:
        return _to_tensor(a, self.float_dtype if self._floating[key] else None)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        i = _index(i, self._len)
        arrays = self._arrays()
        return tuple(self._convert(np.asarray(arrays[k][i]), k) for k in self.keys)

    def __getitems__(self, indices: Sequence[int]) -> list[tuple[torch.Tensor, ...]]:
        idx = [_index(i, self._len) for i in indices]
        arrays = self._arrays()
        cols = [self._convert(arrays[k][idx], k).unbind(0) for k in self.keys]
        return list(zip(*cols))
