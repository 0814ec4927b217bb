"""FBP recovers a disc from many views; sliding-window FBP of a static object from rotating
single views equals full FBP; errors."""

import math

import pytest
import torch

from sciml.imaging.tomo.fbp import fbp, ramp_filter, sliding_window_fbp
from sciml.imaging.tomo.radon import Radon, acquisition_angles
from tests.imaging.tomo.test_radon import _disc


def test_fbp_recovers_disc():
    n, k = 48, 120
    disc = _disc(n, 15.0)
    op = Radon(torch.linspace(0, math.pi, k + 1, dtype=torch.float64)[:-1][None], n)
    x = fbp(op(disc[None]), op)[0]
    assert float((x - disc).norm() / disc.norm()) < 0.08
    assert abs(float(x[20:28, 20:28].mean()) - 1.0) < 0.01  # flat interior at the right level


def test_ramp_filter_kernel():
    """Filtering a unit impulse gives the Ram-Lak kernel h[0]=1/4, h[odd k]=-1/(πk)², h[even]=0."""
    e = torch.zeros(1, 15, dtype=torch.float64)
    e[0, 7] = 1
    h = ramp_filter(e)[0]
    k = torch.arange(15) - 7
    ref = torch.where(k == 0, 0.25, torch.where(k % 2 == 1, -1 / (math.pi * k) ** 2, 0.0))
    assert torch.allclose(h, ref.double(), atol=1e-14)


def test_sliding_window_of_static_object_equals_fbp_of_all_views():
    p, n = 16, 24
    disc = _disc(n, 8.0)
    op = Radon(acquisition_angles(p), n)
    g = op(disc.expand(p, n, n).contiguous())
    sw = sliding_window_fbp(g, op, p)
    op_all = Radon(op.angles.reshape(1, p), n)
    full = fbp(g.reshape(1, p, -1), op_all)[0]
    assert torch.allclose(sw, full.expand(p, n, n), atol=1e-12)
    assert float((full - disc).norm() / disc.norm()) < 0.15


def test_fbp_bad_input():
    op = Radon(acquisition_angles(4), 8)
    g = torch.zeros(op.oshape, dtype=torch.float64)
    with pytest.raises(ValueError, match="window"):
        sliding_window_fbp(g, op, 5)
    g[0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="non-finite"):
        fbp(g, op)
    with pytest.raises(ValueError, match="shape"):
        fbp(torch.zeros(3, 1, op.n_det), op)
