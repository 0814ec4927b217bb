import numpy as np
import pytest
import torch

from sciml.ssm import (
    LinearAR,
    S4DForecaster,
    S4DForecasterConfig,
    evaluate_forecast,
    last_value_forecast,
)


def test_linear_ar_recovers_exact_linear_map():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(300, 10, 2, dtype=torch.float64, generator=g)
    W = torch.randn(3, 4, dtype=torch.float64, generator=g)
    y = torch.einsum("hp,bpc->bhc", W, x[:, -4:]) + 0.25
    model = LinearAR(4, ridge=0.0).fit(x, y)
    assert torch.allclose(model.predict(x), y, atol=1e-9)


def test_last_value_and_evaluate():
    x = torch.arange(12.0).reshape(2, 3, 2)
    y = torch.ones(2, 4, 2)
    f = last_value_forecast(x, 4)
    assert torch.equal(f[:, 2], x[:, -1])
    ev = evaluate_forecast(last_value_forecast, x, y, batch_size=1)
    ref = ((f - y) ** 2).mean(-1).mean(0).double()
    assert torch.allclose(ev["mse"], ref)
    assert torch.allclose(ev["mae"], (f - y).abs().mean(-1).mean(0).double())


def test_s4d_forecaster_is_causal_in_the_history():
    model = (
        S4DForecaster(S4DForecasterConfig(n_channels=2, d_model=8, d_state=8, dropout=0.0), seed=0)
        .double()
        .eval()
    )
    x = torch.randn(3, 20, 2, dtype=torch.float64)
    y = model(x, 5)
    assert y.shape == (3, 5, 2)
    # changing the history changes the forecast; the model never sees the future (zeros + mask)
    x2 = x.clone()
    x2[:, 3] += 1.0
    assert not torch.allclose(model(x2, 5), y)
    assert torch.allclose(
        model(x, 7)[:, :5], y, atol=1e-10
    )  # longer horizon: same first steps (causal)


def test_linear_ar_ridge_equals_numpy_normal_equations():
    """Noisy data, ridge > 0: ``W`` minimises ``‖F w - Y‖² + ridge·n·‖w‖²`` (intercept included),
    with F the last ``order`` lags of every channel plus a column of ones — solved by
    ``np.linalg.lstsq`` on the stacked system ``[F; √(ridge·n) I]``."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 9, 2)) + 0.3
    y = rng.normal(size=(120, 4, 2))
    order, ridge = 5, 0.05
    model = LinearAR(order, ridge=ridge).fit(torch.as_tensor(x), torch.as_tensor(y))
    F = np.concatenate([x[:, -order:, c] for c in range(2)])  # (n * C, p), rows window-major
    Y = np.concatenate([y[:, :, c] for c in range(2)])
    F = np.hstack([F, np.ones((F.shape[0], 1))])
    lam = np.sqrt(ridge * F.shape[0])
    W, *_ = np.linalg.lstsq(
        np.vstack([F, lam * np.eye(order + 1)]), np.vstack([Y, np.zeros((order + 1, 4))])
    )
    np.testing.assert_allclose(model.W.numpy(), W, rtol=1e-10, atol=1e-12)
    pred = model.predict(torch.as_tensor(x)).numpy()
    for c in range(2):
        np.testing.assert_allclose(pred[:, :, c], F[c * 120 : (c + 1) * 120] @ W, atol=1e-12)


def test_evaluate_forecast_equals_explicit_loops():
    """Per-step MSE/MAE (mean over windows and channels) and each window's MSE against plain
    Python loops, with a last batch smaller than ``batch_size``."""
    rng = np.random.default_rng(1)
    x = torch.as_tensor(rng.normal(size=(7, 5, 3)))
    y = torch.as_tensor(rng.normal(size=(7, 4, 3)))

    def predict(xb, h):
        return xb[:, -1:].expand(-1, h, -1) * 0.5 + xb[:, :h] ** 2

    ev = evaluate_forecast(predict, x, y, batch_size=3)
    p = predict(x, 4).numpy()
    yn = y.numpy()
    for j in range(4):
        errs = [p[i, j, c] - yn[i, j, c] for i in range(7) for c in range(3)]
        assert float(ev["mse"][j]) == pytest.approx(sum(e * e for e in errs) / 21, rel=1e-12)
        assert float(ev["mae"][j]) == pytest.approx(sum(abs(e) for e in errs) / 21, rel=1e-12)
    for i in range(7):
        se = sum((p[i, j, c] - yn[i, j, c]) ** 2 for j in range(4) for c in range(3))
        assert float(ev["window_mse"][i]) == pytest.approx(se / 12, rel=1e-12)
    assert ev["window_mse"].shape == (7,)
