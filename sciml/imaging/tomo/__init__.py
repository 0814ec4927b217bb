"""Dynamic tomography and RED-PSM: matrix-free Radon, FBP, spline PSM, DnCNN, ADMM."""

from .dncnn import DnCNN, FrameDenoiser, load_denoiser
from .fbp import fbp, ramp_filter, sliding_window_fbp
from .psm import PSM, fov_mask
from .radon import Radon, acquisition_angles, add_noise, bit_reversal_order
from .redpsm import REDPSM, REDPSMConfig, REDPSMResult, check_sinogram, psm_only, red_step
from .splines import spline_matrix

__all__ = [
    "PSM",
    "REDPSM",
    "DnCNN",
    "FrameDenoiser",
    "REDPSMConfig",
    "REDPSMResult",
    "Radon",
    "acquisition_angles",
    "add_noise",
    "bit_reversal_order",
    "check_sinogram",
    "fbp",
    "fov_mask",
    "load_denoiser",
    "psm_only",
    "ramp_filter",
    "red_step",
    "sliding_window_fbp",
    "spline_matrix",
]
