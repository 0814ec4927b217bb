"""Table importer: CSV/HDF5 round trips, recorded scaling, clear errors; stored datasets."""

import h5py
import numpy as np
import pytest

from sciml.data import open_dataset
from sciml.tensor import load_entries, read_table
from sciml.tensor.synthetic import generate_rank1_cp, make_rank1_cp


def _table(n=50, seed=0):
    rng = np.random.default_rng(seed)
    x = np.stack([rng.uniform(-5, 5, n), rng.uniform(100, 200, n), rng.integers(1990, 2000, n)], -1)
    y = 3.0 * x[:, 0] + 0.1 * x[:, 1] + rng.standard_normal(n)
    return x, y


def test_csv_roundtrip_and_scaling(tmp_path):
    x, y = _table()
    p = tmp_path / "t.csv"
    with open(p, "w") as fh:
        fh.write("lat,lon,year,temp,other\n")
        for row, v in zip(x, y):
            fh.write(f"{float(row[0])!r},{float(row[1])!r},{float(row[2])!r},{float(v)!r},1\n")
        fh.write("1.0,,1995,2.0,1\n")  # incomplete row: dropped
    t = read_table(p, ["lat", "lon", "year"], "temp", index_range=10.0)
    assert t.x.shape == (50, 3)
    assert np.allclose(t.x.min(0), 0) and np.allclose(t.x.max(0), 10)
    assert np.allclose(t.to_original_index(t.x), x)
    assert np.allclose(t.to_original_values(t.y), y)
    assert np.isclose(t.y.mean(), 0) and np.isclose(t.y.std(), 1)
    assert t.shape[2] == len(np.unique(x[:, 2]))
    out = t.write(tmp_path / "t.h5", name="user-table", test_frac=0.2)
    xtr, ytr = load_entries(out, "train")
    xte, _ = load_entries(out, "test")
    assert xtr.shape[0] + xte.shape[0] == 50
    with open_dataset(out) as f:
        assert f.attrs["params"]["scale"] == pytest.approx(list(t.scale))


def test_h5_reader(tmp_path):
    x, y = _table(30)
    p = tmp_path / "t.h5"
    with h5py.File(p, "w") as f:
        g = f.create_group("data")
        for i, c in enumerate(["a", "b", "c"]):
            g[c] = x[:, i]
        g["v"] = y
    t = read_table(p, ["a", "b", "c"], "v", group="data", standardize=False)
    assert np.allclose(t.to_original_index(t.x), x) and np.allclose(t.y, y)


def test_table_errors(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b,v\n1,2,3\n1,3,4\n")
    with pytest.raises(ValueError, match="not found"):
        read_table(p, ["a", "zz"], "v")
    with pytest.raises(ValueError, match="single value"):
        read_table(p, ["a", "b"], "v")
    with pytest.raises(ValueError, match="at least 2"):
        read_table(p, ["a"], "v")
    with pytest.raises(FileNotFoundError):
        read_table(tmp_path / "none.csv", ["a", "b"], "v")
    q = tmp_path / "t.txt"
    q.write_text("")
    with pytest.raises(ValueError, match="csv"):
        read_table(q, ["a", "b"], "v")


def test_rank1_generator_is_the_paper_case(tmp_path):
    d = make_rank1_cp(seed=3)
    assert d["x_train"].shape == (675, 2) and d["x_test"].shape == (675, 2)
    x = d["x_test"]
    ref = np.sin(2 * np.pi * x[:, 0]) ** 2 * np.cos(2 * np.pi * x[:, 0])
    ref *= np.exp(-2 * x[:, 1]) * np.sin(1.5 * np.pi * x[:, 1])
    assert np.allclose(d["y_test"], ref)
    from sciml.data import write_dataset

    r = generate_rank1_cp(3)
    path = write_dataset(
        tmp_path / "r.h5", r["splits"], name="r1", kind="tensor", params={}, coords=r["coords"]
    )
    xtr, ytr = load_entries(path, "train")
    assert np.array_equal(xtr, d["x_train"]) and np.array_equal(ytr, d["y_train"])
