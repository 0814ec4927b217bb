"""FunBaT-CP: the CP special case of FunBaT, ``y = Σ_r Π_k u^k_r(i^k) + ε`` (core fixed to the
superdiagonal of ones)."""

from __future__ import annotations

import torch

from ._cep import CEPModel, Moments

__all__ = ["FunBaTCP"]


def _hadamard(ts: list[torch.Tensor]) -> torch.Tensor:
    out = ts[0]
    for t in ts[1:]:
        out = out * t
    return out


class FunBaTCP(CEPModel):
    """CP model with GP (Matérn SDE) factors; every mode has the same rank R."""

    name = "funbat-cp"

    def _ranks(self, K: int) -> tuple[int, ...]:
        r = self.config.per_mode("rank", K)
        if len(set(r)) != 1:
            raise ValueError(f"rank: FunBaT-CP needs the same rank for every mode, got {r}")
        return tuple(r)

    def _mode_stats(self, k: int, mom: Moments) -> tuple[torch.Tensor, torch.Tensor]:
        others = [mom[j] for j in range(self.K) if j != k]
        return _hadamard([m for m, _ in others]), _hadamard([S for _, S in others])

    def _core_step(self, y: torch.Tensor) -> float:
        total = float((y * y).sum())
        for sl in self._chunks(self.N):
            mom = self._moments_at(sl)
            f = _hadamard([m for m, _ in mom]).sum(-1)
            f2 = _hadamard([S for _, S in mom]).sum((-1, -2))
            total += float((-2.0 * y[sl] * f + f2).sum())
        return total

    def _predict_chunk(self, mom: Moments, need_var: bool = True):
        mean = _hadamard([m for m, _ in mom]).sum(-1)
        if not need_var:
            return mean, None
        f2 = _hadamard([S for _, S in mom]).sum((-1, -2))
        return mean, f2 - mean * mean
