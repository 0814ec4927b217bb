"""Review pass 3 (tomography): each test failed on the code before the fix it names."""

import math

import numpy as np
import pytest
import torch

from sciml.imaging.tomo import (
    REDPSM,
    Radon,
    REDPSMConfig,
    acquisition_angles,
    add_noise,
    fbp,
)


def _dense(op: Radon) -> torch.Tensor:
    """Dense matrix of ``op`` built column by column from unit images (float64)."""
    cols = []
    for j in range(math.prod(op.ishape)):
        e = torch.zeros(math.prod(op.ishape), dtype=torch.float64)
        e[j] = 1.0
        cols.append(op(e.reshape(op.ishape)).reshape(-1))
    return torch.stack(cols, dim=1)


@pytest.mark.parametrize("cache", [True, False])
@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool, torch.float16])
def test_radon_refuses_integer_and_half_inputs_by_name(cache, dtype):
    # before: cache=False cast the weights to the integer dtype (truncated to 0: the projection
    # of a ones image was all zeros, silently); cache=True failed inside torch.mv with
    # "addmv_out_sparse_csr_impl_mkl not implemented for 'Long'"
    op = Radon(acquisition_angles(2), 5, cache=cache)
    with pytest.raises(TypeError, match=r"Radon: input must be float32, float64.*got torch\."):
        op(torch.ones(op.ishape, dtype=dtype))
    with pytest.raises(TypeError, match=r"Radon.H: input must be float32"):
        op.H(torch.ones(op.oshape, dtype=dtype))


@pytest.mark.parametrize("cache", [True, False])
def test_radon_of_an_integer_image_after_conversion_matches_the_dense_matrix(cache):
    op = Radon(acquisition_angles(3), 5, 7, cache=cache)
    x = torch.arange(3 * 25).reshape(3, 5, 5)
    ref = _dense(Radon(acquisition_angles(3), 5, 7)) @ x.reshape(-1).double()
    torch.testing.assert_close(op(x.double()).reshape(-1), ref, rtol=1e-13, atol=1e-12)


def test_angles_that_require_grad_do_not_freeze_a_graph_into_the_operator():
    # before: the cached CSR values carried the angles' graph; the second backward through any
    # projection failed with "Trying to backward through the graph a second time"
    th = torch.tensor([0.3, 1.0], dtype=torch.float64, requires_grad=True)
    op = Radon(th, 5)
    ref = Radon(th.detach(), 5)
    x = torch.rand(2, 5, 5, dtype=torch.float64, requires_grad=True)
    y = torch.rand(op.oshape, dtype=torch.float64)
    for _ in range(2):  # the adjoint identity through autograd: grad_x <A x, y> = Aᵀ y
        x.grad = None
        (op(x) * y).sum().backward()
        torch.testing.assert_close(x.grad, ref.H(y), rtol=1e-14, atol=1e-14)
    assert th.grad is None


def test_add_noise_on_complex_data_is_circular_with_the_stated_std():
    # before: the noise was real (the imaginary part stayed noise-free)
    g = torch.ones(4, 1, 20000, dtype=torch.complex128) * (3 - 4j)  # |g| = 5
    level = 0.1
    n = (add_noise(g, level, seed=3) - g) / (level * 5.0)
    assert n.dtype == torch.complex128
    # independent reference: per-part variance 1/2, total E|n|² = 1 (statistical, 80000 draws)
    assert abs(float(n.real.var()) - 0.5) < 0.02
    assert abs(float(n.imag.var()) - 0.5) < 0.02
    assert abs(float(n.abs().pow(2).mean()) - 1.0) < 0.03
    assert abs(float((n.real * n.imag).mean())) < 0.02


def test_add_noise_on_real_data_is_the_seeded_float64_stream():
    # the published benchmarks use real sinograms: their noise must be unchanged
    g = torch.rand(3, 1, 7, dtype=torch.float64)
    ref = torch.randn(g.shape, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    torch.testing.assert_close(add_noise(g, 0.01, seed=5), g + 0.01 * g.abs().max() * ref)


def test_add_noise_refuses_integer_data():
    # before: the noise was cast to int64 and truncated (mostly zeros), silently
    with pytest.raises(TypeError, match=r"add_noise: g must be float32"):
        add_noise(torch.full((2, 1, 5), 1000), 0.005)


def test_fbp_of_a_python_list_is_computed_in_float64():
    # before: torch.as_tensor(list) gave float32 data (rounded, float32 result)
    op = Radon(acquisition_angles(2, 3), 6)
    g = torch.rand(op.oshape, dtype=torch.float64)
    x = fbp(g.tolist(), op)
    assert x.dtype == torch.float64
    torch.testing.assert_close(x, fbp(g, op), rtol=0, atol=0)


@pytest.mark.parametrize(
    "bad, exc, match",
    [
        (torch.zeros(6, 9, 8), ValueError, r"x_true has shape \(6, 9, 8\), expected"),
        (torch.full((6, 8, 8), float("nan")), ValueError, "x_true contains non-finite"),
        (object(), TypeError, "x_true must be a tensor or array"),
    ],
)
def test_reconstruct_checks_x_true_before_fitting(monkeypatch, bad, exc, match):
    # before: a wrong x_true failed only after the projection-domain fit (minutes at benchmark
    # size), a NumPy x_true with AttributeError "'numpy.ndarray' object has no attribute 'to'"
    op = Radon(acquisition_angles(6), 8)
    g = op(torch.rand(6, 8, 8, dtype=torch.float64))
    solver = REDPSM(REDPSMConfig(rank=2, knots=4, outer_iters=1, inner_iters=1, init_iters=5))

    def no_fit(*args, **kw):
        raise AssertionError("x_true must be checked before any fitting")

    monkeypatch.setattr(solver, "fit_psm", no_fit)
    with pytest.raises(exc, match=match):
        solver.reconstruct(g, op, bad)


def test_reconstruct_monitors_a_numpy_x_true():
    op = Radon(acquisition_angles(6), 8)
    x = torch.rand(6, 8, 8, dtype=torch.float64)
    cfg = REDPSMConfig(rank=2, knots=4, outer_iters=2, inner_iters=2, init_iters=5)
    a = REDPSM(cfg).reconstruct(op(x), op, x.numpy())
    b = REDPSM(cfg).reconstruct(op(x), op, x)
    assert a.history["psnr_psm"] == b.history["psnr_psm"]
    assert len(a.history["psnr_f"]) == 2 and np.isfinite(a.history["psnr_f"]).all()


def test_frame_denoiser_accepts_a_model_without_parameters():
    # before: StopIteration from next(model.parameters())
    from torch import nn

    from sciml.imaging.tomo import FrameDenoiser

    f = torch.rand(5, 6, 7, dtype=torch.float64)
    torch.testing.assert_close(FrameDenoiser(nn.Identity(), batch=2)(f), f, rtol=0, atol=0)
    # a fixed 3×3 box filter (zero padding) against an explicit sum of shifted copies
    box = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=True)
    pad = torch.nn.functional.pad(f, (1, 1, 1, 1))
    ref = sum(pad[:, i : i + 6, j : j + 7] for i in range(3) for j in range(3)) / 9
    torch.testing.assert_close(FrameDenoiser(box, batch=2)(f), ref, rtol=1e-14, atol=1e-14)


def test_nnz_without_cache_keeps_no_matrix():
    # before: op.nnz built and kept the CSR matrices although cache=False "holds nothing"
    op = Radon(acquisition_angles(3), 6, 7, cache=False)
    dense = _dense(Radon(acquisition_angles(3), 6, 7))
    assert op.nnz == int((dense != 0).sum())
    assert op._mats == {}
