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


def test_optimal_forecast_and_its_mse_from_companion_matrix_powers():
    """State-space form of AR(p): ``s_t = (x_t, …, x_{t-p+1})``, ``s_{t+1} = F s_t + e_1 ε``.
    The conditional mean at step h is ``e_1ᵀ F^h s_t`` and its error variance
    ``σ² Σ_{j<h} (e_1ᵀ F^j e_1)²`` — explicit matrix powers, no recursion shared with the code."""
    phi = stable_ar_coefficients(5, seed=3)
    p, h, sigma = 5, 12, 0.6
    F = np.zeros((p, p))
    F[0] = phi
    F[1:, :-1] = np.eye(p - 1)
    hist = np.random.default_rng(0).normal(size=(4, 9))
    s = hist[:, ::-1][:, :p]  # most recent first
    ref = np.stack([s @ np.linalg.matrix_power(F, j).T[:, 0] for j in range(1, h + 1)], -1)
    got = ar_optimal_forecast(torch.as_tensor(phi), torch.as_tensor(hist), h).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)
    psi = [np.linalg.matrix_power(F, j)[0, 0] for j in range(h)]
    np.testing.assert_allclose(
        ar_forecast_mse(phi, sigma, h), sigma**2 * np.cumsum(np.square(psi)), rtol=1e-12
    )
