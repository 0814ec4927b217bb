"""Training glue: rollout vs a manual loop, Trainer integration, de-normalised metrics, dataset
registration matches the bench declarations."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from sciml.data import FieldDataset, write_dataset
from sciml.operators import (
    DARCY_SIZES,
    NS_SIZES,
    OperatorTrainConfig,
    RelativeL2Loss,
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


def test_per_frame_loss_is_the_sum_of_frame_relative_errors():
    torch.manual_seed(0)
    p, t = torch.randn(2, 3, 3, 4, 4, dtype=torch.float64)
    got = RelativeL2Loss(per_frame=True)(p, t)
    ref = sum(
        float(np.linalg.norm(p[b, f] - t[b, f]) / np.linalg.norm(t[b, f]))
        for b in range(3)
        for f in range(3)
    )
    assert abs(got.item() - ref / 3) < 1e-12
    assert abs(RelativeL2Loss()(p, t).item() - relative_l2(p, t).mean().item()) < 1e-15


def test_weight_decay_equals_the_papers_summed_loss():
    # Adam on sum_b loss_b with decay wd == Adam on mean_b loss_b with decay wd / B
    torch.manual_seed(0)
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    cfg = OperatorTrainConfig(batch_size=5, weight_decay=0.3, lr=0.1)
    assert cfg.adam_weight_decay == 0.3 / 5
    assert OperatorTrainConfig(weight_decay=0.3, sum_loss_decay=False).adam_weight_decay == 0.3
    w_sum = torch.ones(3, dtype=torch.float64, requires_grad=True)
    w_mean = torch.ones(3, dtype=torch.float64, requires_grad=True)
    o_sum = torch.optim.Adam([w_sum], lr=0.1, weight_decay=cfg.weight_decay, eps=0)
    o_mean = torch.optim.Adam([w_mean], lr=0.1, weight_decay=cfg.adam_weight_decay, eps=0)
    for _ in range(5):
        for w, o, red in ((w_sum, o_sum, torch.sum), (w_mean, o_mean, torch.mean)):
            o.zero_grad()
            red((x @ w - y) ** 2).backward()
            o.step()
    torch.testing.assert_close(w_sum, w_mean, rtol=1e-12, atol=1e-12)


def test_budget_schedule_compresses_steplr_to_the_budget(tmp_path):
    ticks = iter(range(10_000))  # a fake clock read twice per epoch: every epoch costs 1 s
    train = FieldDataset(_tiny_field_file(tmp_path), "train", normalize=True)
    cfg = OperatorTrainConfig(
        epochs=500, step_size=100, gamma=0.5, lr=0.08, batch_size=4, progress=False
    )
    _, hist = fit_for_time(
        torch.nn.Conv2d(1, 1, 1),
        train,
        10.0,
        cfg,
        clock=lambda: float(next(ticks)),
        budget_schedule=True,
    )
    # 500 epochs with a halving every 100 -> halvings at 20/40/60/80 % of the 10 s budget
    assert [h["lr"] for h in hist] == [0.08 / 2 ** (e // 2) for e in range(10)]
    assert all(h["time_s"] == 1.0 for h in hist)
    with pytest.raises(ValueError, match="clock"):
        fit_for_time(torch.nn.Conv2d(1, 1, 1), train, 1.0, cfg, clock="cpu")


class _Logged(torch.utils.data.Dataset):
    """10 (x, y) pairs that record which indices were read."""

    def __init__(self) -> None:
        self.x = torch.randn(10, 1, 4, 4, generator=torch.Generator().manual_seed(0))
        self.seen: list[int] = []

    def __len__(self) -> int:
        return 10

    def __getitem__(self, i: int):
        self.seen.append(int(i))
        return self.x[i], 2 * self.x[i]


def test_rounds_per_epoch_split_each_epoch_into_disjoint_parts():
    ds = _Logged()
    cfg = OperatorTrainConfig(epochs=500, batch_size=2, lr=1e-2, progress=False, step_size=1)
    ticks = iter(range(1000))
    _, hist = fit_for_time(
        torch.nn.Conv2d(1, 1, 1),
        ds,
        1e9,
        cfg,
        max_epochs=2,
        clock=lambda: float(next(ticks)),
        rounds_per_epoch=3,
    )
    # 2 epochs × 3 rounds; every epoch reads each sample exactly once, in a new order
    assert [h["epoch"] for h in hist] == pytest.approx([1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    assert sorted(ds.seen[:10]) == list(range(10)) and sorted(ds.seen[10:]) == list(range(10))
    assert ds.seen[:10] != ds.seen[10:]
    # StepLR(step 1) is stepped once per epoch, not once per round
    assert [h["lr"] for h in hist] == [1e-2] * 3 + [5e-3] * 3
    # the budget is checked after every round (the fake clock advances 1 s per round)
    _, hist2 = fit_for_time(
        torch.nn.Conv2d(1, 1, 1),
        ds,
        2.0,
        cfg,
        clock=lambda: float(next(ticks)),
        rounds_per_epoch=5,
    )
    assert len(hist2) == 2 and hist2[-1]["epoch"] == pytest.approx(0.4)
    with pytest.raises(ValueError, match="rounds_per_epoch"):
        fit_for_time(torch.nn.Conv2d(1, 1, 1), ds, 1.0, cfg, rounds_per_epoch=11)


class _Linear3(torch.nn.Module):
    """Two frames in, three frames out: fixed linear combinations of the input frames."""

    def forward(self, x):
        a, b = x[:, 0], x[:, 1]
        return torch.stack([a + b, a - 2 * b, 0.5 * a + b], dim=1)


def test_rollout_with_more_frames_out_than_in_matches_a_manual_loop():
    x = torch.randn(2, 2, 3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    frames = list(x.unbind(1))  # reference: feed back the last T_in = 2 frames each call
    while len(frames) < 2 + 7:
        a, b = frames[-2], frames[-1]
        frames += [a + b, a - 2 * b, 0.5 * a + b]
    torch.testing.assert_close(rollout(_Linear3(), x, 7), torch.stack(frames[2:9], dim=1))


@pytest.mark.parametrize("steps", [0, -1, 1.5])
def test_rollout_rejects_bad_steps(steps):
    with pytest.raises(ValueError, match="steps"):
        rollout(_Shift(), torch.zeros(1, 3, 4, 4), steps)
