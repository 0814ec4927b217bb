"""Bad input at the public sciml.data entry points: a clear error that names the argument."""

import math

import numpy as np
import pytest
import torch

from sciml.data import (
    DatasetError,
    compute_stats,
    denormalize,
    normalize,
    read_csv_timeseries,
    split_series,
    write_dataset,
)


def test_read_csv_timeseries_directory(tmp_path):
    with pytest.raises(DatasetError, match="directory"):
        read_csv_timeseries(tmp_path)


@pytest.mark.parametrize("content", [b"\x89HDF\r\n\x1a\n\x00\xff", b"\x93NUMPY\x01\x00\xff\xfe"])
def test_read_csv_timeseries_binary(tmp_path, content):
    p = tmp_path / "x.csv"
    p.write_bytes(content)
    with pytest.raises(DatasetError, match="x.csv"):
        read_csv_timeseries(p)


@pytest.mark.parametrize("fractions", [None, "abc", (0.7, 0.1, math.nan), (0.7, 0.3)])
def test_split_series_fractions(fractions):
    with pytest.raises(ValueError, match="fractions"):
        split_series(np.arange(100.0), fractions)


@pytest.mark.parametrize(
    "arrays, axis, err, name",
    [
        (None, 0, TypeError, "arrays"),
        ({}, 0, ValueError, "arrays"),
        (np.array([[1.0, np.nan], [2.0, 3.0]]), 0, ValueError, "arrays"),
        ({"x": np.array([[1.0], [np.inf]])}, 0, ValueError, "x"),
        (np.ones((4, 2)), 1.5, TypeError, "axis"),
        (np.ones((4, 2)), None, TypeError, "axis"),
    ],
)
def test_compute_stats_bad(arrays, axis, err, name):
    with pytest.raises(err, match=name):
        compute_stats(arrays, axis)


def test_writer_still_stores_nonfinite_on_request(tmp_path):
    x = np.ones((4, 2))
    x[0, 0] = np.nan
    write_dataset(
        tmp_path / "a.h5", {"train": {"x": x}}, name="a", kind="field", params={},
        allow_nonfinite=True,
    )  # fmt: skip


@pytest.mark.parametrize("fn, first", [(normalize, "x"), (denormalize, "z")])
@pytest.mark.parametrize("which", [0, 1, 2])
@pytest.mark.parametrize("value", [None, "abc"])
def test_normalize_none_or_str(fn, first, which, value):
    args = [np.ones((3, 2)), np.zeros(2), np.ones(2)]
    args[which] = value
    with pytest.raises(TypeError, match=[first, "mean", "std"][which]):
        fn(*args)


@pytest.mark.parametrize("fn", [normalize, denormalize])
@pytest.mark.parametrize("eps, err", [(math.nan, ValueError), (-1.0, ValueError), ("x", TypeError)])
def test_normalize_eps(fn, eps, err):
    with pytest.raises(err, match="eps"):
        fn(torch.ones(3, 2), torch.zeros(2), torch.ones(2), eps=eps)
