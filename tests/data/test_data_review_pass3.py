"""Review pass 3 (data): defects found against independent references (h5py, NumPy float64)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch

from sciml.data import (
    DatasetError,
    FieldDataset,
    WindowDataset,
    open_dataset,
    write_dataset,
)


def _replace(path, key, data):
    """Overwrite ``key`` of a written file with h5py directly (as another tool would)."""
    with h5py.File(path, "a") as f:
        del f[key]
        f.create_dataset(key, data=data)


@pytest.mark.parametrize(
    "key, data",
    [
        ("train/y", np.array([b"ab"] * 4, dtype="S2")),
        ("train/y", np.zeros(4, dtype=[("a", "f8"), ("b", "i4")])),
        ("stats/x/mean", np.array([b"a", b"b", b"c"])),
    ],
    ids=["strings", "compound", "string-stats"],
)
def test_non_numeric_arrays_are_rejected_naming_file_and_key(tmp_path, key, data):
    # Before: the file opened; FieldDataset then failed with torch's "can't convert np.ndarray
    # of type numpy.bytes_" (or broadcast error) naming neither the file nor the key.
    rng = np.random.default_rng(0)
    path = write_dataset(
        tmp_path / "d.h5",
        {"train": {"x": rng.random((4, 3)), "y": rng.random((4, 2))}},
        name="d",
        kind="field",
        params={},
    )
    _replace(path, key, data)
    with pytest.raises(DatasetError) as err:
        open_dataset(path)
    assert str(path) in str(err.value) and key in str(err.value)
    assert "numeric" in str(err.value)
    with pytest.raises(DatasetError, match=key):
        FieldDataset(path, "train", normalize=True)


def test_normalised_offset_fields_match_float64_reference(tmp_path):
    # x = 1e5 + N(0, 1) (a pressure in Pa), y = 300 + 0.01 N(0, 1) (a temperature in K).
    # Before: x and the mean were rounded to float32 before the subtraction, so the normalised
    # samples were 8e-3 (x) and 3e-3 (y) off (x - mean) / std, and the normalised training set had a
    # mean of 3e-3 instead of 0; the float64 result rounded once is within 1.2e-7.
    rng = np.random.default_rng(0)
    x = 1e5 + rng.standard_normal((64, 8))
    y = 300 + 0.01 * rng.standard_normal((64, 8))
    path = write_dataset(
        tmp_path / "d.h5", {"train": {"x": x, "y": y}}, name="d", kind="field", params={}
    )
    ds = FieldDataset(path, "train", normalize=True)
    single = [ds[i] for i in range(64)]
    batch = ds.__getitems__(list(range(64)))
    for j, ref_raw in enumerate((x, y)):
        ref = (ref_raw - ref_raw.mean(0)) / ref_raw.std(0)  # NumPy, float64
        for items in (single, batch):
            got = torch.stack([item[j] for item in items])
            assert got.dtype == torch.float32
            np.testing.assert_allclose(got.double().numpy(), ref, rtol=0, atol=1e-6)
        assert abs(got.double().mean(0)).max() < 1e-6


def test_normalised_offset_windows_match_float64_reference(tmp_path):
    # Same defect in WindowDataset: a float32-stored series 1e4 + N(0, 1) normalised in float32
    # was 4e-4 off the float64 reference (computed from the same float32 values).
    rng = np.random.default_rng(1)
    series = (1e4 + rng.standard_normal((200, 3))).astype(np.float32)
    path = write_dataset(
        tmp_path / "s.h5",
        {"train": {"series": series}},
        name="s",
        kind="timeseries",
        params={},
    )
    ds = WindowDataset(path, "train", lag=5, horizon=2, normalize=True)
    s64 = series.astype(np.float64)
    ref = (s64 - s64.mean(0)) / s64.std(0)
    for i in (0, 17, len(ds) - 1):
        window, target = ds[i]
        got = torch.cat([window, target]).double().numpy()
        np.testing.assert_allclose(got, ref[i : i + 7], rtol=0, atol=1e-6)
        back = ds.denormalize(torch.cat([window, target]).double()).numpy()
        np.testing.assert_allclose(back, s64[i : i + 7], rtol=0, atol=1e-5 * 1e4)
