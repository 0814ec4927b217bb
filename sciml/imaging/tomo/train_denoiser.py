"""Train the RED-PSM DnCNN on frames of the dynamic phantoms with random noise levels.

Run as a module (this exact command reproduces the shipped ``weights/dncnn_small.pt``)::

    OMP_NUM_THREADS=2 python -m sciml.imaging.tomo.train_denoiser \
        --out sciml/imaging/tomo/weights/dncnn_small.pt

Training data: random ``patch × patch`` crops of frames of :func:`deforming_phantom` and
:func:`cardiac_phantom` at sizes 64 and 128 with phantom seeds ``>= 100`` (the benchmarks use
seeds 0 and 1), each with additive Gaussian noise of a std drawn uniformly in
``[0, sigma_max]``; a separate validation set from other seeds. Uses :class:`sciml.train.Trainer`
(MSE, Adam), float32.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass

import torch
from torch.utils.data import TensorDataset

from sciml.imaging.phantoms import cardiac_phantom, deforming_phantom
from sciml.train import Trainer, TrainerConfig, atomic_save

from .dncnn import DnCNN


@dataclass(frozen=True)
class DenoiserTrainConfig:
    """Defaults produce the shipped small checkpoint (a reduced-width DnCNN)."""

    channels: int = 32
    depth: int = 6
    sizes: tuple = (64, 128)
    frames: int = 16
    n_phantoms: int = 6
    n_train: int = 1500
    n_val: int = 300
    patch: int = 32
    sigma_max: float = 0.1
    epochs: int = 6
    batch_size: int = 32
    lr: float = 1e-3
    seed: int = 0

    def __post_init__(self):
        sizes = tuple(self.sizes)
        if not sizes or not all(isinstance(n, int) and n >= 1 for n in sizes):
            raise ValueError(
                f"DenoiserTrainConfig.sizes must be a non-empty tuple of positive ints, "
                f"got {self.sizes!r}"
            )
        if not isinstance(self.patch, int) or not 1 <= self.patch <= min(sizes):
            raise ValueError(
                f"DenoiserTrainConfig.patch must be an int in [1, min(sizes) = {min(sizes)}] "
                f"(crops of the phantom frames), got {self.patch!r}"
            )


def make_patches(cfg: DenoiserTrainConfig, count: int, seed0: int, seed: int) -> TensorDataset:
    """``count`` (noisy, clean) pairs ``(1, patch, patch)`` float32 from phantom seeds
    ``seed0 .. seed0 + n_phantoms - 1``."""
    frames = []
    for n in cfg.sizes:
        for s in range(seed0, seed0 + cfg.n_phantoms):
            frames.append(deforming_phantom(n, cfg.frames, seed=s, dtype=torch.float32))
            frames.append(cardiac_phantom(n, cfg.frames, seed=s, dtype=torch.float32))
    gen = torch.Generator().manual_seed(seed)
    f32 = torch.float32  # explicit: the pairs (and the noise stream) ignore torch's default dtype
    clean = torch.empty(count, 1, cfg.patch, cfg.patch, dtype=f32)
    for i in range(count):
        seq = frames[int(torch.randint(len(frames), (), generator=gen))]
        t = int(torch.randint(seq.shape[0], (), generator=gen))
        n = seq.shape[-1]
        r, c = (int(v) for v in torch.randint(n - cfg.patch + 1, (2,), generator=gen))
        clean[i, 0] = seq[t, r : r + cfg.patch, c : c + cfg.patch]
    sigma = cfg.sigma_max * torch.rand(count, 1, 1, 1, generator=gen, dtype=f32)
    noisy = clean + sigma * torch.randn(clean.shape, generator=gen, dtype=f32)
    return TensorDataset(noisy, clean)


def train_denoiser(
    cfg: DenoiserTrainConfig, progress: bool = True, out_dir=None
) -> tuple[DnCNN, list]:
    """Train a :class:`DnCNN`; returns the model (eval mode) and the Trainer history."""
    torch.manual_seed(cfg.seed)
    model = DnCNN(cfg.channels, cfg.depth)
    train = make_patches(cfg, cfg.n_train, 100, cfg.seed)
    val = make_patches(cfg, cfg.n_val, 100 + cfg.n_phantoms, cfg.seed + 1)
    tcfg = TrainerConfig(
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        progress=progress,
        out_dir=out_dir,
    )
    trainer = Trainer(
        model,
        torch.nn.functional.mse_loss,
        optimizer=lambda p: torch.optim.Adam(p, lr=cfg.lr),
        config=tcfg,
    )
    history = trainer.fit(train, val)
    return trainer.model.eval(), history


def main(argv: list[str] | None = None) -> int:
    d = DenoiserTrainConfig()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="checkpoint path (.pt)")
    for name in (
        "channels",
        "depth",
        "frames",
        "n_phantoms",
        "n_train",
        "n_val",
        "patch",
        "epochs",
        "batch_size",
        "seed",
    ):
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(d, name))
    for name in ("sigma_max", "lr"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(d, name))
    ap.add_argument("--sizes", type=int, nargs="+", default=list(d.sizes))
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)
    kw = {k: getattr(args, k) for k in asdict(d) if k != "sizes"}
    cfg = DenoiserTrainConfig(sizes=tuple(args.sizes), **kw)
    model, history = train_denoiser(cfg, progress=not args.no_progress)
    ck = {
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "channels": cfg.channels,
        "depth": cfg.depth,
        "config": {**asdict(cfg), "sizes": list(cfg.sizes)},
        "history": [
            {"epoch": h["epoch"], "train_loss": h["train_loss"], "val_loss": h["val_loss"]}
            for h in history
        ],
        "command": "python -m sciml.imaging.tomo.train_denoiser "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    atomic_save(ck, args.out)
    for h in history:
        print(f"epoch {h['epoch']}: train {h['train_loss']:.3e} val {h['val_loss']:.3e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
