"""Metrics against NumPy and closed forms (Parseval, single Fourier modes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.operators import RelativeL2Loss, fourier_band_errors, max_error, nrmse, relative_l2


def test_relative_l2_nrmse_max_error_against_numpy():
    rng = np.random.default_rng(0)
    p, t = rng.standard_normal((2, 5, 3, 8, 8))
    pt, tt = torch.from_numpy(p), torch.from_numpy(t)
    ref = np.linalg.norm((p - t).reshape(5, -1), axis=1) / np.linalg.norm(t.reshape(5, -1), axis=1)
    np.testing.assert_allclose(relative_l2(pt, tt).numpy(), ref, rtol=1e-12)
    per_ch = np.sqrt(((p - t) ** 2).mean((2, 3))) / np.sqrt((t**2).mean((2, 3)))
    np.testing.assert_allclose(nrmse(pt, tt).numpy(), per_ch.mean(1), rtol=1e-12)
    np.testing.assert_allclose(max_error(pt, tt).numpy(), np.abs(p - t).reshape(5, -1).max(1))
    assert abs(RelativeL2Loss()(pt, tt).item() - ref.mean()) < 1e-12


def test_band_errors_parseval_and_single_modes():
    n = 32
    x = torch.arange(n, dtype=torch.float64) / n
    xx, yy = torch.meshgrid(x, x, indexing="ij")
    target = torch.zeros(3, 1, n, n, dtype=torch.float64)
    err = torch.stack(
        [
            torch.cos(2 * math.pi * 2 * xx),  # |k| = 2 → low
            torch.sin(2 * math.pi * (5 * xx + 6 * yy)),  # |k| = √61 ≈ 7.8 → mid
            torch.cos(2 * math.pi * 13 * yy),  # |k| = 13 → high
        ]
    )[:, None]
    bands = fourier_band_errors(err, target)
    rms = math.sqrt(0.5)  # RMS of a unit sinusoid
    expected = torch.tensor([[rms, 0, 0], [0, rms, 0], [0, 0, rms]], dtype=torch.float64)
    got = torch.stack([bands["low"], bands["mid"], bands["high"]], 1)
    torch.testing.assert_close(got, expected, atol=1e-12, rtol=0)
    rand = torch.randn(4, 2, 16, 12, dtype=torch.float64)
    b = fourier_band_errors(rand, torch.zeros_like(rand))
    mse = rand.pow(2).mean(dim=(1, 2, 3))
    torch.testing.assert_close(b["low"] ** 2 + b["mid"] ** 2 + b["high"] ** 2, mse)


def test_metric_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        relative_l2(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="torch tensors"):
        relative_l2(np.zeros((2, 3)), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="B, C, X, Y"):
        fourier_band_errors(torch.zeros(2, 8), torch.zeros(2, 8))
