"""Worker for tests/train/test_distributed.py, launched by ``torch.distributed.run``.

Usage: python -m torch.distributed.run --nproc_per_node=2 ... _dist_worker.py OUT_DIR
Trains the problem of ``problem()`` data-parallel and saves each rank's result to
``OUT_DIR/rank{r}.pt``; the Trainer itself writes ``OUT_DIR/run/`` from rank 0 only.
Then trains a dropout model twice, uninterrupted and as 2 epochs + resume: later ``fit``
calls reuse the process group that the first one created.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import TensorDataset

from sciml.train import Trainer, TrainerConfig
from sciml.train import distributed as D

EPOCHS = 3
GLOBAL_BATCH = 8
SEEN_WORLD: list[int] = []  # world sizes seen inside fit (by the metric below)


def problem() -> tuple[TensorDataset, TensorDataset, nn.Module]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y = x @ torch.randn(4, 1, generator=g, dtype=torch.float64) + 0.3
    xv = torch.randn(7, 4, generator=g, dtype=torch.float64)  # 7: uneven shards over 2 ranks
    yv = xv @ torch.ones(4, 1, dtype=torch.float64)
    torch.manual_seed(1)
    return TensorDataset(x, y), TensorDataset(xv, yv), nn.Linear(4, 1)


def make_trainer(model: nn.Module, batch_size: int, out_dir: Path | None) -> Trainer:
    return Trainer(
        model,
        lambda p, t: ((p - t) ** 2).mean(),
        optimizer=lambda params: torch.optim.SGD(params, lr=0.05),
        config=TrainerConfig(
            epochs=EPOCHS,
            batch_size=batch_size,
            shuffle=True,
            seed=4,
            dtype="float64",
            out_dir=out_dir,
            progress=True,  # rank 0 only; rank 1 must stay silent
        ),
        metrics={"mae": _mae},
    )


def _mae(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    SEEN_WORLD.append(D.world_size())
    return (p - t).abs().mean()


def dropout_run(out_dir: Path, epochs: int, resume: bool) -> Trainer:
    train, _, _ = problem()
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 1))
    trainer = Trainer(
        model,
        lambda p, t: ((p - t) ** 2).mean(),
        optimizer=lambda params: torch.optim.Adam(params, lr=0.01),
        config=TrainerConfig(
            epochs=epochs, batch_size=4, seed=5, out_dir=out_dir, resume=resume, progress=False
        ),
    )
    trainer.fit(train)
    return trainer


def rollout_data() -> TensorDataset:
    g = torch.Generator().manual_seed(3)
    x0 = torch.randn(16, 2, generator=g)
    a = torch.tensor([[0.9, 0.2], [-0.1, 0.8]])
    ys = [x0 @ a.T]
    for _ in range(2):
        ys.append(ys[-1] @ a.T)
    return TensorDataset(x0, torch.stack(ys, dim=1))  # (16, 2), (16, 3, 2)


def rollout_step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
    """Autoregressive rollout: the model is called 3 times before one backward."""
    x, ys = batch
    preds = []
    for _ in range(ys.shape[1]):
        x = model(x)
        preds.append(x)
    return torch.stack(preds, dim=1), ys


def rollout_run(batch_size: int) -> Trainer:
    torch.manual_seed(4)
    trainer = Trainer(
        nn.Linear(2, 2),
        lambda p, t: ((p - t) ** 2).mean(),
        optimizer=lambda params: torch.optim.SGD(params, lr=0.1),
        config=TrainerConfig(epochs=2, batch_size=batch_size, dtype="float64", progress=False),
        step_fn=rollout_step,
    )
    trainer.fit(rollout_data())
    return trainer


def batchnorm_run(batch_size: int) -> Trainer:
    """A BatchNorm model: each rank updates its running statistics from its own shard."""
    train, _, _ = problem()
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1))
    trainer = Trainer(
        model,
        lambda p, t: ((p - t) ** 2).mean(),
        optimizer=lambda params: torch.optim.SGD(params, lr=0.05),
        config=TrainerConfig(
            epochs=2, batch_size=batch_size, shuffle=True, seed=7, dtype="float64", progress=False
        ),
    )
    trainer.fit(train)
    return trainer


def step_validation_run(batch_size: int, out_dir: Path | None) -> Trainer:
    """Validation every 3 optimiser steps with early stopping: the validation loss of
    :func:`problem` rises after step 3, so training stops inside epoch 2 at a step-level event."""
    train, val, model = problem()
    trainer = Trainer(
        model,
        lambda p, t: ((p - t) ** 2).mean(),
        optimizer=lambda params: torch.optim.SGD(params, lr=0.05),
        config=TrainerConfig(
            epochs=4,
            batch_size=batch_size,
            shuffle=True,
            seed=4,
            dtype="float64",
            val_every_steps=3,
            early_stopping_patience=2,
            out_dir=out_dir,
            progress=False,
        ),
    )
    trainer.fit(train, val)
    return trainer


def main() -> None:
    out = Path(sys.argv[1])
    train, val, model = problem()
    world = int(os.environ["WORLD_SIZE"])
    trainer = make_trainer(model, GLOBAL_BATCH // world, out / "run")
    history = trainer.fit(train, val)
    assert torch.distributed.is_initialized()  # created by fit, kept for later fits until exit
    evaluated = trainer.evaluate(val)  # sharded over the 2 ranks and all-reduced
    full = dropout_run(out / "dropout_full", 3, resume=False)
    dropout_run(out / "dropout_resumed", 2, resume=False)
    resumed = dropout_run(out / "dropout_resumed", 3, resume=True)
    rollout = rollout_run(GLOBAL_BATCH // world)
    batchnorm = batchnorm_run(GLOBAL_BATCH // world)
    stepval = step_validation_run(GLOBAL_BATCH // world, out / "stepval")
    torch.save(
        {
            "stepval_validations": stepval.validations,
            "stepval_state": stepval.model.state_dict(),
            "stepval_step": stepval.global_step,
            "rollout": rollout.model.state_dict(),
            "batchnorm": batchnorm.model.state_dict(),
            "dropout_full": full.model.state_dict(),
            "dropout_resumed": resumed.model.state_dict(),
            "rank": int(os.environ["RANK"]),
            "state": trainer.model.state_dict(),
            "history": history,
            "evaluated": evaluated,
            "world": world,
            "seen_world": SEEN_WORLD,
        },
        out / f"rank{os.environ['RANK']}.pt",
    )


if __name__ == "__main__":
    main()
