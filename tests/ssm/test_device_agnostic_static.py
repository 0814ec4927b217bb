"""Device agnosticism of the SSM helpers without a GPU (``meta`` and a strict same-device check
stand in for CUDA), plus ``gpu`` tests of the same paths for a session with CUDA."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from sciml.ssm import HiPPOProjection, evaluate_forecast, train_forecaster
from sciml.ssm.hippo import legendre_reconstruct
from tests.helpers.devices import strict_devices


def test_legendre_reconstruct_takes_cpu_points_to_the_coefficients_device():
    s = torch.linspace(0.0, 1.0, 7, dtype=torch.float64)  # points built on the CPU
    c_cpu = torch.randn(2, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    ref = legendre_reconstruct(c_cpu, s)
    with strict_devices():
        out = legendre_reconstruct(c_cpu.to("meta"), s)
        out2 = HiPPOProjection(6).to("meta").reconstruct(c_cpu.to("meta"), s)
    assert out.device.type == out2.device.type == "meta" and out.shape == ref.shape == (2, 7)


class _Direct(nn.Module):
    """``(B, lag, C) -> (B, horizon, C)`` by one linear map over the lag."""

    def __init__(self, lag: int, horizon: int):
        super().__init__()
        self.lin = nn.Linear(lag, horizon)

    def forward(self, x, horizon):
        return self.lin(x.transpose(1, 2)).transpose(1, 2)[:, :horizon]


def _windows(n, lag=8, horizon=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(
        torch.randn(n, lag, 1, generator=g), torch.randn(n, horizon, 1, generator=g)
    )


def test_train_forecaster_device_auto_reloads_best_state():
    """``device="auto"`` (a TrainerConfig value) used to reach ``torch.load`` as map_location."""
    torch.manual_seed(0)
    model = _Direct(8, 4)
    res = train_forecaster(
        model, _windows(32), _windows(16, seed=1), epochs=2, batch_size=8, lr=1e-2, device="auto"
    )
    assert res.best_epoch is not None and res.best_val_mse is not None
    assert next(model.parameters()).device.type == ("cuda" if torch.cuda.is_available() else "cpu")


@pytest.mark.gpu
def test_train_forecaster_cuda_and_evaluate_with_cuda_predictions():
    torch.manual_seed(0)
    model = _Direct(8, 4)
    res = train_forecaster(
        model, _windows(32), _windows(16, seed=1), epochs=2, batch_size=8, lr=1e-2, device="cuda"
    )
    assert res.best_epoch is not None
    assert next(model.parameters()).device.type == "cuda"
    x, y = _windows(20, seed=2).tensors  # CPU windows, CUDA predictions
    ev = evaluate_forecast(lambda xb, h: model(xb.cuda(), h), x, y, batch_size=7)
    ref = evaluate_forecast(lambda xb, h: model.cpu()(xb, h), x, y, batch_size=7)
    torch.testing.assert_close(ev["mse"], ref["mse"], rtol=1e-5, atol=1e-7)


@pytest.mark.gpu
def test_legendre_reconstruct_on_cuda_matches_cpu():
    s = torch.linspace(0.0, 1.0, 7, dtype=torch.float64)
    c = torch.randn(2, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = HiPPOProjection(6).cuda().reconstruct(c.cuda(), s)
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), legendre_reconstruct(c, s), rtol=1e-12, atol=1e-12)
