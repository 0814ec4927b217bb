"""Lift → pad → crop → head alignment of LSM/U-Net on odd, non-square 2-D and 3-D grids (a
per-pixel loop with a hand-written coordinate grid as the reference), and the LSM patch size at
each resolution (the reference page's rule ``p = padded size / 16``)."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
import torch.nn.functional as F

from sciml.operators import LSM, UNet


class _IdentityUNet(torch.nn.Module):
    def forward(self, x, processors=None):
        return x


def _per_pixel_reference(model, x: torch.Tensor) -> torch.Tensor:
    """fc0([x, coords]) → outc (1×1) → fc1 → GELU → fc2 pixel by pixel; coords i / (S − 1)."""
    bsz, _, *sizes = x.shape
    c_out = model.fc2.out_features
    w_out = model.outc.weight.reshape(model.outc.out_channels, -1)
    out = torch.empty(bsz, c_out, *sizes, dtype=x.dtype)
    for b in range(bsz):
        for idx in itertools.product(*(range(s) for s in sizes)):
            coords = torch.tensor([i / (s - 1) for i, s in zip(idx, sizes)], dtype=x.dtype)
            v = torch.cat([x[(b, slice(None), *idx)], coords])
            h = model.fc0.weight @ v + model.fc0.bias
            h = w_out @ h + model.outc.bias
            h = F.gelu(model.fc1.weight @ h + model.fc1.bias)
            out[(b, slice(None), *idx)] = model.fc2.weight @ h + model.fc2.bias
    return out


@pytest.mark.parametrize(
    ("make", "shape"),
    [
        (lambda: LSM(width=8, in_channels=2, out_channels=3), (7, 21)),
        (lambda: UNet(width=8, in_channels=2, out_channels=3), (17, 5)),
        (lambda: LSM(width=8, in_channels=2, out_channels=3, ndim=3), (5, 9, 6)),
    ],
)
def test_padding_and_crop_keep_every_pixel_on_its_own_coordinate(make, shape):
    """With the U-Net replaced by the identity, the model is a per-pixel map of (x, coords):
    any shift from padding/cropping or a grid spanning the padded size would show up here."""
    torch.manual_seed(0)
    model = make().double().eval()
    model.unet = _IdentityUNet()
    x = torch.randn(2, 2, *shape, dtype=torch.float64)
    with torch.no_grad():
        got = model(x)
    torch.testing.assert_close(got, _per_pixel_reference(model, x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    ("shape", "patch"),
    [
        ((32, 32), (2, 2)),
        ((64, 64), (4, 4)),  # a model trained at 32² evaluated at 64²: patch recomputed
        ((85, 85), (6, 6)),  # the reference page: Darcy 85² padded to 96², patch 6
        ((20, 40), (2, 3)),
        ((9, 16, 33), (1, 1, 3)),
    ],
)
def test_lsm_patch_is_padded_size_over_16_at_every_level(shape, patch):
    ndim = len(shape)
    model = LSM(width=8, ndim=ndim).eval()
    seen: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    for blk in model.blocks:
        orig = blk.forward

        def spy(f, p, orig=orig):
            seen.append((tuple(f.shape[2:]), tuple(p)))
            return orig(f, p)

        blk.forward = spy
    with torch.no_grad():
        assert model(torch.randn(1, 1, *shape)).shape == (1, 1, *shape)
    padded = tuple(16 * math.ceil(s / 16) for s in shape)
    assert [s for s, _ in seen] == [tuple(p // 2**lvl for p in padded) for lvl in range(5)]
    assert all(p == patch for _, p in seen)
