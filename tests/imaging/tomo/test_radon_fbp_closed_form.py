"""Radon and FBP against closed forms: the line integrals of an off-centre anisotropic Gaussian
(odd/even image sizes, detectors narrower or wider than the image, angles outside [0, π)), and
FBP of a disc (interior level 1: ramp filter scaling and the π / views factor)."""

import math

import pytest
import torch

from sciml.imaging.tomo.fbp import fbp
from sciml.imaging.tomo.radon import Radon, acquisition_angles
from tests.imaging.tomo.test_radon import _disc

# (x0, y0, σ1, σ2, φ): centre in pixels (x along columns, y along rows, origin at the image
# centre), standard deviations along the axes rotated by φ
_G = (3.0, -2.0, 6.0, 4.0, 0.4)
_ANGLES = [-2.5, -0.3, 0.0, 0.7, math.pi / 4, 2.0, 3.5, 5.9, 7.0]


def _gauss(n, x0, y0, s1, s2, phi):
    r = torch.arange(n, dtype=torch.float64) - (n - 1) / 2
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    u = (xx - x0) * math.cos(phi) + (yy - y0) * math.sin(phi)
    v = -(xx - x0) * math.sin(phi) + (yy - y0) * math.cos(phi)
    return torch.exp(-(u**2) / (2 * s1**2) - v**2 / (2 * s2**2))


def _gauss_projection(s, th, x0, y0, s1, s2, phi):
    """∫ over the line x cos θ + y sin θ = s: a 1-D Gaussian of variance σ1²cos²α + σ2²sin²α,
    α = θ - φ, centred at x0 cos θ + y0 sin θ, of mass 2π σ1 σ2."""
    var = (s1 * math.cos(th - phi)) ** 2 + (s2 * math.sin(th - phi)) ** 2
    sp = s - (x0 * math.cos(th) + y0 * math.sin(th))
    return 2 * math.pi * s1 * s2 / math.sqrt(2 * math.pi * var) * torch.exp(-(sp**2) / (2 * var))


@pytest.mark.parametrize("n,n_det", [(49, 72), (48, 71), (47, 40)])
def test_radon_of_off_centre_gaussian_matches_closed_form(n, n_det):
    ang = torch.tensor(_ANGLES, dtype=torch.float64)
    op = Radon(ang, n, n_det, frames=len(_ANGLES))
    sino = op(_gauss(n, *_G).expand(len(_ANGLES), n, n).contiguous())[:, 0]
    s = torch.arange(n_det, dtype=torch.float64) - (n_det - 1) / 2
    for i, th in enumerate(_ANGLES):
        ref = _gauss_projection(s, th, *_G)
        # Joseph's linear interpolation: O(h²/σ²) ≈ 4e-3 of the peak here; a wrong orientation,
        # sign or detector centre gives errors of order 1
        assert float((sino[i] - ref).abs().max() / ref.max()) < 6e-3, (n, n_det, th)


@pytest.mark.parametrize(
    "n,n_det,views,opposite",
    [(49, None, 120, False), (48, 71, 120, False), (48, None, 60, True), (47, 100, 90, False)],
)
def test_fbp_of_disc_has_unit_interior_for_any_geometry(n, n_det, views, opposite):
    disc = _disc(n, 15.0)
    op = Radon(acquisition_angles(views, 1, opposite=opposite).reshape(1, -1), n, n_det)
    x = fbp(op(disc[None]), op)[0]
    c = n // 2
    assert abs(float(x[c - 4 : c + 4, c - 4 : c + 4].mean()) - 1.0) < 0.005
    assert abs(float(x[:4, :4].mean())) < 0.005  # outside the disc
    assert float((x - disc).norm() / disc.norm()) < 0.08  # edge blur only
