"""Review pass 3 (train): defects found against independent references (an uninterrupted run)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from sciml.train import Trainer, TrainerConfig

from ._common import linear, mse, regression_data


class _Interrupted(Exception):
    pass


class _CrashAt(Dataset):
    """``base`` whose item ``index`` raises (a preemption in the middle of epoch 1)."""

    def __init__(self, base: Dataset, index: int) -> None:
        self.base, self.index = base, index

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int):
        if i == self.index:
            raise _Interrupted
        return self.base[i]


def _trainer(out_dir, seed: int, **kw) -> Trainer:
    cfg = TrainerConfig(epochs=3, batch_size=8, out_dir=out_dir, progress=False, **kw)
    return Trainer(
        linear(seed=seed), mse, optimizer=lambda p: torch.optim.SGD(p, lr=0.05), config=cfg
    )


def test_resume_after_a_fresh_run_crashed_does_not_continue_an_older_run(tmp_path):
    # Run A finishes in out_dir. Run B starts from scratch there (resume=False), is interrupted
    # in epoch 1 before its first checkpoint and is requeued with resume=True.
    # Before: the requeue loaded run A's checkpoint.pt (epoch 3 of 3) and returned A's history
    # and weights without training B at all. Reference: B run uninterrupted in a fresh folder.
    train, val = regression_data(32), regression_data(16, seed=1)
    out = tmp_path / "run"
    _trainer(out, seed=0).fit(train, val)
    try:
        _trainer(out, seed=5).fit(_CrashAt(train, 20), val)
    except _Interrupted:
        pass
    resumed = _trainer(out, seed=5, resume=True)
    history = resumed.fit(train, val)

    ref = _trainer(tmp_path / "ref", seed=5)
    ref_history = ref.fit(train, val)
    assert [r["train_loss"] for r in history] == [r["train_loss"] for r in ref_history]
    for a, b in zip(resumed.model.parameters(), ref.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_fresh_run_leaves_no_files_of_an_older_run(tmp_path):
    # Run A logs steps and step-level validations and writes best.pt. Run B (fresh, without
    # validation data, without step logs) used to leave A's best.pt, steps.jsonl and
    # validations.jsonl beside its own metrics.jsonl, as if they were B's.
    train, val = regression_data(32), regression_data(16, seed=1)
    out = tmp_path / "run"
    _trainer(out, seed=0, log_every=1, val_every_steps=2).fit(train, val)
    assert {p.name for p in out.iterdir()} >= {"best.pt", "steps.jsonl", "validations.jsonl"}
    _trainer(out, seed=5, monitor="train_loss").fit(train)
    assert sorted(p.name for p in out.iterdir()) == [
        "best.pt",  # B's own: monitor train_loss without validation data
        "checkpoint.pt",
        "metrics.jsonl",
    ]
    best = torch.load(out / "best.pt", weights_only=True)
    assert best["monitor"] == "train_loss"
