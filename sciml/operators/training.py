"""Training glue for the shared :class:`sciml.train.Trainer`: autoregressive rollout, de-normalised
field metrics, and the paper's optimiser (Adam, weight decay 1e-4, StepLR)."""

from __future__ import annotations

import itertools
import numbers
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import Subset

from sciml.train import Trainer, TrainerConfig, first_floating_tensor

from ._common import check_positive_int
from .metrics import RelativeL2Loss, fourier_band_errors, max_error, nrmse, relative_l2

__all__ = [
    "OperatorTrainConfig",
    "field_metrics",
    "fit_for_time",
    "fit_operator",
    "rollout",
    "rollout_step_fn",
]


def rollout(model: nn.Module, x: torch.Tensor, steps: int) -> torch.Tensor:
    """Autoregressive prediction: ``x`` (B, T_in, *S) past frames → (B, steps, *S).

    Each step predicts ``out_channels`` new frames from the last T_in frames and appends them
    (a model may predict more frames per call than it reads: the last T_in frames are fed back).
    """
    if x.ndim < 3:
        raise ValueError(f"x: expected (B, T_in, *S) frames, got shape {tuple(x.shape)}")
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 1:
        raise ValueError(f"steps: expected an int >= 1 (frames to predict), got {steps!r}")
    t_in = x.shape[1]
    preds = []
    made = 0
    cur = x
    while made < steps:
        p = model(cur)
        if p.ndim < 2 or p.shape[1] < 1:  # no new frame: the loop would never end
            raise ValueError(
                f"model: expected (B, T_out >= 1, *S) predicted frames, got shape {tuple(p.shape)}"
            )
        preds.append(p)
        made += p.shape[1]
        cur = torch.cat([cur, p], dim=1)[:, -t_in:]
    return torch.cat(preds, dim=1)[:, :steps]


def rollout_step_fn(model: nn.Module, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Trainer ``step_fn``: batch (x (B, T_in, *S), y (B, T_out, *S)) → (rollout, y).

    Gradients flow through the whole rollout (no teacher forcing), as in the FNO/LSM code.
    """
    x, y = batch[0], batch[1]
    return rollout(model, x, y.shape[1]), y


def field_metrics(
    denormalize: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    """Per-sample metrics for the Trainer, scored on de-normalised fields.

    Keys: ``rel_l2``, ``nrmse``, ``max_error``, ``err_low``, ``err_mid``, ``err_high``.
    """
    dn = denormalize if denormalize is not None else (lambda t: t)

    def band(name: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        return lambda p, t: fourier_band_errors(dn(p), dn(t))[name]

    return {
        "rel_l2": lambda p, t: relative_l2(dn(p), dn(t)),
        "nrmse": lambda p, t: nrmse(dn(p), dn(t)),
        "max_error": lambda p, t: max_error(dn(p), dn(t)),
        "err_low": band("low"),
        "err_mid": band("mid"),
        "err_high": band("high"),
    }


@dataclass(frozen=True)
class OperatorTrainConfig:
    """Paper training recipe: Adam(lr, weight_decay=1e-4), StepLR(step_size, gamma), batch 20,
    500 epochs, relative-L2 loss (scaled down by the benchmarks for CPU).

    ``sum_loss_decay``: the paper's code sums the relative L2 over the batch
    (``LpLoss(size_average=False)``) and, for rollouts, over the frames; the shared Trainer wants
    a batch mean. Adam is invariant to the scale of the loss except for the L2 weight-decay term,
    so the optimiser gets ``weight_decay / batch_size`` (True, same updates as the paper's code)
    or ``weight_decay`` as given (False).

    ``device``: where training runs; ``None`` (default) keeps the model where it is (the device of
    its first parameter or buffer, the CPU for a model without any).

    ``drop_last``: drop each epoch's last incomplete batch (LSM / U-Net on grids <= 16 per side
    cannot train on a batch of one: BatchNorm at their 1×1 coarsest level).
    """

    epochs: int = 500
    batch_size: int = 20
    lr: float = 1e-3
    weight_decay: float = 1e-4
    step_size: int = 100
    gamma: float = 0.5
    grad_clip: float | None = None
    seed: int = 0
    device: str | None = None
    progress: bool = True
    sum_loss_decay: bool = True
    drop_last: bool = False

    @property
    def adam_weight_decay(self) -> float:
        """The weight decay handed to Adam (see ``sum_loss_decay``)."""
        return self.weight_decay / self.batch_size if self.sum_loss_decay else self.weight_decay


_TRAINER_DTYPES = ("float32", "float64", "float16", "bfloat16")


def _train_dtype(model: nn.Module) -> str:
    """The Trainer ``dtype`` that keeps ``model`` in its own precision: the real dtype of its
    first floating (or complex) parameter or buffer, when the Trainer supports it; else
    ``"float32"`` (the Trainer casts the model and the floating inputs to this dtype)."""
    t = first_floating_tensor(model)
    if t is None:
        return "float32"
    name = str(t.real.dtype if t.is_complex() else t.dtype).removeprefix("torch.")
    return name if name in _TRAINER_DTYPES else "float32"


def _train_device(model: nn.Module, cfg: OperatorTrainConfig) -> str:
    """``cfg.device``, or the device the model lives on when it is ``None``."""
    if cfg.device is not None:
        return cfg.device
    t = first_floating_tensor(model)
    if t is None:  # a model without floating tensors: any integer buffer, else the CPU
        t = next(itertools.chain(model.parameters(), model.buffers()), None)
    return "cpu" if t is None else str(t.device)


def _check_schedule(cfg: OperatorTrainConfig) -> None:
    """The StepLR fields, which Trainer does not see: ``step_size`` int >= 1, ``gamma`` > 0."""
    check_positive_int("step_size", cfg.step_size)
    g = cfg.gamma
    if isinstance(g, bool) or not isinstance(g, numbers.Real) or not 0 < g < float("inf"):
        raise ValueError(f"gamma: expected a finite number > 0, got {g!r}")


def fit_operator(
    model: nn.Module,
    train_ds: Any,
    val_ds: Any = None,
    config: OperatorTrainConfig | None = None,
    *,
    denormalize: Callable[[torch.Tensor], torch.Tensor] | None = None,
    autoregressive: bool = False,
    out_dir: Any = None,
) -> tuple[Trainer, list[dict[str, Any]]]:
    """Train ``model`` with the shared Trainer and the paper's recipe.

    The model trains on ``config.device`` (default: where it is) in its own floating precision
    (a float64 model stays float64; the inputs are cast to it).

    Args:
        denormalize: maps normalised outputs back to physical units; the loss and metrics are
            computed on de-normalised fields (Darcy protocol).
        autoregressive: use :func:`rollout_step_fn` (Navier–Stokes: T_in frames → T_out frames)
            and the per-frame loss (sum over the frames of each frame's relative L2).

    Returns:
        ``(trainer, history)``.
    """
    cfg = config or OperatorTrainConfig()
    _check_schedule(cfg)

    def optimizer(params):
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.adam_weight_decay)

    def scheduler(opt):
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)

    tcfg = TrainerConfig(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        grad_clip=cfg.grad_clip,
        drop_last=cfg.drop_last,
        seed=cfg.seed,
        device=_train_device(model, cfg),
        dtype=_train_dtype(model),
        progress=cfg.progress,
        out_dir=out_dir,
        checkpoint_every=None if out_dir is None else 0,
    )
    trainer = Trainer(
        model,
        RelativeL2Loss(denormalize, per_frame=autoregressive),
        optimizer=optimizer,
        scheduler=scheduler,
        config=tcfg,
        metrics=field_metrics(denormalize) if val_ds is not None else None,
        step_fn=rollout_step_fn if autoregressive else None,
    )
    history = trainer.fit(train_ds, val_ds)
    return trainer, history


def fit_for_time(
    model: nn.Module,
    train_ds: Any,
    budget_s: float,
    config: OperatorTrainConfig | None = None,
    *,
    denormalize: Callable[[torch.Tensor], torch.Tensor] | None = None,
    autoregressive: bool = False,
    max_epochs: int | None = None,
    clock: str | Callable[[], float] = "wall",
    budget_schedule: bool = False,
    rounds_per_epoch: int = 1,
) -> tuple[Trainer, list[dict[str, Any]]]:
    """Train with the shared Trainer, one round per ``fit`` call, until ``budget_s`` seconds of
    training have passed (at least one round; at most ``max_epochs`` epochs, default
    ``config.epochs``). A round is one epoch, or with ``rounds_per_epoch = k`` one of ``k``
    disjoint parts of the epoch's random permutation (each sample once per epoch): the budget
    is then checked ``k`` times per epoch, so a model with long epochs (rollouts) overshoots
    it by at most a ``1/k`` epoch.

    One optimiser and scheduler persist across the epochs, so this equals an uninterrupted
    run stopped at the budget (used for same-time model comparisons). The shuffling seed of
    epoch ``e`` is ``config.seed + e``. The model trains on ``config.device`` (default:
    where it is) in its own floating precision.

    Args:
        clock: ``"wall"`` (``time.perf_counter``), ``"process"`` (CPU seconds of this process,
            ``time.process_time``: fair between models when the machine is shared and the run
            is single-threaded) or a callable returning seconds.
        budget_schedule: ``False``: StepLR every ``config.step_size`` epochs (the paper's
            schedule). ``True``: the paper's schedule compressed to the budget — StepLR over
            ``config.epochs`` epochs with the epoch count replaced by the fraction of the budget
            spent: ``lr · gamma^⌊(epochs / step_size) · spent / budget⌋``, set at the start of
            each round (500 epochs with a step every 100: halvings at 20, 40, 60 and 80 % of
            the budget).
        rounds_per_epoch: ``k`` in [1, len(train_ds)]; the parts differ in size by at most one.

    Returns:
        ``(trainer, history)``: the last round's Trainer (use ``.evaluate``/``.predict``) and
        one record per round with ``epoch`` (fractional for ``k > 1``), ``train_loss``, ``lr``
        and ``time_s`` (on ``clock``).
    """
    cfg = config or OperatorTrainConfig()
    _check_schedule(cfg)
    for name, val in (("epochs", cfg.epochs), ("max_epochs", max_epochs)):
        if name == "epochs" or val is not None:  # no epoch at all ended in an AssertionError
            if isinstance(val, bool) or not isinstance(val, numbers.Integral) or val < 1:
                raise ValueError(f"{name}: expected an int >= 1, got {val!r}")
    if isinstance(budget_s, bool) or not (isinstance(budget_s, numbers.Real) and budget_s > 0):
        raise ValueError(f"budget_s: expected seconds > 0, got {budget_s!r}")
    clocks = {"wall": time.perf_counter, "process": time.process_time}
    if callable(clock):
        now = clock
    elif clock in clocks:
        now = clocks[clock]
    else:
        raise ValueError(f"clock: expected 'wall', 'process' or a callable, got {clock!r}")
    k = rounds_per_epoch
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(train_ds):
        raise ValueError(
            f"rounds_per_epoch: expected an int in [1, {len(train_ds)}], got {rounds_per_epoch!r}"
        )
    limit = (cfg.epochs if max_epochs is None else max_epochs) * k
    dtype = _train_dtype(model)  # before the first Trainer casts the model
    device = _train_device(model, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.adam_weight_decay)
    sched = (
        None
        if budget_schedule
        else torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.gamma)
    )
    loss = RelativeL2Loss(denormalize, per_frame=autoregressive)
    step_fn = rollout_step_fn if autoregressive else None
    metrics = field_metrics(denormalize)
    history: list[dict[str, Any]] = []
    spent = 0.0
    trainer = None
    parts: list[torch.Tensor] = []
    while len(history) < limit and (not history or spent < budget_s):
        r = len(history)
        if budget_schedule:  # StepLR's lr at epoch ``epochs · spent / budget``
            stage = int(cfg.epochs * spent / (cfg.step_size * budget_s))
            for group in opt.param_groups:
                group["lr"] = cfg.lr * cfg.gamma**stage
        if k == 1:
            data = train_ds
        else:
            if r % k == 0:  # a new epoch: a fresh permutation, cut into k parts
                g = torch.Generator().manual_seed(cfg.seed + r // k)
                # tensor_split always gives k parts (chunk gives fewer when ceil(n/k)·(k−1) ≥ n)
                parts = list(torch.randperm(len(train_ds), generator=g).tensor_split(k))
            data = Subset(train_ds, parts[r % k].tolist())
        tcfg = TrainerConfig(
            epochs=1,
            batch_size=cfg.batch_size,
            grad_clip=cfg.grad_clip,
            drop_last=cfg.drop_last,
            seed=cfg.seed + r,
            device=device,
            dtype=dtype,
            progress=cfg.progress,
            checkpoint_every=None,
        )
        trainer = Trainer(
            model,
            loss,
            optimizer=opt,
            scheduler=sched if (r + 1) % k == 0 else None,
            config=tcfg,
            step_fn=step_fn,
            metrics=metrics,
        )
        lr = opt.param_groups[0]["lr"]
        t0 = now()
        rec = trainer.fit(data, None)[0]
        dt = now() - t0
        spent += dt
        history.append(
            {"epoch": (r + 1) / k, "train_loss": rec["train_loss"], "lr": lr, "time_s": dt}
        )
    assert trainer is not None
    return trainer, history
