"""Checkpoints: atomic writes, exact resume, mismatched models, RNG states."""

# ruff: noqa: NPY002  (the tests drive numpy's global legacy RNG on purpose)

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from torch import nn

from sciml.train import (
    Trainer,
    TrainerConfig,
    atomic_save,
    load_checkpoint,
    load_model_state,
    read_jsonl,
)
from sciml.train.checkpoint import get_rng_state, set_rng_state

from ._common import dropout_mlp, linear, mse, regression_data

_TRAIN = regression_data(n=22, d=4, seed=0)
_VAL = regression_data(n=7, d=4, seed=1)


def _trainer(out_dir, epochs, resume=False, **kw) -> Trainer:
    cfg = dict(
        epochs=epochs,
        batch_size=4,
        shuffle=True,
        seed=11,
        out_dir=out_dir,
        resume=resume,
        progress=False,
        grad_clip=1.0,
    )
    cfg.update(kw)
    return Trainer(
        dropout_mlp(seed=5),
        mse,
        optimizer=lambda p: torch.optim.Adam(p, lr=1e-2),
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.7),
        config=TrainerConfig(**cfg),
        metrics={"mae": lambda p, t: (p - t).abs().mean()},
    )


def _strip_time(history):
    return [{k: v for k, v in h.items() if k != "time_s"} for h in history]


def _assert_same_params(a: nn.Module, b: nn.Module) -> None:
    for (na, pa), (nb, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert na == nb
        assert torch.equal(pa, pb), f"{na} differs by {float((pa - pb).abs().max())}"


def test_resume_with_a_per_step_scheduler_is_bitwise_exact(tmp_path):
    full = _trainer(tmp_path / "full", 4, scheduler_interval="step")
    hist_full = full.fit(_TRAIN, _VAL)
    _trainer(tmp_path / "run", 2, scheduler_interval="step").fit(_TRAIN, _VAL)
    second = _trainer(tmp_path / "run", 4, resume=True, scheduler_interval="step")
    hist = second.fit(_TRAIN, _VAL)
    _assert_same_params(second.model, full.model)
    assert _strip_time(hist) == _strip_time(hist_full)
    assert second.scheduler.state_dict() == full.scheduler.state_dict()
    assert full.scheduler.last_epoch == full.global_step  # stepped once per optimiser step


@pytest.mark.parametrize("k", [1, 3])
def test_resume_is_bitwise_exact(tmp_path, k):
    n = 5
    full = _trainer(tmp_path / "full", n)
    hist_full = full.fit(_TRAIN, _VAL)

    first = _trainer(tmp_path / "run", k)
    first.fit(_TRAIN, _VAL)
    # a different global RNG state before resuming must not matter
    torch.manual_seed(1234)
    np.random.seed(1234)
    random.seed(1234)
    second = _trainer(tmp_path / "run", n, resume=True)
    hist = second.fit(_TRAIN, _VAL)

    _assert_same_params(second.model, full.model)
    assert _strip_time(hist) == _strip_time(hist_full)
    assert _strip_time(read_jsonl(tmp_path / "run" / "metrics.jsonl")) == _strip_time(hist_full)
    assert second.global_step == full.global_step
    # the optimiser state continued too (Adam moments and step counts)
    sa, sb = second.optimizer.state_dict()["state"], full.optimizer.state_dict()["state"]
    for key in sa:
        for name in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(sa[key][name], sb[key][name])


def test_crash_before_checkpoint_resumes_exactly(tmp_path, monkeypatch):
    """A crash in epoch 4's checkpoint write: resume from epoch 2, drop epochs 3-4 from the log."""
    n = 5
    full = _trainer(tmp_path / "full", n)
    hist_full = full.fit(_TRAIN, _VAL)

    real_save = torch.save

    def failing_save(obj, f, *args, **kwargs):
        if isinstance(obj, dict) and obj.get("epoch") == 4 and "optimizer" in obj:
            f.write(b"half a checkpoint")  # something on disk, then the crash
            raise OSError("disk full (simulated)")
        return real_save(obj, f, *args, **kwargs)

    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(torch, "save", failing_save)
        with pytest.raises(OSError, match="simulated"):
            _trainer(run, n, checkpoint_every=2).fit(_TRAIN, _VAL)
    assert len(read_jsonl(run / "metrics.jsonl")) == 4  # epochs 3, 4 logged before the crash
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 2
    assert sorted(p.name for p in run.iterdir()) == ["best.pt", "checkpoint.pt", "metrics.jsonl"]

    resumed = _trainer(run, n, resume=True, checkpoint_every=2)
    hist = resumed.fit(_TRAIN, _VAL)
    _assert_same_params(resumed.model, full.model)
    assert _strip_time(read_jsonl(run / "metrics.jsonl")) == _strip_time(hist_full)
    assert _strip_time(hist) == _strip_time(hist_full)


def test_checkpoint_is_never_half_written(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    good = {"a": torch.arange(5.0), "epoch": 1}
    atomic_save(good, path)
    before = path.read_bytes()

    real_save = torch.save

    def dying_save(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)  # the full payload reaches the temporary file ...
        f.seek(10)
        f.truncate()  # ... then gets cut short, as in a crash mid-write
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        atomic_save({"a": torch.zeros(1000), "epoch": 2}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    loaded = load_checkpoint(path)
    assert loaded["epoch"] == 1 and torch.equal(loaded["a"], good["a"])
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary left


def test_trainer_checkpoint_contents(tmp_path):
    t = _trainer(tmp_path, 2, early_stopping_patience=3)
    hist = t.fit(_TRAIN, _VAL)
    ckpt = load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["epoch"] == 2 and ckpt["sampler_epoch"] == 2
    assert ckpt["history"] == hist
    assert ckpt["step"] == 2 * 6  # ceil(22 / 4) batches per epoch
    assert ckpt["config"] == t.config.to_dict()
    assert set(ckpt["early_stopping"]) == {"best", "best_epoch", "bad", "stopped"}
    assert len(ckpt["rng"]) == 1 and "torch" in ckpt["rng"][0]
    # best.pt holds the weights of the best epoch: reload and re-evaluate
    best = load_checkpoint(tmp_path / "best.pt")
    vals = [h["val_loss"] for h in hist]
    assert best["epoch"] == 1 + int(np.argmin(vals))
    model = dropout_mlp(seed=99)
    load_model_state(model, best["model"])
    check = Trainer(model, mse, config=TrainerConfig(progress=False, batch_size=3))
    assert check.evaluate(_VAL)["loss"] == pytest.approx(min(vals), rel=1e-5)


def test_resume_after_early_stop_stays_stopped(tmp_path):
    values = iter([1.0, 2.0, 3.0, 0.1, 0.1, 0.1, 0.1, 0.1])

    def scripted(p, t):
        return torch.tensor(next(values))

    def make(epochs, resume):
        return Trainer(
            linear(),
            mse,
            config=TrainerConfig(
                epochs=epochs,
                batch_size=8,
                out_dir=tmp_path,
                resume=resume,
                progress=False,
                early_stopping_patience=2,
                monitor="s",
            ),
            metrics={"s": scripted},
        )

    hist = make(3, False).fit(_TRAIN, _VAL)
    assert len(hist) == 3  # stopped after epochs 2 and 3 did not improve on epoch 1
    again = make(8, True)
    hist2 = again.fit(_TRAIN, _VAL)
    assert hist2 == hist and again.global_step == 3 * 3
    assert load_checkpoint(tmp_path / "checkpoint.pt")["early_stopping"]["stopped"] is True


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    a = _trainer(tmp_path / "a", 2, resume=True)
    b = _trainer(None, 2)
    a.fit(_TRAIN, _VAL)
    b.fit(_TRAIN, _VAL)
    _assert_same_params(a.model, b.model)


def test_resume_with_a_different_model_names_the_keys(tmp_path):
    _trainer(tmp_path, 1).fit(_TRAIN, _VAL)
    other = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))  # no dropout slot
    t = Trainer(other, mse, config=TrainerConfig(out_dir=tmp_path, resume=True, progress=False))
    with pytest.raises(ValueError, match="different model") as err:
        t.fit(_TRAIN)
    msg = str(err.value)
    assert "missing keys" in msg and "'2.weight'" in msg and "'2.bias'" in msg
    assert "unexpected keys" in msg and "'3.weight'" in msg and "'3.bias'" in msg

    wide = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(), nn.Linear(8, 1))
    t = Trainer(wide, mse, config=TrainerConfig(out_dir=tmp_path, resume=True, progress=False))
    with pytest.raises(ValueError, match=r"shape mismatches: \['0.bias: checkpoint \(16,\)"):
        t.fit(_TRAIN)


def test_resume_with_changed_config_warns(tmp_path):
    _trainer(tmp_path, 1).fit(_TRAIN, _VAL)
    with pytest.warns(UserWarning, match=r"batch_size: 4 -> 5"):
        _trainer(tmp_path, 2, resume=True, batch_size=5).fit(_TRAIN, _VAL)


def test_load_model_state_strips_ddp_prefix():
    src, dst = linear(seed=1), linear(seed=2)
    load_model_state(dst, {f"module.{k}": v for k, v in src.state_dict().items()})
    _assert_same_params(dst, src)


def test_rng_state_roundtrip_through_a_file(tmp_path):
    random.seed(3)
    np.random.seed(3)
    torch.manual_seed(3)
    np.random.standard_normal()  # leaves a cached gaussian in the legacy state
    atomic_save({"rng": get_rng_state()}, tmp_path / "r.pt")
    expected = (random.random(), np.random.standard_normal(3), torch.randn(3))
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    set_rng_state(load_checkpoint(tmp_path / "r.pt")["rng"])
    got = (random.random(), np.random.standard_normal(3), torch.randn(3))
    assert got[0] == expected[0]
    np.testing.assert_array_equal(got[1], expected[1])
    assert torch.equal(got[2], expected[2])


def test_load_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="could not read checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")


def test_resume_with_a_changed_scheduler_interval_warns(tmp_path):
    # stepping the scheduler per step instead of per epoch changes the trajectory
    _trainer(tmp_path, 1).fit(_TRAIN, _VAL)
    with pytest.warns(UserWarning, match=r"scheduler_interval: 'epoch' -> 'step'"):
        _trainer(tmp_path, 2, resume=True, scheduler_interval="step").fit(_TRAIN, _VAL)
