"""Per-pixel unit-Gaussian normalisation (the FNO/LSM scripts' UnitGaussianNormalizer) vs NumPy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.operators import (
    NormalizedPairs,
    RelativeL2Loss,
    UnitGaussianNormalizer,
    rollout,
    unit_gaussian_frames,
    unit_gaussian_pairs,
)


def _data(seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 5, 4, generator=g, dtype=torch.float64) * 3 + 2
    y = torch.randn(n, 1, 5, 4, generator=g, dtype=torch.float64) * 0.01
    y[:, :, 0, :] = 0.0  # a "boundary" row that is zero in every sample (std 0)
    return x, y


def test_statistics_encode_decode_match_numpy():
    x, y = _data(0, 12)
    xn = x.numpy()
    mean, std = xn.mean(axis=0), xn.std(axis=0, ddof=1)  # torch.std is unbiased, as in FNO
    norm = UnitGaussianNormalizer(x, eps=1e-5)
    np.testing.assert_allclose(norm.encode(x).numpy(), (xn - mean) / (std + 1e-5), rtol=1e-12)
    z = torch.randn(3, 1, 5, 4, dtype=torch.float64)
    np.testing.assert_allclose(norm.decode(z).numpy(), z.numpy() * (std + 1e-5) + mean, rtol=1e-12)
    np.testing.assert_allclose(norm.decode(norm.encode(x)).numpy(), xn, rtol=1e-12, atol=1e-12)
    # one sample (no batch axis) and float32 on the way in
    np.testing.assert_allclose(
        norm.encode(x[0].float()).numpy(), ((xn[0] - mean) / (std + 1e-5)), rtol=1e-5
    )


def test_zero_std_pixels_are_scaled_by_eps_and_drop_out_of_the_loss():
    _, y = _data(1, 10)
    yn = UnitGaussianNormalizer(y, eps=1e-5)
    z = torch.ones(2, 1, 5, 4, dtype=torch.float64)
    dec = yn.decode(z)
    np.testing.assert_allclose(dec[:, :, 0].numpy(), 1e-5, rtol=1e-12)  # mean 0, std 0
    # gradient of the de-normalised relative L2 w.r.t. the model output: the boundary row gets
    # (std + eps) / (std_interior + eps) of the interior's weight — about eps / 0.01 here
    z.requires_grad_(True)
    target = y[:2] + 0.001
    RelativeL2Loss(yn.decode)(z, yn.encode(target)).backward()
    g = z.grad.abs()
    assert g[:, :, 0].max() < 1e-2 * g[:, :, 1:].mean()


def test_unit_gaussian_pairs_use_train_statistics_only():
    xtr, ytr = _data(2, 8)
    xte, yte = _data(3, 4)
    train = list(zip(xtr.unbind(0), ytr.unbind(0)))
    test = list(zip(xte.unbind(0), yte.unbind(0)))
    tr, te, yn = unit_gaussian_pairs(train, test)
    assert isinstance(tr, NormalizedPairs) and len(tr) == 8 and len(te) == 4
    m, s = xtr.numpy().mean(0), xtr.numpy().std(0, ddof=1)
    np.testing.assert_allclose(te[1][0].numpy(), (xte[1].numpy() - m) / (s + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(yn.decode(te[2][1]).numpy(), yte[2].numpy(), atol=1e-15)
    np.testing.assert_allclose(yn.mean.numpy(), ytr.numpy().mean(0), rtol=1e-12, atol=1e-18)


def test_unit_gaussian_frames_pool_samples_and_frames_per_pixel():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(6, 3, 5, 4, generator=g, dtype=torch.float64) * 2 + 1
    y = torch.randn(6, 2, 5, 4, generator=g, dtype=torch.float64) * 0.5 - 1
    xte = torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64)
    yte = torch.randn(2, 2, 5, 4, generator=g, dtype=torch.float64)
    tr, te, nm = unit_gaussian_frames(list(zip(x, y)), list(zip(xte, yte)))
    frames = np.concatenate([x.numpy(), y.numpy()], axis=1).reshape(-1, 5, 4)  # 30 frames
    m, s = frames.mean(0), frames.std(0, ddof=1)
    np.testing.assert_allclose(nm.mean.numpy(), m, rtol=1e-12)
    np.testing.assert_allclose(tr[4][0].numpy(), (x[4].numpy() - m) / (s + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(te[1][1].numpy(), (yte[1].numpy() - m) / (s + 1e-5), rtol=1e-12)
    # one transform for every frame: a rollout of "persistence" (next frame = last frame) in
    # normalised space decodes to persistence in physical space
    last = lambda z: z[:, -1:]  # noqa: E731
    xs = torch.stack([tr[i][0] for i in range(3)])
    out = nm.decode(rollout(last, xs, 2))
    np.testing.assert_allclose(out.numpy(), x[:3, -1:].expand(3, 2, 5, 4).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="train"):
        unit_gaussian_frames([(x[0], y[0, :, :3])] * 2, [(x[0], y[0])])


def test_encode_decode_copy_the_statistics_to_the_device_once():
    """Statistics computed on the CPU, batches on a GPU (``meta`` stands in): two copies in
    all (mean and std), not two per call."""
    from tests.helpers.devices import device_copies, strict_devices

    norm = UnitGaussianNormalizer(torch.rand(6, 4, 5, dtype=torch.float64))
    x = torch.zeros(3, 4, 5, device="meta")
    with strict_devices(), device_copies() as log:
        for _ in range(4):
            norm.decode(norm.encode(x))
    assert sorted(log) == [("cpu", "meta", (4, 5))] * 2


def test_bad_input():
    x, y = _data(4, 4)
    with pytest.raises(ValueError, match="eps"):
        UnitGaussianNormalizer(x, eps=0.0)
    with pytest.raises(ValueError, match="N >= 2"):
        UnitGaussianNormalizer(x[:1])
    with pytest.raises(TypeError, match="x"):
        UnitGaussianNormalizer(x.numpy())
    bad = x.clone()
    bad[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        UnitGaussianNormalizer(bad)
    n = UnitGaussianNormalizer(x)
    with pytest.raises(ValueError, match="same number"):
        NormalizedPairs(x, y[:3], n, n)
    with pytest.raises(ValueError, match="empty"):
        unit_gaussian_pairs([], [])
