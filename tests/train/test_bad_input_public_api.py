"""Bad input at the public sciml.train entry points: a clear error that names the argument."""

import math

import pytest
import torch
from torch import nn

from sciml.train import Trainer, TrainerConfig, WeightAverage, load_checkpoint, load_model_state

from ._common import linear, mse, regression_data


def _cfg(**kw):
    return TrainerConfig(**{"progress": False, "epochs": 1, "batch_size": 8, **kw})


@pytest.mark.parametrize("lr", [math.nan, math.inf])
def test_non_finite_learning_rate(lr):
    # torch's SGD accepts a NaN lr; the trainer must not train on with it
    with pytest.raises(ValueError, match="lr"):
        Trainer(linear(), mse, optimizer=lambda p: torch.optim.SGD(p, lr=lr), config=_cfg())


class _NoParams(nn.Module):
    def forward(self, x):
        return x[:, :1]


def test_model_without_parameters():
    with pytest.raises(ValueError, match="model"):
        Trainer(_NoParams(), mse, config=_cfg())


def test_loss_without_graph():
    tr = Trainer(linear(), lambda p, t: torch.tensor(1.0), config=_cfg())
    with pytest.raises(ValueError, match="loss"):
        tr.fit(regression_data(n=8))


@pytest.mark.parametrize("metrics", [[mse], "mse"])
def test_metrics_not_a_mapping(metrics):
    with pytest.raises(TypeError, match="metrics"):
        Trainer(linear(), mse, config=_cfg(), metrics=metrics)


@pytest.mark.parametrize("seed", [2**70, -1])
def test_seed_range(seed):
    with pytest.raises(ValueError, match="seed"):
        _cfg(seed=seed)


def test_weight_average_model():
    with pytest.raises(TypeError, match="model"):
        WeightAverage(None, 0.9)


def test_load_model_state_types():
    with pytest.raises(TypeError, match="state"):
        load_model_state(linear(), None)
    with pytest.raises(TypeError, match="model"):
        load_model_state(None, linear().state_dict())


def test_load_checkpoint_directory(tmp_path):
    with pytest.raises(IsADirectoryError, match="directory"):
        load_checkpoint(tmp_path)
