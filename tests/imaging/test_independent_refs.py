"""Independent-reference checks added in review: PDHG residuals from closed-form subgradients,
adjoints of complex scalings against dense conjugate transposes, projections on degenerate
radii, per-matrix Moreau identity for batched radii, the PDHG step condition of RDLEDM against
a long power iteration, dtype propagation of the multi-coil operator, and closed-form RDLEDM
solutions (unitary A: nuclear norm = SVT, two-frame temporal TV = pairwise shrinkage)."""

import numpy as np
import pytest
import torch

from sciml.imaging import (
    FiniteDifference,
    MaskedFourier,
    MultiCoilFourier,
    birdcage_maps,
    casorati,
    low_rank_only,
    project_linf_ball,
    project_spectral_ball,
    prox_sq_l2_conj,
    spatial_unfolding,
    svt,
    variable_density_mask,
)
from sciml.imaging import rdledm as rdledm_mod
from sciml.imaging.linop import Linop, Scale
from sciml.imaging.pdhg import PrimalDualHybridGradient
from sciml.imaging.rdledm import RDLEDM, RDLEDMConfig

from ._checks import check_adjoint, dense_matrix


class _Dense(Linop):
    """A real dense matrix as a Linop (the reference operator for the PDHG residual test)."""

    def __init__(self, m: torch.Tensor):
        self.m = m
        super().__init__((m.shape[1],), (m.shape[0],))

    def _apply(self, x):
        return self.m.to(x.dtype) @ x

    def _adjoint_linop(self):
        return _Dense(self.m.mH)


@pytest.mark.parametrize("theta", [1.0, 0.5, 0.0])
def test_pdhg_residuals_equal_closed_form_subgradients(theta):
    """g = 0 and f(z) = ½||z - b||² give ∂g(x̃) + Kᵀỹ = Kᵀỹ and ∂f*(ỹ) - Kx̃ = ỹ + b - Kx̃ exactly;
    the recorded relative residuals must be their norms for every extrapolation θ."""
    gen = torch.Generator().manual_seed(0)
    m = torch.randn(6, 4, dtype=torch.float64, generator=gen)
    b = torch.randn(6, dtype=torch.float64, generator=gen)
    x0 = torch.randn(4, dtype=torch.float64, generator=gen)
    y0 = torch.randn(6, dtype=torch.float64, generator=gen)
    tau, sigma = 0.2, 0.3
    alg = PrimalDualHybridGradient(
        _Dense(m),
        lambda t, x: x,
        lambda s, v: prox_sq_l2_conj(v, s, b),
        x0,
        y0,
        tau=tau,
        sigma=sigma,
        theta=theta,
        max_iter=1,
        tol=0.0,
    )
    alg.run()
    xt, yt = alg.x.numpy(), alg.y.numpy()
    mn, bn = m.numpy(), b.numpy()
    p_ref = np.linalg.norm(mn.T @ yt) / max(np.linalg.norm(xt / tau), np.linalg.norm(mn.T @ yt))
    d_ref = np.linalg.norm(yt + bn - mn @ xt) / max(
        np.linalg.norm(yt / sigma), np.linalg.norm(mn @ xt)
    )
    assert alg.history.primal_residual[0] == pytest.approx(p_ref, rel=1e-12)
    assert alg.history.dual_residual[0] == pytest.approx(d_ref, rel=1e-12)


@pytest.mark.parametrize(
    "c",
    [2.0 - 1.5j, np.complex128(2.0 - 1.5j), np.complex64(2.0 - 1.5j), torch.tensor(2.0 - 1.5j)],
    ids=["complex", "np.complex128", "np.complex64", "torch"],
)
def test_scale_adjoint_is_dense_conjugate_transpose(c):
    op = MaskedFourier(variable_density_mask((2, 4, 3), 2.0, seed=1))
    a = dense_matrix(op).numpy()
    s = Scale(op, c)
    ref = (complex(c) * a).conj().T
    np.testing.assert_allclose(dense_matrix(s.H).numpy(), ref, atol=1e-6 * np.abs(ref).max())
    check_adjoint(c * op, rtol=1e-6)


def test_linf_projection_degenerate_radius_is_finite():
    """Radius 0 (as a tensor entry) projects onto {0}; the zero vector projects onto itself."""
    x = torch.tensor([0.0, 2.0, -0.5, 0.0, 3.0 + 4.0j], dtype=torch.complex128)
    r = torch.tensor([0.0, 1.0, 1.0, 2.0, 0.0], dtype=torch.float64)
    xn, rn = x.numpy(), r.numpy()
    mag = np.abs(xn)
    ref = np.where(mag > rn, rn * xn / np.where(mag > 0, mag, 1.0), xn)
    out = project_linf_ball(x, r)
    assert torch.isfinite(out).all()
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-15)
    np.testing.assert_allclose(
        project_linf_ball(torch.zeros(3, dtype=torch.float64), torch.zeros(3)).numpy(), 0.0
    )


@pytest.mark.parametrize("method", ["svd", "gram"])
def test_batched_spectral_ball_radius_per_matrix(method):
    """A (batch,) radius clips each matrix's singular values at its own radius (numpy SVD per
    matrix), so that svt and the spectral-ball projection satisfy Moreau's identity per matrix
    with the same batched thresholds. Batch 3 of 6x3 matrices: a wrong broadcast against the
    3 singular values would go unnoticed without a reference."""
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(3, 6, 3, dtype=torch.complex128, generator=gen)
    r = torch.tensor([0.3, 1.0, 2.5], dtype=torch.float64)
    out = project_spectral_ball(x, r, method)
    for i in range(3):
        u, s, vh = np.linalg.svd(x[i].numpy(), full_matrices=False)
        ref = (u * np.minimum(s, float(r[i]))) @ vh
        np.testing.assert_allclose(out[i].numpy(), ref, atol=1e-11)
    torch.testing.assert_close(svt(x, r, method) + out, x)


def test_multicoil_follows_input_precision():
    """Real float32 images give complex64 k-space, like the single-coil operator (fftc)."""
    mask = variable_density_mask((2, 6, 5), 2.0, seed=0)
    maps = birdcage_maps(3, (6, 5))
    x = torch.rand(2, 6, 5, dtype=torch.float32, generator=torch.Generator().manual_seed(0))
    mc = MultiCoilFourier(mask, maps)
    assert MaskedFourier(mask)(x).dtype == torch.complex64
    assert mc(x).dtype == torch.complex64
    assert mc.H(mc(x)).dtype == torch.complex64
    ref = mc(x.to(torch.float64))
    torch.testing.assert_close(mc(x).to(torch.complex128), ref, atol=1e-5, rtol=1e-5)


def test_real_dtype_adjoints_odd_and_single_frame_shapes():
    """<Ax, y> = <x, Aᵀy> with real float64 vectors and degenerate axes (one frame, one row)."""
    for shape in [(1, 5, 3), (3, 1, 4), (2, 7, 1)]:
        ops = [FiniteDifference(shape, a, bd) for a in range(3) for bd in ("neumann", "periodic")]
        ops += [casorati(shape), spatial_unfolding(shape)]
        gen = torch.Generator().manual_seed(0)
        for op in ops:
            x = torch.randn(op.ishape, dtype=torch.float64, generator=gen)
            y = torch.randn(op.oshape, dtype=torch.float64, generator=gen)
            a = dense_matrix(op, dtype=torch.float64).numpy()
            np.testing.assert_allclose(op(x).numpy().ravel(), a @ x.numpy().ravel(), atol=1e-14)
            np.testing.assert_allclose(op.H(y).numpy().ravel(), a.T @ y.numpy().ravel(), atol=1e-14)


class _RecordingPDHG(PrimalDualHybridGradient):
    steps: list = []

    def __init__(self, K, *args, tau, sigma, **kw):
        _RecordingPDHG.steps.append((K, tau, sigma))
        super().__init__(K, *args, tau=tau, sigma=sigma, **kw)


def test_rdledm_scalar_steps_satisfy_pdhg_condition(monkeypatch):
    """τσ||K||² < 1 with ||K|| from a long power iteration (itself a lower bound of ||K||, so the
    check is necessary). Here 50 power iterations stop 1.1% short of ||K|| (clustered spectrum
    of the spatial gradient): steps built on the raw estimate give τσ||K||² = 1.0016."""
    shape = (16, 32, 32)
    op = MaskedFourier(variable_density_mask(shape, 8, seed=0))
    y = op(torch.zeros(shape, dtype=torch.complex128))
    cfg = RDLEDMConfig(
        lambda_casorati=0, lambda_spatial=0, mu_t=0, gamma=0, max_iter=1, objective_every=0
    )
    _RecordingPDHG.steps = []
    monkeypatch.setattr(rdledm_mod, "PrimalDualHybridGradient", _RecordingPDHG)
    RDLEDM(cfg).reconstruct(y, op)
    K, tau, sigma = _RecordingPDHG.steps[0]
    knorm_lower = K.norm(n_iter=800, tol=0.0, seed=1)
    assert tau * sigma * knorm_lower**2 < 1.0


def test_low_rank_only_with_unitary_operator_is_svt():
    """With a full mask A is unitary: argmin ½||A X - y||² + λ||C(X)||_* = C⁻¹ SVT(C(Aᴴy), λ)."""
    shape = (4, 6, 5)
    gen = torch.Generator().manual_seed(2)
    op = MaskedFourier(torch.ones(shape, dtype=torch.bool))
    x = torch.randn(shape, dtype=torch.complex128, generator=gen)
    y = op(x)
    lam = 0.8
    res = low_rank_only(
        y, op, lam, RDLEDMConfig(max_iter=3000, tol=1e-12, objective_every=0, svd_method="svd")
    )
    c = casorati(shape).H(casorati(shape)(op.H(y))).numpy().reshape(4, -1).T  # (pixels, frames)
    u, s, vh = np.linalg.svd(c, full_matrices=False)
    ref = ((u * np.maximum(s - lam, 0)) @ vh).T.reshape(shape)
    np.testing.assert_allclose(res.x.numpy(), ref, atol=1e-9)


def test_two_frame_temporal_tv_closed_form():
    """T = 2, unitary A, only μ TV_t: per pixel min ½(a-z₁)² + ½(b-z₂)² + μ|b-a| keeps the mean
    and shrinks the difference b - a by 2μ (soft-thresholding)."""
    shape = (2, 1, 4)
    op = MaskedFourier(torch.ones(shape, dtype=torch.bool))
    z = torch.tensor([[[0.0, 1.0, 0.3, -0.2]], [[1.0, 1.1, 0.9, 0.5]]], dtype=torch.complex128)
    mu = 0.2
    cfg = RDLEDMConfig(
        lambda_casorati=0,
        lambda_spatial=0,
        mu_xy=0,
        mu_t=mu,
        gamma=0,
        max_iter=5000,
        tol=1e-13,
        objective_every=0,
    )
    res = RDLEDM(cfg).reconstruct(op(z), op)
    a, b = z[0].real.numpy(), z[1].real.numpy()
    d = b - a
    shrunk = np.sign(d) * np.maximum(np.abs(d) - 2 * mu, 0)
    mean = (a + b) / 2
    np.testing.assert_allclose(res.x[0].real.numpy(), mean - shrunk / 2, atol=1e-10)
    np.testing.assert_allclose(res.x[1].real.numpy(), mean + shrunk / 2, atol=1e-10)
    np.testing.assert_allclose(res.x.imag.numpy(), 0.0, atol=1e-10)
