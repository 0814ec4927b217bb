"""compute_stats / normalize / denormalize against direct NumPy reductions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sciml.data import compute_stats, denormalize, normalize, open_dataset
from sciml.data import stats as stats_module


@pytest.mark.parametrize("axis", [0, (0,), (0, 2, 3), (0, -1), (0, 1, 2, 3)])
def test_compute_stats_matches_numpy(axis: int | tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = (5.0 + 3.0 * rng.standard_normal((30, 2, 4, 3))).astype(np.float32)
    out = compute_stats(x, axis=axis)
    ref_mean = x.astype(np.float64).mean(axis=axis, keepdims=True)[0]
    ref_std = x.astype(np.float64).std(axis=axis, keepdims=True)[0]
    assert out["mean"].dtype == np.float64 and out["mean"].shape == ref_mean.shape
    np.testing.assert_allclose(out["mean"], ref_mean, rtol=1e-13)
    np.testing.assert_allclose(out["std"], ref_std, rtol=1e-12)
    # the statistics broadcast against one sample and against a batch
    z = normalize(x.astype(np.float64), out["mean"], out["std"])
    np.testing.assert_allclose(z.mean(axis=axis), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=axis), 1.0, rtol=1e-12)
    np.testing.assert_allclose(denormalize(z, out["mean"], out["std"]), x, rtol=1e-6)


def test_blockwise_two_pass_is_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(1)
    x = 1e6 + rng.standard_normal((257, 5))  # large offset: a one-pass E[x^2]-E[x]^2 loses digits
    monkeypatch.setattr(
        stats_module,
        "sample_blocks",
        lambda n, b, block_bytes=0: (slice(i, min(n, i + 10)) for i in range(0, n, 10)),
    )
    out = compute_stats(x)
    np.testing.assert_allclose(out["mean"], x.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(out["std"], x.std(axis=0), rtol=1e-9)


def test_compute_stats_on_a_lazy_view_equals_in_memory(field_file: Path, splits: dict) -> None:
    with open_dataset(field_file) as f:
        lazy = compute_stats(f.splits["train"], axis=0)
    ref = compute_stats(splits["train"], axis=0)
    for key in ("x", "y"):
        np.testing.assert_array_equal(lazy[key]["mean"], ref[key]["mean"])
        np.testing.assert_array_equal(lazy[key]["std"], ref[key]["std"])


def test_zero_std_is_treated_as_one() -> None:
    x = np.stack([np.ones(4), np.arange(4.0)], axis=1)  # first feature constant
    s = compute_stats(x)
    assert s["std"][0] == 0.0
    z = normalize(x, s["mean"], s["std"])
    np.testing.assert_array_equal(z[:, 0], 0.0)
    t = torch.as_tensor(x)
    zt = normalize(t, torch.as_tensor(s["mean"]), torch.as_tensor(s["std"]))
    np.testing.assert_allclose(zt.numpy(), z)
    np.testing.assert_allclose(
        denormalize(zt, torch.as_tensor(s["mean"]), torch.as_tensor(s["std"])).numpy(), x
    )


def test_bad_input() -> None:
    x = np.zeros((3, 2))
    with pytest.raises(ValueError, match="sample axis 0"):
        compute_stats(x, axis=1)
    with pytest.raises(ValueError, match="axis"):
        compute_stats(x, axis=(0, 2))
    with pytest.raises(TypeError, match="real numeric"):
        compute_stats(x.astype(np.complex64))
    with pytest.raises(ValueError, match="at least one sample"):
        compute_stats(np.zeros((0, 2)))


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_eps_convention_scales_by_std_plus_eps(lib):
    """With ``eps`` the scale is std + eps everywhere (zero-std entries included), in closed form."""
    x = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, -2.0]])
    mean, std = x.mean(axis=0), x.std(axis=0)  # middle column: std 0
    if lib == "torch":
        x, mean, std = (torch.from_numpy(a) for a in (x, mean, std))
    z = normalize(x, mean, std, eps=1e-5)
    expected = (np.asarray(x) - np.asarray(mean)) / (np.asarray(std) + 1e-5)
    np.testing.assert_allclose(np.asarray(z), expected, rtol=1e-15)
    np.testing.assert_allclose(np.asarray(denormalize(z, mean, std, eps=1e-5)), np.asarray(x))
    # the two rules differ only on the zero-std column: a unit offset maps to 1 / eps vs 1
    off = mean + 1.0
    np.testing.assert_allclose(np.asarray(normalize(off, mean, std, eps=1e-5))[1], 1.0 / 1e-5)
    np.testing.assert_allclose(np.asarray(normalize(off, mean, std))[1], 1.0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16, torch.int64])
def test_compute_stats_accepts_torch_tensors(dtype: torch.dtype) -> None:
    """A tensor gives the statistics of its values, computed in NumPy float64."""
    g = torch.Generator().manual_seed(0)
    t = (4.0 + 2.0 * torch.randn(25, 3, generator=g)).to(dtype)
    ref = t.float().double().numpy()
    out = compute_stats({"x": t, "y": t[:, :1]}, axis=0)
    np.testing.assert_allclose(out["x"]["mean"], ref.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(out["x"]["std"], ref.std(axis=0), rtol=1e-12)
    np.testing.assert_allclose(out["y"]["std"], ref[:, :1].std(axis=0), rtol=1e-12)
    assert isinstance(out["x"]["mean"], np.ndarray) and out["x"]["mean"].dtype == np.float64
    with pytest.raises(ValueError, match="NaN/inf"):
        compute_stats(torch.tensor([[1.0], [float("nan")]]))
