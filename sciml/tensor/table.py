"""Importer for user tables of continuous-indexed tensor entries: index columns + one value
column, from CSV or HDF5. Each mode is scaled to ``[0, index_range]`` (the scaling is recorded
so that predictions and latent functions map back to original units), values optionally
z-scored."""

from __future__ import annotations

import csv
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .synthetic import entries_to_splits

__all__ = ["TensorTable", "read_table"]


@dataclass(frozen=True)
class TensorTable:
    """Entries of a continuous-indexed tensor in model units.

    Attributes:
        x: (N, K) scaled index values; y: (N,) (standardised) values.
        index_columns, value_column: the source column names.
        offset, scale: (K,) per mode, ``x = (original − offset) / scale``.
        y_mean, y_std: ``y = (original − y_mean) / y_std`` (0 and 1 when not standardised).
        source: the file read.
    """

    x: np.ndarray
    y: np.ndarray
    index_columns: tuple[str, ...]
    value_column: str
    offset: np.ndarray
    scale: np.ndarray
    y_mean: float
    y_std: float
    source: str

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of sorted unique index values per mode (the chain lengths)."""
        return tuple(len(np.unique(self.x[:, k])) for k in range(self.x.shape[1]))

    def to_model_index(self, x_orig) -> np.ndarray:
        return (np.asarray(x_orig, dtype=np.float64) - self.offset) / self.scale

    def to_original_index(self, x) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) * self.scale + self.offset

    def to_original_values(self, y) -> np.ndarray:
        return np.asarray(y, dtype=np.float64) * self.y_std + self.y_mean

    def to_original_variance(self, v) -> np.ndarray:
        return np.asarray(v, dtype=np.float64) * self.y_std**2

    def split(self, test_frac: float = 0.2, seed: int = 0):
        """Random split → (x_train, y_train, x_test, y_test)."""
        if not 0 < test_frac < 1:
            raise ValueError(f"test_frac: expected a value in (0, 1), got {test_frac!r}")
        rng = np.random.default_rng(seed)
        perm = rng.permutation(len(self.y))
        n_te = int(round(test_frac * len(self.y)))
        if not 0 < n_te < len(self.y):
            raise ValueError(
                f"test_frac={test_frac!r} of {len(self.y)} entries leaves {n_te} test and "
                f"{len(self.y) - n_te} train entries: both splits need at least one"
            )
        te, tr = perm[:n_te], perm[n_te:]
        return self.x[tr], self.y[tr], self.x[te], self.y[te]

    def write(self, path, name: str, test_frac: float = 0.2, seed: int = 0) -> Path:
        """Store as a sciml ``tensor`` dataset (train/test) recording the scaling in params."""
        from sciml.data import write_dataset

        xtr, ytr, xte, yte = self.split(test_frac, seed)
        splits, coords = entries_to_splits({"train": (xtr, ytr), "test": (xte, yte)})
        params = {
            "source": self.source,
            "index_columns": list(self.index_columns),
            "value_column": self.value_column,
            "offset": self.offset.tolist(),
            "scale": self.scale.tolist(),
            "y_mean": self.y_mean,
            "y_std": self.y_std,
            "test_frac": test_frac,
        }
        return write_dataset(
            path,
            splits,
            name=name,
            kind="tensor",
            params=params,
            coords=coords,
            seed=seed,
            generator="sciml.tensor.table:read_table",
        )


def _read_csv(path: Path, columns: list[str]) -> dict[str, np.ndarray]:
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise ValueError(f"path: {path} is empty (expected a header row)") from None
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"columns {missing} not found in {path}; the header has {header}")
        pos = [header.index(c) for c in columns]
        rows = []
        for line_no, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            try:
                rows.append([float(row[p]) if row[p].strip() != "" else np.nan for p in pos])
            except (ValueError, IndexError) as e:
                raise ValueError(f"{path}, line {line_no}: cannot read a number ({e})") from None
    arr = np.asarray(rows, dtype=np.float64).reshape(-1, len(columns))
    return {c: arr[:, i] for i, c in enumerate(columns)}


def _read_h5(path: Path, columns: list[str], group: str) -> dict[str, np.ndarray]:
    import h5py

    with h5py.File(path, "r") as f:
        g = f[group] if group else f
        out = {}
        for c in columns:
            if c not in g:
                raise ValueError(
                    f"columns: dataset {c!r} not found in {path}:{group or '/'}; has {list(g)}"
                )
            out[c] = np.asarray(g[c][()], dtype=np.float64).reshape(-1)
    n = {len(v) for v in out.values()}
    if len(n) != 1:
        raise ValueError(f"{path}: columns have different lengths {sorted(n)}")
    return out


def read_table(
    path: str | os.PathLike,
    index_columns: list[str] | tuple[str, ...],
    value_column: str,
    *,
    index_range: float = 1.0,
    standardize: bool = True,
    drop_nonfinite: bool = True,
    group: str = "",
) -> TensorTable:
    """Read entries from a CSV file (header row) or an HDF5 file (one 1-D dataset per column,
    optionally inside ``group``).

    Args:
        path: ``.csv`` or ``.h5``/``.hdf5`` file.
        index_columns: K >= 2 column names, one per mode.
        value_column: the observed value.
        index_range: each mode is scaled to ``[0, index_range]``.
        standardize: z-score the values (mean/std recorded).
        drop_nonfinite: drop rows with a missing/NaN entry (else raise).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: {path} does not exist")
    if path.is_dir():
        raise ValueError(f"path: expected a .csv, .h5 or .hdf5 file, got a directory {path}")
    if isinstance(index_columns, str) or not isinstance(index_columns, (list, tuple)):
        raise TypeError(f"index_columns: expected a list of column names, got {index_columns!r}")
    if not isinstance(value_column, str):
        raise TypeError(f"value_column: expected a column name (str), got {value_column!r}")
    if isinstance(index_range, bool) or not isinstance(index_range, numbers.Real):
        raise TypeError(f"index_range: expected a float > 0, got {index_range!r}")
    cols = list(index_columns)
    if len(cols) < 2:
        raise ValueError(f"index_columns: expected at least 2 columns (modes), got {cols!r}")
    if not (index_range > 0 and math.isfinite(index_range)):
        raise ValueError(f"index_range: expected a finite value > 0, got {index_range!r}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        try:
            data = _read_csv(path, cols + [value_column])
        except UnicodeDecodeError as e:
            raise ValueError(f"path: {path} is not a UTF-8 text CSV file ({e.reason})") from e
    elif suffix in (".h5", ".hdf5"):
        data = _read_h5(path, cols + [value_column], group)
    else:
        raise ValueError(f"path: expected a .csv, .h5 or .hdf5 file, got {path.name!r}")
    x = np.stack([data[c] for c in cols], -1)
    y = data[value_column]
    ok = np.isfinite(x).all(1) & np.isfinite(y)
    if not ok.all():
        if not drop_nonfinite:
            raise ValueError(f"{path}: {int((~ok).sum())} rows have missing or non-finite values")
        x, y = x[ok], y[ok]
    if len(y) == 0:
        raise ValueError(f"{path}: no complete rows")
    lo, hi = x.min(0), x.max(0)
    span = np.where(hi > lo, hi - lo, 1.0)
    single = [c for c, a, b in zip(cols, lo, hi) if a == b]
    if single:
        raise ValueError(f"index_columns: {single} take a single value; each mode needs >= 2")
    scale = span / index_range
    ym, ys = (float(y.mean()), float(y.std()) or 1.0) if standardize else (0.0, 1.0)
    return TensorTable(
        x=(x - lo) / scale,
        y=(y - ym) / ys,
        index_columns=tuple(cols),
        value_column=value_column,
        offset=lo,
        scale=scale,
        y_mean=ym,
        y_std=ys,
        source=str(path),
    )
