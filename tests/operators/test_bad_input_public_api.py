"""Bad input at the public operator-training entry points: errors that name the argument."""

import math

import pytest
import torch
from torch.utils.data import TensorDataset

from sciml.operators import FNO, OperatorTrainConfig, fit_for_time, fit_operator


def _setup():
    ds = TensorDataset(torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8))
    model = FNO(modes=2, width=4, layers=1, head_width=4, padding=0)
    return model, ds


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(step_size=0), "step_size"),
        (dict(step_size=-3), "step_size"),
        (dict(step_size=2.5), "step_size"),
        (dict(gamma=math.nan), "gamma"),
        (dict(gamma=0.0), "gamma"),
        (dict(gamma=-0.5), "gamma"),
        (dict(gamma=math.inf), "gamma"),
    ],
)
@pytest.mark.parametrize("entry", ["fit_operator", "fit_for_time"])
def test_schedule_fields(kwargs, name, entry):
    model, ds = _setup()
    cfg = OperatorTrainConfig(epochs=1, batch_size=2, progress=False, **kwargs)
    with pytest.raises(ValueError, match=name):
        if entry == "fit_operator":
            fit_operator(model, ds, None, cfg)
        else:
            fit_for_time(model, ds, 1.0, cfg)
