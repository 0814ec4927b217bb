import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from sciml.imaging import cardiac_phantom
from sciml.imaging.metrics import hfen, laplacian_of_gaussian, psnr, psnr_frames, rel_l2, ssim

skm = pytest.importorskip("skimage.metrics")


@pytest.fixture(scope="module")
def pair():
    ref = cardiac_phantom(32, 4, seed=3, supersample=1)
    gen = torch.Generator().manual_seed(0)
    x = ref + 0.05 * torch.randn(ref.shape, generator=gen, dtype=torch.float64)
    return x, ref


def test_psnr_closed_form(pair):
    x, ref = pair
    rng = float(ref.max() - ref.min())
    mse = float(((x - ref) ** 2).mean())
    assert psnr(x, ref) == pytest.approx(10 * np.log10(rng**2 / mse), rel=1e-12)
    assert psnr(x, ref) == pytest.approx(
        skm.peak_signal_noise_ratio(ref.numpy(), x.numpy(), data_range=rng), rel=1e-12
    )
    # per-frame PSNR uses the same global range
    pf = psnr_frames(x, ref)
    for t in range(ref.shape[0]):
        m = float(((x[t] - ref[t]) ** 2).mean())
        assert float(pf[t]) == pytest.approx(10 * np.log10(rng**2 / m), rel=1e-12)


def test_ssim_matches_skimage(pair):
    x, ref = pair
    rng = float(ref.max() - ref.min())
    expected = np.mean(
        [
            skm.structural_similarity(
                ref[t].numpy(),
                x[t].numpy(),
                data_range=rng,
                gaussian_weights=True,
                sigma=1.5,
                use_sample_covariance=False,
            )
            for t in range(ref.shape[0])
        ]
    )
    assert ssim(x, ref) == pytest.approx(expected, abs=1e-10)
    assert ssim(ref, ref) == pytest.approx(1.0, abs=1e-12)


def test_hfen_against_scipy_log(pair):
    x, ref = pair
    lx = np.stack([ndi.gaussian_laplace(f, 1.5) for f in x.numpy()])
    lr = np.stack([ndi.gaussian_laplace(f, 1.5) for f in ref.numpy()])
    np.testing.assert_allclose(laplacian_of_gaussian(ref).numpy(), lr, atol=1e-12)
    assert hfen(x, ref) == pytest.approx(np.linalg.norm(lx - lr) / np.linalg.norm(lr), rel=1e-10)
    assert hfen(ref, ref) == 0.0


def test_rel_l2_and_complex_magnitude(pair):
    x, ref = pair
    assert rel_l2(x, ref) == pytest.approx(
        np.linalg.norm(x.numpy() - ref.numpy()) / np.linalg.norm(ref.numpy()), rel=1e-12
    )
    phase = torch.exp(
        1j * torch.linspace(0, 1, ref.numel(), dtype=torch.float64).reshape(ref.shape)
    )
    assert psnr(x * phase, ref) == pytest.approx(psnr(x.abs(), ref), rel=1e-12)


def test_metric_bad_inputs(pair):
    x, ref = pair
    with pytest.raises(ValueError, match="same shape"):
        psnr(x[:2], ref)
    with pytest.raises(TypeError, match="torch.Tensor"):
        ssim(x.numpy(), ref)
