import numpy as np
import pytest
import torch

from sciml.imaging import (
    FiniteDifference,
    MaskedFourier,
    MultiCoilFourier,
    birdcage_maps,
    casorati,
    gradient,
    power_norm,
    spatial_unfolding,
    variable_density_mask,
)
from sciml.imaging.linop import Compose, Hstack, Identity, Vstack, Zero

from ._checks import check_adjoint, check_linop, dense_matrix

SHAPE = (4, 8, 6)


def _mask(shape=SHAPE, accel=2.0, seed=0):
    return variable_density_mask(shape, accel, seed=seed)


def test_masked_fourier_adjoint_linearity():
    check_linop(MaskedFourier(_mask()))


def test_masked_fourier_line_mask_broadcasts():
    m = _mask()[:, :, :1]
    op = MaskedFourier(m, shape=SHAPE)
    check_linop(op)
    x = torch.randn(SHAPE, dtype=torch.complex128)
    torch.testing.assert_close(op(x), MaskedFourier(_mask())(x))


def test_masked_fourier_full_mask_is_unitary():
    op = MaskedFourier(torch.ones(SHAPE, dtype=torch.bool))
    a = dense_matrix(op).numpy()
    np.testing.assert_allclose(a.conj().T @ a, np.eye(a.shape[1]), atol=1e-12)
    np.testing.assert_allclose(a @ a.conj().T, np.eye(a.shape[0]), atol=1e-12)


def test_masked_fourier_matches_numpy_dft():
    mask = _mask()
    x = torch.randn(SHAPE, dtype=torch.complex128)
    ref = np.fft.fftshift(
        np.fft.fft2(np.fft.ifftshift(x.numpy(), axes=(-2, -1)), norm="ortho"), axes=(-2, -1)
    )
    np.testing.assert_allclose(MaskedFourier(mask)(x).numpy(), mask.numpy() * ref, atol=1e-12)


def test_multicoil_adjoint_and_full_mask_isometry():
    maps = birdcage_maps(4, SHAPE[1:])
    check_linop(MultiCoilFourier(_mask(), maps))
    # maps have unit root-sum-of-squares, so with a full mask A^H A = I
    full = MultiCoilFourier(torch.ones(SHAPE), maps)
    x = torch.randn(SHAPE, dtype=torch.complex128)
    torch.testing.assert_close(full.N(x), x, atol=1e-12, rtol=0)
    rss = maps.abs().pow(2).sum(0).sqrt()
    torch.testing.assert_close(rss, torch.ones_like(rss))


@pytest.mark.parametrize("axis", [0, 1, 2])
@pytest.mark.parametrize("boundary", ["neumann", "periodic"])
def test_finite_difference_dense(axis, boundary):
    op = FiniteDifference(SHAPE, axis, boundary)
    check_linop(op)
    # dense reference: 1-D difference matrix along the axis (Kronecker with identities)
    n = SHAPE[axis]
    d = -np.eye(n) + np.eye(n, k=1)
    if boundary == "periodic":
        d[-1, 0] = 1
    else:
        d[-1, -1] = 0
    mats = [np.eye(s) for s in SHAPE]
    mats[axis] = d
    ref = np.kron(np.kron(mats[0], mats[1]), mats[2])
    np.testing.assert_allclose(dense_matrix(op).numpy(), ref, atol=0)


def test_gradient_norm_bound_and_power_iteration():
    op = gradient(SHAPE, axes=(-2, -1))
    check_linop(op)
    est = power_norm(op, n_iter=500, tol=1e-14)
    a = np.vstack([dense_matrix(o).numpy() for o in op.ops])
    exact = np.linalg.norm(a, 2)
    assert abs(est - exact) < 1e-6 * exact
    assert exact <= np.sqrt(8) + 1e-12


def test_unfoldings_are_isometric_permutations():
    x = torch.randn(SHAPE, dtype=torch.complex128)
    c = casorati(SHAPE)
    u = spatial_unfolding(SHAPE)
    check_linop(c)
    check_linop(u)
    assert c.oshape == (48, 4) and u.oshape == (8, 24)
    torch.testing.assert_close(c(x)[:, 2], x[2].reshape(-1))
    torch.testing.assert_close(u(x)[3], x[:, 3, :].reshape(-1))
    torch.testing.assert_close(c.H(c(x)), x)
    assert power_norm(c) == pytest.approx(1.0, abs=1e-12)


def test_stacks_and_algebra():
    a = MaskedFourier(_mask())
    d = FiniteDifference(SHAPE, 0)
    c = casorati(SHAPE)
    k = Vstack(
        [Hstack([a, a]), Hstack([d, Zero(SHAPE, SHAPE)]), Hstack([c, Zero(SHAPE, c.oshape)])]
    )
    check_linop(k)
    check_linop(2.5 * a - Identity(SHAPE) @ a + (1 - 2j) * a)
    check_adjoint(Compose([c, d, a.H]))
    # dense reference for a small algebra expression
    ad, dd = dense_matrix(a), dense_matrix(d)
    expr = (2.0 * a + a @ d) - d.H.H @ Identity(SHAPE)
    ref = 2 * ad + ad @ dd - dd
    torch.testing.assert_close(dense_matrix(expr), ref)
    # norm of the stacked operator against the dense matrix
    small = Vstack([a, d])
    est = small.norm(n_iter=1000, tol=1e-14)
    exact = np.linalg.norm(np.vstack([ad.numpy(), dd.numpy()]), 2)
    assert abs(est - exact) < 1e-6 * exact


def test_bad_inputs():
    op = MaskedFourier(_mask())
    with pytest.raises(ValueError, match="shape"):
        op(torch.zeros(4, 8, 5, dtype=torch.complex128))
    with pytest.raises(TypeError, match="torch.Tensor"):
        op(np.zeros(SHAPE))
    with pytest.raises(ValueError, match="mask"):
        MaskedFourier(torch.ones(4, 8))
    with pytest.raises(ValueError, match="mask shape"):
        MaskedFourier(torch.ones(4, 8, 6), shape=(4, 8, 7))
    with pytest.raises(TypeError, match="mask"):
        MaskedFourier(torch.ones(SHAPE, dtype=torch.complex128))
    with pytest.raises(ValueError, match="Compose"):
        Compose([casorati(SHAPE), casorati(SHAPE)])
    with pytest.raises(ValueError, match="mask shape"):
        MultiCoilFourier(torch.ones(4, 7, 6), birdcage_maps(2, (8, 6)))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_operators_on_gpu():
    mask = _mask().to("cuda")
    op = MaskedFourier(mask)
    check_linop(op, device="cuda")
    check_linop(Vstack([gradient(SHAPE), casorati(SHAPE)]), device="cuda")
