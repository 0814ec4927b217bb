"""LSM / U-Net on small grids with a batch of one: a clear error in training mode, and
``OperatorTrainConfig(drop_last=True)`` to train on data whose last batch holds one sample."""

import pytest
import torch
from torch.utils.data import TensorDataset

from sciml.operators import LSM, OperatorTrainConfig, UNet, fit_operator


def _small(model_cls):
    torch.manual_seed(0)
    return model_cls(width=8)


@pytest.mark.parametrize("model_cls", [LSM, UNet])
@pytest.mark.parametrize("size", [16, 12, 5])
def test_train_mode_batch_of_one_on_a_grid_padded_to_16_is_a_clear_error(model_cls, size):
    model = _small(model_cls).train()
    with pytest.raises(ValueError, match=f"{model_cls.__name__}: in training mode a batch of one"):
        model(torch.randn(1, 1, size, size))


@pytest.mark.parametrize("model_cls", [LSM, UNet])
def test_batch_of_one_works_where_batchnorm_sees_more_than_one_value(model_cls):
    model = _small(model_cls)
    model.train()
    assert model(torch.randn(2, 1, 16, 16)).shape == (2, 1, 16, 16)  # two samples
    assert model(torch.randn(1, 1, 17, 16)).shape == (1, 1, 17, 16)  # padded 32x16: 2x1 coarsest
    model.eval()
    assert model(torch.randn(1, 1, 16, 16)).shape == (1, 1, 16, 16)  # running statistics


def test_drop_last_trains_on_data_with_a_last_batch_of_one():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(5, 1, 16, 16, generator=g)
    ds = TensorDataset(x, 0.5 * x)
    cfg = OperatorTrainConfig(epochs=2, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="drop_last=True"):
        fit_operator(_small(UNet), ds, None, cfg)
    model = _small(UNet)
    steps = []
    model.register_forward_hook(lambda m, i, o: steps.append(m.training and i[0].shape[0]))
    cfg = OperatorTrainConfig(epochs=2, batch_size=4, progress=False, drop_last=True)
    fit_operator(model, ds, None, cfg)
    assert steps == [4, 4]  # one full batch per epoch; the single leftover sample is dropped
