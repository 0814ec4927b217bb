"""Radon operator: adjoint identity, linearity, disc sinogram vs chord length, dense matrix,
acquisition geometry, noise, bad input."""

import math

import pytest
import torch

from sciml.imaging.tomo.radon import (
    Radon,
    acquisition_angles,
    add_noise,
    bit_reversal_order,
)
from tests.imaging._checks import check_adjoint, check_linop, dense_matrix


def _disc(n: int, r: float, ss: int = 8) -> torch.Tensor:
    """Disc of radius ``r`` pixels about the image centre, exact area fractions (``ss²`` samples)."""
    c = (n - 1) / 2
    g = (torch.arange(n * ss, dtype=torch.float64) + 0.5) / ss - 0.5 - c
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    return ((xx**2 + yy**2) <= r * r).double().reshape(n, ss, n, ss).mean((1, 3))


@pytest.mark.parametrize(
    "views,opposite,cache", [(1, False, True), (2, True, True), (3, False, False)]
)
def test_adjoint_identity_and_linearity(views, opposite, cache):
    op = Radon(acquisition_angles(6, views, opposite=opposite), 11, cache=cache)
    check_linop(op)  # adjoint to 1e-10 (complex128), linearity, normal, shapes
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(op.ishape, generator=gen, dtype=torch.float64)
    y = torch.randn(op.oshape, generator=gen, dtype=torch.float64)
    lhs, rhs = torch.vdot(op(x).flatten(), y.flatten()), torch.vdot(x.flatten(), op.H(y).flatten())
    assert abs(float(lhs - rhs)) < 1e-12 * float(op(x).norm() * y.norm())


def test_adjoint_equals_transpose_of_dense_matrix_and_autograd():
    op = Radon(acquisition_angles(2, 2), 6, n_det=9)
    a = dense_matrix(op).real
    at = dense_matrix(op.H).real
    assert torch.allclose(at, a.T, atol=1e-14)
    # autograd of the forward is the same adjoint
    x = torch.rand(op.ishape, dtype=torch.float64, requires_grad=True)
    y = torch.randn(op.oshape, dtype=torch.float64)
    (op(x) * y).sum().backward()
    assert torch.allclose(x.grad, op.H(y), atol=1e-13)


def test_chunked_equals_unchunked():
    th = acquisition_angles(8, 1)
    x = torch.rand(8, 10, 10, dtype=torch.float64)
    a, b = Radon(th, 10, chunk=300), Radon(th, 10, cache=False)
    assert a._chunk_frames == 1
    assert torch.allclose(a(x), b(x), atol=1e-13)
    y = torch.rand(a.oshape, dtype=torch.float64)
    assert torch.allclose(a.H(y), b.H(y), atol=1e-13)


def test_disc_sinogram_matches_chord_length():
    n, r, k = 48, 15.0, 24
    ang = torch.linspace(0, math.pi, k + 1, dtype=torch.float64)[:-1]
    op = Radon(ang, n, frames=k)
    sino = op(_disc(n, r).expand(k, n, n).contiguous())[:, 0]
    s = torch.arange(op.n_det, dtype=torch.float64) - (op.n_det - 1) / 2
    chord = 2 * torch.sqrt(torch.clamp(r * r - s**2, min=0))
    err = (sino - chord).norm(dim=1) / chord.norm()
    assert float(err.max()) < 0.02  # discretisation accuracy (pixelated edge, linear interp.)
    inner = s.abs() < r - 2  # away from the edge, where the chord is smooth
    assert float((sino - chord)[:, inner].abs().max()) < 0.03 * 2 * r


def test_projection_mass_of_smooth_object():
    """Every projection of a smooth blob integrates to the image mass (∫ Rf ds = ∫ f)."""
    n = 32
    c = (n - 1) / 2
    r = torch.arange(n, dtype=torch.float64) - c
    yy, xx = torch.meshgrid(r, r, indexing="ij")
    blob = torch.exp(-((xx - 2) ** 2 + (yy + 1) ** 2) / (2 * 3.0**2))
    ang = torch.linspace(0, math.pi, 13, dtype=torch.float64)[:-1]
    mass = Radon(ang, n, frames=12)(blob.expand(12, n, n).contiguous()).sum(dim=(1, 2))
    assert torch.allclose(mass, blob.sum().expand(12), rtol=2e-4)  # quadrature accuracy


def test_bit_reversal_and_opposite_views():
    assert bit_reversal_order(8) == [0, 4, 2, 6, 1, 5, 3, 7]
    assert sorted(bit_reversal_order(12)) == list(range(12))
    th = acquisition_angles(8)
    assert torch.allclose(
        th[:, 0], torch.tensor([0, 4, 2, 6, 1, 5, 3, 7.0], dtype=torch.float64) * math.pi / 8
    )
    th2 = acquisition_angles(4, 2, opposite=True)
    assert th2.shape == (4, 4)
    assert torch.allclose(th2[:, 2:], th2[:, :2] + math.pi)
    # the opposite view is the detector-reversed projection (centred detector)
    x = torch.rand(4, 10, 10, dtype=torch.float64)
    g = Radon(th2, 10)(x)
    assert torch.allclose(g[:, 2:], g[:, :2].flip(-1), atol=1e-10)


def test_noise_level():
    g = torch.ones(50, 2, 200, dtype=torch.float64) * 3.0
    gn = add_noise(g, 0.01, seed=1)
    assert abs(float((gn - g).std()) - 0.03) < 0.03 * 0.05
    assert torch.equal(gn, add_noise(g, 0.01, seed=1))


def test_bad_input():
    with pytest.raises(ValueError, match="frames=5"):
        Radon(acquisition_angles(4), 8, frames=5)
    with pytest.raises(ValueError, match="non-finite"):
        Radon(torch.tensor([0.0, float("nan")]), 8)
    with pytest.raises(ValueError, match="n must be"):
        Radon(acquisition_angles(4), 1)
    with pytest.raises(TypeError, match="real"):
        Radon(torch.zeros(3, dtype=torch.complex128), 8)
    op = Radon(acquisition_angles(4), 8)
    with pytest.raises(ValueError, match="shape"):
        op(torch.zeros(5, 8, 8))
    with pytest.raises(ValueError, match="views_per_frame"):
        acquisition_angles(4, 0)


def test_sparse_matrix_matches_dense_and_memory():
    """The cached CSR matrix holds exactly the nonzero entries of the dense matrix; its memory
    (A and Aᵀ, int32 indices + float64 values) is far below the public code's dense matrix."""
    small = Radon(acquisition_angles(3, 2), 9, n_det=14)
    a = dense_matrix(small).real
    assert small.nnz == int((a != 0).sum())
    csr, csr_t = small.matrices()
    assert torch.equal(csr.to_dense(), a.reshape(csr.shape))
    assert torch.equal(csr_t.to_dense(), csr.to_dense().T)
    rows = csr.shape[0] + csr.shape[1] + 2
    assert small.nbytes == 2 * small.nnz * (4 + 8) + 4 * rows  # int32 indices
    op = Radon(acquisition_angles(256), 128, n_det=256)
    assert op.dense_nbytes == 256 * 256 * 128 * 128 * 4  # ≈ 4.3 GB as in the public code
    assert op.nbytes < op.dense_nbytes / 20
    assert Radon(acquisition_angles(4), 8, cache=False).nbytes == 0
    # float32 inputs use a float32 copy of the same weights (nbytes still counts float64)
    x = torch.rand(small.ishape, dtype=torch.float64)
    y32 = small(x.float())
    assert y32.dtype == torch.float32 and torch.allclose(y32.double(), small(x), rtol=1e-5)
    assert small.nbytes == 2 * small.nnz * (4 + 8) + 4 * rows


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    op = Radon(acquisition_angles(4, 2), 12)
    x = torch.rand(op.ishape, dtype=torch.float64)
    assert torch.allclose(op(x.cuda()).cpu(), op(x), atol=1e-10)
    check_adjoint(op, device="cuda")
