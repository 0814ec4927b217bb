"""Bad input at the public SSM entry points: a ValueError/TypeError that names the argument."""

import math

import numpy as np
import pytest
import torch

from sciml.ssm import (
    S4D,
    S4DConfig,
    S4DForecaster,
    S4DForecasterConfig,
    SpaceTime,
    SpaceTimeConfig,
    last_value_forecast,
    s4d_kernel,
    simulate_ar,
)


@pytest.mark.parametrize("chunk", [0, -1, 1.5, None])
def test_s4d_chunk(chunk):
    with pytest.raises(ValueError, match="chunk"):
        S4D(4, S4DConfig(d_state=4, chunk=chunk), seed=0)


def test_s4d_kernel_chunk():
    c = torch.ones(2, 3, dtype=torch.complex64)
    with pytest.raises(ValueError, match="chunk"):
        s4d_kernel(c, 0.5 * c, c, 8, chunk=0)


@pytest.mark.parametrize("n_layers", [0, -1, 1.5])
def test_s4d_forecaster_n_layers(n_layers):
    with pytest.raises(ValueError, match="n_layers"):
        S4DForecaster(S4DForecasterConfig(d_model=4, d_state=4, n_layers=n_layers), seed=0)


@pytest.mark.parametrize("mlp_ratio", [0, -1, 1.5])
def test_spacetime_mlp_ratio(mlp_ratio):
    cfg = SpaceTimeConfig(d_model=8, d_state=4, ma_windows=(2,), mlp_ratio=mlp_ratio)
    with pytest.raises(ValueError, match="mlp_ratio"):
        SpaceTime(cfg, seed=0)


def test_spacetime_integer_input():
    cfg = SpaceTimeConfig(d_model=8, d_state=4, ma_windows=(2,), diff_orders=(0, 1))
    model = SpaceTime(cfg, seed=0)
    with pytest.raises(TypeError, match=r"\bx\b"):
        model(torch.ones(2, 16, 1, dtype=torch.int64), 4)


@pytest.mark.parametrize(
    "x", [torch.randn(8, 1), torch.randn(1, 2, 8, 1), torch.randn(2, 0, 1), [[1.0]]]
)
def test_last_value_forecast_x(x):
    with pytest.raises(ValueError, match=r"\bx\b"):
        last_value_forecast(x, 3)


@pytest.mark.parametrize("horizon", [0, -1, 1.5])
def test_last_value_forecast_horizon(horizon):
    with pytest.raises(ValueError, match="horizon"):
        last_value_forecast(torch.randn(2, 8, 1), horizon)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(phi=np.float64(0.5)), "phi"),
        (dict(phi=np.array([])), "phi"),
        (dict(phi=np.array([0.5, math.nan])), "phi"),
        (dict(phi=np.zeros((2, 2))), "phi"),
        (dict(sigma=math.nan), "sigma"),
        (dict(sigma=-1.0), "sigma"),
        (dict(sigma=math.inf), "sigma"),
        (dict(T=0), "T"),
        (dict(T=2.5), "T"),
        (dict(burn_in=-1), "burn_in"),
    ],
)
def test_simulate_ar(kwargs, name):
    args = dict(phi=np.array([0.5, -0.2]), T=20, burn_in=5) | kwargs
    with pytest.raises(ValueError, match=name):
        simulate_ar(**args)


def test_simulate_ar_numpy_scalars_accepted():
    x = simulate_ar(np.array([0.5]), np.int64(10), sigma=np.float32(0.5), burn_in=np.int64(3))
    assert x.shape == (10,) and np.isfinite(x).all()
