"""A reproducible dynamic-MRI experiment: phantom, k-t mask, noisy k-space and the four methods.

Used by ``bench.py`` (``mri-rdledm``), ``benchmarks/imaging.py`` and the tutorial. Hyper-parameters
in :data:`TUNED` were chosen on the *validation* phantom (``seed=VAL_SEED``) only; the benchmark
reports the *test* phantom (``seed=TEST_SEED``) with independent mask and noise seeds.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import torch

from .baselines import low_rank_only, zero_filled
from .fourier import MaskedFourier
from .lps import LPlusS, LPlusSConfig
from .masks import variable_density_mask
from .metrics import hfen, psnr, rel_l2, ssim
from .phantoms import cardiac_phantom
from .rdledm import RDLEDM, RDLEDMConfig

__all__ = [
    "METHODS",
    "NOISE_STD",
    "TEST_SEED",
    "TUNED",
    "VAL_SEED",
    "Problem",
    "make_problem",
    "run_method",
]

TEST_SEED = 0
VAL_SEED = 1
NOISE_STD = 0.003

# Chosen on the validation phantom (VAL_SEED), 64x64x16, R=8, 300 iterations, by coordinate search
# (RDLEDM, start {λ₁=λ₂=0.005, μ₁=0.005, μ₂=0.01, γ=0.02}, factors {0, 0.4, 2.5}) and grids
# (L+S: λ_L x λ_S, low-rank: λ); log in notes/imaging.md. The search switched both nuclear norms off.
TUNED = {
    "rdledm": {
        "lambda_casorati": 0.0,
        "lambda_spatial": 0.0,
        "mu_xy": 0.002,
        "mu_t": 0.01,
        "gamma": 0.02,
    },
    "lps": {"lambda_l": 0.3, "lambda_s": 0.01, "tol": 1e-4},
    "lowrank": {"lambda_casorati": 0.3},
}
METHODS = ("rdledm", "lps", "lowrank", "zero_filled")


@dataclass
class Problem:
    """Ground truth ``x (T, ny, nx)``, mask, operator and noisy measurements ``y``."""

    x: torch.Tensor
    mask: torch.Tensor
    op: MaskedFourier
    y: torch.Tensor
    accel: float


def make_problem(
    n: int,
    frames: int,
    accel: float,
    seed: int = TEST_SEED,
    noise_std: float = NOISE_STD,
    device: str | torch.device = "cpu",
    x: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
) -> Problem:
    """Cardiac phantom ``seed``, variable-density mask and complex Gaussian k-space noise, both
    seeded from ``seed`` (mask ``1000 + seed``, noise ``2000 + seed``). ``x``/``mask`` given
    (e.g. read from the ``mri-phantoms`` dataset) replace the generated ones."""
    if x is None:
        x = cardiac_phantom(n, frames, seed=seed, device=device)
    x = torch.as_tensor(x, device=device)
    if mask is None:
        mask = variable_density_mask(tuple(x.shape), accel, seed=1000 + seed, device=device)
    mask = torch.as_tensor(mask, device=device).to(torch.bool)
    op = MaskedFourier(mask)
    gen = torch.Generator().manual_seed(2000 + seed)
    noise = torch.randn(x.shape, dtype=torch.complex128, generator=gen).to(device) * noise_std
    y = op(x.to(torch.complex128)) + mask * noise
    return Problem(x=x, mask=mask, op=op, y=y, accel=accel)


def run_method(
    name: str, prob: Problem, params: dict | None = None, solver: dict | None = None
) -> dict:
    """Run one method; returns ``{"x", "seconds", "iterations", "psnr", "ssim", "hfen", "rel_l2"}``.

    ``params`` overrides the tuned weights, ``solver`` the solver options (``max_iter``, ``tol``).
    """
    params = {**TUNED.get(name, {}), **(params or {})}
    solver = solver or {}
    t0 = time.perf_counter()
    iters = 1
    if name == "rdledm":
        cfg = dataclasses.replace(RDLEDMConfig(), **{**params, **solver})
        res = RDLEDM(cfg).reconstruct(prob.y, prob.op)
        xr, iters = res.x, res.history["iterations"]
    elif name == "lowrank":
        cfg = dataclasses.replace(RDLEDMConfig(), **solver)
        res = low_rank_only(prob.y, prob.op, params["lambda_casorati"], cfg)
        xr, iters = res.x, res.history["iterations"]
    elif name == "lps":
        cfg = dataclasses.replace(LPlusSConfig(), **{**params, **solver})
        res = LPlusS(cfg).reconstruct(prob.y, prob.op)
        xr, iters = res.x, res.history["iterations"]
    elif name == "zero_filled":
        xr = zero_filled(prob.y, prob.op)
    else:
        raise ValueError(f"unknown method {name!r}; expected one of {METHODS}")
    sec = time.perf_counter() - t0
    return {
        "x": xr,
        "seconds": sec,
        "iterations": iters,
        "psnr": psnr(xr, prob.x),
        "ssim": ssim(xr, prob.x),
        "hfen": hfen(xr, prob.x),
        "rel_l2": rel_l2(xr.abs(), prob.x),
    }
