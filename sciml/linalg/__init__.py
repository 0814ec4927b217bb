"""sciml.linalg: Poisson systems on masked grids, CG/PCG/AMG baselines and DCDM."""

from .baselines import BASELINES, solve_baseline, solve_dst
from .coarse import CoarseSpace
from .compare import run_solvers
from .dcdm import DCDMConfig, DCDMSolver, dcdm_solve
from .krylov import cg, pcg
from .lanczos import lanczos
from .loss import DCDMLoss, dcdm_loss
from .network import DCDMNet, DCDMNetConfig
from .preconditioners import IC0, amg, ichol0, jacobi
from .pretrained import load_model, pretrained
from .result import SolveResult
from .ritz import generate_ritz, make_ritz_dataset, ritz_rhs, ritz_vectors, training_system
from .scenes import add_box, add_sphere, box_mask, random_obstacles, smoke_rhs
from .stencil import StencilOperator
from .system import AIR, FLUID, SOLID, PoissonSystem, build_poisson
from .training import DCDMTrainConfig, save_model, train_dcdm

__all__ = [
    "AIR",
    "BASELINES",
    "CoarseSpace",
    "DCDMTrainConfig",
    "FLUID",
    "IC0",
    "SOLID",
    "DCDMConfig",
    "DCDMLoss",
    "DCDMNet",
    "DCDMNetConfig",
    "DCDMSolver",
    "PoissonSystem",
    "SolveResult",
    "StencilOperator",
    "add_box",
    "add_sphere",
    "amg",
    "box_mask",
    "build_poisson",
    "cg",
    "dcdm_loss",
    "dcdm_solve",
    "generate_ritz",
    "load_model",
    "make_ritz_dataset",
    "pretrained",
    "ritz_rhs",
    "ritz_vectors",
    "run_solvers",
    "save_model",
    "solve_baseline",
    "solve_dst",
    "train_dcdm",
    "training_system",
    "ichol0",
    "jacobi",
    "lanczos",
    "pcg",
    "random_obstacles",
    "smoke_rhs",
]
