"""Review pass 2 (session 15): training glue, 3-D metrics and normaliser edge cases, each against
an independent reference (explicit DFT sums, torch's StepLR, a hand-written Adam loop, NumPy)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from torch.utils.data import Dataset, TensorDataset

from sciml.operators import (
    OperatorTrainConfig,
    UNet,
    UnitGaussianNormalizer,
    fit_for_time,
    fit_operator,
    fourier_band_errors,
    relative_l2,
    rollout,
)


class _Logged(Dataset):
    """``n`` (x, y) pairs that record which indices were read."""

    def __init__(self, n: int) -> None:
        self.x = torch.randn(n, 1, 4, 4, generator=torch.Generator().manual_seed(0))
        self.seen: list[int] = []

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int):
        self.seen.append(int(i))
        return self.x[i], 2 * self.x[i]


@pytest.mark.parametrize(("n", "k"), [(64, 12), (10, 6), (5, 4), (7, 7)])
def test_rounds_per_epoch_gives_k_disjoint_parts_for_any_valid_k(n, k):
    # torch.chunk returns fewer than k parts when ceil(n/k)·(k−1) >= n (64 samples in 12 rounds
    # gave 11 parts and an IndexError in round 12)
    ds = _Logged(n)
    marks: list[int] = []  # samples read so far, at each clock reading (twice per round)

    def clock() -> float:
        marks.append(len(ds.seen))
        return float(len(marks))

    cfg = OperatorTrainConfig(epochs=500, batch_size=3, progress=False)
    _, hist = fit_for_time(
        torch.nn.Conv2d(1, 1, 1), ds, 1e9, cfg, max_epochs=2, clock=clock, rounds_per_epoch=k
    )
    assert [h["epoch"] for h in hist] == pytest.approx([(r + 1) / k for r in range(2 * k)])
    for e in range(2):  # every epoch reads each sample exactly once
        assert sorted(ds.seen[e * n : (e + 1) * n]) == list(range(n))
    sizes = [marks[2 * r + 1] - marks[2 * r] for r in range(2 * k)]
    assert sum(sizes) == 2 * n and max(sizes) - min(sizes) <= 1 and min(sizes) >= 1


def test_budget_schedule_equals_steplr_when_epochs_are_not_a_multiple_of_the_step():
    # every round costs 1 s of a fake clock and the budget is `epochs` seconds, so the compressed
    # schedule must give StepLR's learning rate epoch by epoch (450/100 → 4 halvings, not 3)
    epochs, step, lr = 45, 10, 0.08
    ticks = itertools.count()
    cfg = OperatorTrainConfig(
        epochs=epochs, step_size=step, gamma=0.5, lr=lr, batch_size=4, progress=False
    )
    ds = TensorDataset(torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2))
    _, hist = fit_for_time(
        torch.nn.Conv2d(1, 1, 1),
        ds,
        float(epochs),
        cfg,
        clock=lambda: float(next(ticks)),  # read before and after each round: 1 s per round
        budget_schedule=True,
    )
    ref_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    ref = torch.optim.lr_scheduler.StepLR(ref_opt, step_size=step, gamma=0.5)
    expected = []
    for _ in range(epochs):
        expected.append(ref_opt.param_groups[0]["lr"])
        ref_opt.step()
        ref.step()
    assert len(hist) == epochs
    assert [h["lr"] for h in hist] == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("entry", ["fit_operator", "fit_for_time"])
def test_float64_model_trains_in_float64_like_a_hand_written_adam_loop(entry):
    # full-batch Adam (weight decay wd / B) on the batch-mean relative L2, in float64
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 1, 5, 5, generator=g, dtype=torch.float64)
    y = 1.5 * x + 0.25 + 0.1 * torch.randn(6, 1, 5, 5, generator=g, dtype=torch.float64)
    torch.manual_seed(1)
    model = torch.nn.Conv2d(1, 1, 1).double()
    ref = torch.nn.Conv2d(1, 1, 1).double()
    ref.load_state_dict(model.state_dict())
    cfg = OperatorTrainConfig(epochs=3, batch_size=6, lr=0.05, weight_decay=0.3, progress=False)
    if entry == "fit_operator":
        fit_operator(model, TensorDataset(x, y), None, cfg)
    else:
        fit_for_time(model, TensorDataset(x, y), 1e9, cfg, max_epochs=3)
    opt = torch.optim.Adam(ref.parameters(), lr=0.05, weight_decay=0.3 / 6)
    for _ in range(3):
        opt.zero_grad()
        loss = (
            (ref(x) - y).flatten(1).norm(dim=1) / y.flatten(1).norm(dim=1)
        ).mean()  # relative L2, written out
        loss.backward()
        opt.step()
    assert model.weight.dtype == torch.float64
    for p, q in zip(model.parameters(), ref.parameters()):
        torch.testing.assert_close(p.detach(), q.detach(), rtol=1e-12, atol=1e-12)


def _explicit_band_errors(e: np.ndarray, edges: tuple[int, int]) -> dict[str, np.ndarray]:
    """Band RMS of ``e`` (B, C, *S) by an explicit DFT sum over every wavenumber vector."""
    bsz, c, *sizes = e.shape
    grids = np.meshgrid(*(np.arange(s) for s in sizes), indexing="ij")
    out = {"low": np.zeros(bsz), "mid": np.zeros(bsz), "high": np.zeros(bsz)}
    for idx in itertools.product(*(range(s) for s in sizes)):
        ks = [a if a <= s // 2 else a - s for a, s in zip(idx, sizes)]
        phase = np.exp(-2j * math.pi * sum(a * gr / s for a, gr, s in zip(idx, grids, sizes)))
        coef = (e * phase).sum(axis=tuple(range(2, e.ndim)))  # (B, C)
        pw = (np.abs(coef) ** 2).sum(1) / math.prod(sizes) ** 2 / c
        r = math.sqrt(sum(k * k for k in ks))
        out["low" if r < edges[0] else "mid" if r < edges[1] else "high"] += pw
    return {name: np.sqrt(v) for name, v in out.items()}


def test_band_errors_of_3d_fields_match_an_explicit_dft_and_parseval():
    rng = np.random.default_rng(4)
    p, t = rng.standard_normal((2, 2, 3, 5, 4, 3))
    got = fourier_band_errors(torch.from_numpy(p), torch.from_numpy(t), (2, 3))
    ref = _explicit_band_errors(p - t, (2, 3))
    for name in ref:
        np.testing.assert_allclose(got[name].numpy(), ref[name], rtol=1e-10)
    mse = ((p - t) ** 2).mean(axis=(1, 2, 3, 4))
    total = sum(got[b].numpy() ** 2 for b in ("low", "mid", "high"))
    np.testing.assert_allclose(total, mse, rtol=1e-12)


def test_training_a_3d_model_reports_every_field_metric():
    # the LSM/U-Net support 3-D fields; the training glue's band errors used to reject them
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 1, 6, 5, 4, generator=g)
    ds = TensorDataset(x, 0.5 * x)
    cfg = OperatorTrainConfig(epochs=1, batch_size=2, progress=False)
    torch.manual_seed(0)
    trainer, hist = fit_operator(UNet(width=4, ndim=3), ds, ds, cfg)
    m = hist[-1]["metrics"]
    assert set(m) == {"rel_l2", "nrmse", "max_error", "err_low", "err_mid", "err_high"}
    pred = trainer.predict(ds)
    assert m["rel_l2"] == pytest.approx(relative_l2(pred, 0.5 * x).mean().item(), rel=1e-5)
    bands = _explicit_band_errors((pred - 0.5 * x).double().numpy(), (4, 12))
    assert m["err_low"] == pytest.approx(bands["low"].mean(), rel=1e-4)
    _, hist2 = fit_for_time(UNet(width=4, ndim=3), ds, 1e-9, cfg)
    assert len(hist2) == 1


def test_band_errors_reject_crossed_edges():
    # edges (12, 4) made the low and high bands overlap: low² + mid² + high² ≠ MSE, silently
    e = torch.randn(1, 1, 8, 8)
    with pytest.raises(ValueError, match="edges"):
        fourier_band_errors(e, torch.zeros_like(e), (12, 4))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(max_epochs=0), "max_epochs"),
        (dict(max_epochs=-2), "max_epochs"),
        (dict(config=OperatorTrainConfig(epochs=0, progress=False)), "epochs"),
        (dict(budget_s=True), "budget_s"),
    ],
)
def test_fit_for_time_rejects_no_epochs_with_a_named_error(kwargs, name):
    # max_epochs=0 / epochs=0 ended in a bare AssertionError (no round ran)
    ds = TensorDataset(torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2))
    args = dict(budget_s=1.0, config=OperatorTrainConfig(epochs=2, progress=False))
    args.update(kwargs)
    budget = args.pop("budget_s")
    with pytest.raises(ValueError, match=name):
        fit_for_time(torch.nn.Conv2d(1, 1, 1), ds, budget, **args)


def test_fit_for_time_accepts_numpy_budgets_and_epochs():
    ds = TensorDataset(torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2))
    cfg = OperatorTrainConfig(epochs=2, progress=False)
    _, hist = fit_for_time(
        torch.nn.Conv2d(1, 1, 1), ds, np.int64(10**9), cfg, max_epochs=np.int64(2)
    )
    assert len(hist) == 2


def test_rollout_rejects_a_model_that_predicts_no_frames():
    # the loop counted frames made and never ended
    with pytest.raises(ValueError, match="T_out >= 1"):
        rollout(lambda z: z[:, :0], torch.zeros(1, 3, 4, 4), 2)


def test_encoding_integer_input_uses_the_floating_statistics():
    # the statistics were cast to the input's integer dtype (truncated): 1.8 off here
    g = torch.Generator().manual_seed(3)
    x = torch.randn(10, 1, 3, 4, generator=g, dtype=torch.float64) * 3 + 2
    norm = UnitGaussianNormalizer(x)
    xi = torch.randint(-5, 6, (2, 1, 3, 4), generator=g)
    xn = x.numpy()
    mean, std = xn.mean(0), xn.std(0, ddof=1)
    np.testing.assert_allclose(
        norm.encode(xi).numpy(), (xi.numpy() - mean) / (std + 1e-5), rtol=1e-12
    )
    np.testing.assert_allclose(
        norm.decode(xi).numpy(), xi.numpy() * (std + 1e-5) + mean, rtol=1e-12
    )


def test_default_device_is_where_the_model_lives():
    """``OperatorTrainConfig.device`` used to default to "cpu": a CUDA model handed to
    ``fit_operator`` / ``fit_for_time`` without ``device=`` was moved to the CPU."""
    from sciml.operators.training import _train_device

    meta = torch.nn.Conv2d(1, 1, 1).to("meta")  # stands in for an accelerator
    assert _train_device(meta, OperatorTrainConfig()) == "meta"
    assert _train_device(meta, OperatorTrainConfig(device="cpu")) == "cpu"
    assert _train_device(torch.nn.Identity(), OperatorTrainConfig()) == "cpu"  # no tensors


@pytest.mark.gpu
@pytest.mark.parametrize("entry", ["fit_operator", "fit_for_time"])
def test_cuda_model_trains_on_cuda_by_default(entry):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 1, 5, 5, generator=g)
    ds = TensorDataset(x, 2 * x + 0.1)
    model = torch.nn.Conv2d(1, 1, 1).to("cuda")
    cfg = OperatorTrainConfig(epochs=2, batch_size=3, progress=False)
    if entry == "fit_operator":
        fit_operator(model, ds, None, cfg)
    else:
        fit_for_time(model, ds, 1e9, cfg, max_epochs=2)
    assert next(model.parameters()).device.type == "cuda"
