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


@pytest.mark.parametrize("mode", ["conv", "step"])
def test_float64_filters_match_numpy_diff_and_trailing_mean(mode):
    """Every order 0–3 against ``np.diff`` of the zero-padded series and the moving-average
    residual ``u_t - mean(u_{t-m+1..t})`` (zeros before t = 0) by an explicit loop, for windows
    that are not powers of two (1/m is not a float32 number): float64 to 1e-13."""
    windows = (3, 5, 7, 12)
    pre = Preprocess(8, diff_orders=(0, 1, 2, 3), ma_windows=windows).double()
    u = torch.randn(2, 40, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    if mode == "conv":
        y = pre(u).numpy()
    else:
        s = pre.default_state(2, dtype=torch.float64)
        steps = []
        for t in range(u.shape[1]):
            yt, s = pre.step(u[:, t], s)
            steps.append(yt)
        y = torch.stack(steps, 1).numpy()
    x = u.numpy()
    padded = np.concatenate([np.zeros((2, 16, 8)), x], axis=1)  # zero history
    for order in range(4):
        ref = np.diff(padded[:, :, order], n=order, axis=1)[:, -40:]
        np.testing.assert_allclose(y[:, :, order], ref, rtol=0, atol=1e-13)
    for j, m in enumerate(windows):
        h = 4 + j
        ref = np.stack(
            [x[:, t, h] - padded[:, 16 + t - m + 1 : 16 + t + 1, h].mean(1) for t in range(40)], 1
        )
        np.testing.assert_allclose(y[:, :, h], ref, rtol=0, atol=1e-13)
