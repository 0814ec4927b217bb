"""Configuration of the training loop."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

_DTYPES = ("float32", "float64", "float16", "bfloat16")
_MODES = ("min", "max")


def _check_int(
    name: str, value: Any, minimum: int, allow_none: bool = False, maximum: int | None = None
) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        kind = "an int" + (" or None" if allow_none else "")
        raise TypeError(f"TrainerConfig.{name} must be {kind}, got {value!r}")
    if value < minimum:
        raise ValueError(f"TrainerConfig.{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"TrainerConfig.{name} must be <= {maximum}, got {value}")


@dataclass(frozen=True)
class TrainerConfig:
    """Settings of :class:`sciml.train.Trainer`.

    Attributes:
        epochs: total number of epochs (a resumed run continues up to this number).
        batch_size: samples per batch *per process* (global batch = batch_size × world size).
        grad_clip: clip the global L2 norm of all gradients to this value (None: no clipping).
        val_every: validate every this many epochs (epochs are counted from 1).
        val_every_steps: also validate every this many optimiser steps, counted across epochs
            (steps k, 2k, ...; None: only epoch-end validation). Every validation event, at a
            step or at an epoch end, updates ``best.pt`` and early stopping; an epoch-end
            validation at a step that was just validated reuses that result (no second pass).
            Needs a validation dataset and a validation ``monitor`` (not ``"train_loss"``).
        checkpoint_every: write ``out_dir/checkpoint.pt`` every this many epochs; the last epoch
            is always checkpointed. ``None`` or 0: only the last epoch.
        early_stopping_patience: stop after this many validations in a row without an
            improvement of ``monitor`` (None: never stop early). With ``val_every_steps`` it
            counts validation events (step-level and epoch-end) and may stop inside an epoch.
            A NaN monitored value counts as an event without improvement (never the best).
        monitor: ``"val_loss"``, ``"train_loss"`` or the name of a metric (``"rel_l2"`` or
            ``"val_rel_l2"``); drives early stopping, ``best.pt`` and ReduceLROnPlateau.
        mode: ``"min"`` or ``"max"``: whether a smaller or larger ``monitor`` is better.
        out_dir: directory for ``metrics.jsonl``, ``checkpoint.pt`` and ``best.pt``
            (None: write nothing). A run that starts from scratch (no ``resume``, or no
            checkpoint to resume from) first removes the ``checkpoint.pt``, ``best.pt``,
            ``steps.jsonl`` and ``validations.jsonl`` an earlier run left there
            (``metrics.jsonl`` is rewritten), so that none of them passes for this run's.
        resume: continue from ``out_dir/checkpoint.pt`` if it exists (needs ``out_dir``).
        seed: seeds torch/numpy/python RNGs at the start of ``fit`` (offset by the rank) and the
            shuffling, which depends only on ``(seed, epoch)``.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or ``"auto"`` (CUDA when available).
            Under torchrun a CUDA device becomes ``cuda:LOCAL_RANK``.
        num_workers: DataLoader worker processes.
        progress: show a tqdm progress bar (rank 0 only).
        shuffle: shuffle the training set every epoch.
        drop_last: drop the last incomplete training batch.
        dtype: floating dtype of the model and of floating inputs.
        log_every: every this many optimiser steps append ``{"step", "epoch", "loss", "lr"}``
            to ``out_dir/steps.jsonl`` and refresh the progress bar's loss (0: never).
        scheduler_interval: ``"epoch"`` (step the LR scheduler once per epoch) or ``"step"``
            (after every optimiser step, e.g. a cosine over all steps of a short run;
            ReduceLROnPlateau is always stepped on validation values, so it needs ``"epoch"``).
    """

    epochs: int = 10
    batch_size: int = 32
    grad_clip: float | None = None
    val_every: int = 1
    val_every_steps: int | None = None
    checkpoint_every: int | None = 1
    early_stopping_patience: int | None = None
    monitor: str = "val_loss"
    mode: str = "min"
    out_dir: str | os.PathLike | None = None
    resume: bool = False
    seed: int = 0
    device: str = "cpu"
    num_workers: int = 0
    progress: bool = True
    shuffle: bool = True
    drop_last: bool = False
    dtype: str = "float32"
    log_every: int = 0
    scheduler_interval: str = "epoch"

    def __post_init__(self) -> None:
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 1)
        _check_int("val_every", self.val_every, 1)
        _check_int("val_every_steps", self.val_every_steps, 1, allow_none=True)
        if self.val_every_steps is not None and self.monitor == "train_loss":
            raise ValueError(
                "TrainerConfig.val_every_steps needs a validation monitor (e.g. 'val_loss'), "
                "got monitor='train_loss' (no training loss exists at a step-level validation)"
            )
        _check_int("checkpoint_every", self.checkpoint_every, 0, allow_none=True)
        _check_int("early_stopping_patience", self.early_stopping_patience, 1, allow_none=True)
        _check_int("seed", self.seed, 0, maximum=2**62)  # seed + rank/epoch fits torch's int64
        _check_int("num_workers", self.num_workers, 0)
        _check_int("log_every", self.log_every, 0)
        if self.grad_clip is not None:
            if isinstance(self.grad_clip, bool) or not isinstance(self.grad_clip, (int, float)):
                raise TypeError(
                    f"TrainerConfig.grad_clip must be a positive float or None, got {self.grad_clip!r}"
                )
            if not self.grad_clip > 0:
                raise ValueError(f"TrainerConfig.grad_clip must be > 0, got {self.grad_clip}")
        if self.scheduler_interval not in ("epoch", "step"):
            raise ValueError(
                "TrainerConfig.scheduler_interval must be 'epoch' or 'step', got "
                f"{self.scheduler_interval!r}"
            )
        if self.mode not in _MODES:
            raise ValueError(f"TrainerConfig.mode must be one of {_MODES}, got {self.mode!r}")
        if not isinstance(self.monitor, str) or not self.monitor:
            raise TypeError(f"TrainerConfig.monitor must be a non-empty str, got {self.monitor!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"TrainerConfig.dtype must be one of {_DTYPES}, got {self.dtype!r}")
        if not isinstance(self.device, str):
            raise TypeError(
                f"TrainerConfig.device must be a str such as 'cpu', got {self.device!r}"
            )
        if self.out_dir is not None and not isinstance(self.out_dir, (str, os.PathLike)):
            raise TypeError(
                f"TrainerConfig.out_dir must be a path (str or os.PathLike) or None, got {self.out_dir!r}"
            )
        if self.resume and self.out_dir is None:
            raise ValueError(
                "TrainerConfig.resume=True needs out_dir (the directory holding checkpoint.pt), "
                "got out_dir=None"
            )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of the fields (``out_dir`` as a string)."""
        d = dataclasses.asdict(self)
        if d["out_dir"] is not None:
            d["out_dir"] = os.fspath(d["out_dir"])
        return d
