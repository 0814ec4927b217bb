"""Data layer on damaged files and on inputs the main tests do not use: files whose HDF5 object
headers are corrupted, datetime64 with multiplied units, lazily negated torch views, torch dtypes
without a NumPy equivalent, big-endian arrays.

References are independent of the code under test: the arrays that were written, h5py's own
object addresses, and DatasetError's contract (a DatasetError naming the file and the key).
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from sciml.data import (
    ArrayDataset,
    DatasetError,
    FieldDataset,
    WindowDataset,
    get_dataset,
    open_dataset,
    read_pdebench,
    register_dataset,
    write_dataset,
)


def _small_file(path: Path) -> Path:
    rng = np.random.default_rng(0)
    return write_dataset(
        path,
        {
            "train": {"x": rng.standard_normal((8, 3)), "y": rng.standard_normal(8)},
            "val": {"x": rng.standard_normal((2, 3)), "y": rng.standard_normal(2)},
        },
        name="small",
        kind="field",
        params={},
        coords={"t": np.arange(3.0)},
    )


def _corrupt_object_header(path: Path, name: str, out: Path) -> Path:
    """Copy of ``path`` whose object ``name`` has an invalid object-header version byte."""
    with h5py.File(path, "r") as f:
        addr = h5py.h5o.get_info(f[name].id).addr
    raw = bytearray(path.read_bytes())
    raw[addr] = 0xFF
    out.write_bytes(bytes(raw))
    return out


@pytest.mark.parametrize(
    "name", ["train", "val", "coords", "stats", "train/x", "coords/t", "stats/x", "stats/x/mean"]
)
def test_damaged_object_header_raises_dataset_error_naming_file_and_key(
    tmp_path: Path, name: str
) -> None:
    """h5py reports a bad group header as RuntimeError, which used to escape open_dataset (no
    file name, not a DatasetError); a bad array header was reported as 'got a group'."""
    bad = _corrupt_object_header(_small_file(tmp_path / "ok.h5"), name, tmp_path / "bad.h5")
    with pytest.raises(DatasetError) as info:
        open_dataset(bad)
    err = info.value
    assert err.path == str(bad) and str(bad) in str(err)
    assert err.key == name
    assert "damaged" in err.reason and "got a group" not in err.reason


def test_damaged_cache_metadata_is_regenerated(tmp_path: Path, monkeypatch) -> None:
    """get_dataset regenerates invalid cache files; a damaged group header used to crash it."""
    monkeypatch.setattr("sciml.data.registry._REGISTRY", {})
    calls = []

    def gen(seed: int, n: int) -> dict:
        calls.append(seed)
        return {"splits": {"train": {"x": np.arange(float(n)).reshape(n, 1)}}}

    register_dataset("toy", gen, sizes={"quick": {"n": 4}}, kind="field")
    p = get_dataset("toy", root=tmp_path)
    _corrupt_object_header(p, "train", p)
    assert get_dataset("toy", root=tmp_path) == p and len(calls) == 2
    with open_dataset(p) as f:
        np.testing.assert_array_equal(f.splits["train"]["x"][()], np.arange(4.0).reshape(4, 1))


def test_read_pdebench_damaged_header_is_a_dataset_error(tmp_path: Path) -> None:
    p = tmp_path / "pde.h5"
    with h5py.File(p, "w") as f:
        f.create_dataset("tensor", data=np.zeros((2, 3, 4)))
        f.create_group("0000").create_dataset("data", data=np.zeros((3, 4)))
    _corrupt_object_header(p, "0000", p)
    with pytest.raises(DatasetError, match="pde.h5"):
        read_pdebench(p)


@pytest.mark.parametrize("unit", ["10s", "15m", "2D", "250ms"])
def test_datetime_coords_with_multiplied_units_round_trip(tmp_path: Path, unit: str) -> None:
    """Only the base unit was stored, so datetime64[10s] ticks were read back as seconds."""
    t = np.array([0, 1, 7, 123], dtype=f"datetime64[{unit}]")
    p = write_dataset(
        tmp_path / "t.h5",
        {"train": {"x": np.zeros((4, 1))}},
        name="t",
        kind="timeseries",
        params={},
        coords={"t": t},
    )
    with open_dataset(p) as f:
        got = f.coords["t"]
    assert np.array_equal(got, t)  # datetime64 comparison converts units: same instants


def test_lazily_negated_torch_views_are_written(tmp_path: Path) -> None:
    """z.conj().imag carries torch's negative bit: .numpy() refused it (RuntimeError)."""
    z = torch.tensor([[1 + 2j, 3 - 4j], [-5 + 6j, 0.5j]], dtype=torch.complex128)
    p = write_dataset(
        tmp_path / "n.h5",
        {"train": {"a": z.conj().imag, "b": z.conj()}},
        name="n",
        kind="field",
        params={},
    )
    ref = np.array([[1 + 2j, 3 - 4j], [-5 + 6j, 0.5j]])
    with open_dataset(p) as f:
        np.testing.assert_array_equal(f.splits["train"]["a"][()], -ref.imag)
        np.testing.assert_array_equal(f.splits["train"]["b"][()], ref.conj())


def test_torch_dtype_without_numpy_equivalent_is_a_dataset_error(tmp_path: Path) -> None:
    dtype = getattr(torch, "float8_e4m3fnuz", None)
    if dtype is None:
        pytest.skip("this torch has no float8_e4m3fnuz")
    with pytest.raises(DatasetError, match=r"\[train/x\].*float8_e4m3fnuz") as info:
        write_dataset(
            tmp_path / "f8.h5",
            {"train": {"x": torch.zeros(3, 2).to(dtype)}},
            name="f8",
            kind="field",
            params={},
        )
    assert info.value.path == str(tmp_path / "f8.h5")
    assert not list(tmp_path.iterdir())  # nothing written


def test_big_endian_arrays_are_stored_natively_and_load_into_torch(tmp_path: Path) -> None:
    """Big-endian input was stored big-endian: torch Datasets then failed ('byte order'), and a
    big-endian train with a little-endian val was rejected as a dtype mismatch."""
    x = np.arange(24.0).reshape(6, 2, 2)
    y = np.arange(6, dtype=np.int32)
    p = write_dataset(
        tmp_path / "be.h5",
        {
            "train": {"x": x.astype(">f8"), "y": y.astype(">i4")},
            "val": {"x": x[:2].astype("<f8"), "y": y[:2].astype("<i4")},
        },
        name="be",
        kind="field",
        params={},
    )
    with open_dataset(p) as f:
        np.testing.assert_array_equal(f.splits["train"]["x"][()], x)
        assert f.splits["train"]["x"].dtype == np.dtype(np.float64)
        np.testing.assert_allclose(f.stats["x"]["mean"], x.mean(0), rtol=1e-15)
    xs, ys = FieldDataset(p, "train", dtype=torch.float64)[5]
    np.testing.assert_array_equal(xs.numpy(), x[5])
    np.testing.assert_array_equal(ys.numpy(), np.float64(5))
    (a,) = ArrayDataset(p, "val", "y")[-1]
    assert a.dtype == torch.int32 and int(a) == 1


def test_big_endian_arrays_written_by_other_tools_load_into_torch(tmp_path: Path) -> None:
    """A sciml file whose arrays and statistics another tool rewrote in big-endian order."""
    series = np.arange(40.0).reshape(20, 2)
    p = write_dataset(
        tmp_path / "s.h5", {"train": {"series": series}}, name="s", kind="timeseries", params={}
    )
    with h5py.File(p, "a") as f:
        del f["train/series"]
        f["train"].create_dataset("series", data=series.astype(">f8"))
        for stat in ("mean", "std"):
            value = f[f"stats/series/{stat}"][()]
            del f[f"stats/series/{stat}"]
            f["stats/series"].create_dataset(stat, data=value.astype(">f8"))
        assert f["train/series"].dtype.byteorder == ">"
    ds = WindowDataset(p, "train", lag=3, horizon=2, stride=4, normalize=True, dtype=torch.float64)
    w, t = ds[-1]  # last window starts at 12 (stride 4: 0, 4, 8, 12; 16 + 5 > 20)
    assert len(ds) == 4
    z = (series - series.mean(0)) / series.std(0)
    np.testing.assert_allclose(w.numpy(), z[12:15], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ds.denormalize(t).numpy(), series[15:17], rtol=1e-13)
    (s,) = ArrayDataset(p, "train", "series").__getitems__([19, 0])[0]
    np.testing.assert_array_equal(s.numpy(), series[19])
