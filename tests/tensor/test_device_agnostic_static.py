"""Device agnosticism of the binned baselines without a GPU: a model fitted on another device
(``meta`` stands in for CUDA) predicts NumPy/CPU indices on its own device, as FunBaT does. The
``gpu`` tests run the same on CUDA where present."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.tensor import CPALS, SVITucker, TuckerALS
from tests.helpers.devices import strict_devices


def _data(n=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 2, generator=g, dtype=torch.float64)
    return X, torch.sin(3 * X[:, 0]) * torch.cos(2 * X[:, 1])


def _move_fitted_state(m, device):
    """The state a fit on ``device`` would have left (every fitted tensor lives on X's device)."""
    m.U = [u.to(device) for u in m.U]
    if getattr(m, "W", None) is not None:
        m.W = m.W.to(device)
    m.binner.lo, m.binner.span = m.binner.lo.to(device), m.binner.span.to(device)
    return m


@pytest.mark.parametrize("cls", [TuckerALS, CPALS])
def test_als_fitted_elsewhere_predicts_numpy_and_cpu_indices_on_its_device(cls):
    X, y = _data()
    m = cls(2, n_bins=4, n_iter=3).fit(X, y)
    ref = m.predict(X)
    assert torch.equal(m.predict(X.numpy()), ref)  # NumPy input: same CPU values
    _move_fitted_state(m, "meta")
    with strict_devices():
        for q in (X.numpy(), X):
            out = m.predict(q)
            assert out.device.type == "meta" and out.shape == ref.shape


@pytest.mark.gpu
@pytest.mark.parametrize("cls", [TuckerALS, CPALS])
def test_als_cuda_fit_predicts_numpy_on_cuda_and_matches_cpu(cls):
    X, y = _data()
    cpu = cls(2, n_bins=4, n_iter=3).fit(X, y)
    gpu = cls(2, n_bins=4, n_iter=3).fit(X.cuda(), y.cuda())
    out = gpu.predict(X.numpy())
    assert out.device.type == "cuda"
    torch.testing.assert_close(out.cpu(), cpu.predict(X), rtol=1e-9, atol=1e-10)
    assert gpu.rmse(X.numpy(), y.numpy()) == pytest.approx(cpu.rmse(X, y), rel=1e-8)


@pytest.mark.gpu
def test_svi_tucker_cuda_fit_predicts_numpy_indices():
    pytest.importorskip("pyro")
    X, y = _data()
    m = SVITucker(rank=2, n_bins=4, steps=5, batch_size=None, num_samples=2)
    m.fit(X.cuda(), y.cuda())
    out = m.predict(np.asarray(X))
    assert out.device.type == "cuda" and out.shape == (X.shape[0],)
    assert np.isfinite(m.rmse(X.numpy(), y.numpy()))
