"""sciml.operators: Latent Spectral Models (LSM), FNO and U-Net baselines, Darcy and
Navier–Stokes data generators, field metrics and training glue for the shared Trainer.

Importing the package registers its datasets ``darcy`` and ``navier-stokes`` with
:mod:`sciml.data` (as declared in ``bench.py``'s ``DATASETS``; :func:`register_datasets` does it
again after an unregister), so ``sciml.data.get_dataset("darcy", "quick")`` works after
``import sciml.operators``.
"""

from .darcy import darcy_operator, darcy_solve, generate_darcy, threshold_permeability
from .datasets import DARCY_SIZES, NS_SIZES, register_datasets
from .fno import FNO, FNOConfig, SpectralConv2d
from .grf import grf_neumann, grf_periodic
from .lsm import LSM, LSMConfig, NeuralSpectralBlock
from .metrics import (
    RelativeL2Loss,
    count_parameters,
    fourier_band_errors,
    max_error,
    nrmse,
    relative_l2,
)
from .navier_stokes import generate_navier_stokes, kolmogorov_forcing, navier_stokes_2d
from .normalization import (
    NormalizedPairs,
    UnitGaussianNormalizer,
    unit_gaussian_frames,
    unit_gaussian_pairs,
)
from .profiling import inference_throughput, peak_memory_mb, reset_peak_memory
from .training import (
    OperatorTrainConfig,
    field_metrics,
    fit_for_time,
    fit_operator,
    rollout,
    rollout_step_fn,
)
from .unet import UNet, UNetConfig

register_datasets()

__all__ = [
    "DARCY_SIZES",
    "FNO",
    "LSM",
    "NS_SIZES",
    "NormalizedPairs",
    "FNOConfig",
    "LSMConfig",
    "NeuralSpectralBlock",
    "OperatorTrainConfig",
    "RelativeL2Loss",
    "SpectralConv2d",
    "UNet",
    "UNetConfig",
    "UnitGaussianNormalizer",
    "count_parameters",
    "darcy_operator",
    "darcy_solve",
    "field_metrics",
    "fit_for_time",
    "fit_operator",
    "fourier_band_errors",
    "generate_darcy",
    "generate_navier_stokes",
    "grf_neumann",
    "grf_periodic",
    "inference_throughput",
    "kolmogorov_forcing",
    "max_error",
    "navier_stokes_2d",
    "nrmse",
    "peak_memory_mb",
    "register_datasets",
    "relative_l2",
    "reset_peak_memory",
    "rollout",
    "rollout_step_fn",
    "threshold_permeability",
    "unit_gaussian_frames",
    "unit_gaussian_pairs",
]
