"""open_dataset: lazy views, validation of damaged or foreign files, errors naming file and key."""

from __future__ import annotations

import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest

from sciml.data import DatasetError, MissingKeyError, open_dataset, write_dataset


def test_views_are_lazy_and_index_like_numpy(field_file: Path, splits: dict) -> None:
    with open_dataset(field_file) as f:
        view = f.splits["train"]["x"]
        ref = splits["train"]["x"]
        assert view.shape == ref.shape and view.dtype == ref.dtype and len(view) == 40
        np.testing.assert_array_equal(view[3], ref[3])
        np.testing.assert_array_equal(view[-1], ref[-1])
        np.testing.assert_array_equal(view[5:9, 1], ref[5:9, 1])
        order = [7, 2, 7, 0, 39]  # unsorted, repeated
        np.testing.assert_array_equal(view[order], ref[order])
        np.testing.assert_array_equal(
            view[np.array([[1, 3], [3, 1]])], ref[np.array([[1, 3], [3, 1]])]
        )
        np.testing.assert_array_equal(np.asarray(view), ref)
        assert sorted(f.splits) == ["test", "train", "val"]
        assert sorted(f.splits["val"]) == ["x", "y"]
    assert f.closed
    with pytest.raises(DatasetError, match="closed"):
        view[0]


def test_close_without_context_manager(field_file: Path) -> None:
    f = open_dataset(field_file)
    assert not f.closed
    f.close()
    f.close()  # idempotent
    assert f.closed


def test_open_handle_cannot_be_pickled(field_file: Path) -> None:
    with open_dataset(field_file) as f, pytest.raises(TypeError, match="open_dataset"):
        pickle.dumps(f)


def test_missing_file(tmp_path: Path) -> None:
    target = tmp_path / "nope.h5"
    with pytest.raises(DatasetError, match="no such file") as err:
        open_dataset(target)
    assert err.value.path == str(target) and str(target) in str(err.value)


def test_not_hdf5(tmp_path: Path) -> None:
    target = tmp_path / "text.h5"
    target.write_text("date,value\n2020-01-01,1\n")
    with pytest.raises(DatasetError, match="not an HDF5 file"):
        open_dataset(target)
    with pytest.raises(DatasetError, match="directory"):
        open_dataset(tmp_path)


def test_truncated_file(field_file: Path) -> None:
    data = field_file.read_bytes()
    field_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="truncated") as err:
        open_dataset(field_file)
    assert err.value.path == str(field_file)


def test_wrong_schema_version(field_file: Path) -> None:
    with h5py.File(field_file, "r+") as f:
        f.attrs["sciml_schema"] = np.int64(2)
    with pytest.raises(DatasetError, match=r"\[sciml_schema\]: schema version 2 is not supported"):
        open_dataset(field_file)


def test_foreign_hdf5_and_missing_attributes(tmp_path: Path, field_file: Path) -> None:
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["tensor"] = np.zeros((2, 3))
    with pytest.raises(DatasetError, match="not a sciml dataset"):
        open_dataset(foreign)
    with h5py.File(field_file, "r+") as f:
        del f.attrs["kind"]
    with pytest.raises(MissingKeyError, match=r"\[kind\]"):
        open_dataset(field_file)


def test_bad_params_and_missing_group(field_file: Path, tmp_path: Path, splits: dict) -> None:
    with h5py.File(field_file, "r+") as f:
        f.attrs["params"] = "{not json"
    with pytest.raises(DatasetError, match=r"\[params\]"):
        open_dataset(field_file)
    other = write_dataset(tmp_path / "o.h5", splits, name="o", kind="field", params={})
    with h5py.File(other, "r+") as f:
        del f["stats"]
    with pytest.raises(DatasetError, match=r"\[stats\]: group 'stats/' is missing"):
        open_dataset(other)


def test_missing_key_names_file_and_key(field_file: Path) -> None:
    with open_dataset(field_file) as f:
        with pytest.raises(
            MissingKeyError, match=r"\[train/u\]: no array 'u'; the file has \['x', 'y'\]"
        ) as err:
            f.splits["train"]["u"]
        assert isinstance(err.value, KeyError) and isinstance(err.value, ValueError)
        assert str(field_file) in str(err.value)
        assert f.splits["train"].get("u") is None and "u" not in f.splits["train"]
        with pytest.raises(MissingKeyError, match=r"\[coords/t\]"):
            f.coords["t"]
        with pytest.raises(MissingKeyError, match=r"\[stats/x/median\]"):
            f.stats["x"]["median"]


def test_mismatched_splits_in_a_file_are_rejected(tmp_path: Path, field_file: Path) -> None:
    with h5py.File(field_file, "r+") as f:
        del f["val/x"]
        f["val/x"] = np.zeros((12, 2, 6, 4), np.float32)
    with pytest.raises(DatasetError, match=r"\[val/x\]: trailing shape \(2, 6, 4\)"):
        open_dataset(field_file)
    with h5py.File(field_file, "r+") as f:
        del f["val/x"]
        f["val/x"] = np.zeros((12, 2, 6, 5), np.int16)
    with pytest.raises(DatasetError, match=r"\[val/x\]: dtype int16"):
        open_dataset(field_file)
    with h5py.File(field_file, "r+") as f:
        del f["val/x"]
    with pytest.raises(DatasetError, match=r"\[val/x\].*same keys"):
        open_dataset(field_file)


def test_errors_survive_pickling() -> None:
    err = MissingKeyError("gone", path="/a.h5", key="train/x")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is MissingKeyError and back.key == "train/x" and str(back) == str(err)
