"""FFT kernels against direct convolution and explicit DFT matrices."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.kernels import (
    fft_conv,
    fftc,
    ifftc,
    next_fast_len,
    rfftn_derivative_symbol,
    spectral_derivative,
)
from tests.helpers.arrays import LIBS, random_array, rel_err, to_lib, to_numpy

TOL = 1e-10


def direct_conv(u, k, causal):
    lead = np.broadcast_shapes(u.shape[:-1], k.shape[:-1])
    u, k = np.broadcast_to(u, lead + u.shape[-1:]), np.broadcast_to(k, lead + k.shape[-1:])
    out = np.stack(
        [np.convolve(a, b) for a, b in zip(u.reshape(-1, u.shape[-1]), k.reshape(-1, k.shape[-1]))]
    )
    out = out.reshape(lead + (-1,))
    return out[..., : u.shape[-1]] if causal else out


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize(
    "shapes", [((5,), (5,)), ((3, 64), (64,)), ((2, 1, 37), (4, 20)), ((1,), (1,))]
)
@pytest.mark.parametrize("complex_", [False, True])
@pytest.mark.parametrize("causal", [True, False])
def test_fft_conv_matches_direct(lib, shapes, complex_, causal):
    rng = np.random.default_rng(sum(map(len, shapes)))
    u = random_array(rng, shapes[0], complex_)
    k = random_array(rng, shapes[1], not complex_ and causal)  # also mixes real with complex
    out = fft_conv(to_lib(u, lib), to_lib(k, lib), causal=causal)
    assert rel_err(out, direct_conv(u, k, causal)) <= TOL


def test_next_fast_len_is_5_smooth_and_minimal():
    for n in range(1, 400):
        m = next_fast_len(n)
        assert m >= n
        r = m
        for p in (2, 3, 5):
            while r % p == 0:
                r //= p
        assert r == 1
        assert all(not _smooth(j) for j in range(n, m))


def _smooth(m):
    for p in (2, 3, 5):
        while m % p == 0:
            m //= p
    return m == 1


def centred_dft(n):
    c = n // 2
    idx = np.arange(n) - c
    return np.exp(-2j * np.pi * np.outer(idx, idx) / n) / np.sqrt(n)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("shape", [(6, 7), (2, 5, 8), (1, 4)])
def test_fftc_equals_centred_dft_matrix_and_is_unitary(lib, shape):
    rng = np.random.default_rng(1)
    x = random_array(rng, shape, True)
    f0, f1 = centred_dft(shape[-2]), centred_dft(shape[-1])
    ref = np.einsum("ki,lj,...ij->...kl", f0, f1, x)
    out = fftc(to_lib(x, lib), axes=(-2, -1))
    assert rel_err(out, ref) <= TOL
    assert rel_err(ifftc(out, axes=(-2, -1)), x) <= TOL
    assert abs(np.linalg.norm(to_numpy(out)) - np.linalg.norm(x)) <= TOL * np.linalg.norm(x)
    # adjoint identity <F x, y> = <x, F^H y>
    y = random_array(rng, shape, True)
    lhs = np.vdot(to_numpy(y), to_numpy(out))
    rhs = np.vdot(to_numpy(ifftc(to_lib(y, lib))), x)
    assert abs(lhs - rhs) <= TOL * abs(lhs)


def test_fftc_single_axis():
    rng = np.random.default_rng(2)
    x = random_array(rng, (3, 9), True)
    assert rel_err(fftc(x, axes=-1), x @ centred_dft(9).T) <= TOL


@pytest.mark.parametrize("lib", LIBS)
def test_spectral_derivative_of_trig_polynomial(lib):
    n, length = 32, 3.0
    x = np.arange(n) * length / n
    w = 2 * np.pi / length
    u = np.sin(3 * w * x) + 0.5 * np.cos(5 * w * x)
    du = 3 * w * np.cos(3 * w * x) - 2.5 * w * np.sin(5 * w * x)
    d2u = -9 * w**2 * np.sin(3 * w * x) - 12.5 * w**2 * np.cos(5 * w * x)
    assert rel_err(spectral_derivative(to_lib(u, lib), length, 1), du) <= TOL
    assert rel_err(spectral_derivative(to_lib(u, lib), length, 2), d2u) <= TOL


def test_gradients_match_finite_differences():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    u = torch.tensor(rng.standard_normal((2, 17)), requires_grad=True)
    k = torch.tensor(rng.standard_normal(9), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: fft_conv(a, b), (u, k))
    z = torch.tensor(random_array(rng, (4, 5), True), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: fftc(a).abs().sum() + ifftc(a).real.sum(), (z,))
    jax = pytest.importorskip("jax")
    from jax.test_util import check_grads

    args = (jax.numpy.asarray(u.detach().numpy()), jax.numpy.asarray(k.detach().numpy()))
    check_grads(lambda a, b: fft_conv(a, b).sum() ** 2, args, order=1, modes=["rev"])
    jl = float(fft_conv(*args).sum() ** 2)
    tl = float(fft_conv(u, k).sum() ** 2)
    assert abs(jl - tl) <= 1e-10 * abs(tl)


def test_bad_inputs():
    with pytest.raises(ValueError, match="u contains 1 non-finite"):
        fft_conv(np.array([1.0, np.inf]), np.ones(2))
    with pytest.raises(ValueError, match="non-empty"):
        fft_conv(np.ones(3), np.ones(0))
    with pytest.raises(ValueError, match="out of range"):
        fftc(np.ones((3, 3)), axes=(0, 2))


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("shape", [(8, 6), (7, 5, 9), (6,)])
@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_rfftn_derivative_symbol_matches_axiswise_spectral_derivative(lib, shape, order):
    """Multiplying the rfftn spectrum by the symbol = spectral_derivative along that axis."""
    rng = np.random.default_rng(5)
    u = rng.standard_normal(shape)
    lengths = [1.0, 2.5, 0.7][: len(shape)]
    axes = tuple(range(len(shape)))
    for axis, length in enumerate(lengths):
        sym = to_numpy(rfftn_derivative_symbol(shape, length, axis, order, like=to_lib(u, lib)))
        got = np.fft.irfftn(np.fft.rfftn(u, axes=axes) * sym, s=shape, axes=axes)
        ref = to_numpy(spectral_derivative(to_lib(u, lib), length, order, axis=axis))
        assert rel_err(got, ref) <= TOL


def test_rfftn_derivative_symbol_laplacian_and_bad_input():
    """Σ order-2 symbols is the Laplacian of a 2-D trigonometric field (closed form)."""
    n, length = 16, 2.0
    x = np.arange(n) * length / n
    w = 2 * np.pi / length
    u = np.sin(3 * w * x)[:, None] * np.cos(2 * w * x)[None, :]
    like = np.zeros(1)
    lap = sum(rfftn_derivative_symbol((n, n), length, a, 2, like=like) for a in (0, 1))
    got = np.fft.irfft2(np.fft.rfft2(u) * lap, s=(n, n))
    assert rel_err(got, -13 * w**2 * u) <= TOL
    with pytest.raises(ValueError, match="axis"):
        rfftn_derivative_symbol((n, n), length, 2, like=like)
    with pytest.raises(ValueError, match="order"):
        rfftn_derivative_symbol((n, n), length, 0, -1, like=like)
    with pytest.raises(ValueError, match="length"):
        rfftn_derivative_symbol((n, n), 0.0, 0, like=like)
    with pytest.raises(ValueError, match="floating"):
        rfftn_derivative_symbol((n, n), length, 0, like=np.zeros(1, dtype=int))
