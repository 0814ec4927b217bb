"""Load the small DCDM models shipped in ``sciml/linalg/models`` (or any file from
:func:`sciml.linalg.training.save_model`)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from sciml.linalg.network import DCDMNet, DCDMNetConfig

MODELS_DIR = Path(__file__).parent / "models"
SHIPPED = {2: "dcdm_2d.pt", 3: "dcdm_3d.pt"}


def load_model(path: str | os.PathLike, device=None) -> DCDMNet:
    """Load a saved DCDM network (eval mode, float32) onto ``device``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no DCDM model file at {path}")
    blob = torch.load(path, map_location="cpu", weights_only=True)
    model = DCDMNet(DCDMNetConfig(**blob["config"]))
    # float32 whatever torch's default dtype (a float64 default would build a float64 network)
    model.load_state_dict(blob["state_dict"])
    return model.to(device=device, dtype=torch.float32).eval()


def pretrained(dim: int, device=None) -> DCDMNet:
    """The shipped model for ``dim`` = 2 or 3 (trained as documented in ``datasets/dcdm-ritz.md``)."""
    if dim not in SHIPPED:
        raise ValueError(f"dim: expected 2 or 3, got {dim!r}")
    return load_model(MODELS_DIR / SHIPPED[dim], device)


def model_info(path: str | os.PathLike) -> dict:
    """Metadata stored with a model file (training config, history, timings)."""
    return torch.load(Path(path), map_location="cpu", weights_only=True)["meta"]
