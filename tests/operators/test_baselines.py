"""FNO and U-Net baselines: shapes, spectral convolution vs a dense DFT, gradients, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.operators import FNO, SpectralConv2d, UNet


@pytest.mark.parametrize(("c_in", "c_out", "shape"), [(1, 1, (17, 19)), (10, 3, (9, 32))])
def test_fno_and_unet_shapes(c_in, c_out, shape):
    for m in (
        FNO(in_channels=c_in, out_channels=c_out, width=8, modes=4),
        UNet(in_channels=c_in, out_channels=c_out, width=8),
    ):
        assert m(torch.randn(2, c_in, *shape)).shape == (2, c_out, *shape)


def test_spectral_conv_matches_dense_dft():
    torch.manual_seed(0)
    nx, ny, modes = 8, 7, 3
    sc = SpectralConv2d(2, 3, modes).double()
    x = torch.randn(1, 2, nx, ny, dtype=torch.float64)
    got = sc(x).detach().numpy()
    # reference with NumPy's complex FFT: mix each kept mode (kx in [0, m) ∪ [nx−m, nx),
    # ky in [0, m)), then y = Re ifft2(T) with T = mixed modes, doubled for ky ≥ 1 (the real
    # field whose half spectrum is the mixed modes; ny odd, so no Nyquist column)
    xf = np.fft.fft2(x.numpy())
    wp, wn = (w.detach().numpy() @ np.array([1, 1j]) for w in (sc.w_pos, sc.w_neg))
    t = np.zeros((1, 3, nx, ny), dtype=complex)
    for kx in [*range(modes), *range(nx - modes, nx)]:
        for ky in range(modes):
            w = wp[:, :, kx, ky] if kx < modes else wn[:, :, kx - (nx - modes), ky]
            t[:, :, kx, ky] = (1 if ky == 0 else 2) * np.einsum("bi,io->bo", xf[:, :, kx, ky], w)
    np.testing.assert_allclose(got, np.fft.ifft2(t).real, atol=1e-12)


def test_fno_survives_float_casts_used_by_the_trainer():
    m = FNO(width=8, modes=4)
    before = m.spectral[0].w_pos.detach().clone()
    m.to(torch.float64).to(torch.float32)
    torch.testing.assert_close(m.spectral[0].w_pos.detach(), before)
    assert m(torch.randn(1, 1, 8, 8)).dtype == torch.float32


def test_baseline_gradients_reach_every_parameter():
    for m in (FNO(width=8, modes=4), UNet(width=8)):
        m(torch.randn(2, 1, 12, 12)).pow(2).mean().backward()
        for name, p in m.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, (type(m).__name__, name)


def test_baseline_bad_input():
    with pytest.raises(ValueError, match="1 channels"):
        FNO(width=8)(torch.randn(1, 2, 8, 8))
    with pytest.raises(ValueError, match=">= 4"):
        UNet(width=8)(torch.randn(1, 1, 2, 8))
    with pytest.raises(ValueError, match="NaN"):
        FNO(width=8)(torch.full((1, 1, 8, 8), float("nan")))
