"""sciml.gp: GP-HM, spectral-mixture Gaussian-process PDE solver on Kronecker grids (JAX)."""

from .problems import PROBLEMS, PDEProblem, get_problem, list_problems, parse_field
from .solver import GPHMConfig, GPHMSolution, GPHMSolver, spectral_density
from .spectral import KERNEL_KINDS, SpectralKernel, kernel_matrix, prune_mask

__all__ = [
    "KERNEL_KINDS",
    "PROBLEMS",
    "GPHMConfig",
    "GPHMSolution",
    "GPHMSolver",
    "PDEProblem",
    "SpectralKernel",
    "get_problem",
    "kernel_matrix",
    "list_problems",
    "parse_field",
    "prune_mask",
    "spectral_density",
]
