"""Training glue: rollout vs a manual loop, Trainer integration, de-normalised metrics, dataset
registration matches the bench declarations."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from sciml.data import FieldDataset, write_dataset
from sciml.operators import (
    DARCY_SIZES,
    NS_SIZES,
    OperatorTrainConfig,
    field_metrics,
    fit_for_time,
    fit_operator,
    relative_l2,
    rollout,
    rollout_step_fn,
)


class _Shift(torch.nn.Module):
    """Predicts the next frame as 2·last − second-to-last (exact for linear-in-time data)."""

    def forward(self, x):
        return 2 * x[:, -1:] - x[:, -2:-1]


def test_rollout_matches_manual_loop_and_linear_extrapolation():
    t = torch.arange(6, dtype=torch.float64)
    frames = t[None, :, None, None] * torch.ones(2, 6, 4, 4, dtype=torch.float64)
    pred = rollout(_Shift(), frames[:, :3], 3)
    torch.testing.assert_close(pred, frames[:, 3:])
    pred2, target = rollout_step_fn(_Shift(), (frames[:, :3], frames[:, 3:]))
    torch.testing.assert_close(pred2, target)


def test_field_metrics_score_denormalised_fields():
    p, t = torch.rand(2, 3, 1, 8, 8, dtype=torch.float64) + 0.5
    m = field_metrics(lambda z: 3 * z + 1)
    ref = relative_l2(3 * p + 1, 3 * t + 1)
    torch.testing.assert_close(m["rel_l2"](p, t), ref)
    assert set(m) == {"rel_l2", "nrmse", "max_error", "err_low", "err_mid", "err_high"}


def _tiny_field_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 1, 8, 8)).astype(np.float32)
    y = (2 * x + 0.5).astype(np.float32)
    return write_dataset(
        tmp_path / "tiny.h5",
        {"train": {"x": x[:8], "y": y[:8]}, "test": {"x": x[8:], "y": y[8:]}},
        name="tiny",
        kind="field",
        params={},
    )


def test_fit_operator_and_fit_for_time_with_the_shared_trainer(tmp_path):
    path = _tiny_field_file(tmp_path)
    train = FieldDataset(path, "train", normalize=True)
    test = FieldDataset(path, "test", normalize=True)
    cfg = OperatorTrainConfig(epochs=2, batch_size=4, lr=1e-2, progress=False)
    model = torch.nn.Conv2d(1, 1, 1)
    trainer, hist = fit_operator(model, train, test, cfg, denormalize=train.denormalize)
    assert len(hist) == 2 and hist[1]["lr"] == 1e-2
    # the reported metric equals relative L2 recomputed on de-normalised predictions
    pred = train.denormalize(trainer.predict(test))
    y = torch.stack([test.denormalize(test[i][1]) for i in range(4)])
    ev = trainer.evaluate(test)
    assert abs(ev["rel_l2"] - relative_l2(pred, y).mean().item()) < 1e-5
    model2 = torch.nn.Conv2d(1, 1, 1)
    _, hist2 = fit_for_time(model2, train, 1e-9, cfg, max_epochs=3)
    assert len(hist2) == 1  # at least one epoch, then the (tiny) budget is spent
    _, hist3 = fit_for_time(torch.nn.Conv2d(1, 1, 1), train, 1e9, cfg, max_epochs=3)
    assert len(hist3) == 3 and hist3[-1]["train_loss"] < hist3[0]["train_loss"]


def test_bench_declares_the_same_dataset_sizes():
    path = Path(__file__).resolve().parents[2] / "sciml" / "operators" / "bench.py"
    spec = importlib.util.spec_from_file_location("_ops_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sizes = {d["name"]: d["sizes"] for d in mod.DATASETS}
    assert sizes == {"darcy": DARCY_SIZES, "navier-stokes": NS_SIZES}
    assert {b["name"] for b in mod.BENCHMARKS} == {"lsm-darcy", "lsm-ns"}
