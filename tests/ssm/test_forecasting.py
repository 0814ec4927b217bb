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
