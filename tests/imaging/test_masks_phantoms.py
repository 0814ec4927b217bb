import math

import numpy as np
import pytest
import torch

from sciml.imaging import cardiac_phantom, deforming_phantom, radial_mask, variable_density_mask


@pytest.mark.parametrize("accel", [4, 8, 12])
def test_variable_density_mask_rate_centre_and_seed(accel):
    shape = (6, 48, 40)
    m = variable_density_mask(shape, accel, seed=3)
    assert m.dtype == torch.bool and m.shape == shape
    rows = m[:, :, 0]
    # full readout lines
    assert torch.equal(m, rows[:, :, None].expand(shape))
    assert (rows.sum(1) == round(48 / accel)).all()
    c = 48 // 2
    n_center = max(2, round(0.04 * 48))
    assert rows[:, c - n_center // 2 : c - n_center // 2 + n_center].all()
    # new draw per frame, reproducible by seed
    assert not all(torch.equal(rows[0], rows[f]) for f in range(1, 6))
    assert torch.equal(m, variable_density_mask(shape, accel, seed=3))
    assert not torch.equal(m, variable_density_mask(shape, accel, seed=4))


def test_variable_density_prefers_centre():
    m = variable_density_mask((200, 64, 1), 4, seed=0)[:, :, 0].double().mean(0)
    centre = m[32 - 8 : 32 + 8].mean()
    edge = torch.cat([m[:8], m[-8:]]).mean()
    assert centre > 2 * edge


@pytest.mark.parametrize("accel", [4, 8, 12])
def test_radial_mask_coverage(accel):
    m = radial_mask((5, 32, 32), accel, seed=1)
    frac = m.double().mean(dim=(1, 2))
    assert (frac >= 1 / accel).all() and (frac < 2.5 / accel).all()
    assert m[:, 16, 16].all()  # spokes go through the centre
    assert not torch.equal(m[0], m[1])  # golden-angle rotation
    assert torch.equal(m, radial_mask((5, 32, 32), accel, seed=1))


def test_mask_bad_input():
    with pytest.raises(ValueError, match="accel"):
        variable_density_mask((2, 8, 8), 0.5)
    with pytest.raises(ValueError, match="shape"):
        radial_mask((8, 8), 4)


@pytest.mark.parametrize("fn", [cardiac_phantom, deforming_phantom])
def test_phantoms_range_seed_and_low_rank(fn):
    x = fn(32, 12, seed=0)
    assert x.shape == (12, 32, 32) and x.dtype == torch.float64
    assert float(x.min()) >= 0 and float(x.max()) <= 1
    assert torch.equal(x, fn(32, 12, seed=0))
    assert not torch.equal(x, fn(32, 12, seed=1))
    assert not torch.equal(x[0], x[3])  # it moves
    s = np.linalg.svd(x.reshape(12, -1).numpy(), compute_uv=False)
    energy = np.cumsum(s**2) / np.sum(s**2)
    assert energy[4] > 0.99  # a few temporal components carry the sequence
    # complex option: same magnitude, non-trivial smooth phase
    z = fn(32, 12, seed=0, complex_valued=True)
    assert z.is_complex()
    torch.testing.assert_close(z.abs(), x)
    assert float(z.angle()[x > 0.1].std()) > 0.05


def test_cardiac_phantom_periodic_pulse():
    # heart_cycles=1 over T frames: frame t and t+T have the same heart size -> compare T vs 2T
    a = cardiac_phantom(32, 8, seed=2, heart_cycles=1.0, resp_cycles=0.0)
    b = cardiac_phantom(32, 16, seed=2, heart_cycles=2.0, resp_cycles=0.0)
    torch.testing.assert_close(a, b[:8])
    torch.testing.assert_close(b[:8], b[8:])
    assert math.isclose(float(a.sum()), float(a.sum()))


def test_phantom_bad_input():
    with pytest.raises(ValueError, match="frames"):
        cardiac_phantom(32, 0)
    with pytest.raises(ValueError, match="n must"):
        deforming_phantom(4, 3)
