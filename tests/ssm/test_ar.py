import numpy as np
import pytest
import torch

from sciml.ssm import (
    ar_forecast_mse,
    ar_optimal_forecast,
    generate_ar_dataset,
    simulate_ar,
    stable_ar_coefficients,
)


@pytest.mark.parametrize("p", [1, 2, 5, 16])
def test_coefficients_are_stable(p):
    phi = stable_ar_coefficients(p, seed=p)
    roots = np.roots(np.concatenate([[1.0], -phi]))  # z^p - Σ φ_i z^{p-i}
    assert np.abs(roots).max() < 0.95 + 1e-9


def test_forecast_mse_closed_form_against_monte_carlo():
    phi = stable_ar_coefficients(4, seed=0)
    x = torch.as_tensor(simulate_ar(phi, 60000, sigma=0.7, seed=1))
    lag, h = 16, 6
    n = (x.numel() - lag - h) // (lag + h)
    w = x[: n * (lag + h)].reshape(n, lag + h)
    err = ar_optimal_forecast(torch.as_tensor(phi), w[:, :lag], h) - w[:, lag:]
    mc = (err**2).mean(0).numpy()
    theory = ar_forecast_mse(phi, 0.7, h)
    assert theory[0] == pytest.approx(0.49)
    np.testing.assert_allclose(mc, theory, rtol=0.08)


def test_optimal_forecast_is_the_noise_free_recursion():
    phi = torch.tensor([0.5, -0.2], dtype=torch.float64)
    hist = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    f = ar_optimal_forecast(phi, hist, 2)
    first = 0.5 * 3.0 - 0.2 * 2.0
    assert torch.allclose(f, torch.tensor([[first, 0.5 * first - 0.2 * 3.0]], dtype=torch.float64))


def test_generator_layout():
    out = generate_ar_dataset(0, orders=[2, 3], n_train=50, n_val=20, n_test=10)
    assert out["splits"]["train"]["series_p3"].shape == (50,)
    assert out["splits"]["test"]["series_p2"].shape == (10,)
    assert out["coords"]["phi_p3"].shape == (3,)
