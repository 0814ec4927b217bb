"""The training loop: epochs, validation metrics, early stopping, checkpoints, resume and DDP."""

from __future__ import annotations

import logging
import math
import random
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler
from torch.utils.data.distributed import DistributedSampler
from tqdm.auto import tqdm

from . import distributed as D
from .checkpoint import (
    atomic_save,
    get_rng_state,
    load_checkpoint,
    load_model_state,
    set_rng_state,
)
from .config import TrainerConfig
from .metrics_log import JsonlLogger, read_jsonl

__all__ = ["Trainer"]

_log = logging.getLogger("sciml.train")

LossFn = Callable[[Any, Any], torch.Tensor]
StepFn = Callable[[nn.Module, Any], tuple[Any, Any]]

CHECKPOINT_NAME = "checkpoint.pt"
BEST_NAME = "best.pt"
METRICS_NAME = "metrics.jsonl"
STEPS_NAME = "steps.jsonl"
VALIDATIONS_NAME = "validations.jsonl"
_FORMAT = "sciml.train/1"
# Config fields that change the trajectory: a resume with different values is not exact.
_TRAJECTORY_FIELDS = (
    "batch_size",
    "grad_clip",
    "val_every",
    "val_every_steps",
    "early_stopping_patience",
    "monitor",
    "mode",
    "seed",
    "shuffle",
    "drop_last",
    "dtype",
    "scheduler_interval",
)


def _default_optimizer(params: Any) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=1e-3)


@dataclass
class _EarlyStopping:
    best: float | None = None
    best_epoch: int | None = None
    bad: int = 0
    stopped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "best_epoch": self.best_epoch,
            "bad": self.bad,
            "stopped": self.stopped,
        }


class _ShardSampler(Sampler[int]):
    """Indices ``rank, rank + world, ...`` in order, without padding (exact sharded averages)."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.indices = list(range(rank, n, world))

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as err:
        raise ValueError(
            f"TrainerConfig.device must be a torch device string ('cpu', 'cuda', 'cuda:1', 'auto'), "
            f"got {name!r}"
        ) from err
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"TrainerConfig.device={name!r} but CUDA is not available here")
        if D.env_world_size() > 1:  # torchrun: one GPU per local rank
            device = torch.device("cuda", D.local_rank())
    return device


def _check_dataset(ds: Any, name: str) -> int:
    if isinstance(ds, IterableDataset):
        raise TypeError(
            f"{name} must be a map-style Dataset (with __len__), got an IterableDataset"
        )
    if not hasattr(ds, "__len__") or not hasattr(ds, "__getitem__"):
        raise TypeError(
            f"{name} must be a map-style Dataset with __len__ and __getitem__, "
            f"got {type(ds).__name__}"
        )
    n = len(ds)
    if n == 0:
        raise ValueError(f"{name} is empty (len({name}) == 0); it needs at least one sample")
    return n


def _num_samples(pred: Any, target: Any) -> int:
    """Batch size: leading dimension of the first non-scalar tensor in ``target``, then in
    ``pred``, looking inside tuples, lists and dicts (models may return several outputs)."""

    def first(x: Any) -> int | None:
        if isinstance(x, torch.Tensor):
            return int(x.shape[0]) if x.ndim >= 1 else None
        items = x.values() if isinstance(x, dict) else x if isinstance(x, list | tuple) else ()
        for item in items:
            n = first(item)
            if n is not None:
                return n
        return None

    for t in (target, pred):
        n = first(t)
        if n is not None:
            return n
    return 1


def _check_scalar(value: Any, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        got = (
            f"shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else repr(type(value))
        )
        raise ValueError(f"{what} must return a scalar tensor, got {got}")
    return value


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (the global RNG user code draws from)
    torch.manual_seed(seed)


class Trainer:
    """Train a ``torch.nn.Module`` on map-style datasets.

    Args:
        model: the module; it is moved to ``config.device`` and cast to ``config.dtype``.
        loss: ``loss(pred, target) -> scalar tensor`` (a mean over the batch).
        optimizer: factory ``params -> Optimizer`` (default ``Adam(lr=1e-3)``).
        scheduler: factory ``optimizer -> LR scheduler``, stepped once per epoch (or after every
            optimiser step with ``config.scheduler_interval="step"``)
            (``ReduceLROnPlateau`` is stepped with the monitored value when there is one).
        config: :class:`TrainerConfig`.
        metrics: ``{name: fn(pred, target)}`` evaluated on validation data; ``fn`` returns a
            scalar (batch mean) or a per-sample vector of shape (B,); averaged over samples.
        step_fn: ``(model, batch) -> (pred, target)`` replacing the default
            ``pred = model(x)``, ``target = y`` (e.g. an autoregressive rollout).

    Batches are ``(x, y, ...)`` tuples/lists or dicts with keys ``"x"`` and ``"y"``; they are
    moved to the device and their floating tensors cast to ``config.dtype``.

    Under ``torchrun`` (env ``WORLD_SIZE`` > 1) ``fit`` joins the process group, creating it
    if needed (NCCL on CUDA, gloo on CPU; a group created here is destroyed at interpreter
    exit, see :func:`sciml.train.distributed.init_from_env`), wraps the model in
    DistributedDataParallel and shards the data with ``DistributedSampler``;
    ``config.batch_size`` is per process. Only rank 0 writes files and shows progress;
    validation sums are all-reduced so every rank gets the same metrics.
    """

    def __init__(
        self,
        model: nn.Module,
        loss: LossFn,
        optimizer: Callable[[Any], torch.optim.Optimizer] | torch.optim.Optimizer | None = None,
        scheduler: Callable[[torch.optim.Optimizer], Any] | None = None,
        config: TrainerConfig | None = None,
        metrics: Mapping[str, Callable[[Any, Any], torch.Tensor]] | None = None,
        step_fn: StepFn | None = None,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not callable(loss):
            raise TypeError(f"loss must be callable (pred, target) -> scalar tensor, got {loss!r}")
        if config is None:
            config = TrainerConfig()
        if not isinstance(config, TrainerConfig):
            raise TypeError(f"config must be a TrainerConfig, got {type(config).__name__}")
        if metrics is not None and not isinstance(metrics, Mapping):
            raise TypeError(
                f"metrics must be a mapping name -> fn(pred, target), got {type(metrics).__name__}"
            )
        metrics = dict(metrics or {})
        for name, fn in metrics.items():
            if not isinstance(name, str) or not callable(fn):
                raise TypeError(f"metrics must map str -> callable, got {name!r}: {fn!r}")
            if name in ("loss", "train_loss", "val_loss"):
                raise ValueError(f"metric name {name!r} is reserved; choose another name")
        if step_fn is not None and not callable(step_fn):
            raise TypeError(
                f"step_fn must be callable (model, batch) -> (pred, target), got {step_fn!r}"
            )

        self.config = config
        self.device = _resolve_device(config.device)
        self.dtype: torch.dtype = getattr(torch, config.dtype)
        self._model = _cast_module(model, self.device, self.dtype)
        self.loss_fn = loss
        self.metrics = metrics
        self.step_fn = step_fn

        if optimizer is None:
            optimizer = _default_optimizer
        if (
            not isinstance(optimizer, torch.optim.Optimizer)
            and next(iter(self._model.parameters()), None) is None
        ):
            raise ValueError(
                f"model has no parameters to train ({type(model).__name__}); "
                "the optimizer needs at least one"
            )
        if isinstance(optimizer, torch.optim.Optimizer):
            self.optimizer = optimizer
        elif callable(optimizer):
            self.optimizer = optimizer(self._model.parameters())
            if not isinstance(self.optimizer, torch.optim.Optimizer):
                raise TypeError(
                    "optimizer factory must return a torch.optim.Optimizer, "
                    f"got {type(self.optimizer).__name__}"
                )
        else:
            raise TypeError(f"optimizer must be a factory params -> Optimizer, got {optimizer!r}")
        for i, group in enumerate(self.optimizer.param_groups):
            lr = group.get("lr")
            if isinstance(lr, int | float) and not (math.isfinite(lr) and lr >= 0):
                raise ValueError(
                    f"optimizer: learning rate param_groups[{i}]['lr'] must be finite and >= 0, "
                    f"got {lr}"
                )
        if scheduler is None:
            self.scheduler = None
        elif callable(scheduler) and not hasattr(scheduler, "step"):
            self.scheduler = scheduler(self.optimizer)
        elif hasattr(scheduler, "step") and hasattr(scheduler, "state_dict"):
            self.scheduler = scheduler
        else:
            raise TypeError(
                f"scheduler must be a factory optimizer -> scheduler, got {scheduler!r}"
            )
        if self.config.scheduler_interval == "step" and isinstance(
            self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau
        ):
            raise ValueError(
                "scheduler_interval='step' cannot drive ReduceLROnPlateau (it steps on "
                "validation values): use scheduler_interval='epoch'"
            )

        self.history: list[dict[str, Any]] = []
        self.validations: list[dict[str, Any]] = []
        self.global_step = 0
        self._ddp: nn.Module | None = None

    # ------------------------------------------------------------------ public API
    @property
    def model(self) -> nn.Module:
        """The underlying module (never the DDP wrapper)."""
        return self._model

    @property
    def out_dir(self) -> Path | None:
        return None if self.config.out_dir is None else Path(self.config.out_dir)

    def fit(
        self, train_dataset: Dataset, val_dataset: Dataset | None = None
    ) -> list[dict[str, Any]]:
        """Train for ``config.epochs`` epochs (or continue a checkpointed run when ``resume``).

        Returns:
            The history: one dict per epoch (epochs counted from 1) with ``epoch``,
            ``train_loss``, ``val_loss`` (None on epochs without validation), ``metrics``
            (``{name: value}``, empty without validation), ``lr`` (of the first parameter
            group during the epoch) and ``time_s``. Each record is also appended to
            ``out_dir/metrics.jsonl``.

        Every validation event (epoch-end and, with ``config.val_every_steps``, step-level) is
        also appended to ``self.validations`` (and, when ``val_every_steps`` is set, to
        ``out_dir/validations.jsonl``) as
        ``{"step", "epoch", "kind" ("step" | "epoch"), "val_loss", "metrics", "value"
        (the monitored value), "improved"}``; ``best.pt`` holds the state of the best event
        (with its ``epoch`` and ``step``).
        """
        _check_dataset(train_dataset, "train_dataset")
        if val_dataset is not None:
            _check_dataset(val_dataset, "val_dataset")
        if self.config.val_every_steps is not None and val_dataset is None:
            raise ValueError(
                f"TrainerConfig.val_every_steps={self.config.val_every_steps} needs "
                "val_dataset, got None"
            )
        self._check_monitor(val_dataset)
        # under torchrun: join (or create once, destroyed at exit) the process group
        _, device = D.init_from_env(self.device)
        if device != self.device:  # pragma: no cover - only under torchrun with CUDA
            self.device = device
            self._model.to(device)
        try:
            return self._fit(train_dataset, val_dataset)
        finally:
            self._ddp = None

    def evaluate(self, dataset: Dataset) -> dict[str, float]:
        """Mean loss and metrics over ``dataset``: ``{"loss": ..., name: ...}``.

        In a process group the samples are sharded over ranks without padding and the sums
        all-reduced, so every rank returns the exact average over the whole dataset.
        """
        _check_dataset(dataset, "dataset")
        return self._evaluate(dataset)

    @torch.no_grad()
    def predict(self, dataset: Dataset) -> torch.Tensor:
        """Predictions for every sample of ``dataset`` in order, concatenated along dim 0.

        Returned on the device the dataset's inputs live on (the CPU for ordinary datasets).
        Every rank predicts the whole dataset.
        """
        _check_dataset(dataset, "dataset")
        model = self._model
        was_training = model.training
        model.eval()
        out: list[torch.Tensor] = []
        try:
            for batch in self._loader(dataset, sampler=None, drop_last=False):
                home = _first_tensor_device(batch)
                pred, _ = self._forward(model, self._to_device(batch))
                if not isinstance(pred, torch.Tensor):
                    raise TypeError(f"predict needs tensor predictions, got {type(pred).__name__}")
                out.append(pred.detach().to(home))
        finally:
            model.train(was_training)
        return torch.cat(out, dim=0)

    # ------------------------------------------------------------------ loop
    def _fit(self, train_dataset: Dataset, val_dataset: Dataset | None) -> list[dict[str, Any]]:
        cfg = self.config
        rank, world = D.rank(), D.world_size()
        main = rank == 0
        out_dir = self.out_dir
        ckpt_path = out_dir / CHECKPOINT_NAME if out_dir is not None else None

        _seed_everything(cfg.seed + rank)
        history: list[dict[str, Any]] = []
        stop = _EarlyStopping()
        start_epoch = 0
        self.global_step = 0
        self.validations = []
        if cfg.resume and ckpt_path is not None and ckpt_path.is_file():
            start_epoch, history, stop = self._restore(ckpt_path, rank, world)
        elif cfg.resume:
            _log.info("resume=True but %s does not exist: starting from scratch", ckpt_path)
        self.history = history

        metrics_log = steps_log = val_log = None
        if main and out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            if start_epoch == 0:
                # a fresh start: the files of an earlier run in this out_dir must not outlive it
                # (a resume before this run's first checkpoint would continue the old run;
                # a stale best.pt / steps.jsonl / validations.jsonl would pass for this run's)
                for name in (CHECKPOINT_NAME, BEST_NAME, STEPS_NAME, VALIDATIONS_NAME):
                    (out_dir / name).unlink(missing_ok=True)
            metrics_log = JsonlLogger(out_dir / METRICS_NAME)
            metrics_log.rewrite(history)  # drop lines written after the last checkpoint
            if cfg.val_every_steps is not None:
                val_log = JsonlLogger(out_dir / VALIDATIONS_NAME)
                val_log.rewrite(self.validations)  # drop events after the last checkpoint
            if cfg.log_every:
                steps_log = JsonlLogger(out_dir / STEPS_NAME)
                kept = []
                if start_epoch > 0 and steps_log.path.is_file():  # keep steps up to the checkpoint
                    kept = [r for r in read_jsonl(steps_log.path) if r["step"] <= self.global_step]
                steps_log.rewrite(kept)
        D.barrier()

        model = self._model
        if D.is_distributed():
            ids = [self.device.index] if self.device.type == "cuda" else None
            # broadcast_buffers=False: DDP's per-forward in-place buffer broadcast breaks backward
            # when the model is called more than once per step (autoregressive rollouts) on
            # torch < 2.13 (pytorch#175024); running statistics only matter for evaluation and
            # are broadcast from rank 0 explicitly after each epoch and before validation.
            self._ddp = nn.parallel.DistributedDataParallel(
                model, device_ids=ids, broadcast_buffers=False
            )
            train_model: nn.Module = self._ddp
        else:
            train_model = model

        sampler = DistributedSampler(
            train_dataset, num_replicas=world, rank=rank, shuffle=cfg.shuffle, seed=cfg.seed
        )
        generator = torch.Generator()
        loader = self._loader(
            train_dataset, sampler=sampler, drop_last=cfg.drop_last, generator=generator
        )
        if len(loader) == 0:
            raise ValueError(
                f"train_dataset gives no batch: {len(sampler)} samples per process with "
                f"batch_size={cfg.batch_size} and drop_last=True"
            )

        def validate(epoch: int, kind: str, value_of: Any = None) -> dict[str, Any]:
            """One validation event: evaluate, monitored value, early stopping, best.pt, log."""
            ev = self._evaluate(val_dataset, desc=f"val {kind} {self.global_step}")
            rec: dict[str, Any] = {
                "step": self.global_step,
                "epoch": epoch,
                "kind": kind,
                "val_loss": ev.pop("loss"),
                "metrics": ev,
            }
            value = self._monitor_value(rec if value_of is None else value_of(rec))
            improved = self._update_early_stopping(stop, value, epoch)
            rec["value"], rec["improved"] = value, improved
            self.validations.append(rec)
            if val_log is not None:
                val_log.write(rec)
            if improved and main and out_dir is not None:
                self._save_best(out_dir, epoch, value)
            return rec

        step_validation = None
        if cfg.val_every_steps is not None and val_dataset is not None:

            def step_validation(epoch: int) -> bool:
                D.broadcast_buffers(model)
                rec = validate(epoch, "step")
                if main and cfg.progress:
                    tqdm.write(_step_summary(rec, cfg.monitor))
                return stop.stopped

        for epoch in range(start_epoch + 1, cfg.epochs + 1):
            if stop.stopped:
                break
            t0 = time.perf_counter()
            sampler.set_epoch(epoch - 1)  # order depends only on (seed, epoch)
            generator.manual_seed(cfg.seed + epoch - 1)  # worker seeds, without global RNG
            lr = float(self.optimizer.param_groups[0]["lr"])
            train_loss = self._train_epoch(train_model, loader, epoch, steps_log, step_validation)
            D.broadcast_buffers(model)  # one set of running statistics for eval/checkpoints
            record: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": None,
                "metrics": {},
                "lr": lr,
                "time_s": 0.0,
            }
            last_val = self.validations[-1] if self.validations else None
            if val_dataset is not None and epoch % cfg.val_every == 0:
                if last_val is not None and last_val["step"] == self.global_step:
                    # this step was just validated (step-level): reuse it, count it once
                    record["val_loss"] = last_val["val_loss"]
                    record["metrics"] = dict(last_val["metrics"])
                    value = last_val["value"]
                else:
                    rec = validate(epoch, "epoch", lambda r, tl=train_loss: {**r, "train_loss": tl})
                    record["val_loss"], record["metrics"] = rec["val_loss"], dict(rec["metrics"])
                    value = rec["value"]
            else:
                value = self._monitor_value(record)
                if value is not None and self._update_early_stopping(stop, value, epoch):
                    if main and out_dir is not None:  # monitor "train_loss" without validation
                        self._save_best(out_dir, epoch, value)
            self._step_scheduler(value)
            record["time_s"] = time.perf_counter() - t0
            history.append(record)

            if main and metrics_log is not None:
                metrics_log.write(record)
            every = cfg.checkpoint_every or 0
            last = epoch == cfg.epochs or stop.stopped
            if ckpt_path is not None and (last or (every and epoch % every == 0)):
                self._save_checkpoint(ckpt_path, epoch, history, stop, main)
            if main and cfg.progress:
                tqdm.write(_summary(record, cfg.epochs))
        return history

    def _save_best(self, out_dir: Path, epoch: int, value: float) -> None:
        atomic_save(
            {
                "format": _FORMAT,
                "epoch": epoch,
                "step": self.global_step,
                "monitor": self.config.monitor,
                "value": value,
                "model": self._model.state_dict(),
                "config": self.config.to_dict(),
            },
            out_dir / BEST_NAME,
        )

    def _train_epoch(
        self,
        model: nn.Module,
        loader: DataLoader,
        epoch: int,
        steps_log: JsonlLogger | None,
        step_validation: Callable[[int], bool] | None = None,
    ) -> float:
        """One pass over ``loader``; ``step_validation(epoch) -> stopped`` runs every
        ``config.val_every_steps`` steps (the epoch ends early when early stopping fires)."""
        cfg = self.config
        model.train()
        acc = torch.zeros(2, dtype=self._acc_dtype(), device=self.device)
        bar = tqdm(
            loader,
            desc=f"epoch {epoch}/{cfg.epochs}",
            disable=not (cfg.progress and D.is_main_process()),
            leave=False,
            dynamic_ncols=True,
        )
        per_step_scheduler = self.scheduler is not None and cfg.scheduler_interval == "step"
        for batch in bar:
            pred, target = self._forward(model, self._to_device(batch))
            loss = _check_scalar(self.loss_fn(pred, target), "loss")
            if not loss.requires_grad:  # a flag, no sync
                raise ValueError(
                    "loss must return a tensor connected to the model's parameters (requires_grad), "
                    "got one without a graph (detached, .item() or torch.no_grad?)"
                )
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip is not None:
                torch.nn.utils.clip_grad_norm_(self._model.parameters(), cfg.grad_clip)
            self.optimizer.step()
            self.global_step += 1
            n = _num_samples(pred, target)
            acc[0] += loss.detach().to(acc.dtype) * n
            acc[1] += n
            if cfg.log_every and self.global_step % cfg.log_every == 0:
                value = float(loss.detach())
                bar.set_postfix(loss=f"{value:.4g}")
                if steps_log is not None:
                    lr = float(self.optimizer.param_groups[0]["lr"])
                    steps_log.write(
                        {"step": self.global_step, "epoch": epoch, "loss": value, "lr": lr}
                    )
            if per_step_scheduler:  # after the log: the logged lr is the one this step used
                self.scheduler.step()
            k = cfg.val_every_steps
            if step_validation is not None and k and self.global_step % k == 0:
                if step_validation(epoch):
                    break
        bar.close()
        acc = D.all_reduce_sum(acc)
        train_loss = float(acc[0] / acc[1])
        if not math.isfinite(train_loss):
            raise FloatingPointError(
                f"training loss is {train_loss} in epoch {epoch}: stopping before it is "
                "checkpointed (lower the learning rate or set grad_clip)"
            )
        return train_loss

    @torch.no_grad()
    def _evaluate(self, dataset: Dataset, desc: str = "eval") -> dict[str, float]:
        model = self._model
        was_training = model.training
        model.eval()
        names = list(self.metrics)
        sums = torch.zeros(len(names) + 2, dtype=self._acc_dtype(), device=self.device)
        sampler = _ShardSampler(len(dataset), D.rank(), D.world_size())
        loader = self._loader(dataset, sampler=sampler, drop_last=False)
        bar = tqdm(
            loader,
            desc=desc,
            disable=not (self.config.progress and D.is_main_process()),
            leave=False,
            dynamic_ncols=True,
        )
        try:
            for batch in bar:
                pred, target = self._forward(model, self._to_device(batch))
                n = _num_samples(pred, target)
                loss = _check_scalar(self.loss_fn(pred, target), "loss")
                sums[0] += loss.to(sums.dtype) * n
                for i, name in enumerate(names):
                    v = self.metrics[name](pred, target)
                    if not isinstance(v, torch.Tensor):
                        v = torch.as_tensor(v)
                    if v.ndim == 0:
                        sums[i + 1] += v.to(sums.device, sums.dtype) * n
                    elif tuple(v.shape) == (n,):
                        sums[i + 1] += v.to(sums.device, sums.dtype).sum()
                    else:
                        raise ValueError(
                            f"metric {name!r} must return a scalar or a per-sample tensor of "
                            f"shape ({n},), got shape {tuple(v.shape)}"
                        )
                sums[-1] += n
        finally:
            bar.close()
            model.train(was_training)
        sums = D.all_reduce_sum(sums)
        count = float(sums[-1])
        out = {"loss": float(sums[0]) / count}
        for i, name in enumerate(names):
            out[name] = float(sums[i + 1]) / count
        return out

    # ------------------------------------------------------------------ helpers
    def _acc_dtype(self) -> torch.dtype:
        return torch.float32 if self.device.type == "mps" else torch.float64

    def _loader(
        self,
        dataset: Dataset,
        sampler: Sampler | None,
        drop_last: bool,
        generator: torch.Generator | None = None,
    ) -> DataLoader:
        if generator is None:  # keeps DataLoader from drawing its base seed from the global RNG
            generator = torch.Generator().manual_seed(self.config.seed)
        return DataLoader(
            dataset,
            batch_size=self.config.batch_size,
            sampler=sampler,
            shuffle=False,
            drop_last=drop_last,
            num_workers=self.config.num_workers,
            pin_memory=self.device.type == "cuda",
            generator=generator,
        )

    def _to_device(self, batch: Any) -> Any:
        """``batch`` on the device; real floating tensors in ``config.dtype`` and complex ones
        in its complex counterpart (as :func:`_cast_module` casts the model's parameters)."""
        if isinstance(batch, torch.Tensor):
            if batch.is_floating_point():
                return batch.to(self.device, self.dtype, non_blocking=True)
            if batch.is_complex():
                return batch.to(self.device, _complex_of(self.dtype), non_blocking=True)
            return batch.to(self.device, non_blocking=True)
        if isinstance(batch, np.ndarray):
            return self._to_device(torch.from_numpy(batch))
        if isinstance(batch, Mapping):
            return {k: self._to_device(v) for k, v in batch.items()}
        if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple
            return type(batch)(*(self._to_device(v) for v in batch))
        if isinstance(batch, (list, tuple)):
            return type(batch)(self._to_device(v) for v in batch)
        return batch

    def _forward(self, model: nn.Module, batch: Any) -> tuple[Any, Any]:
        if self.step_fn is not None:
            out = self.step_fn(model, batch)
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError(f"step_fn must return (pred, target), got {type(out).__name__}")
            return out[0], out[1]
        if isinstance(batch, Mapping):
            if "x" not in batch or "y" not in batch:
                raise ValueError(
                    f"dict batches need keys 'x' and 'y', got keys {sorted(batch)}; "
                    "or pass step_fn to the Trainer"
                )
            return model(batch["x"]), batch["y"]
        if isinstance(batch, (list, tuple)) and len(batch) >= 2:
            return model(batch[0]), batch[1]
        raise TypeError(
            "batches must be (x, y, ...) tuples or dicts with 'x' and 'y', got "
            f"{type(batch).__name__}; or pass step_fn to the Trainer"
        )

    def _check_monitor(self, val_dataset: Dataset | None) -> None:
        cfg = self.config
        valid = ["train_loss", "val_loss", *self.metrics, *(f"val_{m}" for m in self.metrics)]
        if cfg.monitor not in valid:
            raise ValueError(f"TrainerConfig.monitor must be one of {valid}, got {cfg.monitor!r}")
        if (
            cfg.early_stopping_patience is not None
            and cfg.monitor != "train_loss"
            and val_dataset is None
        ):
            raise ValueError(
                f"early stopping on monitor={cfg.monitor!r} needs val_dataset, got None "
                "(or monitor 'train_loss')"
            )

    def _monitor_value(self, record: Mapping[str, Any]) -> float | None:
        m = self.config.monitor
        if m in ("train_loss", "val_loss"):
            return record[m]
        if m not in self.metrics and m.startswith("val_"):
            m = m[len("val_") :]
        return record["metrics"].get(m)

    def _step_scheduler(self, value: float | None) -> None:
        """Epoch-end scheduler step (per-step schedulers are stepped in ``_train_epoch``)."""
        if self.scheduler is None or self.config.scheduler_interval == "step":
            return
        if isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            if value is not None:
                self.scheduler.step(value)
        else:
            self.scheduler.step()

    def _update_early_stopping(self, stop: _EarlyStopping, value: float | None, epoch: int) -> bool:
        if value is None:
            return False
        # a NaN is never an improvement (and so never becomes the best value that every later
        # value would have to beat: NaN comparisons are all False); it counts as a bad event.
        # A NaN best restored from an older checkpoint is treated as no best yet.
        better = not math.isnan(value) and (
            stop.best is None
            or math.isnan(stop.best)
            or (self.config.mode == "min" and value < stop.best)
            or (self.config.mode == "max" and value > stop.best)
        )
        if better:
            stop.best, stop.best_epoch, stop.bad = value, epoch, 0
        else:
            stop.bad += 1
            patience = self.config.early_stopping_patience
            if patience is not None and stop.bad >= patience:
                stop.stopped = True
        return better

    def _save_checkpoint(
        self,
        path: Path,
        epoch: int,
        history: list[dict[str, Any]],
        stop: _EarlyStopping,
        main: bool,
    ) -> None:
        rng = D.all_gather_object(get_rng_state())  # every rank takes part
        if main:
            atomic_save(
                {
                    "format": _FORMAT,
                    "epoch": epoch,
                    "step": self.global_step,
                    "sampler_epoch": epoch,  # next epoch's DistributedSampler.set_epoch value
                    "model": self._model.state_dict(),
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
                    "history": history,
                    "early_stopping": stop.to_dict(),
                    "validations": list(self.validations),
                    "rng": rng,
                    "world_size": D.world_size(),
                    "config": self.config.to_dict(),
                },
                path,
            )
        D.barrier()

    def _restore(
        self, path: Path, rank: int, world: int
    ) -> tuple[int, list[dict[str, Any]], _EarlyStopping]:
        ckpt = load_checkpoint(path, map_location="cpu")
        if ckpt.get("format") != _FORMAT:
            raise ValueError(
                f"{path} is not a sciml.train checkpoint (format {ckpt.get('format')!r}, "
                f"expected {_FORMAT!r})"
            )
        load_model_state(self._model, ckpt["model"], source=f"checkpoint {path}")
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError, RuntimeError) as err:
            raise ValueError(
                f"the optimizer state in {path} does not fit this optimizer "
                f"({type(self.optimizer).__name__}): {err}"
            ) from err
        if (ckpt["scheduler"] is None) != (self.scheduler is None):
            raise ValueError(
                f"{path} was saved {'with' if ckpt['scheduler'] is not None else 'without'} an LR "
                f"scheduler but this Trainer has {'one' if self.scheduler is not None else 'none'}"
            )
        if self.scheduler is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        saved = ckpt.get("config", {})
        changed = [
            f"{k}: {saved.get(k)!r} -> {getattr(self.config, k)!r}"
            for k in _TRAJECTORY_FIELDS
            if k in saved and saved[k] != getattr(self.config, k)
        ]
        if changed:
            warnings.warn(
                f"resuming {path} with a different config ({'; '.join(changed)}): the run will "
                "not match an uninterrupted one",
                stacklevel=4,
            )
        states = ckpt["rng"]
        if len(states) == world:
            set_rng_state(states[rank])
        else:
            warnings.warn(
                f"{path} was written by {len(states)} processes, resuming with {world}: RNG "
                "streams are re-seeded and the run will not match an uninterrupted one",
                stacklevel=4,
            )
            _seed_everything(self.config.seed + rank + 7919 * int(ckpt["epoch"]))
        self.global_step = int(ckpt["step"])
        self.validations = list(ckpt.get("validations", []))
        es = ckpt["early_stopping"]
        stop = _EarlyStopping(es["best"], es["best_epoch"], int(es["bad"]), bool(es["stopped"]))
        _log.info("resumed from %s at epoch %d", path, ckpt["epoch"])
        return int(ckpt["epoch"]), list(ckpt["history"]), stop


def _first_tensor_device(batch: Any) -> torch.device:
    if isinstance(batch, torch.Tensor):
        return batch.device
    if isinstance(batch, Mapping):
        items = list(batch.values())
        if "x" in batch:
            items.insert(0, batch["x"])
    elif isinstance(batch, (list, tuple)):
        items = list(batch)
    else:
        return torch.device("cpu")
    for item in items:
        if isinstance(item, torch.Tensor):
            return item.device
    return torch.device("cpu")


def _summary(record: Mapping[str, Any], epochs: int) -> str:
    parts = [f"epoch {record['epoch']}/{epochs}", f"train_loss {record['train_loss']:.4g}"]
    if record["val_loss"] is not None:
        parts.append(f"val_loss {record['val_loss']:.4g}")
    parts += [f"{k} {v:.4g}" for k, v in record["metrics"].items()]
    parts.append(f"lr {record['lr']:.3g}")
    parts.append(f"{record['time_s']:.2f}s")
    return " | ".join(parts)


def _step_summary(rec: Mapping[str, Any], monitor: str) -> str:
    parts = [f"step {rec['step']} (epoch {rec['epoch']})", f"val_loss {rec['val_loss']:.4g}"]
    parts += [f"{k} {v:.4g}" for k, v in rec["metrics"].items()]
    parts.append(f"{monitor} {'improved' if rec['improved'] else 'not improved'}")
    return " | ".join(parts)


def _complex_of(dtype: torch.dtype) -> torch.dtype:
    """The complex dtype paired with a real training dtype (complex64 below float64)."""
    return torch.complex128 if dtype == torch.float64 else torch.complex64


def _cast_module(model: nn.Module, device: torch.device, dtype: torch.dtype) -> nn.Module:
    """Move ``model`` to ``device``; real floating tensors to ``dtype``, complex ones to its complex
    counterpart. (``Module.to(dtype=float32)`` would silently drop the imaginary part of complex
    parameters, e.g. FNO spectral weights.)"""
    complex_dtype = _complex_of(dtype)

    def cast(t: torch.Tensor) -> torch.Tensor:
        if t.is_complex():
            return t.to(device=device, dtype=complex_dtype)
        if t.is_floating_point():
            return t.to(device=device, dtype=dtype)
        return t.to(device=device)

    return model._apply(cast)
