"""Small models and datasets shared by the sciml.train tests."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.data import Dataset, TensorDataset


def regression_data(n: int = 32, d: int = 4, seed: int = 0, noise: float = 0.01) -> TensorDataset:
    """y = x @ w + b + noise, x ~ N(0, I): shapes (n, d) and (n, 1)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    w = torch.randn(d, 1, generator=g)
    y = x @ w + 0.5 + noise * torch.randn(n, 1, generator=g)
    return TensorDataset(x, y)


def dropout_mlp(d: int = 4, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.Tanh(), nn.Dropout(0.3), nn.Linear(16, 1))


def linear(d: int = 4, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Linear(d, 1)


def mse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return ((pred - target) ** 2).mean()


class DictDataset(Dataset):
    """Wraps a TensorDataset so that items are {"x": ..., "y": ...} dicts."""

    def __init__(self, base: TensorDataset) -> None:
        self.base = base

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        x, y = self.base[i]
        return {"x": x, "y": y}
