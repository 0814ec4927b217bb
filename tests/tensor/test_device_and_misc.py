"""Device agnosticism (GPU where present), shaped synthetic tensors, predictive noise."""

import numpy as np
import pytest
import torch

from sciml.tensor import FunBaT, FunBaTConfig, FunBaTCP
from sciml.tensor.synthetic import make_shaped_tensor, make_tucker3


def test_shaped_tensor_has_requested_unique_counts():
    x, y = make_shaped_tensor((7, 11, 13), 200, rank=2, seed=0)
    assert x.shape == (200, 3) and y.shape == (200,)
    assert [len(np.unique(x[:, k])) for k in range(3)] == [7, 11, 13]


def test_include_noise_adds_inverse_tau():
    d = make_tucker3(n=200, noise=0.1, seed=0)
    m = FunBaT(FunBaTConfig(rank=2, epochs=3, lengthscale=(0.2, 0.3, 0.4))).fit(
        d["x_train"], d["y_train"]
    )
    _, v = m.predict(d["x_test"], return_var=True)
    _, vn = m.predict(d["x_test"], return_var=True, include_noise=True)
    assert torch.allclose(vn - v, torch.full_like(v, 1.0 / m.tau))


@pytest.mark.gpu
@pytest.mark.parametrize("cls", [FunBaT, FunBaTCP])
def test_cuda_matches_cpu(cls):
    d = make_tucker3(n=400, noise=0.1, seed=1)
    cfg = FunBaTConfig(rank=2, nu=1.5, epochs=5, chunk_size=97)
    Xc, yc = torch.as_tensor(d["x_train"]), torch.as_tensor(d["y_train"])
    m_cpu = cls(cfg).fit(Xc, yc)
    m_gpu = cls(cfg).fit(Xc.cuda(), yc.cuda())
    Xq = torch.as_tensor(d["x_test"])
    mu_c, v_c = m_cpu.predict(Xq, return_var=True)
    mu_g, v_g = m_gpu.predict(Xq.cuda(), return_var=True)
    assert mu_g.device.type == "cuda"
    assert torch.allclose(mu_g.cpu(), mu_c, atol=1e-8)
    assert torch.allclose(v_g.cpu(), v_c, atol=1e-8)
