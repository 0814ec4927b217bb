"""Train a DCDM network on Ritz-vector right-hand sides with the shared Trainer.

Reproduce the shipped models (commands and figures in ``docs/status/dcdm.md`` and
``datasets/dcdm-ritz.md``)::

    python -m sciml.linalg.training --dim 2 --out sciml/linalg/models/dcdm_2d.pt
    (3-D: a chain of --init runs at 32³ (sizes full, large) and a 64³ stage (size x64))
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from sciml.data import atomic_path
from sciml.linalg.loss import DCDMLoss
from sciml.linalg.network import DCDMNet, DCDMNetConfig
from sciml.linalg.ritz import training_system


@dataclass(frozen=True)
class DCDMTrainConfig:
    """Training settings (paper: Adam lr 1e-4, batch 10, 20k vectors from 10k Lanczos steps;
    our CPU defaults are much smaller)."""

    dim: int = 2
    data_size: str = "full"
    epochs: int = 20
    batch_size: int = 10
    lr: float = 1e-3
    seed: int = 0


def train_dcdm(
    config: DCDMTrainConfig = DCDMTrainConfig(),
    net_config: DCDMNetConfig | None = None,
    out: str | os.PathLike | None = None,
    device: str = "cpu",
    progress: bool = True,
    init: str | os.PathLike | None = None,
    data_path: str | os.PathLike | None = None,
) -> tuple[DCDMNet, list[dict]]:
    """Fetch/generate the Ritz dataset ``dcdm-ritz-{dim}d`` (registry, size ``data_size``),
    train with the shared Trainer, optionally save to ``out``.

    ``init``: a saved model file to continue training from (its architecture is used).
    ``data_path``: train on this Ritz dataset file instead (e.g. from :func:`make_ritz_dataset`).
    Datasets with a ``cells`` key (mixed obstacle layouts) use each sample's own matrix.
    Returns the trained model (CPU, eval mode) and the Trainer history.
    """
    from sciml.data import ArrayDataset, get_dataset, open_dataset
    from sciml.train import Trainer, TrainerConfig

    torch.manual_seed(config.seed)
    net_config = net_config or DCDMNetConfig(dim=config.dim)
    if net_config.dim != config.dim:
        raise ValueError(f"net_config.dim: expected {config.dim}, got {net_config.dim}")
    t0 = time.perf_counter()
    if data_path is None:
        path = get_dataset(f"dcdm-ritz-{config.dim}d", config.data_size, seed=config.seed)
    else:
        path = Path(data_path)
    t_data = time.perf_counter() - t0
    with open_dataset(path) as f:
        mixed = "cells" in f.splits["train"]
        grid = f.splits["train"]["x"].shape[-1]
    if init is not None:
        from sciml.linalg.pretrained import load_model, model_info

        model = load_model(init)
        previous = model_info(init)
    else:
        model = DCDMNet(net_config)
        previous = None
    if mixed:  # per-sample matrices: the target is (b, cells)
        loss = DCDMLoss()
        keys = ("x", "cells")

        def step_fn(model, batch):
            return model(batch[0]), (batch[0], batch[1])

    else:  # one training matrix (the reference's setting)
        loss = DCDMLoss(training_system(config.dim, grid).stencil(dtype=torch.float32))
        keys = ("x", "x")
        step_fn = None
    trainer = Trainer(
        model,
        loss,
        step_fn=step_fn,
        optimizer=lambda p: torch.optim.Adam(p, lr=config.lr),
        scheduler=lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.epochs),
        config=TrainerConfig(
            epochs=config.epochs,
            batch_size=config.batch_size,
            seed=config.seed,
            device=device,
            progress=progress,
            checkpoint_every=None,
        ),
    )
    train_ds = ArrayDataset(path, "train", keys)
    val_ds = ArrayDataset(path, "val", keys)
    t1 = time.perf_counter()
    history = trainer.fit(train_ds, val_ds)
    t_train = time.perf_counter() - t1
    model = trainer.model.cpu().eval()
    if out is not None:
        save_model(
            model,
            out,
            meta={
                "train_config": dataclasses.asdict(config),
                "data": str(path.name),
                "continued_from": previous,
                "history": history,
                "data_seconds": t_data,
                "train_seconds": t_train,
            },
        )
    return model, history


def save_model(model: DCDMNet, path: str | os.PathLike, meta: dict | None = None) -> None:
    """Save config + float32 weights (+ JSON-able metadata) to a small ``.pt`` file."""
    path = Path(path)
    state = {k: v.detach().cpu().float() for k, v in model.state_dict().items()}
    blob = {
        "config": dataclasses.asdict(model.config),
        "state_dict": state,
        "meta": json.loads(json.dumps(meta or {}, default=float)),
    }
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    d = DCDMTrainConfig()
    p.add_argument("--dim", type=int, default=2)
    p.add_argument("--data-size", default=d.data_size, help="registry size: quick, full, mixed")
    p.add_argument("--data-path", default=None, help="Ritz dataset file (overrides --data-size)")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--init", default=None, help="model file to continue training from")
    a = p.parse_args(argv)
    cfg = DCDMTrainConfig(a.dim, a.data_size, a.epochs, a.batch_size, a.lr, a.seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    _, hist = train_dcdm(cfg, out=a.out, device=a.device, init=a.init, data_path=a.data_path)
    print(json.dumps(hist[-1], default=float))


if __name__ == "__main__":
    main()
