"""sciml.tensor: FunBaT / FunBaT-CP (functional Bayesian Tucker/CP of continuous-indexed tensors)
with state-space GP priors, conditional EP and parallel-scan Kalman/RTS smoothing; discrete
baselines (ALS Tucker/CP, SVI Bayesian Tucker) and a GP baseline; synthetic data and a table
importer."""

from .als import CPALS, TuckerALS
from .chain import ModeChain
from .config import FunBaTConfig
from .funbat import FunBaT
from .funbat_cp import FunBaTCP
from .gp_baseline import GPBaseline
from .kalman import SmootherResult, kalman_smoother
from .sde import MaternSDE, discretise, matern_sde, state_dim
from .svi_tucker import SVITucker
from .synthetic import (
    TUCKER3_CORE,
    load_entries,
    make_rank1_cp,
    make_tucker3,
    tucker3_factors,
)
from .table import TensorTable, read_table

__all__ = [
    "CPALS",
    "TUCKER3_CORE",
    "FunBaT",
    "FunBaTCP",
    "FunBaTConfig",
    "GPBaseline",
    "MaternSDE",
    "ModeChain",
    "SVITucker",
    "SmootherResult",
    "TensorTable",
    "TuckerALS",
    "discretise",
    "kalman_smoother",
    "load_entries",
    "make_rank1_cp",
    "make_tucker3",
    "matern_sde",
    "read_table",
    "state_dim",
    "tucker3_factors",
]
