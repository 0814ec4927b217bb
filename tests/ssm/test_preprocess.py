import numpy as np
import pytest
import torch

from sciml.ssm import Preprocess, differencing_kernel, moving_average_residual_kernel


def test_kernels_closed_form():
    assert differencing_kernel(0).tolist() == [1]
    assert differencing_kernel(1).tolist() == [1, -1]
    assert differencing_kernel(2).tolist() == [1, -2, 1]
    assert differencing_kernel(3).tolist() == [1, -3, 3, -1]
    k = moving_average_residual_kernel(4)
    assert np.allclose(k.numpy(), [0.75, -0.25, -0.25, -0.25])
    with pytest.raises(ValueError, match="order"):
        differencing_kernel(4)


def test_differencing_annihilates_polynomials_and_ma_is_residual():
    t = torch.arange(60, dtype=torch.float64)
    u = (2 + 0.5 * t - 0.01 * t**2)[None, :, None].expand(1, 60, 8).contiguous()
    pre = Preprocess(8, diff_orders=(0, 1, 2, 3), ma_windows=(4, 8, 16, 5)).double()
    y = pre(u)[0]
    assert torch.allclose(y[:, 0], u[0, :, 0])
    assert torch.allclose(
        y[3:, 3], torch.zeros(57, dtype=torch.float64), atol=1e-11
    )  # 3rd diff of a quadratic
    assert torch.allclose(y[2:, 2], torch.full((58,), -0.02, dtype=torch.float64), atol=1e-11)
    series = u[0, :, 4].numpy()
    ref = series - np.convolve(series, np.ones(4) / 4, mode="full")[:60]  # zero history before t=0
    assert np.allclose(y[:, 4].numpy(), ref, atol=1e-11)


def test_conv_equals_step():
    pre = Preprocess(6).double()
    u = torch.randn(2, 50, 6, dtype=torch.float64)
    y = pre(u)
    s = pre.default_state(2)
    ys = []
    for t in range(50):
        yt, s = pre.step(u[:, t], s)
        ys.append(yt)
    assert torch.allclose(torch.stack(ys, 1), y, atol=1e-10)
