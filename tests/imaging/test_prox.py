import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from sciml.imaging.prox import (
    group_soft_threshold,
    nuclear_norm,
    project_l2_ball,
    project_linf_ball,
    project_spectral_ball,
    prox_sq_l2_conj,
    soft_threshold,
    svd,
    svt,
)


def _c(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(shape, dtype=torch.complex128, generator=g)


def _brute(fun, v0):
    """High-accuracy derivative-free minimisation (nonsmooth objectives)."""
    res = minimize(
        fun, v0, method="Powell", options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 200000}
    )
    res = minimize(
        fun, res.x, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-15, "maxfev": 200000}
    )
    return res.x


def test_soft_threshold_closed_form_and_brute_force():
    v = torch.tensor([2.0, -0.3, 0.5, -1.7, 0.0], dtype=torch.float64)
    lam = 0.6
    ref = np.sign(v.numpy()) * np.maximum(np.abs(v.numpy()) - lam, 0)
    np.testing.assert_allclose(soft_threshold(v, lam).numpy(), ref, atol=0)
    vb = v.numpy()[:3]
    xb = _brute(lambda x: 0.5 * np.sum((x - vb) ** 2) + lam * np.abs(x).sum(), np.zeros(3))
    np.testing.assert_allclose(soft_threshold(v[:3], lam).numpy(), xb, atol=1e-6)
    # complex: shrink the modulus, keep the phase
    z = _c(7, 0)
    out = soft_threshold(z, 0.5)
    mag = np.maximum(np.abs(z.numpy()) - 0.5, 0)
    np.testing.assert_allclose(out.numpy(), mag * np.exp(1j * np.angle(z.numpy())), atol=1e-14)


def test_projections_closed_form():
    z = _c((3, 5), 1)
    r = 0.8
    zn = z.numpy()
    ref = np.where(np.abs(zn) > r, r * zn / np.abs(zn), zn)
    np.testing.assert_allclose(project_linf_ball(z, r).numpy(), ref, atol=1e-14)
    # grouped l2 ball along dim 0
    nr = np.linalg.norm(zn, axis=0, keepdims=True)
    np.testing.assert_allclose(
        project_l2_ball(z, r, dim=0).numpy(), zn / np.maximum(1, nr / r), atol=1e-14
    )
    # whole-tensor ball
    n = np.linalg.norm(zn)
    np.testing.assert_allclose(project_l2_ball(z, 1.0).numpy(), zn / max(1, n), atol=1e-14)
    # projection is the nearest point: brute force for a real 2-vector outside the ball
    v = np.array([1.3, -0.9])
    pen = lambda x: 0.5 * np.sum((x - v) ** 2) + 1e6 * max(np.linalg.norm(x) - 1.0, 0) ** 2  # noqa: E731
    xb = _brute(pen, np.zeros(2))
    np.testing.assert_allclose(project_l2_ball(torch.tensor(v), 1.0).numpy(), xb, atol=1e-5)


@pytest.mark.parametrize("shape", [(12, 3), (3, 12), (5, 4), (2, 6, 3)])
def test_svd_shortcut_matches_numpy(shape):
    x = _c(shape, 2)
    u, s, vh = svd(x)
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(x.numpy(), compute_uv=False), atol=1e-12)
    torch.testing.assert_close((u * s[..., None, :].to(u.dtype)) @ vh, x)
    k = s.shape[-1]
    eye = torch.eye(k, dtype=x.dtype).expand(*shape[:-2], k, k)
    torch.testing.assert_close(u.mH @ u, eye)
    torch.testing.assert_close(vh @ vh.mH, eye)


@pytest.mark.parametrize("method", ["svd", "gram"])
@pytest.mark.parametrize("shape", [(20, 4), (4, 20), (6, 5), (3, 8, 4)])
def test_svt_and_spectral_projection_closed_form(method, shape):
    x = _c(shape, 3)
    u, s, vh = np.linalg.svd(x.numpy(), full_matrices=False)
    t = float(np.median(s))
    ref_svt = (u * np.maximum(s - t, 0)[..., None, :]) @ vh
    ref_proj = (u * np.minimum(s, t)[..., None, :]) @ vh
    np.testing.assert_allclose(svt(x, t, method).numpy(), ref_svt, atol=1e-11)
    np.testing.assert_allclose(project_spectral_ball(x, t, method).numpy(), ref_proj, atol=1e-11)
    np.testing.assert_allclose(nuclear_norm(x, method).numpy(), s.sum(-1), rtol=1e-10)


def test_svt_brute_force_real():
    v = np.array([[1.0, 0.4], [-0.3, 0.9], [0.5, -0.2]])
    lam = 0.5

    def fun(w):
        return (
            0.5 * np.sum((w - v.ravel()) ** 2)
            + lam * np.linalg.svd(w.reshape(3, 2), compute_uv=False).sum()
        )

    xb = _brute(fun, v.ravel() * 0.5).reshape(3, 2)
    np.testing.assert_allclose(svt(torch.tensor(v), lam).numpy(), xb, atol=1e-5)


def test_batched_svt_per_matrix_thresholds():
    x = _c((3, 6, 4), 4)
    t = torch.tensor([0.1, 0.5, 1.0], dtype=torch.float64)
    out = svt(x, t)
    for b in range(3):
        torch.testing.assert_close(out[b], svt(x[b], float(t[b])))


@pytest.mark.parametrize("lam", [0.3, 1.7])
def test_moreau_identities(lam):
    v = _c((2, 5, 4), 5)
    # l1 <-> linf ball
    torch.testing.assert_close(soft_threshold(v, lam) + lam * project_linf_ball(v / lam, 1.0), v)
    # l2,1 (groups along dim 0) <-> per-group l2 balls (isotropic TV)
    torch.testing.assert_close(
        group_soft_threshold(v, lam, dim=0) + lam * project_l2_ball(v / lam, 1.0, dim=0), v
    )
    # nuclear <-> spectral ball
    for method in ("svd", "gram"):
        torch.testing.assert_close(
            svt(v, lam, method) + lam * project_spectral_ball(v / lam, 1.0, method), v
        )
    # data term f(z) = ½||z - y||²: prox_{σ f*}(v) + σ prox_{f/σ}(v/σ) = v
    y = _c((2, 5, 4), 6)
    sig = lam

    def prox_f_over_sigma(w):  # argmin ½||z-y||²/σ + ½||z-w||²
        return (w + y / sig) / (1 + 1 / sig)

    torch.testing.assert_close(prox_sq_l2_conj(v, sig, y) + sig * prox_f_over_sigma(v / sig), v)


def test_prox_bad_input():
    v = _c(4, 7)
    with pytest.raises(ValueError, match="thresh"):
        soft_threshold(v, -1.0)
    with pytest.raises(ValueError, match="radius"):
        project_spectral_ball(v.reshape(2, 2), -0.1)
    with pytest.raises(ValueError, match="method"):
        svt(v.reshape(2, 2), 0.1, method="lanczos")
