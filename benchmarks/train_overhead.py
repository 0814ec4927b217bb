"""Per-epoch overhead of sciml.train.Trainer against a bare PyTorch loop (same model, data, batches).

Usage: python benchmarks/train_overhead.py [--out PATH]
Writes benchmarks/results/train_overhead.json; ratios are Trainer time / bare-loop time (1.0 = free).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from sciml.data import atomic_path
from sciml.train import Trainer, TrainerConfig

EPOCHS, BATCH = 5, 32


def _data() -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2048, 16, generator=g)
    return TensorDataset(x, x.sum(1, keepdim=True).sin())


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 64), nn.GELU(), nn.Linear(64, 1))


def bare_loop(ds: TensorDataset) -> float:
    model = _model()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        for x, y in loader:
            loss = nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return time.perf_counter() - start


def trainer_loop(ds: TensorDataset, out_dir: str | None = None) -> float:
    cfg = TrainerConfig(epochs=EPOCHS, batch_size=BATCH, progress=False, out_dir=out_dir)
    trainer = Trainer(_model(), nn.functional.mse_loss, config=cfg)
    start = time.perf_counter()
    trainer.fit(ds)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).parent / "results" / "train_overhead.json"
    parser.add_argument("--out", type=Path, default=default)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds = _data()
    times: dict[str, list[float]] = {"bare": [], "trainer": [], "trainer_with_checkpoints": []}
    bare_loop(ds)  # warm-up, both sides (first-call costs are not per-epoch overhead)
    trainer_loop(ds)
    with tempfile.TemporaryDirectory() as tmp:
        trainer_loop(ds, tmp)
    for _ in range(args.repeats):
        times["bare"].append(bare_loop(ds))
        times["trainer"].append(trainer_loop(ds))
        with tempfile.TemporaryDirectory() as tmp:
            times["trainer_with_checkpoints"].append(trainer_loop(ds, tmp))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "epochs": EPOCHS,
        "steps_per_epoch": 2048 // BATCH,
        "median_s": med,
        "ratio_trainer_over_bare": med["trainer"] / med["bare"],
        "ratio_trainer_with_checkpoints_over_bare": med["trainer_with_checkpoints"] / med["bare"],
        "torch": torch.__version__,
        "threads": 1,
        "repeats": args.repeats,
        "times_s": times,
        "timing": "warm-up of each variant, then interleaved repeats, median; "
        "bare: the epochs loop; Trainer: fit() (its own loader/optimiser setup included)",
        "command": " ".join(["python benchmarks/train_overhead.py", *sys.argv[1:]]),
    }
    print(json.dumps(result, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        Path(tmp).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
