"""PDEBench reader on files built in the three PDEBench layouts, CSV time series (synthetic and the
real ETTh1 when present), and the series split rules."""

from __future__ import annotations

import csv
from pathlib import Path

import h5py
import numpy as np
import pytest

from sciml.data import (
    DatasetError,
    MissingKeyError,
    ett_splits,
    read_csv_timeseries,
    read_pdebench,
    split_series,
)

ETTH1 = Path(__file__).resolve().parents[3] / "shared" / "data" / "ett" / "ETTh1.csv"


def test_pdebench_darcy(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    nu = rng.random((5, 8, 6)).astype(np.float32)
    out = rng.random((5, 1, 8, 6)).astype(np.float32)
    p = tmp_path / "2D_DarcyFlow_beta1.0_Train.hdf5"
    with h5py.File(p, "w") as f:
        f["nu"], f["tensor"] = nu, out
        f["x-coordinate"], f["y-coordinate"] = np.linspace(0, 1, 8), np.linspace(0, 1, 6)
    data = read_pdebench(p)
    assert data.layout == "darcy"
    np.testing.assert_array_equal(data.arrays["x"], nu[:, None])
    np.testing.assert_array_equal(data.arrays["y"], out)
    np.testing.assert_array_equal(data.coords["y"], np.linspace(0, 1, 6))
    assert read_pdebench(p, max_samples=2).arrays["x"].shape == (2, 1, 8, 6)
    with h5py.File(p, "r+") as f:
        del f["tensor"]
        f["tensor"] = out[:, :, :, :5]
    with pytest.raises(DatasetError, match=r"\[tensor\]: expected Darcy 'tensor'"):
        read_pdebench(p)


def test_pdebench_single_array(tmp_path: Path) -> None:
    u = np.random.default_rng(1).standard_normal((4, 11, 16))
    p = tmp_path / "1D_Advection_Sols_beta0.1.hdf5"
    with h5py.File(p, "w") as f:
        f["tensor"] = u
        f["x-coordinate"] = np.linspace(0, 1, 16)
        f["t-coordinate"] = np.linspace(0, 2, 12)  # PDEBench stores T+1 time stamps
    data = read_pdebench(p)
    assert data.layout == "single" and sorted(data.coords) == ["t", "x"]
    np.testing.assert_array_equal(data.arrays["tensor"], u)
    np.testing.assert_array_equal(data.coords["t"], np.linspace(0, 2, 12))


def test_pdebench_per_seed_groups(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    seeds = [rng.standard_normal((5, 6, 7, 2)) for _ in range(3)]
    p = tmp_path / "2D_diff-react_NA_NA.h5"
    with h5py.File(p, "w") as f:
        for i, d in enumerate(seeds):
            g = f.create_group(f"{i:04d}")
            g["data"] = d
            g["grid/x"], g["grid/y"], g["grid/t"] = np.arange(6.0), np.arange(7.0), np.arange(5.0)
    data = read_pdebench(p)
    assert data.layout == "per_seed"
    np.testing.assert_array_equal(data.arrays["data"], np.stack(seeds))
    np.testing.assert_array_equal(data.coords["t"], np.arange(5.0))
    np.testing.assert_array_equal(
        read_pdebench(p, max_samples=2).arrays["data"], np.stack(seeds[:2])
    )
    with h5py.File(p, "r+") as f:
        del f["0002/data"]
        f["0002/data"] = np.zeros((5, 6, 7, 3))
    with pytest.raises(DatasetError, match=r"\[0002/data\]: shape \(5, 6, 7, 3\) differs"):
        read_pdebench(p)


def test_pdebench_bad_files(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        read_pdebench(tmp_path / "none.h5")
    (tmp_path / "t.h5").write_text("hello")
    with pytest.raises(DatasetError, match="not an HDF5"):
        read_pdebench(tmp_path / "t.h5")
    with h5py.File(tmp_path / "e.h5", "w") as f:
        f["x-coordinate"] = np.arange(3.0)
    with pytest.raises(DatasetError, match="unrecognised PDEBench layout"):
        read_pdebench(tmp_path / "e.h5")


def _write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_csv_timeseries(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    vals = rng.standard_normal((24, 3))
    stamps = np.arange("2020-01-01T00", "2020-01-02T00", dtype="datetime64[h]")
    p = tmp_path / "s.csv"
    _write_csv(
        p,
        [["date", "a", "b", "c"]]
        + [
            [str(t).replace("T", " ") + ":00:00", *(repr(float(c)) for c in v)]
            for t, v in zip(stamps, vals)
        ],
    )
    t, v, names = read_csv_timeseries(p)
    assert names == ["a", "b", "c"] and v.dtype == np.float64
    np.testing.assert_array_equal(v, vals)  # repr round-trips doubles exactly
    np.testing.assert_array_equal(t, stamps.astype("datetime64[s]"))
    _, v2, names2 = read_csv_timeseries(p, columns=["c", "a"])
    assert names2 == ["c", "a"]
    np.testing.assert_array_equal(v2, vals[:, [2, 0]])
    with pytest.raises(MissingKeyError, match=r"\[d\]: no column"):
        read_csv_timeseries(p, columns=["d"])
    with pytest.raises(MissingKeyError, match="no date column 'time'"):
        read_csv_timeseries(p, date_column="time")
    bad = tmp_path / "bad.csv"
    _write_csv(bad, [["date", "a"], ["2020-01-01 00:00:00", "1.0"], ["2020-01-01 01:00:00", "x"]])
    with pytest.raises(DatasetError, match=r"\[a\]: line 3: cannot parse 'x'"):
        read_csv_timeseries(bad)
    _write_csv(bad, [["date", "a"], ["2020-01-01 00:00:00", "1.0"], ["yesterday", "2.0"]])
    with pytest.raises(DatasetError, match=r"\[date\]: line 3: cannot parse 'yesterday' as a date"):
        read_csv_timeseries(bad)
    with pytest.raises(DatasetError, match="no such file"):
        read_csv_timeseries(tmp_path / "none.csv")


def test_split_series_follows_informer_rounding() -> None:
    x = np.arange(1003.0)[:, None]
    s = split_series(x)
    n_train, n_test = int(1003 * 0.7), int(1003 * 0.2)
    assert (len(s["train"]), len(s["val"]), len(s["test"])) == (
        n_train,
        1003 - n_train - n_test,
        n_test,
    )
    np.testing.assert_array_equal(np.concatenate([s["train"], s["val"], s["test"]]), x)
    s = split_series(x, (0.6, 0.2, 0.2), lag=10)
    assert s["val"][0, 0] == int(1003 * 0.6) - 10 and s["val"][-1, 0] == 1003 - int(1003 * 0.2) - 1
    assert s["test"][0, 0] == 1003 - int(1003 * 0.2) - 10 and s["test"][-1, 0] == 1002
    with pytest.raises(ValueError, match="fractions"):
        split_series(x, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="lag"):
        split_series(x, lag=10_000)


def test_ett_splits() -> None:
    s = ett_splits(17420)
    assert s == {"train": slice(0, 8640), "val": slice(8640, 11520), "test": slice(11520, 14400)}
    s = ett_splits(17420, lag=336)
    assert s["val"] == slice(8640 - 336, 11520) and s["test"] == slice(11520 - 336, 14400)
    assert ett_splits(69680, steps_per_hour=4)["test"] == slice(46080, 57600)  # ETTm
    with pytest.raises(ValueError, match="at least 14400"):
        ett_splits(10_000)
    with pytest.raises(ValueError, match="lag"):
        ett_splits(17420, lag=9000)


@pytest.mark.skipif(not ETTH1.exists(), reason=f"ETTh1 not available at {ETTH1}")
def test_real_etth1() -> None:
    t, v, names = read_csv_timeseries(ETTH1)
    assert names == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    assert v.shape == (17420, 7) and np.isfinite(v).all()
    assert t[0] == np.datetime64("2016-07-01T00:00:00")
    assert np.all(np.diff(t) == np.timedelta64(1, "h"))
    # independent parse of the first and last rows with the csv module
    with open(ETTH1, newline="") as fh:
        rows = list(csv.reader(fh))
    np.testing.assert_array_equal(v[0], [float(c) for c in rows[1][1:]])
    np.testing.assert_array_equal(v[-1], [float(c) for c in rows[-1][1:]])
    s = ett_splits(len(v), lag=96)
    ot = v[:, names.index("OT")]
    assert len(ot[s["train"]]) == 8640 and len(ot[s["val"]]) == 2880 + 96
    # hour 14400 is 600 days after 2016-07-01 00:00 (365 days to 2017-07-01, then 235 more)
    assert t[s["test"].stop - 1] == np.datetime64("2018-02-21T00:00:00") - np.timedelta64(1, "h")
