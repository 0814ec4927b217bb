"""Worker for tests/operators/test_distributed.py, launched by ``torch.distributed.run``.

Usage: python -m torch.distributed.run --nproc_per_node=2 ... _dist_lsm_worker.py OUT_DIR
Trains a tiny LSM through :func:`sciml.operators.fit_operator` (the shared Trainer, which wraps
the model in DistributedDataParallel under torchrun) on a field-to-field problem and on a
2-frame autoregressive rollout, and saves each rank's parameters and history to
``OUT_DIR/rank{r}.pt``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import TensorDataset

from sciml.operators import LSM, OperatorTrainConfig, fit_operator
from sciml.train import distributed as D

SEEN_WORLD: list[int] = []


def field_data(n: int = 16, size: int = 16) -> TensorDataset:
    """x: smooth random fields; y = a fixed local smoothing of x (learnable by a U-Net)."""
    g = torch.Generator().manual_seed(0)
    x = F.avg_pool2d(torch.randn(n, 1, size + 4, size + 4, generator=g), 5, stride=1)
    y = 0.5 * F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False) + 0.2
    return TensorDataset(x, y)


def rollout_data(n: int = 16, size: int = 16) -> TensorDataset:
    """Frames that decay by 0.9 per step: 2 past frames in, 2 future frames out."""
    g = torch.Generator().manual_seed(1)
    f0 = F.avg_pool2d(torch.randn(n, 1, size + 4, size + 4, generator=g), 5, stride=1)
    frames = torch.cat([f0 * 0.9**k for k in range(4)], dim=1)
    return TensorDataset(frames[:, :2], frames[:, 2:])


def _metric_world(p: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    SEEN_WORLD.append(D.world_size())
    return (p - t).flatten(1).abs().mean(1)


def main() -> None:
    out = Path(sys.argv[1])
    world = int(os.environ["WORLD_SIZE"])
    cfg = OperatorTrainConfig(epochs=10, batch_size=4 // world, lr=5e-3, progress=False, seed=3)
    results = {}
    for name, data, c_in, auto in (
        ("field", field_data(), 1, False),
        ("rollout", rollout_data(), 2, True),
    ):
        torch.manual_seed(0)
        model = LSM(in_channels=c_in, out_channels=1, width=8)
        trainer, hist = fit_operator(model, data, data, cfg, autoregressive=auto)
        trainer.metrics["world"] = _metric_world
        final = trainer.evaluate(data)
        results[name] = {
            "params": {k: v.detach().clone() for k, v in trainer.model.named_parameters()},
            "buffers": {k: v.detach().clone() for k, v in trainer.model.named_buffers()},
            "train_loss": [h["train_loss"] for h in hist],
            "val_rel_l2": [h["metrics"]["rel_l2"] for h in hist],
            "final": final,
        }
    torch.save(
        {"world": world, "seen_world": SEEN_WORLD, "results": results},
        out / f"rank{os.environ['RANK']}.pt",
    )


if __name__ == "__main__":
    main()
