"""write_dataset: exact round trips, chunking, attributes, automatic stats, input validation,
atomicity (exceptions and SIGKILL mid-write)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from sciml.data import SCHEMA_VERSION, DatasetError, open_dataset, write_dataset
from sciml.data.schema import CHUNK_BYTES, MAX_CHUNK_BYTES, sample_chunks

REPO = Path(__file__).resolve().parents[2]


def _temps(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if ".tmp-" in p.name]


@pytest.mark.parametrize(
    "dtype",
    [np.float32, np.float64, np.complex64, np.complex128, np.int32, np.int64, np.uint8, np.bool_],
)
def test_round_trip_is_bit_exact(tmp_path: Path, dtype: type) -> None:
    rng = np.random.default_rng(1)

    def make(n: int) -> np.ndarray:
        a = rng.standard_normal((n, 3, 4)) * 100
        if np.dtype(dtype).kind == "c":
            a = a + 1j * rng.standard_normal((n, 3, 4))
        return a.astype(dtype)

    data = {"train": {"a": make(9)}, "val": {"a": make(4)}, "test": {"a": make(0)}}
    path = write_dataset(tmp_path / "rt.h5", data, name="rt", kind="tensor", params={})
    with open_dataset(path) as f:
        for split in ("train", "val", "test"):
            back = f.splits[split]["a"][()]
            assert back.dtype == np.dtype(dtype)
            assert back.shape == data[split]["a"].shape
            # byte-level equality (NaN-free data): the stored array is the written one
            assert back.tobytes() == data[split]["a"].tobytes()


def test_torch_tensors_and_lists_are_accepted(tmp_path: Path) -> None:
    x = torch.randn(5, 3, dtype=torch.float64)
    path = write_dataset(
        tmp_path / "t.h5",
        {"train": {"x": x, "i": [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]}},
        name="t",
        kind="tensor",
        params={},
    )
    with open_dataset(path) as f:
        np.testing.assert_array_equal(f.splits["train"]["x"][()], x.numpy())
        np.testing.assert_array_equal(f.splits["train"]["i"][()], np.arange(1, 11).reshape(5, 2))


def test_root_attributes_groups_and_coords(field_file: Path) -> None:
    with h5py.File(field_file, "r") as f:
        assert int(f.attrs["sciml_schema"]) == SCHEMA_VERSION == 1
        assert set(f.keys()) == {"train", "val", "test", "coords", "stats"}
        assert json.loads(f.attrs["params"]) == {"n": 40, "res": [6, 5]}
        assert f.attrs["generator"] == "tests.data.conftest:make_splits"
    with open_dataset(field_file) as f:
        assert f.attrs["name"] == "field-test" and f.attrs["kind"] == "field"
        assert f.attrs["seed"] == 7 and f.attrs["params"] == {"n": 40, "res": [6, 5]}
        assert f.attrs["created"].endswith("+00:00")
        np.testing.assert_array_equal(f.coords["x"], np.linspace(0.0, 1.0, 6))


def test_chunks_are_along_the_sample_axis(tmp_path: Path) -> None:
    x = np.zeros((2000, 16, 16), np.float32)  # 1 KiB per sample, 2 MB in all
    series = np.zeros((50_000, 3))  # 24 B per step
    path = write_dataset(tmp_path / "c.h5", {"train": {"x": x}}, name="c", kind="field", params={})
    with open_dataset(path) as f:
        chunks = f.splits["train"]["x"].chunks
        assert chunks == (CHUNK_BYTES // (16 * 16 * 4), 16, 16)
        assert chunks[0] == 256 and chunks[0] < x.shape[0]
    path = write_dataset(
        tmp_path / "s.h5", {"train": {"s": series}}, name="s", kind="timeseries", params={}
    )
    with open_dataset(path) as f:
        assert f.splits["train"]["s"].chunks == (CHUNK_BYTES // 24, 3)


def test_auto_stats_are_train_only(field_file: Path, splits: dict) -> None:
    with open_dataset(field_file) as f:
        for key in ("x", "y"):
            train = splits["train"][key].astype(np.float64)
            np.testing.assert_allclose(
                f.stats[key]["mean"], train.mean(axis=0), rtol=1e-12, atol=1e-12
            )
            np.testing.assert_allclose(f.stats[key]["std"], train.std(axis=0), rtol=1e-12)
            # a val-only statistic would differ
            assert not np.allclose(f.stats[key]["mean"], splits["val"][key].mean(axis=0))


def test_auto_stats_timeseries_are_per_channel(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    series = rng.standard_normal((200, 3)) * [1.0, 2.0, 3.0] + [0.0, 5.0, -5.0]
    multi = rng.standard_normal((4, 50, 2))
    p = write_dataset(
        tmp_path / "ts.h5",
        {"train": {"s": series, "m": multi[:, :, :]}, "test": {"s": series[:10], "m": multi[:1]}},
        name="ts",
        kind="timeseries",
        params={},
    )
    with open_dataset(p) as f:
        np.testing.assert_allclose(f.stats["s"]["mean"], series.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(
            f.stats["m"]["std"], multi.std(axis=(0, 1)).reshape(1, 2), rtol=1e-12
        )
        assert f.stats["m"]["mean"].shape == (1, 2)


def test_stats_none_and_explicit(tmp_path: Path, splits: dict) -> None:
    p = write_dataset(tmp_path / "n.h5", splits, name="n", kind="field", params={}, stats=None)
    with open_dataset(p) as f:
        assert len(f.stats) == 0
    mean = np.arange(2.0).reshape(2, 1, 1)
    p = write_dataset(
        tmp_path / "e.h5",
        splits,
        name="e",
        kind="field",
        params={},
        stats={"x": {"mean": mean, "std": mean + 1}},
    )
    with open_dataset(p) as f:
        np.testing.assert_array_equal(f.stats["x"]["mean"], mean)
        assert "y" not in f.stats


def test_keys_shapes_dtypes_must_agree_between_splits(tmp_path: Path, splits: dict) -> None:
    target = tmp_path / "bad.h5"
    bad = {**splits, "val": {"x": splits["val"]["x"]}}
    with pytest.raises(DatasetError, match=r"val/y.*same keys") as err:
        write_dataset(target, bad, name="b", kind="field", params={})
    assert err.value.path == str(target) and err.value.key == "val/y"
    bad = {**splits, "test": {"x": splits["test"]["x"][:, :, :5], "y": splits["test"]["y"]}}
    with pytest.raises(DatasetError, match=r"test/x.*trailing shape \(2, 5, 5\)"):
        write_dataset(target, bad, name="b", kind="field", params={})
    bad = {**splits, "val": {"x": splits["val"]["x"].astype(np.float64), "y": splits["val"]["y"]}}
    with pytest.raises(DatasetError, match=r"val/x.*dtype float64"):
        write_dataset(target, bad, name="b", kind="field", params={})
    with pytest.raises(DatasetError, match="unknown split"):
        write_dataset(target, {"training": splits["train"]}, name="b", kind="field", params={})
    with pytest.raises(DatasetError, match=r"train/s.*scalar"):
        write_dataset(target, {"train": {"s": np.float64(1.0)}}, name="b", kind="field", params={})
    with pytest.raises(DatasetError, match=r"train/o.*numeric"):
        write_dataset(
            target, {"train": {"o": np.array(["a", "b"])}}, name="b", kind="field", params={}
        )
    assert not target.exists() and not _temps(tmp_path)


def test_bad_arguments(tmp_path: Path, splits: dict) -> None:
    with pytest.raises(ValueError, match="kind"):
        write_dataset(tmp_path / "a.h5", splits, name="a", kind="image", params={})
    with pytest.raises(TypeError, match="params"):
        write_dataset(tmp_path / "a.h5", splits, name="a", kind="field", params={"f": object()})
    with pytest.raises(TypeError, match="params"):
        write_dataset(tmp_path / "a.h5", splits, name="a", kind="field", params={"f": float("nan")})
    with pytest.raises(TypeError, match="seed"):
        write_dataset(tmp_path / "a.h5", splits, name="a", kind="field", params={}, seed=1.5)
    with pytest.raises(ValueError, match="stats"):
        write_dataset(tmp_path / "a.h5", splits, name="a", kind="field", params={}, stats="mean")


def test_nonfinite_values_are_reported_with_key_and_count(tmp_path: Path, splits: dict) -> None:
    y = splits["val"]["y"].copy()
    y[0, 0, :3] = np.nan
    y[1, 2, 2] = np.inf
    data = {**splits, "val": {"x": splits["val"]["x"], "y": y}}
    target = tmp_path / "nan.h5"
    with pytest.raises(
        DatasetError, match=r"\[val/y\]: 4 non-finite values \(NaN/Inf\) of 360"
    ) as err:
        write_dataset(target, data, name="n", kind="field", params={})
    assert str(target) in str(err.value)
    assert not target.exists() and not _temps(tmp_path)
    c = np.array([0.0, np.nan, 1.0])
    with pytest.raises(DatasetError, match=r"coords/c.*1 non-finite"):
        write_dataset(target, splits, name="n", kind="field", params={}, coords={"c": c})
    # opt-in storage keeps the values; the reader's finite check reports the same count
    write_dataset(target, data, name="n", kind="field", params={}, allow_nonfinite=True)
    with open_dataset(target) as f:
        assert np.isnan(f.splits["val"]["y"][0, 0, :3]).all()
        assert f.nonfinite_counts() == {"val/y": 4}
        with pytest.raises(DatasetError, match=r"\[val/y\]: 4 non-finite"):
            f.check_finite()
    with pytest.raises(DatasetError, match=r"val/y"):
        open_dataset(target, check_finite=True)


def test_nonfinite_train_key_gets_no_auto_stats(tmp_path: Path, splits: dict) -> None:
    x = splits["train"]["x"].copy()
    x[0, 0, 0, 0] = np.nan
    data = {**splits, "train": {"x": x, "y": splits["train"]["y"]}}
    p = write_dataset(
        tmp_path / "s.h5", data, name="s", kind="field", params={}, allow_nonfinite=True
    )
    with open_dataset(p) as f:
        assert sorted(f.stats) == ["y"]


def test_exception_mid_write_removes_temp_and_keeps_old_file(
    tmp_path: Path, splits: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "d.h5"
    write_dataset(target, splits, name="old", kind="field", params={"v": 1})
    original = h5py.Dataset.__setitem__
    calls = {"n": 0}

    def failing(self: h5py.Dataset, key: object, value: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # even BaseException cleans up
        original(self, key, value)

    monkeypatch.setattr(h5py.Dataset, "__setitem__", failing)
    with pytest.raises(KeyboardInterrupt):
        write_dataset(target, make_bigger(splits), name="new", kind="field", params={"v": 2})
    monkeypatch.undo()
    assert calls["n"] == 2
    assert not _temps(tmp_path)
    with open_dataset(target) as f:
        assert f.attrs["name"] == "old"
        np.testing.assert_array_equal(f.splits["train"]["x"][()], splits["train"]["x"])


def make_bigger(splits: dict) -> dict:
    return {s: {k: np.concatenate([v, v]) for k, v in d.items()} for s, d in splits.items()}


_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import h5py, numpy as np
    from sciml.data import write_dataset

    original = h5py.Dataset.__setitem__
    count = [0]
    def slow(self, key, value):
        original(self, key, value)
        count[0] += 1
        if count[0] == 2:          # two of three 16 MB arrays are in the temporary file
            self.file.flush()
            print("MIDWRITE", flush=True)
            time.sleep(120)
    h5py.Dataset.__setitem__ = slow
    rng = np.random.default_rng(0)
    big = {k: rng.standard_normal((2048, 1024)) for k in ("a", "b", "c")}
    write_dataset(sys.argv[1], {"train": big}, name="big", kind="field", params={}, stats=None)
    print("FINISHED", flush=True)
    """
)


@pytest.mark.parametrize("previous", [False, True])
def test_sigkill_mid_write_never_leaves_a_partial_file(
    tmp_path: Path, splits: dict, previous: bool
) -> None:
    target = tmp_path / "big.h5"
    if previous:
        write_dataset(target, splits, name="previous", kind="field", params={"v": 0})
        before = target.read_bytes()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_SCRIPT, str(target)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        line = proc.stdout.readline().strip()
        assert line == "MIDWRITE", (
            f"writer did not reach mid-write (got {line!r}, rc={proc.poll()})"
        )
        temps = _temps(tmp_path)
        assert len(temps) == 1 and temps[0].stat().st_size > 32 * 2**20  # really half written
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    if previous:
        assert target.read_bytes() == before
        with open_dataset(target) as f:
            assert f.attrs["name"] == "previous"
            np.testing.assert_array_equal(f.splits["train"]["y"][()], splits["train"]["y"])
    else:
        assert not target.exists()
    # The dead writer's temporary file is removed by the next writer of the same path.
    assert len(_temps(tmp_path)) == 1
    write_dataset(target, splits, name="after", kind="field", params={})
    assert not _temps(tmp_path)
    with open_dataset(target) as f:
        assert f.attrs["name"] == "after"


def test_coords_keep_strings_and_datetimes(tmp_path: Path) -> None:
    stamps = np.arange("2016-07-01T00", "2016-07-01T06", dtype="datetime64[h]")
    coords = {"time": stamps, "channels": ["HUFL", "OT"], "grid": np.linspace(0.0, 1.0, 3)}
    p = write_dataset(
        tmp_path / "c.h5",
        {"train": {"s": np.zeros((6, 2))}},
        name="c",
        kind="timeseries",
        params={},
        coords=coords,
    )
    with open_dataset(p) as f:
        assert f.coords["time"].dtype == stamps.dtype
        np.testing.assert_array_equal(f.coords["time"], stamps)
        assert f.coords["channels"].tolist() == ["HUFL", "OT"]
        np.testing.assert_array_equal(f.coords["grid"], coords["grid"])
    with pytest.raises(DatasetError, match=r"coords/t.*NaT"):
        write_dataset(
            p,
            {"train": {"s": np.zeros(2)}},
            name="c",
            kind="timeseries",
            params={},
            coords={"t": np.array(["NaT", "2020-01-01"], dtype="datetime64[s]")},
        )


def test_nonfinite_explicit_stats_are_rejected(tmp_path: Path, splits: dict) -> None:
    with pytest.raises(DatasetError, match=r"\[stats/x/std\]: 1 non-finite"):
        write_dataset(
            tmp_path / "s.h5",
            splits,
            name="s",
            kind="field",
            params={},
            stats={"x": {"mean": np.zeros(2), "std": np.array([1.0, np.inf])}},
        )


def test_sample_chunks_split_very_large_samples() -> None:
    chunks = sample_chunks((3, 10_000, 9_000), 8)  # one sample is 720 MB
    assert chunks[0] == 1 and 8 * chunks[1] * chunks[2] <= MAX_CHUNK_BYTES
    assert chunks[1] >= 10_000 / 4 and chunks[2] >= 9_000 / 4  # halved only as far as needed
    assert sample_chunks((0, 5), 8) is None
    assert sample_chunks((10, 4), 8) == (10, 4)  # small arrays: one chunk of all samples
