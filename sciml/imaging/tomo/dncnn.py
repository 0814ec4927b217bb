"""DnCNN image denoiser without batch-norm (the RED-PSM reference architecture) and a loader for
the shipped checkpoint.

``conv3×3(1→C) + ReLU``, ``depth × [conv3×3(C→C) + ReLU]``, ``conv3×3(C→1)``; residual output
``x - net(x)``. Reference: ``C = 64``, ``depth = 6``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

WEIGHTS_DIR = Path(__file__).parent / "weights"
SMALL_CHECKPOINT = WEIGHTS_DIR / "dncnn_small.pt"


class DnCNN(nn.Module):
    """Residual denoiser ``(B, 1, H, W) → (B, 1, H, W)``."""

    def __init__(self, channels: int = 64, depth: int = 6):
        super().__init__()
        if not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a positive int, got {channels!r}")
        if not isinstance(depth, int) or depth < 0:
            raise ValueError(f"depth must be an int >= 0, got {depth!r}")
        layers: list[nn.Module] = [nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth):
            layers += [nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(channels, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)
        self.channels, self.depth = channels, depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 1:
            raise ValueError(f"x must have shape (B, 1, H, W), got {tuple(x.shape)}")
        return x - self.net(x)


def load_denoiser(path: str | Path | None = None, device: torch.device | str = "cpu") -> DnCNN:
    """Load a DnCNN checkpoint written by :mod:`sciml.imaging.tomo.train_denoiser` (default: the
    shipped ``weights/dncnn_small.pt``), in eval mode, float32."""
    path = Path(path) if path is not None else SMALL_CHECKPOINT
    if not path.is_file():
        raise FileNotFoundError(f"denoiser checkpoint not found: {path}")
    ck = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ck, dict) or "state_dict" not in ck or "channels" not in ck:
        raise ValueError(
            f"{path} is not a sciml DnCNN checkpoint (keys: state_dict, channels, depth)"
        )
    model = DnCNN(int(ck["channels"]), int(ck["depth"]))
    model.load_state_dict(ck["state_dict"])
    # float32 whatever torch's default dtype (a float64 default builds a float64 network)
    return model.to(device=device, dtype=torch.float32).eval()


class FrameDenoiser:
    """Apply a 2-D denoiser frame by frame to a sequence ``(P, n, n)`` (any dtype/device): frames
    are cast to the model's dtype (kept in their own for a model without parameters), processed in batches of ``batch`` without gradients, and
    returned in the input's dtype. The model runs in eval mode (its train/eval mode is restored
    afterwards), so that ``D`` is a deterministic function of its input: batch-norm uses its
    running statistics (and does not update them), dropout is off. ``channels_last`` converts
    the model (in place) and the batches to the channels-last memory format (on CPU ≈ 2x faster
    for this network; small batches keep the activations in cache)."""

    def __init__(self, model: nn.Module, batch: int = 8, channels_last: bool = True):
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive int, got {batch!r}")
        self.model, self.batch, self.channels_last = model, batch, bool(channels_last)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)

    def __call__(self, f: torch.Tensor) -> torch.Tensor:
        # the model's dtype/device; a model without parameters (a fixed filter) runs on f's
        p = next(self.model.parameters(), f)
        out = torch.empty_like(f)
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                for i in range(0, f.shape[0], self.batch):
                    fi = f[i : i + self.batch, None].to(device=p.device, dtype=p.dtype)
                    fi = fi.contiguous(memory_format=fmt)
                    out[i : i + self.batch] = self.model(fi)[:, 0].to(f.dtype).to(f.device)
        finally:
            self.model.train(was_training)
        return out
