import torch
from torch.utils.data import TensorDataset

from sciml.ssm import (
    S4DForecaster,
    S4DForecasterConfig,
    SpaceTime,
    SpaceTimeConfig,
    simulate_ar,
    stable_ar_coefficients,
    train_forecaster,
)


def _windows(seed, n, lag=16, horizon=4):
    x = torch.as_tensor(
        simulate_ar(stable_ar_coefficients(2, seed=0), n + lag + horizon, seed=seed)
    )
    w = x.unfold(0, lag + horizon, 1)[:n].float()[..., None]
    return TensorDataset(w[:, :lag], w[:, lag:])


def _val_mse(model, ds, batch_size):
    """Independent recomputation: mean over validation batches of the batch forecast MSE."""
    model.eval()
    vals = []
    with torch.no_grad():
        for s in range(0, len(ds), batch_size):
            x, y = ds[s : s + batch_size]
            out = model(x, y.shape[1])
            f = out.forecast if isinstance(model, SpaceTime) else out
            vals.append(float(((f - y) ** 2).mean()))
    return sum(vals) / len(vals)


def test_validation_selection_restores_lowest_val_state():
    train, val = _windows(1, 48), _windows(2, 32)
    selected = []
    for model in (
        SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0), seed=0),
        S4DForecaster(S4DForecasterConfig(d_model=4, n_layers=1, d_state=8, dropout=0.0), seed=0),
    ):
        # a large learning rate makes the validation curve non-monotone
        res = train_forecaster(model, train, val, epochs=5, batch_size=16, lr=0.1)
        vals = [r["metrics"]["forecast_mse"] for r in res.history]
        best = min(range(len(vals)), key=vals.__getitem__)
        assert res.best_epoch == best + 1
        assert abs(res.best_val_mse - vals[best]) < 1e-9
        # the returned model is the selected state, not the last one
        assert abs(_val_mse(model, val, 16) - vals[best]) < 1e-5 * max(1.0, vals[best])
        selected.append(res.best_epoch)
    assert min(selected) < 5  # the check is not vacuous: an earlier epoch was restored


def test_training_without_validation_keeps_last_state():
    train = _windows(1, 32)
    model = SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0), seed=0)
    res = train_forecaster(model, train, None, epochs=2, batch_size=16, lr=1e-2)
    assert res.best_epoch is None and len(res.history) == 2


def test_warmup_schedule_and_early_stopping():
    import math

    import pytest

    train, val = _windows(1, 32), _windows(2, 16)
    model = SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0), seed=0)
    res = train_forecaster(model, train, val, epochs=5, batch_size=16, lr=0.01, warmup=2)
    lrs = [r["lr"] for r in res.history]  # linear warm-up, then cosine over the last 3 epochs
    ref = [0.01 / 3, 0.02 / 3] + [0.005 * (1 + math.cos(math.pi * k / 3)) for k in range(3)]
    assert all(abs(a - b) < 1e-12 for a, b in zip(lrs, ref, strict=True))
    # patience 1: training stops right after the first epoch that does not improve on the best
    model = SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0), seed=0)
    res = train_forecaster(model, train, val, epochs=8, batch_size=16, lr=0.1, patience=1)
    vals = [r["metrics"]["forecast_mse"] for r in res.history]
    n = len(vals)
    assert all(vals[i] < min(vals[:i]) for i in range(1, n - 1))
    assert n < 8 and vals[-1] >= min(vals[:-1])  # it did stop early (not vacuous)
    assert res.best_epoch == n - 1
    with pytest.raises(ValueError, match="warmup"):
        train_forecaster(model, train, val, epochs=2, batch_size=16, lr=0.1, warmup=2)
    with pytest.raises(ValueError, match="patience"):
        train_forecaster(model, train, val, epochs=2, batch_size=16, lr=0.1, patience=0)
    with pytest.raises(ValueError, match="lr"):
        train_forecaster(model, train, val, epochs=2, batch_size=16, lr=-1.0)


def test_per_step_schedule():
    import pytest

    train, val = _windows(1, 32), _windows(2, 16)  # 2 optimiser steps per epoch at batch 16
    model = SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0), seed=0)
    res = train_forecaster(
        model, train, val, epochs=3, batch_size=16, lr=0.01, warmup=1, schedule="step"
    )
    # steps 0, 1 warm up (1/3, 2/3), then a cosine over steps 2..5; epochs start at steps 0, 2, 4
    lrs = [r["lr"] for r in res.history]
    assert lrs == pytest.approx([0.01 / 3, 0.01, 0.005], rel=1e-12)
    with pytest.raises(ValueError, match="schedule"):
        train_forecaster(model, train, val, epochs=1, batch_size=16, lr=0.1, schedule="batch")


def test_step_level_selection_restores_lowest_val_state():
    import pytest

    train, val = _windows(1, 48), _windows(2, 32)  # 3 batches of 16 per epoch
    model = SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0), seed=0)
    res = train_forecaster(model, train, val, epochs=4, batch_size=16, lr=0.1, val_every_steps=2)
    steps = [v["step"] for v in res.validations]
    # every 2nd step and every epoch end (3, 6, 9, 12), each step once
    assert steps == [2, 3, 4, 6, 8, 9, 10, 12]
    vals = [v["value"] for v in res.validations]
    best = min(range(len(vals)), key=vals.__getitem__)
    assert res.best_step == steps[best] and res.best_epoch == (steps[best] - 1) // 3 + 1
    assert abs(res.best_val_mse - vals[best]) < 1e-9
    # the returned model is the selected state (recomputed independently)
    assert abs(_val_mse(model, val, 16) - vals[best]) < 1e-5 * max(1.0, vals[best])
    assert best < len(vals) - 1  # not vacuous: an earlier state than the last was restored
    with pytest.raises(ValueError, match="val_every_steps"):
        train_forecaster(model, train, val, epochs=1, batch_size=16, lr=0.1, val_every_steps=0)


def test_ema_training_selects_and_returns_the_averaged_weights():
    train, val = _windows(1, 48), _windows(2, 32)
    beta = 0.7
    model = S4DForecaster(
        S4DForecasterConfig(d_model=4, n_layers=1, d_state=8, dropout=0.0), seed=0
    )
    seen = []  # the raw weights θ_{i-1} each training forward sees (step i)
    model.register_forward_pre_hook(
        lambda m, args: (
            seen.append([p.detach().clone() for p in m.parameters()]) if m.training else None
        )
    )
    res = train_forecaster(
        model, train, val, epochs=4, batch_size=16, lr=0.2, val_every_steps=2, ema=beta
    )
    k = res.best_step
    assert k is not None and k < 12  # the last raw weights are not needed below
    # reference: bias-corrected EMA of θ_1..θ_k, the raw weights after steps 1..k
    thetas = seen[1 : k + 1]
    weights = [beta ** (k - i) for i in range(1, k + 1)]
    for j, p in enumerate(model.parameters()):
        ref = sum(w * t[j] for w, t in zip(weights, thetas)) / sum(weights)
        assert torch.allclose(p.detach(), ref, atol=1e-6, rtol=1e-5)
    # not vacuous: the average differs from the raw weights of the selected step
    assert any(
        not torch.allclose(p.detach(), t, atol=1e-4) for p, t in zip(model.parameters(), thetas[-1])
    )
    vals = [v["value"] for v in res.validations]
    assert abs(res.best_val_mse - min(vals)) < 1e-12
    assert abs(_val_mse(model, val, 16) - min(vals)) < 1e-5 * max(1.0, min(vals))
