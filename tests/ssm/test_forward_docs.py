"""The forecasters' ``forward`` methods say what they return (SpaceTime: a tuple whose
``.forecast`` is the prediction; S4DForecaster: the forecast tensor itself)."""

import inspect

from sciml.ssm import S4DForecaster, SpaceTime, SpaceTimeOutput


def test_spacetime_forward_is_documented():
    doc = inspect.getdoc(SpaceTime.forward)
    assert doc is not None
    for word in ("(B, lag, C)", "horizon", "forecast (B, horizon, C)", "one_step", "next_input",
                 "true_input", "subtract_lag_mean", "SpaceTimeLoss"):  # fmt: skip
        assert word in doc, word
    fields = inspect.getdoc(SpaceTimeOutput)
    assert all(f in fields for f in SpaceTimeOutput._fields)


def test_s4d_forecaster_forward_says_it_returns_the_tensor():
    doc = inspect.getdoc(S4DForecaster.forward)
    assert doc is not None and "forecast tensor itself" in doc and "SpaceTimeOutput" in doc
