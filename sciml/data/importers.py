"""Readers for external layouts (PDEBench HDF5, CSV time series) and time-series split rules."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from .errors import DatasetError, MissingKeyError
from .reader import open_h5_readonly

__all__ = [
    "ETT_HOURS",
    "PDEBenchData",
    "ett_splits",
    "read_csv_timeseries",
    "read_pdebench",
    "split_series",
]

ETT_HOURS: dict[str, int] = {"train": 12 * 30 * 24, "val": 4 * 30 * 24, "test": 4 * 30 * 24}
"""ETT split lengths in hours (12/4/4 months of 30 days): 8640, 2880, 2880."""


@dataclass
class PDEBenchData:
    """Arrays read from a PDEBench file.

    Attributes:
        arrays: name -> array with the sample (batch) axis first. Darcy: ``x`` = ``nu`` and
            ``y`` = ``tensor``, both (B, 1, X, Y) channel-first. Single-array files: ``tensor``
            (B, T, X, ...) and any other field arrays (``density``, ``Vx`` ...) under their own
            names. Per-seed files: ``data`` (S, T, X, ..., C) stacked over the seed groups.
        coords: axis name -> 1-D array: ``x``, ``y``, ``z``, ``t`` from ``x-coordinate`` etc. or
            from ``<seed>/grid/<axis>``.
        layout: ``"darcy"``, ``"single"`` or ``"per_seed"``.
    """

    arrays: dict[str, np.ndarray]
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    layout: str = "single"


def _open_h5(path: Path) -> h5py.File:
    if not path.exists():
        raise DatasetError("no such file", path=path)
    if path.is_dir() or not h5py.is_hdf5(path):
        raise DatasetError("not an HDF5 file", path=path)
    try:
        return open_h5_readonly(path)
    except OSError as err:
        raise DatasetError(
            f"cannot open the HDF5 file; truncated or damaged? ({err})", path=path
        ) from err


def _limit(n: int, max_samples: int | None) -> int:
    return n if max_samples is None else min(n, max_samples)


def read_pdebench(path: str | os.PathLike[str], *, max_samples: int | None = None) -> PDEBenchData:
    """Read a PDEBench HDF5 file into NumPy arrays (sample axis first).

    Layouts:
        * Darcy: ``nu`` [B, X, Y] (input) and ``tensor`` [B, 1, X, Y] (output) -> ``x``, ``y``
          both [B, 1, X, Y]; coords from ``x-coordinate``/``y-coordinate`` if present.
        * single array: ``tensor`` [B, T, X, ...] (and other top-level field arrays of the same
          batch size) with ``x-coordinate``, ``y-coordinate``, ``z-coordinate``, ``t-coordinate``.
        * per seed: groups ``"0000"``, ``"0001"``, ... each with ``data`` [T, X, ..., C] and
          ``grid/x``, ``grid/y``, ``grid/t`` -> ``data`` [S, T, X, ..., C].

    Args:
        path: the ``.h5``/``.hdf5`` file.
        max_samples: read only the first this many samples (seeds); ``None`` reads all.

    Raises:
        DatasetError: missing/non-HDF5 file, unknown layout, inconsistent shapes (naming the key).
    """
    path = Path(path)
    if max_samples is not None and (not isinstance(max_samples, int) or max_samples < 1):
        raise ValueError(f"max_samples: expected None or an int >= 1, got {max_samples!r}")
    with _open_h5(path) as f:
        try:
            coords = {
                k[: -len("-coordinate")].lower(): np.asarray(f[k][()])
                for k in f
                if k.endswith("-coordinate") and isinstance(f[k], h5py.Dataset)
            }
            if "nu" in f and "tensor" in f:
                nu, out = f["nu"], f["tensor"]
                if nu.ndim != 3:
                    raise DatasetError(
                        f"expected Darcy 'nu' of shape [batch, x, y], got {nu.shape}",
                        path=path,
                        key="nu",
                    )
                if (
                    out.ndim != 4
                    or out.shape[1] != 1
                    or out.shape[0] != nu.shape[0]
                    or out.shape[2:] != nu.shape[1:]
                ):
                    raise DatasetError(
                        f"expected Darcy 'tensor' of shape [batch, 1, x, y] = [{nu.shape[0]}, 1, "
                        f"{nu.shape[1]}, {nu.shape[2]}] to match 'nu', got {out.shape}",
                        path=path,
                        key="tensor",
                    )
                n = _limit(nu.shape[0], max_samples)
                x = np.asarray(nu[:n])[:, None]
                y = np.asarray(out[:n])
                return PDEBenchData({"x": x, "y": y}, coords, "darcy")

            seeds = sorted(k for k in f if k.isdigit() and isinstance(f[k], h5py.Group))
            if seeds:
                seeds = seeds[: _limit(len(seeds), max_samples)]
                first = f[seeds[0]]
                if "data" not in first:
                    raise MissingKeyError(
                        "per-seed group without 'data'", path=path, key=f"{seeds[0]}/data"
                    )
                shape = first["data"].shape
                data = np.empty((len(seeds), *shape), dtype=first["data"].dtype)
                for i, s in enumerate(seeds):
                    if "data" not in f[s]:
                        raise MissingKeyError(
                            "per-seed group without 'data'", path=path, key=f"{s}/data"
                        )
                    d = f[s]["data"]
                    if d.shape != shape:
                        raise DatasetError(
                            f"shape {d.shape} differs from {seeds[0]}/data {shape}",
                            path=path,
                            key=f"{s}/data",
                        )
                    data[i] = d[()]
                grid = first.get("grid")
                if isinstance(grid, h5py.Group):
                    for k, v in grid.items():
                        if isinstance(v, h5py.Dataset):
                            coords[k.lower()] = np.asarray(v[()])
                return PDEBenchData({"data": data}, coords, "per_seed")

            fields = {
                k: f[k]
                for k in f
                if isinstance(f[k], h5py.Dataset)
                and not k.endswith("-coordinate")
                and f[k].ndim >= 2
            }
            if fields:
                batch = {k: v.shape[0] for k, v in fields.items()}
                ref = (
                    fields["tensor"].shape[0] if "tensor" in fields else next(iter(batch.values()))
                )
                bad = [k for k, b in batch.items() if b != ref]
                if bad:
                    raise DatasetError(
                        f"batch size {batch[bad[0]]} differs from {ref}", path=path, key=bad[0]
                    )
                n = _limit(ref, max_samples)
                arrays = {k: np.asarray(v[:n]) for k, v in fields.items()}
                return PDEBenchData(arrays, coords, "single")
        except DatasetError:
            raise
        except (OSError, RuntimeError, ValueError, KeyError) as err:  # h5py on damaged metadata
            raise DatasetError(f"read failed ({err}); the file may be damaged", path=path) from err
        raise DatasetError(
            "unrecognised PDEBench layout: expected 'nu'+'tensor' (Darcy), 'tensor' [batch, t, "
            f"x...] or per-seed groups '0000'/data; top-level keys: {sorted(f)}",
            path=path,
        )


def read_csv_timeseries(
    path: str | os.PathLike[str],
    date_column: str = "date",
    columns: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a CSV time series with a date column and numeric columns (the ETT layout).

    Args:
        path: CSV file with a header row, e.g. ``date,HUFL,HULL,MUFL,MULL,LUFL,LULL,OT``.
        date_column: the timestamp column (ISO-8601-like, e.g. ``2016-07-01 00:00:00``).
        columns: numeric columns to return, in this order; default all columns but the date.

    Returns:
        ``(timestamps, values, names)``: ``datetime64[s]`` (T,), ``float64`` (T, C), and the C
        column names.

    Raises:
        DatasetError: missing file, missing columns, unparsable numbers or dates (with the row).
    """
    path = Path(path)
    if not path.exists():
        raise DatasetError("no such file", path=path)
    if path.is_dir():
        raise DatasetError("expected a CSV file, got a directory", path=path)
    if isinstance(columns, str):
        columns = [columns]
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise DatasetError("empty CSV file (no header row)", path=path) from None
            rows = [r for r in reader if r]
    except UnicodeDecodeError as e:
        raise DatasetError(f"not a UTF-8 text CSV file ({e.reason})", path=path) from e
    if date_column not in header:
        raise MissingKeyError(
            f"no date column {date_column!r}; header is {header}", path=path, key=date_column
        )
    names = [h for h in header if h != date_column] if columns is None else list(columns)
    missing = [c for c in names if c not in header]
    if missing:
        raise MissingKeyError(
            f"no column(s) {missing}; header is {header}", path=path, key=missing[0]
        )
    if not names:
        raise DatasetError("no numeric columns besides the date column", path=path)
    if not rows:
        raise DatasetError("no data rows", path=path)
    di = header.index(date_column)
    ci = [header.index(c) for c in names]
    values = np.empty((len(rows), len(ci)), dtype=np.float64)
    for r, row in enumerate(rows):
        if len(row) != len(header):
            raise DatasetError(
                f"line {r + 2} has {len(row)} fields, the header has {len(header)}", path=path
            )
        try:
            values[r] = [float(row[j]) for j in ci]
        except ValueError:
            for name, j in zip(names, ci):
                try:
                    float(row[j])
                except ValueError:
                    raise DatasetError(
                        f"line {r + 2}: cannot parse {row[j]!r} as a number", path=path, key=name
                    ) from None
    dates = [row[di].strip() for row in rows]
    try:
        stamps = np.array(dates, dtype="datetime64[s]")
    except ValueError:
        for r, d in enumerate(dates):
            try:
                np.datetime64(d, "s")
            except ValueError:
                raise DatasetError(
                    f"line {r + 2}: cannot parse {d!r} as a date", path=path, key=date_column
                ) from None
        raise
    return stamps, values, names


def split_series(
    values: np.ndarray, fractions: Sequence[float] = (0.7, 0.1, 0.2), *, lag: int = 0
) -> dict[str, np.ndarray]:
    """Chronological train/val/test split of a series (T, ...) by fractions.

    Rounding follows the Informer/Autoformer "custom" datasets: ``n_train = int(T * f_train)``,
    ``n_test = int(T * f_test)``, ``n_val = T - n_train - n_test``. With ``lag > 0``, val and test
    also get the ``lag`` steps before their border in front (history for the first window, so
    that the first forecast target starts exactly at the border); train never overlaps.

    Returns:
        ``{"train": values[:n_train], "val": values[n_train - lag : n_train + n_val],
        "test": values[T - n_test - lag :]}`` (views).
    """
    values = np.asarray(values)
    if values.ndim < 1:
        raise ValueError("values: expected an array of shape (T, ...), got a scalar")
    try:
        fr = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        fr = ()
    if len(fr) != 3 or not all(f >= 0 for f in fr) or abs(sum(fr) - 1.0) > 1e-9:
        raise ValueError(
            f"fractions: expected three non-negative numbers summing to 1, got {fractions!r}"
        )
    T = values.shape[0]
    n_train, n_test = int(T * fr[0]), int(T * fr[2])
    n_val = T - n_train - n_test
    if isinstance(lag, bool) or not isinstance(lag, int) or lag < 0 or lag > n_train:
        raise ValueError(f"lag: expected an int in [0, n_train={n_train}], got {lag!r}")
    return {
        "train": values[:n_train],
        "val": values[n_train - lag : n_train + n_val],
        "test": values[T - n_test - lag :],
    }


def ett_splits(T: int, *, lag: int = 0, steps_per_hour: int = 1) -> dict[str, slice]:
    """The ETT protocol of Informer (Zhou et al., 2021), also used by S4 and SpaceTime.

    Train is the first 12 months (8640 h), val the next 4 months (2880 h), test the 4 months
    after (2880 h); months have 30 days and anything after hour 14400 is unused. As in the
    Informer data loader, val and test start ``lag`` steps before their border so the first
    window's history comes from the previous split and its target starts at the border
    (``border1 = border - lag``). Normalisation statistics come from the train slice only.

    Args:
        T: series length (must cover 14400 hours).
        lag: length of the input window (e.g. 96 or 336).
        steps_per_hour: 1 for ETTh, 4 for ETTm (15-minute data).

    Returns:
        ``{"train": slice(0, 8640 s), "val": slice(8640 s - lag, 11520 s),
        "test": slice(11520 s - lag, 14400 s)}`` with ``s = steps_per_hour``.
    """
    if (
        isinstance(steps_per_hour, bool)
        or not isinstance(steps_per_hour, int)
        or steps_per_hour < 1
    ):
        raise ValueError(f"steps_per_hour: expected an int >= 1, got {steps_per_hour!r}")
    s = steps_per_hour
    b1, b2, b3 = (
        ETT_HOURS["train"] * s,
        (ETT_HOURS["train"] + ETT_HOURS["val"]) * s,
        sum(ETT_HOURS.values()) * s,
    )
    if isinstance(T, bool) or not isinstance(T, int | np.integer) or T < b3:
        raise ValueError(f"T: the ETT protocol needs a series of at least {b3} steps, got {T!r}")
    if isinstance(lag, bool) or not isinstance(lag, int) or not 0 <= lag <= b1:
        raise ValueError(f"lag: expected an int in [0, {b1}], got {lag!r}")
    return {"train": slice(0, b1), "val": slice(b1 - lag, b2), "test": slice(b2 - lag, b3)}
