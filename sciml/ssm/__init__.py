"""sciml.ssm: state-space sequence models — HiPPO, S4 (DPLR), S4D, SpaceTime (companion SSM).

Importing the package registers its dataset ``ssm-ar`` with :mod:`sciml.data` (as declared in
``bench.py``'s ``DATASETS``, the entry ``sciml-bench`` registers), so
``sciml.data.get_dataset("ssm-ar", "quick")`` works after ``import sciml.ssm``.
"""

from . import bench as _bench  # import-light: declares DATASETS for sciml-bench
from .ar import (
    ar_forecast_mse,
    ar_optimal_forecast,
    generate_ar_dataset,
    simulate_ar,
    stable_ar_coefficients,
)
from .closed_loop import ClosedLoopCompanionSSM, ClosedLoopOutput
from .companion import (
    CompanionConfig,
    CompanionSSM,
    ShiftSSM,
    companion_kernel,
    companion_matrix,
    companion_power_apply,
    normalize_companion,
    shift_kernel,
    shift_lowrank_kernel,
)
from .compare import block_bootstrap_means, mse_ratio_ci
from .figures import forecast_figure, ratio_figure
from .forecasting import (
    LinearAR,
    S4DForecaster,
    S4DForecasterConfig,
    evaluate_forecast,
    forecast_step_fn,
    last_value_forecast,
    stack_windows,
)
from .hippo import (
    HiPPOProjection,
    fourier_reconstruct,
    hippo_matrices,
    hippo_nplr,
    hippo_rank_correction,
    legendre_reconstruct,
)
from .preprocess import Preprocess, differencing_kernel, moving_average_residual_kernel
from .reference import ssm_kernel_naive, ssm_kernel_squaring
from .s4 import S4, S4Config, cauchy, dplr_dense, dplr_kernel
from .s4d import S4D, S4DConfig, s4d_discretize, s4d_init, s4d_kernel
from .spacetime import (
    SpaceTime,
    SpaceTimeConfig,
    SpaceTimeLoss,
    SpaceTimeOutput,
    SpaceTimeState,
    spacetime_step_fn,
)
from .training import FitResult, forecast_mse, train_forecaster


def register_datasets() -> None:
    """Register ``ssm-ar`` with :mod:`sciml.data` exactly as ``bench.py`` declares it. Runs
    on import; idempotent (call it again after :func:`sciml.data.unregister_dataset`). A name
    already registered with another generator is left as it is."""
    from sciml.data import register_declared

    register_declared(_bench.DATASETS)


register_datasets()

__all__ = [
    "S4",
    "S4D",
    "ClosedLoopCompanionSSM",
    "ClosedLoopOutput",
    "FitResult",
    "CompanionConfig",
    "CompanionSSM",
    "HiPPOProjection",
    "LinearAR",
    "Preprocess",
    "S4Config",
    "S4DConfig",
    "S4DForecaster",
    "S4DForecasterConfig",
    "ShiftSSM",
    "SpaceTime",
    "SpaceTimeConfig",
    "SpaceTimeLoss",
    "SpaceTimeOutput",
    "SpaceTimeState",
    "ar_forecast_mse",
    "ar_optimal_forecast",
    "block_bootstrap_means",
    "cauchy",
    "companion_kernel",
    "companion_matrix",
    "companion_power_apply",
    "differencing_kernel",
    "dplr_dense",
    "dplr_kernel",
    "evaluate_forecast",
    "forecast_figure",
    "forecast_mse",
    "forecast_step_fn",
    "generate_ar_dataset",
    "hippo_matrices",
    "hippo_nplr",
    "hippo_rank_correction",
    "last_value_forecast",
    "legendre_reconstruct",
    "fourier_reconstruct",
    "moving_average_residual_kernel",
    "mse_ratio_ci",
    "normalize_companion",
    "ratio_figure",
    "register_datasets",
    "s4d_discretize",
    "s4d_init",
    "s4d_kernel",
    "shift_kernel",
    "shift_lowrank_kernel",
    "simulate_ar",
    "spacetime_step_fn",
    "ssm_kernel_naive",
    "stack_windows",
    "ssm_kernel_squaring",
    "stable_ar_coefficients",
    "train_forecaster",
]
