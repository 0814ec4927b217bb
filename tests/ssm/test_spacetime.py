import numpy as np
import pytest
import torch

from sciml.ssm import (
    SpaceTime,
    SpaceTimeConfig,
    SpaceTimeLoss,
    SpaceTimeOutput,
    ar_optimal_forecast,
    simulate_ar,
    spacetime_step_fn,
    stable_ar_coefficients,
)


def test_decoder_expresses_bayes_optimal_ar_predictor():
    """With a = 0, b = c = e_0 and k = φ the closed loop iterates the AR recursion exactly."""
    p, d, lag, horizon = 4, 8, 32, 12
    phi = stable_ar_coefficients(p, seed=0)
    cfg = SpaceTimeConfig(d_model=1, d_state=d, n_encoder=0, subtract_lag_mean=False)
    model = SpaceTime(cfg, seed=0).double()
    with torch.no_grad():
        dec = model.decoder
        dec.a.zero_()
        dec.b.zero_()[:, 0] = 1
        dec.c.zero_()[:, 0] = 1
        dec.k.zero_()[:, :p] = torch.as_tensor(phi)
        model.output.weight.fill_(1.0)
        model.output.bias.zero_()
    x = torch.as_tensor(simulate_ar(phi, 5 * lag, seed=1)).reshape(5, lag, 1)
    out = model(x, horizon)
    ref = ar_optimal_forecast(torch.as_tensor(phi), x[..., 0], horizon)[..., None]
    assert torch.allclose(out.forecast, ref, atol=1e-10)
    # open-loop one-step forecasts over the lag are the one-step optimal predictions
    one_ref = torch.stack(
        [
            ar_optimal_forecast(torch.as_tensor(phi), x[:, : n + 1, 0], 1)[:, 0]
            for n in range(p - 1, lag - 1)
        ],
        1,
    )
    assert torch.allclose(out.one_step[:, p - 1 :, 0], one_ref, atol=1e-10)
    assert torch.allclose(out.next_input[:, p - 1 :, 0], one_ref, atol=1e-10)


def test_balanced_loss_is_log_likelihood_of_data_terms():
    cfg = SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0)
    model = SpaceTime(cfg, seed=0).double()
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 20, 1, dtype=torch.float64, generator=g)
    y = torch.randn(5, 6, 1, dtype=torch.float64, generator=g)
    out = model(x, 6)
    loss = SpaceTimeLoss((0.5, 2.0, 3.0), balance=True)(out, (x, y))
    f, t = out.forecast.detach().numpy(), y.numpy()
    per_step = ((f - t) ** 2).mean(axis=(0, 2))  # MSE of each horizon step
    ref = (
        0.5 * np.log(per_step).mean()
        + 2.0 * np.log(((out.one_step.detach().numpy() - x[:, 1:].numpy()) ** 2).mean())
        + 3.0 * ((out.next_input - out.true_input).detach().numpy() ** 2).mean()
    )
    assert abs(float(loss.detach()) - ref) < 1e-10
    # gradient of a log-MSE term = grad(MSE) / MSE
    w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    a = torch.randn(7, 3, 1, dtype=torch.float64, generator=g)

    fake = SpaceTimeOutput(a + w, a[:, :2], a[:, :2], a[:, :2])
    SpaceTimeLoss((1.0, 0.0, 0.0), balance=True)(fake, (a, torch.zeros_like(a))).backward()
    m = (a**2).mean((0, 2))
    assert abs(float(w.grad) - float((2 * a.mean((0, 2)) / m).mean())) < 1e-10


def test_multivariate_shapes_and_loss_terms():
    cfg = SpaceTimeConfig(n_channels=3, d_model=12, d_state=8, dropout=0.0)
    model = SpaceTime(cfg, seed=0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 30, 3, generator=g), torch.randn(4, 7, 3, generator=g)
    out, target = spacetime_step_fn(model, (x, y))
    assert out.forecast.shape == (4, 7, 3) and out.one_step.shape == (4, 29, 3)
    loss = SpaceTimeLoss((0.5, 2.0, 3.0))(out, target)
    mse = lambda a, b: ((a - b) ** 2).mean()  # noqa: E731
    ref = (
        0.5 * mse(out.forecast, y)
        + 2.0 * mse(out.one_step, x[:, 1:])
        + 3.0 * mse(out.next_input, out.true_input)
    )
    assert torch.allclose(loss, ref)
    loss.backward()
    assert all(
        p.grad is not None and torch.isfinite(p.grad).all()
        for p in model.parameters()
        if p.requires_grad
    )
    lin = SpaceTime(SpaceTimeConfig(n_channels=5, d_model=8, d_state=4, embedding="linear"), seed=0)
    assert lin(torch.randn(2, 20, 5), 3).forecast.shape == (2, 3, 5)


def test_lag_mean_subtraction_is_shift_equivariant():
    model = SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0), seed=0).double().eval()
    x = torch.randn(2, 24, 1, dtype=torch.float64)
    a = model(x, 5).forecast
    b = model(x + 3.0, 5).forecast
    assert torch.allclose(b - a, torch.full_like(a, 3.0), atol=1e-10)


def test_squaring_kernel_method_gives_the_same_forecast():
    x = torch.randn(2, 40, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    out = []
    for method in ("fast", "squaring"):
        cfg = SpaceTimeConfig(d_model=8, d_state=8, dropout=0.0, kernel_method=method)
        out.append(SpaceTime(cfg, seed=0).double().eval()(x, 6).forecast.detach())
    torch.testing.assert_close(out[1], out[0], rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="kernel_method"):
        SpaceTime(SpaceTimeConfig(d_model=4, d_state=4, kernel_method="dense"))


def test_bad_inputs():
    with pytest.raises(ValueError, match="d_model"):
        SpaceTime(SpaceTimeConfig(n_channels=3, d_model=8))
    with pytest.raises(ValueError, match="x: expected shape"):
        SpaceTime(SpaceTimeConfig(d_model=4, d_state=4))(torch.zeros(2, 10, 2), 3)
    with pytest.raises(ValueError, match="weights"):
        SpaceTimeLoss((1.0, 1.0))
    assert np.isfinite(stable_ar_coefficients(3)).all()


def test_rmse_loss_is_root_of_each_term():
    model = SpaceTime(SpaceTimeConfig(d_model=4, d_state=8, dropout=0.0, loss="rmse"), seed=0)
    model = model.double()
    g = torch.Generator().manual_seed(2)
    x = torch.randn(3, 18, 1, dtype=torch.float64, generator=g)
    y = torch.randn(3, 5, 1, dtype=torch.float64, generator=g)
    out = model(x, 5)
    loss = SpaceTimeLoss((0.5, 2.0, 3.0), criterion="rmse")(out, (x, y))
    d = lambda a, b: float(np.sqrt(((a.detach().numpy() - b.detach().numpy()) ** 2).mean()))  # noqa: E731
    ref = (
        0.5 * d(out.forecast, y)
        + 2.0 * d(out.one_step, x[:, 1:])
        + 3.0 * d(out.next_input, out.true_input)
    )
    assert abs(float(loss.detach()) - ref) < 1e-10
    with pytest.raises(ValueError, match="criterion"):
        SpaceTimeLoss(criterion="mae")
    with pytest.raises(ValueError, match="criterion"):
        SpaceTimeLoss(balance=True, criterion="rmse")
    with pytest.raises(ValueError, match="loss"):
        SpaceTime(SpaceTimeConfig(d_model=4, d_state=4, loss="l1"))


def _max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 1e-5)], ids=["f64", "f32"]
)
@pytest.mark.parametrize(
    "cfg",
    [
        SpaceTimeConfig(d_model=8, d_state=8, dropout=0.25),
        SpaceTimeConfig(
            n_channels=3,
            d_model=6,
            d_state=5,
            n_encoder=2,
            embedding="linear",
            decoder_init="random",
            norm="l1",
        ),
    ],
    ids=["etth1-like", "multivariate-2-blocks"],
)
def test_step_mode_equals_conv_mode(cfg, dtype, tol):
    """The whole model stepped one sample at a time (every layer's recurrence, closed-loop
    rollout) gives the conv-mode outputs: forecast, one-step, next-input and encoder output."""
    model = SpaceTime(cfg, seed=0).to(dtype).eval()
    g = torch.Generator().manual_seed(4)
    x = torch.randn(3, 37, cfg.n_channels, generator=g).to(dtype).cumsum(1) * 0.3
    with torch.no_grad():
        conv = model(x, 11)
        step, state = model.forward_recurrent(x, 11)
    for name in SpaceTimeOutput._fields:
        a, b = getattr(step, name), getattr(conv, name)
        assert a.shape == b.shape, name
        assert _max_rel(a, b) < tol, name
    assert state.decoder.shape == (3, cfg.d_model, cfg.d_state)


def test_step_mode_streams_across_calls():
    """Fed in three pieces with the state carried, the outputs are those of one conv-mode call
    on the whole sequence; the one-step prediction at a piece's end is ``forecast[:, 0]``."""
    cfg = SpaceTimeConfig(d_model=8, d_state=6, subtract_lag_mean=False)
    model = SpaceTime(cfg, seed=1).double().eval()
    x = torch.randn(2, 30, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        full = model(x, 7)
        state, one_step, true_input = None, [], []
        for a, b in [(0, 1), (1, 12), (12, 30)]:
            piece, state = model.forward_recurrent(x[:, a:b], 7, state)
            one_step += [piece.one_step, piece.forecast[:, :1]]
            true_input.append(piece.true_input)
    torch.testing.assert_close(piece.forecast, full.forecast, rtol=0, atol=1e-10)
    torch.testing.assert_close(torch.cat(one_step[:-1], 1), full.one_step, rtol=0, atol=1e-10)
    # the encoder outputs at the pieces' first samples are not in true_input (it starts at 1)
    assert piece.true_input.shape == (2, 17, 8)
    torch.testing.assert_close(piece.true_input, full.true_input[:, -17:], rtol=0, atol=1e-10)
    with pytest.raises(ValueError, match="subtract_lag_mean"):
        SpaceTime(SpaceTimeConfig(d_model=4, d_state=4)).forward_recurrent(
            torch.zeros(1, 5, 1), 2, state
        )
    with pytest.raises(ValueError, match="horizon"):
        model.forward_recurrent(x, 0)
    with pytest.raises(ValueError, match="x: expected shape"):
        model.forward_recurrent(torch.zeros(1, 5, 2, dtype=torch.float64), 2)
