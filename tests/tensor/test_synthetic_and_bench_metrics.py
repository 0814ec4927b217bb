"""Synthetic Tucker generator against an explicit loop over the core with the latent functions
written out here; its splits are disjoint; the stored file round-trips; the benchmark's RMSE and
MAE follow their NumPy definitions on the noise-free test targets."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

from sciml.tensor.synthetic import generate_tucker3, load_entries, make_tucker3

CORE = np.array([[[1.0, -0.6], [0.5, 0.8]], [[-0.4, 0.7], [0.9, 0.3]]])


def _u(k: int, x: float) -> list[float]:
    if k == 0:
        return [np.sin(2 * np.pi * x), np.cos(np.pi * x)]
    if k == 1:
        return [np.exp(-2 * x) * np.cos(3 * x), 1.0 / (1.0 + 4 * x * x)]
    return [np.sin(3 * np.pi * x) * x, np.cos(2 * x) - 0.5]


def test_tucker3_targets_splits_and_unique_counts():
    d = make_tucker3(n=400, noise=0.1, n_unique=(9, 11, 13), seed=2)
    assert d["x_train"].shape == (320, 3) and d["x_test"].shape == (80, 3)
    for x, f in ((d["x_test"], d["y_test"]), (d["x_train"], d["f_train"])):
        ref = []
        for row in x:
            u = [_u(k, row[k]) for k in range(3)]
            ref.append(
                sum(
                    CORE[a, b, c] * u[0][a] * u[1][b] * u[2][c]
                    for a in range(2)
                    for b in range(2)
                    for c in range(2)
                )
            )
        np.testing.assert_allclose(f, ref, rtol=1e-12, atol=1e-14)
    resid = d["y_train"] - d["f_train"]
    assert 0.07 < resid.std() < 0.13  # the requested noise level
    xall = np.concatenate([d["x_train"], d["x_test"]])
    for k, s in enumerate((9, 11, 13)):
        assert len(np.unique(xall[:, k])) <= s
        assert np.all((xall[:, k] >= 0) & (xall[:, k] <= 1))
    # every entry is its own cell (400 of 9·11·13 = 1287: draws with replacement would repeat
    # ~60), so no test entry is also a train entry
    assert len(np.unique(xall, axis=0)) == len(xall)
    train_rows = {tuple(r) for r in d["x_train"]}
    assert not any(tuple(r) in train_rows for r in d["x_test"])
    with pytest.raises(ValueError, match="at most 27 entries"):
        make_tucker3(n=28, n_unique=(3, 3, 3))


def test_tucker3_file_round_trip(tmp_path):
    from sciml.data import write_dataset

    r = generate_tucker3(5, n=120, noise=0.05, n_unique=[7, 8, 9])
    path = write_dataset(
        tmp_path / "t.h5", r["splits"], name="t3", kind="tensor", params={}, coords=r["coords"]
    )
    d = make_tucker3(n=120, noise=0.05, n_unique=(7, 8, 9), seed=5)
    for split, key in (("train", "y_train"), ("test", "y_test")):
        x, v = load_entries(path, split)
        assert np.array_equal(x, d[f"x_{split}"]) and np.array_equal(v, d[key])


def test_rank1_benchmark_rmse_and_mae_definitions(tmp_path, monkeypatch):
    from sciml.tensor import FunBaTConfig, FunBaTCP, bench
    from sciml.tensor.synthetic import make_rank1_cp

    monkeypatch.setenv("SCIML_DATA", str(tmp_path))
    ctx = types.SimpleNamespace(
        seed=1,
        device="cpu",
        quick=True,
        options={},
        log=lambda *a, **k: None,
        save_figure=lambda *a, **k: None,
    )
    out = bench.run_rank1(ctx, epochs=2)
    d = make_rank1_cp(seed=1)
    cfg = FunBaTConfig(rank=1, nu=1.5, lengthscale=0.1, variance=0.5, epochs=2, seed=1)
    pred = FunBaTCP(cfg).fit(d["x_train"], d["y_train"]).predict(d["x_test"]).numpy()
    err = pred - d["y_test"]  # noise-free test targets
    np.testing.assert_allclose(out["rmse_rank1_cp"], np.sqrt(np.mean(err**2)), rtol=1e-10)
    np.testing.assert_allclose(out["mae_rank1_cp"], np.mean(np.abs(err)), rtol=1e-10)
    assert out["s_per_epoch_rank1_cp"] > 0 and torch.isfinite(torch.tensor(pred)).all()
