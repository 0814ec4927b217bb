"""Masked Fourier operators copy a CPU mask / coil maps to the data's device once, not per apply.

``meta`` stands in for CUDA: a CPU → meta copy is a host-to-device transfer."""

import torch

from sciml.imaging import MaskedFourier, MultiCoilFourier
from sciml.kernels import fftc, ifftc
from tests.helpers.devices import device_copies, strict_devices


def _apply_all(op, x, times=4):
    for _ in range(times):
        y = op(x)
        op.H(y)
        op.N(x)


def test_masked_fourier_copies_a_cpu_mask_to_the_device_once():
    op = MaskedFourier(torch.rand(3, 8, 8) > 0.5)
    x = torch.zeros(3, 8, 8, dtype=torch.complex64, device="meta")
    with strict_devices(), device_copies() as log:
        _apply_all(op, x)
    assert log == [("cpu", "meta", (3, 8, 8))]


def test_multicoil_fourier_copies_mask_and_maps_to_the_device_once():
    g = torch.Generator().manual_seed(0)
    maps = torch.randn(4, 8, 8, dtype=torch.complex128, generator=g)
    op = MultiCoilFourier(torch.rand(3, 8, 1, generator=g) > 0.5, maps)
    x = torch.zeros(3, 8, 8, dtype=torch.complex64, device="meta")
    with strict_devices(), device_copies() as log:
        _apply_all(op, x)
    assert sorted(log) == [("cpu", "meta", (3, 8, 1)), ("cpu", "meta", (4, 8, 8))]


def test_cached_mask_follows_later_changes_and_matches_the_dense_formula():
    g = torch.Generator().manual_seed(1)
    mask = (torch.rand(2, 6, 5, generator=g) > 0.4).double()
    op = MaskedFourier(mask)
    x = torch.randn(2, 6, 5, dtype=torch.complex64, generator=g)
    for _ in range(2):  # float32 data, float64 mask: the converted mask is reused
        torch.testing.assert_close(op(x), mask.float() * fftc(x, axes=(-2, -1)))
    mask[0].zero_()  # an in-place edit of the operator's mask must reach the next apply
    y = op(x)
    assert torch.count_nonzero(y[0]) == 0
    torch.testing.assert_close(y[1], mask[1].float() * fftc(x, axes=(-2, -1))[1])
    torch.testing.assert_close(op.H(y), ifftc(mask.float() * fftc(x, axes=(-2, -1)), axes=(-2, -1)))


def test_operator_built_under_inference_mode_still_applies():
    with torch.inference_mode():
        mask = torch.rand(2, 4, 4) > 0.5
        op = MaskedFourier(mask)
    x = torch.randn(2, 4, 4, dtype=torch.complex64)
    torch.testing.assert_close(op(x), mask.float() * fftc(x, axes=(-2, -1)))
