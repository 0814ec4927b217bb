"""torch Datasets: samples equal the stored arrays, train-stat normalisation, windows against
direct slicing, DataLoader workers, pickling and clear errors."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from sciml.data import (
    ArrayDataset,
    DatasetError,
    FieldDataset,
    MissingKeyError,
    TensorEntryDataset,
    WindowDataset,
    write_dataset,
)


def _batches(ds: torch.utils.data.Dataset, workers: int, batch_size: int = 7) -> list:
    loader = DataLoader(ds, batch_size=batch_size, shuffle=False, num_workers=workers)
    return list(loader)


def test_field_dataset_returns_stored_samples(field_file: Path, splits: dict) -> None:
    ds = FieldDataset(field_file, "val")
    assert len(ds) == 12 and ds._file is None  # nothing left open after construction
    x, y = ds[4]
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    np.testing.assert_array_equal(x.numpy(), splits["val"]["x"][4])
    np.testing.assert_array_equal(y.numpy(), splits["val"]["y"][4].astype(np.float32))
    np.testing.assert_array_equal(ds[-1][0].numpy(), splits["val"]["x"][-1])
    with pytest.raises(IndexError):
        ds[12]
    x64, _ = FieldDataset(field_file, "val", dtype=torch.float64)[4]
    assert x64.dtype == torch.float64


def test_field_dataset_normalizes_with_train_stats(field_file: Path, splits: dict) -> None:
    ds = FieldDataset(field_file, "test", normalize=True, dtype=torch.float64)
    train = splits["train"]
    for i in (0, 9):
        x, y = ds[i]
        ref_x = (splits["test"]["x"][i] - train["x"].astype(np.float64).mean(0)) / train[
            "x"
        ].astype(np.float64).std(0)
        ref_y = (splits["test"]["y"][i] - train["y"].mean(0)) / train["y"].std(0)
        np.testing.assert_allclose(x.numpy(), ref_x, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(y.numpy(), ref_y, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(ds.denormalize(y).numpy(), splits["test"]["y"][i], rtol=1e-12)
        np.testing.assert_allclose(
            ds.denormalize(x, key="x").numpy(), splits["test"]["x"][i], rtol=1e-6
        )
    # batches denormalise too
    xb, yb = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_allclose(ds.denormalize(yb).numpy(), splits["test"]["y"][:4], rtol=1e-12)
    # on the training split the normalised data has zero mean and unit std per feature
    tr = FieldDataset(field_file, "train", normalize=True, dtype=torch.float64)
    ys = torch.stack([tr[i][1] for i in range(len(tr))])
    np.testing.assert_allclose(ys.mean(0).numpy(), 0.0, atol=1e-12)
    np.testing.assert_allclose(ys.std(0, correction=0).numpy(), 1.0, rtol=1e-12)


def test_field_dataset_eps_scales_by_std_plus_eps(tmp_path: Path) -> None:
    """``eps``: ``(v - mean) / (std + eps)`` with per-pixel train statistics; a pixel constant
    over the training set (a Dirichlet boundary) comes back multiplied by ``eps``."""
    rng = np.random.default_rng(3)
    y = rng.standard_normal((30, 4, 5))
    y[:, 0, :] = 0.0  # boundary row: std 0 over the training set
    splits = {"train": {"x": y + 1.0, "y": y}, "test": {"x": y[:6] + 1.0, "y": y[:6] * 2.0}}
    path = write_dataset(tmp_path / "f.h5", splits, name="eps-test", kind="field", params={})
    eps = 1e-3
    ds = FieldDataset(path, "test", normalize=True, dtype=torch.float64, eps=eps)
    mean, std = y.mean(0), y.std(0)
    for i in (0, 5):
        _, yi = ds[i]
        np.testing.assert_allclose(yi.numpy(), (y[i] * 2.0 - mean) / (std + eps), rtol=1e-12)
        np.testing.assert_allclose(ds.denormalize(yi).numpy(), y[i] * 2.0, atol=1e-12)
    z = torch.ones(4, 5, dtype=torch.float64)
    np.testing.assert_allclose(ds.denormalize(z).numpy()[0], eps)  # boundary: eps * z + 0
    # the default keeps "zero std treated as 1"
    plain = FieldDataset(path, "test", normalize=True, dtype=torch.float64)
    np.testing.assert_allclose(plain.denormalize(z).numpy()[0], 1.0)
    for bad, err in ((-1.0, ValueError), (float("nan"), ValueError), ("1e-5", TypeError)):
        with pytest.raises(err, match="eps"):
            FieldDataset(path, "test", normalize=True, eps=bad)


def test_field_dataset_denormalize_copies_statistics_to_the_device_once(tmp_path: Path) -> None:
    """``denormalize`` runs on every batch of a training loss: the statistics go to the batch's
    device once (``meta`` stands in for CUDA), and the dataset still pickles for workers."""
    from tests.helpers.devices import device_copies

    rng = np.random.default_rng(4)
    y = rng.standard_normal((8, 3, 4))
    path = write_dataset(
        tmp_path / "f.h5", {"train": {"x": y, "y": y}}, name="dev", kind="field", params={}
    )
    ds = FieldDataset(path, "train", normalize=True)
    z = torch.zeros(5, 3, 4, device="meta")
    with device_copies() as log:
        for _ in range(4):
            ds.denormalize(z)
    assert len(log) == 2 and {e[:2] for e in log} == {("cpu", "meta")}
    clone = pickle.loads(pickle.dumps(ds))
    torch.testing.assert_close(
        clone.denormalize(ds[1][1]), torch.as_tensor(y[1], dtype=torch.float32)
    )


@pytest.mark.parametrize("normalize", [False, True])
def test_dataloader_two_workers_matches_zero_workers(field_file: Path, normalize: bool) -> None:
    ds = FieldDataset(field_file, "train", normalize=normalize)
    ref = _batches(ds, 0)
    ds.close()  # the single-process pass opened the file; workers must open their own anyway
    ds._arrays()  # leave a handle open in the parent: workers must not reuse it
    got = _batches(ds, 2)
    assert len(got) == len(ref) == 6
    for (xa, ya), (xb, yb) in zip(got, ref):
        torch.testing.assert_close(xa, xb, rtol=0, atol=0)
        torch.testing.assert_close(ya, yb, rtol=0, atol=0)


def test_window_dataset_two_workers_matches_zero_workers(tmp_path: Path) -> None:
    series = np.random.default_rng(0).standard_normal((300, 2))
    p = write_dataset(
        tmp_path / "s.h5", {"train": {"series": series}}, name="s", kind="timeseries", params={}
    )
    ds = WindowDataset(p, "train", lag=24, horizon=8, stride=3, normalize=True)
    for (a, b), (c, d) in zip(_batches(ds, 2, 16), _batches(ds, 0, 16)):
        torch.testing.assert_close(a, c, rtol=0, atol=0)
        torch.testing.assert_close(b, d, rtol=0, atol=0)


def test_datasets_pickle_without_handle(field_file: Path, splits: dict) -> None:
    ds = FieldDataset(field_file, "train")
    ds[0]
    assert ds._file is not None
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._file is None
    np.testing.assert_array_equal(clone[5][0].numpy(), splits["train"]["x"][5])


def test_getitems_equals_getitem(field_file: Path) -> None:
    ds = FieldDataset(field_file, "train", normalize=True)
    idx = [5, 1, 5, 30]
    for (a, b), i in zip(ds.__getitems__(idx), idx):
        torch.testing.assert_close(a, ds[i][0], rtol=0, atol=0)
        torch.testing.assert_close(b, ds[i][1], rtol=0, atol=0)


@pytest.mark.parametrize("shape", [(100,), (100, 3), (4, 60, 2)])
def test_window_dataset_matches_direct_slicing(tmp_path: Path, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(2)
    series = 10.0 + rng.standard_normal(shape)
    p = write_dataset(
        tmp_path / "w.h5", {"train": {"series": series}}, name="w", kind="timeseries", params={}
    )
    lag, horizon, stride = 12, 5, 4
    ds = WindowDataset(p, "train", lag=lag, horizon=horizon, stride=stride, dtype=torch.float64)
    multi = series.reshape(
        (1, *shape, 1) if len(shape) == 1 else (1, *shape) if len(shape) == 2 else shape
    )
    n_series, T, C = multi.shape
    per = (T - lag - horizon) // stride + 1
    assert len(ds) == n_series * per
    for i in range(len(ds)):
        s, j = divmod(i, per)
        w, t = ds[i]
        assert w.shape == (lag, C) and t.shape == (horizon, C)
        np.testing.assert_array_equal(w.numpy(), multi[s, j * stride : j * stride + lag])
        np.testing.assert_array_equal(
            t.numpy(), multi[s, j * stride + lag : j * stride + lag + horizon]
        )
    # the last window ends within the series and the next would not fit
    assert (per - 1) * stride + lag + horizon <= T < per * stride + lag + horizon
    # normalisation uses the per-channel train statistics written by write_dataset
    nd = WindowDataset(
        p, "train", lag=lag, horizon=horizon, stride=stride, normalize=True, dtype=torch.float64
    )
    mean = multi.reshape(-1, C).mean(0)
    std = multi.reshape(-1, C).std(0)
    w, t = nd[len(nd) - 1]
    s, j = divmod(len(nd) - 1, per)
    np.testing.assert_allclose(
        w.numpy(), (multi[s, j * stride : j * stride + lag] - mean) / std, rtol=1e-12
    )
    np.testing.assert_allclose(
        nd.denormalize(t).numpy(),
        multi[s, j * stride + lag : j * stride + lag + horizon],
        rtol=1e-12,
    )


def test_window_dataset_errors(tmp_path: Path) -> None:
    p = write_dataset(
        tmp_path / "w.h5",
        {
            "train": {"series": np.zeros((50, 2)), "m": np.zeros((50, 2, 2, 2))},
            "val": {"series": np.zeros((20, 2)), "m": np.zeros((20, 2, 2, 2))},
        },
        name="w",
        kind="timeseries",
        params={},
        stats=None,
    )
    with pytest.raises(
        ValueError,
        match=r"lag \+ horizon = 16 \+ 8 = 24 exceeds the series length T = 20 of split 'val'",
    ):
        WindowDataset(p, "val", lag=16, horizon=8)
    WindowDataset(p, "val", lag=12, horizon=8)  # exactly fits: one window
    assert len(WindowDataset(p, "val", lag=12, horizon=8)) == 1
    with pytest.raises(ValueError, match="horizon"):
        WindowDataset(p, "train", lag=4, horizon=0)
    with pytest.raises(ValueError, match="stride"):
        WindowDataset(p, "train", lag=4, horizon=2, stride=1.5)
    with pytest.raises(MissingKeyError, match=r"\[train/values\]"):
        WindowDataset(p, "train", key="values", lag=4, horizon=2)
    with pytest.raises(DatasetError, match=r"\(T,\), \(T, C\) or \(N, T, C\)"):
        WindowDataset(p, "train", key="m", lag=4, horizon=2)
    with pytest.raises(MissingKeyError, match=r"\[stats/series\]"):
        WindowDataset(p, "train", lag=4, horizon=2, normalize=True)
    with pytest.raises(MissingKeyError, match=r"\[test\]: no split 'test'"):
        WindowDataset(p, "test", lag=4, horizon=2)


def test_tensor_entry_dataset(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 10, size=(25, 3)).astype(np.int32)
    val = rng.standard_normal(25)
    p = write_dataset(
        tmp_path / "t.h5",
        {"train": {"indices": idx, "values": val}},
        name="t",
        kind="tensor",
        params={},
    )
    ds = TensorEntryDataset(p, "train")
    assert len(ds) == 25 and ds.order == 3
    i, v = ds[7]
    assert i.dtype == torch.int64 and i.shape == (3,) and v.shape == () and v.dtype == torch.float32
    np.testing.assert_array_equal(i.numpy(), idx[7])
    assert v.item() == pytest.approx(val[7], rel=1e-6)
    bi, bv = next(iter(DataLoader(ds, batch_size=25)))
    np.testing.assert_array_equal(bi.numpy(), idx)
    np.testing.assert_allclose(bv.numpy(), val, rtol=1e-6)
    bad = write_dataset(
        tmp_path / "b.h5",
        {"train": {"indices": idx.astype(float), "values": val}},
        name="b",
        kind="tensor",
        params={},
    )
    with pytest.raises(DatasetError, match=r"\[train/indices\]: expected integer indices"):
        TensorEntryDataset(bad, "train")
    with pytest.raises(MissingKeyError, match=r"index_key='idx'"):
        TensorEntryDataset(p, "train", index_key="idx")


def test_array_dataset(field_file: Path, splits: dict, tmp_path: Path) -> None:
    ds = ArrayDataset(field_file, "test", ["y", "x"])
    y, x = ds[3]
    assert y.dtype == torch.float64 and x.dtype == torch.float32  # stored dtypes kept
    np.testing.assert_array_equal(y.numpy(), splits["test"]["y"][3])
    np.testing.assert_array_equal(x.numpy(), splits["test"]["x"][3])
    (y32,) = ArrayDataset(field_file, "test", "y", float_dtype=torch.float32)[3]
    assert y32.dtype == torch.float32
    got = ds.__getitems__([2, 0])
    np.testing.assert_array_equal(got[1][0].numpy(), splits["test"]["y"][0])
    p = write_dataset(
        tmp_path / "u.h5",
        {"train": {"a": np.zeros((4, 2)), "b": np.zeros(5)}},
        name="u",
        kind="field",
        params={},
    )
    with pytest.raises(DatasetError, match="same number of samples"):
        ArrayDataset(p, "train", ["a", "b"])
    with pytest.raises(ValueError, match="at least one"):
        ArrayDataset(p, "train", [])


def test_field_dataset_errors(field_file: Path, tmp_path: Path) -> None:
    with pytest.raises(MissingKeyError, match=r"y_key='u'.*\['x', 'y'\]"):
        FieldDataset(field_file, "train", y_key="u")
    with pytest.raises(DatasetError, match="no such file"):
        FieldDataset(tmp_path / "missing.h5", "train")
    p = write_dataset(
        tmp_path / "n.h5",
        {"train": {"x": np.zeros((3, 2)), "y": np.zeros((4, 2))}},
        name="n",
        kind="field",
        params={},
        stats=None,
    )
    with pytest.raises(DatasetError, match="3 samples but y_key='y' has 4"):
        FieldDataset(p, "train")


class _PidProbe(FieldDataset):
    """Reports the process that served each sample and the process its handle was opened in."""

    def __getitem__(self, i: int) -> torch.Tensor:
        super().__getitem__(i)
        return torch.tensor([os.getpid(), self._pid])

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        return [self[i] for i in indices]


def test_each_worker_opens_its_own_handle(field_file: Path) -> None:
    ds = _PidProbe(field_file, "train")
    ds[0]  # the parent holds an open handle when the workers fork
    rows = torch.cat(_batches(ds, 2, batch_size=5))
    served, opened = rows[:, 0], rows[:, 1]
    assert torch.equal(served, opened)
    assert len(set(served.tolist())) == 2 and os.getpid() not in set(served.tolist())


@pytest.mark.slow
def test_spawn_workers_match_zero_workers(field_file: Path) -> None:
    ds = FieldDataset(field_file, "val", normalize=True)
    ds[0]  # an open handle in the parent is dropped when the Dataset is pickled for spawn
    loader = DataLoader(ds, batch_size=5, num_workers=2, multiprocessing_context="spawn")
    for (a, b), (c, d) in zip(loader, _batches(ds, 0, 5)):
        torch.testing.assert_close(a, c, rtol=0, atol=0)
        torch.testing.assert_close(b, d, rtol=0, atol=0)
