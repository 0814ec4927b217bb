"""Simple baselines: zero-filled adjoint and low-rank-only (nuclear norm, RDLEDM's solver)."""

from __future__ import annotations

import dataclasses

import torch

from .linop import Linop
from .rdledm import RDLEDM, RDLEDMConfig, RDLEDMResult, check_measurements


def zero_filled(y, op: Linop) -> torch.Tensor:
    """``Aᴴ y`` ``(T, ny, nx)``: the zero-filled (adjoint) reconstruction."""
    return op.H(check_measurements(y, op))


def low_rank_only(
    y, op: Linop, lambda_casorati: float, config: RDLEDMConfig | None = None
) -> RDLEDMResult:
    """Nuclear-norm-only reconstruction ``min ½||A X - y||² + λ||C(X)||_*`` with RDLEDM's PDHG
    (every other weight set to 0; solver options from ``config``)."""
    base = config or RDLEDMConfig()
    cfg = dataclasses.replace(
        base, lambda_casorati=lambda_casorati, lambda_spatial=0.0, mu_xy=0.0, mu_t=0.0, gamma=0.0
    )
    return RDLEDM(cfg).reconstruct(y, op)
