"""L+S against an independent NumPy transcription of Otazo et al.'s MATLAB loop."""

import numpy as np
import pytest
import torch

from sciml.imaging import MaskedFourier, cardiac_phantom, variable_density_mask
from sciml.imaging.lps import LPlusS, LPlusSConfig


def _ref_lps(y, mask, lam_l, lam_s, n_iter, tol):
    t, ny, nx = mask.shape

    def fwd(x):
        k = np.fft.fftshift(
            np.fft.fft2(np.fft.ifftshift(x, axes=(1, 2)), norm="ortho"), axes=(1, 2)
        )
        return mask * k

    def adj(k):
        k = mask * k
        return np.fft.fftshift(
            np.fft.ifft2(np.fft.ifftshift(k, axes=(1, 2)), norm="ortho"), axes=(1, 2)
        )

    def tf(x):
        return np.fft.fftshift(
            np.fft.fft(np.fft.ifftshift(x, axes=0), axis=0, norm="ortho"), axes=0
        )

    def tfh(x):
        return np.fft.fftshift(
            np.fft.ifft(np.fft.ifftshift(x, axes=0), axis=0, norm="ortho"), axes=0
        )

    def soft(v, th):
        return v * np.maximum(1 - th / np.maximum(np.abs(v), 1e-300), 0)

    m = adj(y)
    s = np.zeros_like(m)
    lpre = m
    for _ in range(n_iter):
        m0 = m
        u, sv, vh = np.linalg.svd((m - s).reshape(t, -1).T, full_matrices=False)
        sv = np.maximum(sv - sv[0] * lam_l, 0)
        l = ((u * sv) @ vh).T.reshape(t, ny, nx)
        s = tfh(soft(tf(m - lpre), lam_s))
        m = l + s - adj(fwd(l + s) - y)
        lpre = l
        if np.linalg.norm(m - m0) < tol * np.linalg.norm(m0):
            break
    return l + s


@pytest.mark.parametrize("method", ["svd", "gram"])
def test_lps_matches_reference(method):
    x = cardiac_phantom(24, 8, seed=1, supersample=1)
    mask = variable_density_mask(x.shape, 4, seed=2)
    op = MaskedFourier(mask)
    y = op(x.to(torch.complex128))
    cfg = LPlusSConfig(lambda_l=0.05, lambda_s=0.01, max_iter=20, tol=1e-6, svd_method=method)
    res = LPlusS(cfg).reconstruct(y, op)
    ref = _ref_lps(y.numpy(), mask.numpy().astype(float), 0.05, 0.01, 20, 1e-6)
    np.testing.assert_allclose(res.x.numpy(), ref, atol=1e-9)
    torch.testing.assert_close(res.x, res.L + res.S)
    assert res.history["iterations"] == len(res.history["change"]) <= 20


def test_lps_bad_config():
    with pytest.raises(ValueError, match="lambda_s"):
        LPlusSConfig(lambda_s=-1.0)
