"""Dynamic imaging: linear operators (``linop``), proximal maps (``prox``), PDHG (``alg``),
reconstructions (RDLEDM, L+S, baselines: ``app``), masks, phantoms and metrics."""

from . import datasets  # noqa: F401  (registers the "mri-phantoms" dataset generator)
from .baselines import low_rank_only, zero_filled
from .coils import birdcage_maps
from .finite_diff import FiniteDifference, Gradient, gradient
from .fourier import MaskedFourier, MultiCoilFourier
from .linop import (
    Add,
    Compose,
    Hstack,
    Identity,
    Linop,
    Scale,
    Vstack,
    Zero,
    lanczos_norm,
    power_norm,
)
from .lps import LPlusS, LPlusSConfig, LPlusSResult
from .masks import radial_mask, variable_density_mask
from .metrics import hfen, psnr, psnr_frames, rel_l2, ssim, ssim_frames
from .pdhg import PDHGHistory, PrimalDualHybridGradient
from .phantoms import cardiac_phantom, deforming_phantom
from .prox import (
    group_soft_threshold,
    nuclear_norm,
    project_l2_ball,
    project_linf_ball,
    project_spectral_ball,
    prox_sq_l2_conj,
    soft_threshold,
    svd,
    svt,
)
from .rdledm import RDLEDM, RDLEDMConfig, RDLEDMResult
from .unfold import Unfolding, casorati, spatial_unfolding

__all__ = [
    "RDLEDM",
    "Add",
    "Compose",
    "FiniteDifference",
    "Gradient",
    "Hstack",
    "Identity",
    "LPlusS",
    "LPlusSConfig",
    "LPlusSResult",
    "Linop",
    "MaskedFourier",
    "MultiCoilFourier",
    "PDHGHistory",
    "PrimalDualHybridGradient",
    "RDLEDMConfig",
    "RDLEDMResult",
    "Scale",
    "Unfolding",
    "Vstack",
    "Zero",
    "birdcage_maps",
    "cardiac_phantom",
    "casorati",
    "deforming_phantom",
    "gradient",
    "group_soft_threshold",
    "hfen",
    "low_rank_only",
    "nuclear_norm",
    "lanczos_norm",
    "power_norm",
    "project_l2_ball",
    "project_linf_ball",
    "project_spectral_ball",
    "prox_sq_l2_conj",
    "psnr",
    "psnr_frames",
    "radial_mask",
    "rel_l2",
    "soft_threshold",
    "spatial_unfolding",
    "ssim",
    "ssim_frames",
    "svd",
    "svt",
    "variable_density_mask",
    "zero_filled",
]
