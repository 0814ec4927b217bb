"""sciml.tensor: FunBaT / FunBaT-CP (functional Bayesian Tucker/CP of continuous-indexed tensors)
with state-space GP priors, conditional EP and parallel-scan Kalman/RTS smoothing; discrete
baselines (ALS Tucker/CP, SVI Bayesian Tucker) and a GP baseline; synthetic data and a table
importer.

Importing the package registers its datasets ``funbat-synthetic`` and ``funbat-rank1`` with
:mod:`sciml.data` (as declared in ``bench.py``'s ``DATASETS``, the entries ``sciml-bench``
registers), so ``sciml.data.get_dataset("funbat-rank1", "quick")`` works after
``import sciml.tensor``.
"""

from . import bench as _bench  # import-light: declares DATASETS for sciml-bench
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


def register_datasets() -> None:
    """Register ``funbat-synthetic`` and ``funbat-rank1`` with :mod:`sciml.data` exactly as ``bench.py`` declares them. Runs
    on import; idempotent (call it again after :func:`sciml.data.unregister_dataset`). A name
    already registered with another generator is left as it is."""
    from sciml.data import register_declared

    register_declared(_bench.DATASETS)


register_datasets()

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
    "register_datasets",
    "state_dim",
    "tucker3_factors",
]
