"""The training loop against hand-written references."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from sciml.train import Trainer, TrainerConfig, read_jsonl

from ._common import DictDataset, dropout_mlp, linear, mse, regression_data


def _cfg(**kw) -> TrainerConfig:
    base = dict(progress=False, epochs=1, batch_size=8)
    base.update(kw)
    return TrainerConfig(**base)


def _sgd(lr: float):
    return lambda params: torch.optim.SGD(params, lr=lr)


def test_regression_reaches_least_squares():
    data = regression_data(n=64, d=3, noise=0.01)
    trainer = Trainer(
        linear(3),
        mse,
        optimizer=lambda p: torch.optim.Adam(p, lr=0.05),
        config=_cfg(epochs=60, batch_size=16),
    )
    hist = trainer.fit(data)
    assert len(hist) == 60
    assert hist[-1]["train_loss"] < 1e-2 * hist[0]["train_loss"]
    # reference: least squares with an intercept column
    x, y = data.tensors
    a = np.c_[x.numpy().astype(np.float64), np.ones(len(x))]
    coef = np.linalg.lstsq(a, y.numpy().astype(np.float64), rcond=None)[0].ravel()
    got = np.r_[trainer.model.weight.detach().numpy().ravel(), trainer.model.bias.detach().numpy()]
    np.testing.assert_allclose(got, coef, atol=2e-2)


@pytest.mark.parametrize("shuffle", [False, True])
def test_matches_hand_written_sgd_loop(shuffle):
    data = regression_data(n=20, d=4)
    seed, lr, bs, epochs = 3, 0.05, 6, 3
    trainer = Trainer(
        linear(4),
        mse,
        optimizer=_sgd(lr),
        config=_cfg(epochs=epochs, batch_size=bs, shuffle=shuffle, seed=seed),
    )
    hist = trainer.fit(data)

    ref = linear(4)
    x, y = data.tensors
    for epoch in range(epochs):
        # documented order: the e-th epoch (from 0) is randperm(n) seeded with seed + e
        order = (
            torch.randperm(len(x), generator=torch.Generator().manual_seed(seed + epoch))
            if shuffle
            else torch.arange(len(x))
        )
        total, count = 0.0, 0
        for start in range(0, len(x), bs):
            idx = order[start : start + bs]
            loss = mse(ref(x[idx]), y[idx])
            ref.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in ref.parameters():
                    p -= lr * p.grad
            total += loss.item() * len(idx)
            count += len(idx)
        assert hist[epoch]["train_loss"] == pytest.approx(total / count, rel=1e-6)
    for p, q in zip(trainer.model.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)


def test_grad_clip_matches_clip_grad_norm():
    data = regression_data(n=12, d=5)
    x, y = data.tensors
    y = 100.0 * y  # large gradients, so that clipping is active
    data = TensorDataset(x, y)
    lr, clip, bs = 0.1, 0.5, 4
    model = linear(5)
    ref = copy.deepcopy(model)
    trainer = Trainer(
        model, mse, optimizer=_sgd(lr), config=_cfg(batch_size=bs, shuffle=False, grad_clip=clip)
    )
    norms = []
    for start in range(0, len(x), bs):
        ref.zero_grad()
        mse(ref(x[start : start + bs]), y[start : start + bs]).backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(ref.parameters(), clip)))
        with torch.no_grad():
            for p in ref.parameters():
                p -= lr * p.grad
    assert min(norms) > 10 * clip  # every step was clipped
    trainer.fit(data)
    for p, q in zip(trainer.model.parameters(), ref.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-6)

    # one clipped step moves the parameters by exactly lr * clip
    one = Trainer(
        copy.deepcopy(ref),
        mse,
        optimizer=_sgd(lr),
        config=_cfg(batch_size=len(x), shuffle=False, grad_clip=clip),
    )
    start_params = torch.cat([p.detach().flatten().clone() for p in one.model.parameters()])
    one.fit(data)
    step = torch.cat([p.detach().flatten() for p in one.model.parameters()]) - start_params
    assert float(step.norm()) == pytest.approx(lr * clip, rel=1e-5)
    assert trainer.model is model  # the trainer trains the module it was given


def _scripted_metric(values):
    calls = iter(values)

    def metric(pred, target):
        return torch.tensor(next(calls))

    return metric


def _expected_stop(values, patience, mode):
    """Reference: the epoch index (1-based position in ``values``) where patience runs out."""
    sign = 1.0 if mode == "min" else -1.0
    best, bad = math.inf, 0
    for i, v in enumerate(values, start=1):
        if sign * v < best:
            best, bad = sign * v, 0
        else:
            bad += 1
            if bad >= patience:
                return i
    return len(values)


@pytest.mark.parametrize(
    ("values", "patience", "mode", "stop"),
    [
        # best at 1, 2, 5; then 3 validations without improvement -> stop after the 8th
        ([1.0, 0.8, 0.9, 0.85, 0.7, 0.75, 0.72, 0.71, 0.6, 0.5], 3, "min", 8),
        # equal values are not an improvement: 0.5 at 2 is best, 0.5 at 3 and 0.4 at 4 are not
        ([0.1, 0.5, 0.5, 0.4, 0.6, 0.6, 0.6], 2, "max", 4),
        # never runs out of patience
        ([5.0, 4.0, 3.0, 2.0], 1, "min", 4),
    ],
)
@pytest.mark.parametrize("val_every", [1, 2])
def test_early_stopping_scripted_sequence(values, patience, mode, stop, val_every, tmp_path):
    assert _expected_stop(values, patience, mode) == stop
    data = regression_data(n=8)
    epochs = len(values) * val_every
    trainer = Trainer(
        linear(),
        mse,
        optimizer=_sgd(0.01),
        config=_cfg(
            epochs=epochs,
            batch_size=8,
            val_every=val_every,
            early_stopping_patience=patience,
            monitor="score",
            mode=mode,
            out_dir=tmp_path,
        ),
        metrics={"score": _scripted_metric(values)},
    )
    hist = trainer.fit(data, val_dataset=regression_data(n=4, seed=1))
    assert len(hist) == stop * val_every
    assert trainer.global_step == stop * val_every  # one batch per epoch
    scored = [h for h in hist if h["metrics"]]
    assert [h["epoch"] for h in scored] == [val_every * (i + 1) for i in range(stop)]
    assert [h["metrics"]["score"] for h in scored] == pytest.approx(values[:stop])
    sign = 1 if mode == "min" else -1
    best_i = min(range(stop), key=lambda i: (sign * values[i], i))
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["epoch"] == val_every * (best_i + 1)
    assert best["value"] == pytest.approx(values[best_i])


def test_metrics_jsonl_matches_history(tmp_path):
    data = regression_data(n=16)
    trainer = Trainer(
        dropout_mlp(),
        mse,
        config=_cfg(epochs=4, batch_size=5, val_every=2, out_dir=tmp_path),
        metrics={"mae": lambda p, t: (p - t).abs().mean()},
    )
    hist = trainer.fit(data, regression_data(n=6, seed=2))
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == hist
    assert read_jsonl(tmp_path / "metrics.jsonl") == hist
    assert [h["val_loss"] is None for h in hist] == [True, False, True, False]
    assert set(hist[0]) == {"epoch", "train_loss", "val_loss", "metrics", "lr", "time_s"}


def test_evaluate_and_predict_match_direct_computation():
    data = regression_data(n=10, d=4, seed=5)
    x, y = data.tensors
    model = linear(4, seed=1)
    metrics = {
        # batch mean (weighted by batch size) and per-sample vector: both give the sample mean
        "mae": lambda p, t: (p - t).abs().mean(),
        "rel_l2": lambda p, t: (p - t).flatten(1).norm(dim=1) / t.flatten(1).norm(dim=1),
    }
    trainer = Trainer(model, mse, config=_cfg(batch_size=4), metrics=metrics)
    with torch.no_grad():
        p = model(x)
    out = trainer.evaluate(data)  # batches of 4, 4, 2
    assert out["loss"] == pytest.approx(float(((p - y) ** 2).mean()), rel=1e-6)
    assert out["mae"] == pytest.approx(float((p - y).abs().mean()), rel=1e-6)
    rel = ((p - y).norm(dim=1) / y.norm(dim=1)).mean()
    assert out["rel_l2"] == pytest.approx(float(rel), rel=1e-6)
    pred = trainer.predict(data)
    assert pred.shape == (10, 1)
    torch.testing.assert_close(pred, p)
    assert trainer.evaluate(DictDataset(data)) == pytest.approx(out)
    torch.testing.assert_close(trainer.predict(DictDataset(data)), p)


def test_tuple_outputs_are_weighted_by_their_batch_size():
    # a model with several outputs and a tuple target (as SpaceTime returns): the batches of
    # 4, 4, 2 must be weighted by their sizes, so the result is the exact mean over samples
    data = regression_data(n=10, d=4, seed=6)
    x, y = data.tensors
    model = linear(4, seed=2)

    def step_fn(m, batch):
        xb, yb = batch
        out = m(xb)
        return (out, 2.0 * out), (yb, torch.tensor(0.0))

    def loss(p, t):
        return ((p[0] - t[0]) ** 2).mean()

    trainer = Trainer(model, loss, config=_cfg(batch_size=4), step_fn=step_fn)
    with torch.no_grad():
        ref = float(((model(x) - y) ** 2).mean())
    assert trainer.evaluate(data)["loss"] == pytest.approx(ref, rel=1e-6)


def test_dropout_is_off_in_evaluate_and_on_in_training():
    data = regression_data(n=8)
    model = dropout_mlp()
    trainer = Trainer(model, mse, config=_cfg())
    a, b = trainer.predict(data), trainer.predict(data)
    torch.testing.assert_close(a, b)  # eval mode: deterministic
    assert model.training  # predict restored the mode
    x = data.tensors[0]
    assert not torch.equal(model(x), model(x))  # train mode: dropout active


def test_dict_batches_and_extra_items_train_like_tuples():
    data = regression_data(n=12)
    ref = Trainer(linear(), mse, optimizer=_sgd(0.1), config=_cfg(epochs=2, batch_size=4))
    ref.fit(data)
    extra = TensorDataset(*data.tensors, torch.arange(12))  # (x, y, index)
    for ds in (DictDataset(data), extra):
        t = Trainer(linear(), mse, optimizer=_sgd(0.1), config=_cfg(epochs=2, batch_size=4))
        t.fit(ds)
        for p, q in zip(t.model.parameters(), ref.model.parameters()):
            torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_step_fn_autoregressive_rollout():
    # x_{t+1} = A x_t: the model learns A from 3-step rollouts
    g = torch.Generator().manual_seed(0)
    a_true = torch.tensor([[0.9, 0.2], [-0.1, 0.8]])
    x0 = torch.randn(16, 2, generator=g)
    traj = [x0]
    for _ in range(3):
        traj.append(traj[-1] @ a_true.T)
    data = TensorDataset(x0, torch.stack(traj[1:], dim=1))  # (16, 2), (16, 3, 2)

    def rollout(model, batch):
        x, ys = batch
        preds = []
        for _ in range(ys.shape[1]):
            x = model(x)
            preds.append(x)
        return torch.stack(preds, dim=1), ys

    torch.manual_seed(0)
    model = nn.Linear(2, 2, bias=False)
    trainer = Trainer(
        model,
        mse,
        optimizer=lambda p: torch.optim.Adam(p, lr=0.05),
        config=_cfg(epochs=150, batch_size=16),
        step_fn=rollout,
    )
    trainer.fit(data)
    torch.testing.assert_close(model.weight.detach(), a_true, atol=1e-3, rtol=0)
    assert trainer.predict(data).shape == (16, 3, 2)


def test_dtype_float64_casts_model_and_inputs():
    data = regression_data(n=8)  # float32 tensors
    trainer = Trainer(linear(), mse, config=_cfg(dtype="float64"))
    assert all(p.dtype == torch.float64 for p in trainer.model.parameters())
    trainer.fit(data)
    pred = trainer.predict(data)
    assert pred.dtype == torch.float64
    x = data.tensors[0].double()
    torch.testing.assert_close(pred, trainer.model(x).detach())


def test_scheduler_stepped_per_epoch_and_lr_recorded():
    trainer = Trainer(
        linear(),
        mse,
        optimizer=_sgd(0.1),
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
        config=_cfg(epochs=4, batch_size=4),
    )
    hist = trainer.fit(regression_data(n=8))
    assert [h["lr"] for h in hist] == pytest.approx([0.1 * 0.5**e for e in range(4)])


def test_scheduler_stepped_per_optimiser_step(tmp_path):
    trainer = Trainer(
        linear(),
        mse,
        optimizer=_sgd(0.1),
        scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5**s),
        config=_cfg(
            epochs=3, batch_size=4, scheduler_interval="step", log_every=1, out_dir=tmp_path
        ),  # fmt: skip
    )
    hist = trainer.fit(regression_data(n=8))  # 2 steps per epoch
    steps = read_jsonl(tmp_path / "steps.jsonl")
    assert [r["step"] for r in steps] == list(range(1, 7))
    assert [r["lr"] for r in steps] == pytest.approx([0.1 * 0.5**s for s in range(6)])
    assert [h["lr"] for h in hist] == pytest.approx([0.1, 0.1 * 0.5**2, 0.1 * 0.5**4])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        Trainer(
            linear(),
            mse,
            scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt),
            config=_cfg(scheduler_interval="step"),
        )
    with pytest.raises(ValueError, match="scheduler_interval"):
        _cfg(scheduler_interval="batch")


def test_reduce_on_plateau_gets_monitored_value():
    trainer = Trainer(
        linear(),
        mse,
        optimizer=_sgd(0.1),
        scheduler=lambda opt: torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0),
        config=_cfg(epochs=4, batch_size=8, monitor="score"),
        metrics={"score": _scripted_metric([1.0, 2.0, 3.0, 4.0])},  # never improves after 1
    )
    hist = trainer.fit(regression_data(n=8), regression_data(n=4, seed=1))
    # epoch 1 sets the best; epochs 2, 3, 4 are worse and with patience 0 each cuts the LR by 10
    # for the *next* epoch (the recorded lr is the one used during the epoch)
    assert [h["lr"] for h in hist] == pytest.approx([0.1, 0.1, 0.01, 0.001])


# ----------------------------------------------------------------------------- errors
def test_empty_dataset_is_rejected():
    empty = TensorDataset(torch.empty(0, 4), torch.empty(0, 1))
    trainer = Trainer(linear(), mse, config=_cfg())
    with pytest.raises(ValueError, match="train_dataset is empty"):
        trainer.fit(empty)
    with pytest.raises(ValueError, match="val_dataset is empty"):
        trainer.fit(regression_data(n=4), empty)
    with pytest.raises(ValueError, match="dataset is empty"):
        trainer.evaluate(empty)


@pytest.mark.parametrize("bs", [0, -3])
def test_bad_batch_size(bs):
    with pytest.raises(ValueError, match="batch_size must be >= 1, got"):
        TrainerConfig(batch_size=bs)
    with pytest.raises(TypeError, match="batch_size must be an int"):
        TrainerConfig(batch_size=2.0)


def test_resume_without_out_dir():
    with pytest.raises(ValueError, match="resume=True needs out_dir"):
        TrainerConfig(resume=True)


def test_drop_last_without_a_full_batch():
    trainer = Trainer(linear(), mse, config=_cfg(batch_size=16, drop_last=True))
    with pytest.raises(ValueError, match="no batch"):
        trainer.fit(regression_data(n=8))


def test_unknown_monitor_and_early_stopping_without_validation():
    trainer = Trainer(linear(), mse, config=_cfg(monitor="nope"))
    with pytest.raises(ValueError, match="monitor must be one of"):
        trainer.fit(regression_data(n=8))
    trainer = Trainer(linear(), mse, config=_cfg(early_stopping_patience=2))
    with pytest.raises(ValueError, match="needs val_dataset"):
        trainer.fit(regression_data(n=8))


def test_non_scalar_loss_and_bad_batches():
    trainer = Trainer(linear(), lambda p, t: (p - t) ** 2, config=_cfg())
    with pytest.raises(ValueError, match="loss must return a scalar tensor, got shape"):
        trainer.fit(regression_data(n=8))
    trainer = Trainer(linear(), mse, config=_cfg())
    with pytest.raises(ValueError, match="need keys 'x' and 'y'"):
        trainer.fit([{"inp": torch.zeros(4)}])


def test_nan_loss_raises_and_is_not_checkpointed(tmp_path):
    trainer = Trainer(
        linear(),
        lambda p, t: mse(p, t) * float("nan"),
        config=_cfg(out_dir=tmp_path),
    )
    with pytest.raises(FloatingPointError, match="training loss is nan in epoch 1"):
        trainer.fit(regression_data(n=8))
    assert not (tmp_path / "checkpoint.pt").exists()


def test_bad_config_values():
    with pytest.raises(ValueError, match="grad_clip must be > 0"):
        TrainerConfig(grad_clip=0.0)
    with pytest.raises(ValueError, match="mode must be one of"):
        TrainerConfig(mode="minimum")
    with pytest.raises(ValueError, match="dtype must be one of"):
        TrainerConfig(dtype="float8")
    with pytest.raises(ValueError, match="device"):
        Trainer(linear(), mse, config=TrainerConfig(device="tpu:x"))
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        Trainer(lambda x: x, mse)
    with pytest.raises(ValueError, match="reserved"):
        Trainer(linear(), mse, metrics={"loss": mse})


def test_log_every_writes_step_losses(tmp_path):
    data = regression_data(n=12, d=4)
    x, y = data.tensors
    lr, bs = 0.05, 4
    trainer = Trainer(
        linear(4),
        mse,
        optimizer=_sgd(lr),
        config=_cfg(epochs=2, batch_size=bs, shuffle=False, log_every=2, out_dir=tmp_path),
    )
    trainer.fit(data)
    ref, losses = linear(4), []
    for _ in range(2):
        for start in range(0, len(x), bs):
            loss = mse(ref(x[start : start + bs]), y[start : start + bs])
            ref.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in ref.parameters():
                    p -= lr * p.grad
            losses.append(loss.item())
    steps = read_jsonl(tmp_path / "steps.jsonl")
    assert [s["step"] for s in steps] == [2, 4, 6]
    assert [s["epoch"] for s in steps] == [1, 2, 2]
    assert [s["loss"] for s in steps] == pytest.approx([losses[1], losses[3], losses[5]], rel=1e-6)

    # crash in epoch 2 after its first step line: the resume drops that line and redoes it
    run = tmp_path / "run"
    cfg = dict(epochs=1, batch_size=bs, shuffle=False, log_every=2, out_dir=run)
    Trainer(linear(4), mse, optimizer=_sgd(lr), config=_cfg(**cfg)).fit(data)
    with open(run / "steps.jsonl", "a") as f:
        f.write(json.dumps({"step": 4, "epoch": 2, "loss": -1.0, "lr": lr}) + "\n")
    cfg.update(epochs=2, resume=True)
    Trainer(linear(4), mse, optimizer=_sgd(lr), config=_cfg(**cfg)).fit(data)
    assert read_jsonl(run / "steps.jsonl") == steps


def test_worker_processes_give_the_same_result():
    data = regression_data(n=16)
    runs = []
    for workers in (0, 2):
        t = Trainer(
            dropout_mlp(),
            mse,
            config=_cfg(epochs=2, batch_size=4, num_workers=workers, seed=7),
        )
        t.fit(data, regression_data(n=5, seed=1))
        runs.append(t)
    for p, q in zip(runs[0].model.parameters(), runs[1].model.parameters()):
        assert torch.equal(p, q)


def test_complex_parameters_keep_their_imaginary_part():
    """Module.to(dtype=float32) would drop imaginary parts; the Trainer must cast complex to complex64."""

    class ComplexScale(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(
                torch.tensor([1.0 + 2.0j, -0.5 + 0.25j], dtype=torch.complex128)
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x.to(self.w.dtype) * self.w).real

    model = ComplexScale()
    trainer = Trainer(
        model, torch.nn.functional.mse_loss, config=TrainerConfig(epochs=1, progress=False)
    )
    w = trainer.model.w
    assert w.dtype == torch.complex64
    assert torch.allclose(w, torch.tensor([1.0 + 2.0j, -0.5 + 0.25j], dtype=torch.complex64))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_complex_inputs_follow_the_complex_parameters(dtype):
    """Complex128 inputs (NumPy's default) with a float32 Trainer: the parameters become
    complex64 and so must the inputs (as real inputs follow ``dtype``); before, the first
    product raised a dtype mismatch. Reference: a hand-written SGD loop in that precision."""
    cdtype = torch.complex64 if dtype == "float32" else torch.complex128
    rdtype = getattr(torch, dtype)

    class ComplexLinear(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            g = torch.Generator().manual_seed(0)
            self.w = torch.nn.Parameter(torch.randn(3, 2, dtype=torch.complex128, generator=g))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return (x @ self.w).abs()

    g = torch.Generator().manual_seed(1)
    x = torch.randn(12, 3, dtype=torch.complex128, generator=g)
    y = torch.rand(12, 2, dtype=torch.float64, generator=g)
    lr, bs, epochs = 0.05, 4, 2
    trainer = Trainer(
        ComplexLinear(),
        mse,
        optimizer=_sgd(lr),
        config=_cfg(epochs=epochs, batch_size=bs, shuffle=False, dtype=dtype),
    )
    hist = trainer.fit(TensorDataset(x, y))
    assert trainer.model.w.dtype == cdtype

    ref = ComplexLinear()
    ref.w = torch.nn.Parameter(ref.w.detach().to(cdtype))  # (Module.to(complex) warns)
    xr, yr = x.to(cdtype), y.to(rdtype)
    for _ in range(epochs):
        total = 0.0
        for start in range(0, len(x), bs):
            loss = mse(ref(xr[start : start + bs]), yr[start : start + bs])
            ref.zero_grad()
            loss.backward()
            with torch.no_grad():
                ref.w -= lr * ref.w.grad
            total += loss.item() * bs
    assert hist[-1]["train_loss"] == pytest.approx(total / len(x), rel=1e-6)
    torch.testing.assert_close(trainer.model.w.detach(), ref.w.detach())


# ---------------------------------------------------------------- step-level validation
def _split_regression(noise: float = 0.3) -> tuple[TensorDataset, TensorDataset]:
    """One linear model y = x w + b + noise: 32 training and 16 validation samples."""
    x, y = regression_data(n=48, d=4, seed=0, noise=noise).tensors
    return TensorDataset(x[:32], y[:32]), TensorDataset(x[32:], y[32:])


def _step_trainer(out_dir=None, epochs=4, k=3, lr=0.3, **kw) -> Trainer:
    """SGD with a large step on batches of 4: a noisy, non-monotone validation curve."""
    base = dict(epochs=epochs, batch_size=4, val_every_steps=k, seed=3, out_dir=out_dir)
    base.update(kw)
    return Trainer(linear(), mse, optimizer=_sgd(lr), config=_cfg(**base))


@pytest.mark.parametrize(
    ("n", "k", "val_every", "epochs"),
    [(24, 2, 1, 4), (24, 2, 100, 4), (20, 4, 2, 5), (16, 3, 1, 3)],
)
def test_val_every_steps_validates_exactly_at_the_expected_steps(n, k, val_every, epochs, tmp_path):
    bs = 8
    data = regression_data(n=n)
    val = regression_data(n=6, seed=1)  # one validation batch: one metric call per validation
    seen = []

    trainer = Trainer(
        linear(),
        mse,
        optimizer=_sgd(0.05),
        config=_cfg(
            epochs=epochs,
            batch_size=bs,
            val_every=val_every,
            val_every_steps=k,
            out_dir=tmp_path,
        ),
        metrics={"probe": lambda p, t: (seen.append(trainer.global_step), torch.tensor(0.0))[1]},
    )
    hist = trainer.fit(data, val)
    # reference: steps k, 2k, ... over all epochs, plus the ends of every val_every-th epoch,
    # each step at most once
    per_epoch = math.ceil(n / bs)
    total = per_epoch * epochs
    ends = {e * per_epoch for e in range(1, epochs + 1) if e % val_every == 0}
    expected = sorted(set(range(k, total + 1, k)) | ends)
    assert seen == expected  # the evaluations themselves, counted independently
    assert [v["step"] for v in trainer.validations] == expected
    assert [v["kind"] for v in trainer.validations] == [
        "step" if s % k == 0 else "epoch" for s in expected
    ]
    assert [v["epoch"] for v in trainer.validations] == [(s - 1) // per_epoch + 1 for s in expected]
    assert read_jsonl(tmp_path / "validations.jsonl") == trainer.validations
    # epoch records: validated epochs carry the validation made at their last step (reused)
    by_step = {v["step"]: v for v in trainer.validations}
    for h in hist:
        end = h["epoch"] * per_epoch
        if h["epoch"] % val_every == 0:
            assert h["val_loss"] == by_step[end]["val_loss"]
        else:
            assert h["val_loss"] is None


def test_val_every_steps_best_state_is_the_minimum_of_the_curve(tmp_path):
    train, val = _split_regression()
    trainer = _step_trainer(tmp_path, val_every=100)  # step-level validation only
    trainer.fit(train, val)
    curve = [v["val_loss"] for v in trainer.validations]
    steps = [v["step"] for v in trainer.validations]
    assert steps == list(range(3, 33, 3))
    i = int(np.argmin(curve))
    assert 0 < i < len(curve) - 1  # not vacuous: neither the first nor the last event
    assert steps[i] % 8 != 0  # and not at an epoch end (8 steps per epoch)
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["step"] == steps[i] and best["epoch"] == (steps[i] - 1) // 8 + 1
    assert best["value"] == pytest.approx(curve[i], rel=1e-12)
    # independent recomputation of the restored state's validation MSE
    model = linear(seed=42)
    model.load_state_dict(best["model"])
    x, y = val.tensors
    with torch.no_grad():
        direct = float(((model(x).double() - y.double()) ** 2).mean())
    assert direct == pytest.approx(min(curve), rel=1e-5)
    assert [v["improved"] for v in trainer.validations] == [
        c < min(curve[:j], default=math.inf) for j, c in enumerate(curve)
    ]


@pytest.mark.parametrize("patience", [1, 2])
def test_val_every_steps_patience_stops_at_the_right_event(patience, tmp_path):
    train, val = _split_regression()
    full = _step_trainer(val_every=100)
    full.fit(train, val)
    curve = [v["val_loss"] for v in full.validations]
    stop = _expected_stop(curve, patience, "min")  # 1-based event index from the curve
    assert stop < len(curve)  # it does stop early

    t = _step_trainer(tmp_path, val_every=100, early_stopping_patience=patience)
    hist = t.fit(train, val)
    assert len(t.validations) == stop
    assert [v["val_loss"] for v in t.validations] == curve[:stop]  # same trajectory
    stop_step = full.validations[stop - 1]["step"]
    assert t.global_step == stop_step  # no optimiser step after the stopping validation
    assert len(hist) == (stop_step - 1) // 8 + 1  # the epoch it stopped in is recorded
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    assert ckpt["early_stopping"]["stopped"] is True and ckpt["step"] == stop_step
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["value"] == pytest.approx(min(curve[:stop]), rel=1e-12)


def test_val_every_steps_resume_continues_the_curve(tmp_path):
    train, val = _split_regression()
    full = _step_trainer(tmp_path / "full", epochs=4)
    full.fit(train, val)
    _step_trainer(tmp_path / "run", epochs=2).fit(train, val)
    with open(tmp_path / "run" / "validations.jsonl", "a") as f:  # an event after the checkpoint
        f.write(json.dumps({"step": 999, "val_loss": -1.0}) + "\n")
    resumed = _step_trainer(tmp_path / "run", epochs=4, resume=True)
    resumed.fit(train, val)
    assert resumed.validations == full.validations
    assert read_jsonl(tmp_path / "run" / "validations.jsonl") == full.validations
    a = torch.load(tmp_path / "full" / "best.pt", weights_only=True)
    b = torch.load(tmp_path / "run" / "best.pt", weights_only=True)
    assert (a["step"], a["value"]) == (b["step"], b["value"])


def test_val_every_steps_bad_values():
    with pytest.raises(ValueError, match="val_every_steps must be >= 1, got 0"):
        TrainerConfig(val_every_steps=0)
    with pytest.raises(ValueError, match="val_every_steps must be >= 1"):
        TrainerConfig(val_every_steps=-3)
    for bad in (True, 2.5, "10"):
        with pytest.raises(TypeError, match="val_every_steps must be an int or None"):
            TrainerConfig(val_every_steps=bad)
    with pytest.raises(ValueError, match="val_every_steps needs a validation monitor"):
        TrainerConfig(val_every_steps=5, monitor="train_loss")
    trainer = Trainer(linear(), mse, config=_cfg(val_every_steps=2))
    with pytest.raises(ValueError, match="val_every_steps=2 needs val_dataset"):
        trainer.fit(regression_data(n=8))


@pytest.mark.parametrize("mode", ["min", "max"])
def test_nan_validation_is_never_the_best_state(mode, tmp_path):
    # a NaN at the first validation must not become the value every later one has to beat:
    # reference (_expected_stop) counts NaN as a validation without improvement
    nan = float("nan")
    values = [nan, 1.0, 0.9, 1.1, 0.8] if mode == "min" else [nan, 0.1, 0.2, 0.05, 0.3]
    assert _expected_stop(values, 2, mode) == len(values)  # never runs out of patience
    trainer = Trainer(
        linear(),
        mse,
        optimizer=_sgd(0.01),
        config=_cfg(
            epochs=len(values),
            early_stopping_patience=2,
            monitor="score",
            mode=mode,
            out_dir=tmp_path,
        ),
        metrics={"score": _scripted_metric(values)},
    )
    hist = trainer.fit(regression_data(n=8), val_dataset=regression_data(n=4, seed=1))
    assert len(hist) == len(values)
    assert [v["improved"] for v in trainer.validations] == [False, True, True, False, True]
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["epoch"] == 5 and best["value"] == pytest.approx(values[-1])


def test_batchnorm_training_and_validation_match_a_hand_written_loop():
    # BatchNorm (the U-Net/LSM case): batch statistics in training, running statistics in every
    # validation (step-level and epoch-end), which must not touch them; the epoch loss weights
    # the last partial batch (4, 4, 2) by its size
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 1))
    ref = copy.deepcopy(net)
    train, val = regression_data(n=10, seed=3), regression_data(n=5, seed=4)
    trainer = Trainer(
        net,
        mse,
        optimizer=_sgd(0.05),
        config=_cfg(epochs=2, batch_size=4, shuffle=False, val_every_steps=2),
    )
    hist = trainer.fit(train, val)

    (x, y), (xv, yv) = train.tensors, val.tensors
    opt = torch.optim.SGD(ref.parameters(), lr=0.05)

    def val_loss() -> float:
        ref.eval()
        with torch.no_grad():
            out = float(((ref(xv) - yv) ** 2).mean())
        ref.train()
        return out

    step, vals, expected = 0, [], []
    for _ in range(2):
        ref.train()
        total = 0.0
        for s in range(0, 10, 4):
            loss = mse(ref(x[s : s + 4]), y[s : s + 4])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            total += float(loss.detach()) * len(x[s : s + 4])
            if step % 2 == 0:
                vals.append(val_loss())
        expected.append((total / 10, val_loss()))
    assert [v["step"] for v in trainer.validations] == [2, 3, 4, 6]
    assert [v["val_loss"] for v in trainer.validations] == pytest.approx(
        vals[:1] + [expected[0][1]] + vals[1:], rel=1e-6
    )
    for h, (tl, vl) in zip(hist, expected):
        assert h["train_loss"] == pytest.approx(tl, rel=1e-6)
        assert h["val_loss"] == pytest.approx(vl, rel=1e-6)
    for (name, a), b in zip(trainer.model.state_dict().items(), ref.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7, msg=name)
