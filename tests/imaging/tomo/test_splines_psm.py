"""Spline basis reproduces cubics and matches scipy; PSM shapes, rank and masks."""

import numpy as np
import pytest
import torch
from scipy.interpolate import CubicSpline

from sciml.imaging.tomo.psm import PSM, fov_mask
from sciml.imaging.tomo.redpsm import REDPSMConfig
from sciml.imaging.tomo.splines import spline_matrix


@pytest.mark.parametrize("frames,knots", [(16, 4), (32, 9), (256, 11), (21, 7)])
def test_spline_reproduces_polynomials_up_to_degree_3(frames, knots):
    b = spline_matrix(frames, knots)
    xk = torch.linspace(0, frames - 1, knots, dtype=torch.float64)
    t = torch.arange(frames, dtype=torch.float64)
    for coef in ([1.0], [0.3, -1.2], [0.5, 0.1, -2.0], [1.0, -0.4, 0.7, 1.5]):

        def p(u, coef=coef):
            v = u / frames
            return sum(c * v**k for k, c in enumerate(coef))

        assert torch.allclose(b @ p(xk), p(t), atol=1e-11)
    assert b.shape == (frames, knots)


def test_spline_matches_scipy_not_a_knot():
    b = spline_matrix(40, 9).numpy()
    v = np.random.default_rng(0).standard_normal(9)
    ref = CubicSpline(np.linspace(0, 39, 9), v)(np.arange(40))
    np.testing.assert_allclose(b @ v, ref, atol=1e-12)


def test_spline_bad_input():
    with pytest.raises(ValueError, match="knots"):
        spline_matrix(10, 3)
    with pytest.raises(ValueError, match="exceed"):
        spline_matrix(10, 12)


def test_psm_is_the_separable_sum_and_differentiable():
    m = PSM(10, 8, 3, 5, seed=1)
    with torch.no_grad():
        m.spatial.normal_()
    f = m()
    lam = m.spatial * fov_mask(8)
    psi = m.z.detach() @ spline_matrix(10, 5).T
    ref = sum(lam[k][None] * psi[k][:, None, None] for k in range(3))
    assert torch.allclose(f, ref, atol=1e-12)
    # Casorati rank <= K + 1
    assert torch.linalg.matrix_rank(f.detach().reshape(10, -1)) <= 3
    # gradient w.r.t. z by finite differences
    w = torch.randn(10, 8, 8, dtype=torch.float64)
    (m() * w).sum().backward()
    e = torch.zeros_like(m.z)
    e[1, 2] = 1e-6
    with torch.no_grad():
        m.z += e
        fp = (m() * w).sum()
        m.z -= 2 * e
        fm = (m() * w).sum()
    assert abs(float((fp - fm) / 2e-6) - float(m.z.grad[1, 2])) < 1e-6


def test_fov_mask_and_rank_error():
    mask = fov_mask(16)
    assert mask[8, 8] == 1 and mask[0, 0] == 0
    with pytest.raises(ValueError, match="larger than the number of instants"):
        PSM(5, 8, 6, 4)


def test_rank_above_the_knot_count_is_rejected():
    """Ψ = z Bᵀ with z (R, d): for R > d the temporal basis is rank deficient (computed here)."""
    z = torch.randn(6, 4, dtype=torch.float64)
    assert torch.linalg.matrix_rank(z @ spline_matrix(10, 4).T) == 4  # R = 6 rows, rank 4
    with pytest.raises(ValueError, match="larger than the number of spline knots d = 4"):
        PSM(10, 8, 6, 4)
    PSM(10, 8, 4, 4)  # R = d is fine
    with pytest.raises(ValueError, match="REDPSMConfig.rank"):
        REDPSMConfig(rank=9, knots=8)


@pytest.mark.parametrize("frames", [4, 5, 7, 13, 100])
def test_spline_matrix_equals_scipy_for_every_knot_count(frames):
    """Column j of B is scipy's not-a-knot spline through the j-th unit vector, for every
    admissible knot count (d = 4: one cubic; d = frames: B = I)."""
    for d in range(4, min(frames, 12) + 1):
        b = spline_matrix(frames, d, dtype=torch.float32)
        assert b.dtype == torch.float32 and b.shape == (frames, d)
        ref = CubicSpline(np.linspace(0, frames - 1, d), np.eye(d))(np.arange(frames))
        np.testing.assert_allclose(spline_matrix(frames, d).numpy(), ref, atol=1e-12)
        np.testing.assert_allclose(b.numpy(), ref, atol=1e-6)
    np.testing.assert_allclose(spline_matrix(frames, frames).numpy(), np.eye(frames), atol=1e-12)
