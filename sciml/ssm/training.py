"""Training of the forecasters with the shared Trainer and validation-based model selection."""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sciml.train.weight_average import WeightAverage

from ._layer import check_positive_int
from .forecasting import forecast_step_fn
from .spacetime import SpaceTime, SpaceTimeLoss, SpaceTimeOutput, spacetime_step_fn

__all__ = ["FitResult", "forecast_mse", "train_forecaster"]


def forecast_mse(pred: Any, target: Any) -> torch.Tensor:
    """Batch forecast MSE (scalar): ``pred`` a :class:`SpaceTimeOutput` or ``(B, h, C)``,
    ``target`` ``(x, y)`` or ``y``. The validation metric for model selection.

    The Trainer weights this batch mean by the batch size (found inside tuple outputs and
    targets too), so the validation value is the exact mean over windows.
    """
    f = pred.forecast if isinstance(pred, SpaceTimeOutput) else pred
    y = target[1] if isinstance(target, (tuple, list)) else target
    return ((f - y) ** 2).mean()


@dataclass
class FitResult:
    """``history`` (Trainer records, one per epoch), ``sec_per_epoch`` (wall, incl.
    validation), ``best_epoch``, ``best_step`` (optimiser steps done when the selected state was
    validated) and ``best_val_mse`` (its validation value; all None without validation data),
    ``validations`` (every validation event: ``step``, ``epoch``, ``kind``, ``value``, ...)."""

    history: list[dict] = field(default_factory=list)
    sec_per_epoch: float = 0.0
    best_epoch: int | None = None
    best_val_mse: float | None = None
    best_step: int | None = None
    validations: list[dict] = field(default_factory=list)


def train_forecaster(
    model: nn.Module,
    train: torch.utils.data.Dataset,
    val: torch.utils.data.Dataset | None = None,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float = 0.0,
    grad_clip: float | None = 1.0,
    seed: int = 0,
    device: str = "cpu",
    select: str = "forecast_mse",
    progress: bool = False,
    patience: int | None = None,
    warmup: int = 0,
    val_every_steps: int | None = None,
    ema: float | None = None,
    schedule: str = "epoch",
) -> FitResult:
    """Fit a :class:`SpaceTime` (its three-term loss) or a direct forecaster ``model(x, h)``
    (MSE) with AdamW + cosine schedule; with ``val`` the returned model holds the validated state
    (epoch end or, with ``val_every_steps``, step) with the lowest validation ``select`` — ``"forecast_mse"`` (:func:`forecast_mse`) or
    ``"val_loss"`` (the training objective on the validation windows) — never the test set.

    ``val_every_steps``: also validate every this many optimiser steps (counted across epochs;
    the epoch-end validations stay), so the selected state can lie inside an epoch.
    ``ema``: validate, select and return a bias-corrected exponential moving average of the
    weights with this decay per optimiser step (:class:`WeightAverage`; None: the raw weights).
    ``patience``: stop after this many validation events in a row without a better value (None:
    run all ``epochs``); with ``val_every_steps`` it may stop inside an epoch. ``warmup``:
    epochs of linear learning-rate warm-up (``lr·e/(warmup+1)`` in epoch ``e ≤ warmup``) before the cosine decay over the remaining epochs (the public SpaceTime
    warms up linearly, then decays by a cosine).
    ``schedule``: ``"epoch"`` (warm-up and cosine counted in epochs, the lr constant within an
    epoch) or ``"step"`` (the same shape over optimiser steps: warm-up over ``warmup`` epochs'
    worth of steps, then a cosine to 0 at the last step — the public schedule compressed into a
    short run).
    ``progress=True`` shows the Trainer's progress bars and one summary line per epoch.
    Datasets yield ``(x (lag, C), y (horizon, C))``. Models with ``param_groups(lr, wd)``
    (:class:`S4DForecaster`) get those groups (SSM parameters without weight decay).
    """
    from sciml.train import Trainer, TrainerConfig
    from sciml.train.checkpoint import load_checkpoint, load_model_state

    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    if patience is not None:
        patience = check_positive_int(patience, "patience")
    warmup = check_positive_int(warmup, "warmup", 0)
    if warmup >= epochs:
        raise ValueError(f"warmup: expected fewer than epochs = {epochs} epochs, got {warmup}")
    if not (isinstance(lr, (int, float)) and not isinstance(lr, bool) and lr > 0):
        raise ValueError(f"lr: expected a positive float, got {lr!r}")
    if not (isinstance(weight_decay, (int, float)) and weight_decay >= 0):
        raise ValueError(f"weight_decay: expected a float >= 0, got {weight_decay!r}")
    if val_every_steps is not None:
        val_every_steps = check_positive_int(val_every_steps, "val_every_steps")
    if schedule not in ("epoch", "step"):
        raise ValueError(f"schedule: expected 'epoch' or 'step', got {schedule!r}")
    if select not in ("forecast_mse", "val_loss"):
        raise ValueError(f"select: expected 'forecast_mse' or 'val_loss', got {select!r}")
    if isinstance(model, SpaceTime):
        cfg = model.config
        loss, step_fn = (
            SpaceTimeLoss(cfg.loss_weights, cfg.balance_loss, cfg.loss),
            spacetime_step_fn,
        )
    else:
        loss, step_fn = nn.functional.mse_loss, forecast_step_fn
    params = (
        model.param_groups(lr, weight_decay)
        if hasattr(model, "param_groups")
        else model.parameters()
    )

    net: nn.Module = model
    if ema is not None:
        net = WeightAverage(model, ema)

    def optimizer(_):
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
        if isinstance(net, WeightAverage):
            opt.register_step_post_hook(lambda *_: net.update())
        return opt

    def lr_factor(e: int) -> float:  # e = epochs completed; the factor applies to epoch e + 1
        if e < warmup:
            return (e + 1) / (warmup + 1)
        return 0.5 * (1.0 + math.cos(math.pi * (e - warmup) / (epochs - warmup)))

    steps_per_epoch = math.ceil(len(train) / batch_size)
    total, warm_steps = epochs * steps_per_epoch, warmup * steps_per_epoch

    def step_factor(s: int) -> float:  # s = optimiser steps completed
        if s < warm_steps:
            return (s + 1) / (warm_steps + 1)
        return 0.5 * (1.0 + math.cos(math.pi * (s - warm_steps) / (total - warm_steps)))

    def scheduler(opt):
        if schedule == "step":
            return torch.optim.lr_scheduler.LambdaLR(opt, step_factor)
        if not warmup:
            return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        return torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)

    with tempfile.TemporaryDirectory(prefix="sciml-ssm-fit-") as tmp:
        tcfg = TrainerConfig(
            epochs=epochs,
            batch_size=batch_size,
            grad_clip=grad_clip,
            seed=seed,
            device=device,
            progress=progress,
            monitor=select if val is not None else "train_loss",
            out_dir=tmp if val is not None else None,
            checkpoint_every=None,
            early_stopping_patience=patience if val is not None else None,
            val_every_steps=val_every_steps if val is not None else None,
            scheduler_interval=schedule,
        )
        trainer = Trainer(
            net,
            loss,
            optimizer=optimizer,
            scheduler=scheduler,
            config=tcfg,
            step_fn=step_fn,
            metrics={"forecast_mse": forecast_mse} if val is not None else None,
        )
        t0 = time.perf_counter()
        hist = trainer.fit(train, val)
        sec = (time.perf_counter() - t0) / max(len(hist), 1)
        result = FitResult(hist, sec, validations=list(trainer.validations))
        best = Path(tmp) / "best.pt"
        if val is not None and best.exists():
            # the Trainer's resolved device: ``device`` may be "auto", which torch.load rejects
            ck = load_checkpoint(best, map_location=trainer.device)
            load_model_state(trainer.model, ck["model"], source=str(best))
            result.best_epoch, result.best_val_mse = int(ck["epoch"]), float(ck["value"])
            result.best_step = int(ck["step"])
        if isinstance(net, WeightAverage):  # hand back the (selected) averaged weights
            model.load_state_dict(net.average.state_dict())
    return result
