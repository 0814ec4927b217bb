"""`fourier_mode_mix` (FNO spectral convolution) against an explicit DFT sum over the kept modes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sciml.kernels import fourier_mode_mix
from tests.helpers.arrays import LIBS, rel_err, to_lib, to_numpy

TOL = 1e-10


def _kept(n: int, m2: int) -> list[tuple[int, int]]:
    """(wavenumber k, weight index) kept along a leading axis: k ≥ 0 first, then k < 0."""
    m = m2 // 2
    p, q = min(m, (n + 1) // 2), min(m, n // 2)
    return [(k, k) for k in range(p)] + [(-k, m2 - k) for k in range(q, 0, -1)]


def dense_reference(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """y = Σ over kept k of c_k Re[(Σ_i x̂_i(k) W_io(k)) e^{2πi k·r/n}] / N, x̂ by explicit sums.

    c_k = 2 for 0 < k_last < n_last / 2 (the mirrored half of a real field's spectrum), else 1;
    the imaginary part of a self-conjugate mode is dropped, as a real inverse transform does.
    """
    grid = x.shape[2:]
    d = len(grid)
    coords = np.stack(np.meshgrid(*[np.arange(n) for n in grid], indexing="ij"))  # (d, *grid)
    per_axis = [_kept(grid[j], w.shape[2 + j]) for j in range(d - 1)]
    last = [(k, k) for k in range(min(w.shape[-1], grid[-1] // 2 + 1))]
    y = np.zeros((x.shape[0], w.shape[1], *grid))
    for combo in itertools.product(*per_axis, last):
        k = np.array([c[0] for c in combo], dtype=float)
        idx = tuple(c[1] for c in combo)
        phase = np.exp(2j * np.pi * np.tensordot(k / np.array(grid), coords, axes=1))  # (*grid)
        xhat = np.tensordot(x, phase.conj(), axes=d)  # Σ_r x(r) e^{-2πi k·r/n}
        yhat = xhat @ w[(slice(None), slice(None), *idx)]  # (B, C_out)
        k_last = combo[-1][0]
        c = 2.0 if 0 < k_last < grid[-1] / 2 else 1.0
        y += c * np.real(yhat[:, :, None] * phase.reshape(1, 1, -1)).reshape(y.shape)
    return y / np.prod(grid)


CASES = [
    ((9,), (3,)),  # 1-D
    ((4,), (5,)),  # 1-D grid smaller than the modes
    ((8, 7), (6, 3)),  # 2-D, the FNO layout (2m × m)
    ((8, 8), (6, 3)),  # even last axis
    ((5, 6), (8, 4)),  # odd leading axis smaller than 2m, Nyquist column kept
    ((6, 5, 4), (4, 4, 2)),  # 3-D
]


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("grid,modes", CASES)
def test_matches_explicit_dft_sum(lib, grid, modes):
    rng = np.random.default_rng(len(grid) * 100 + sum(grid))
    x = rng.standard_normal((2, 3, *grid))
    w = rng.standard_normal((3, 2, *modes)) + 1j * rng.standard_normal((3, 2, *modes))
    y = fourier_mode_mix(to_lib(x, lib), to_lib(w, lib))
    assert type(y) is type(to_lib(x, lib)) and tuple(y.shape) == (2, 2, *grid)
    assert rel_err(y, dense_reference(x, w)) < TOL


def test_numpy_x_with_torch_weight_gives_torch():
    import torch

    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 8, 7))
    w = torch.as_tensor(rng.standard_normal((2, 2, 6, 3)) + 1j * rng.standard_normal((2, 2, 6, 3)))
    y = fourier_mode_mix(x, w)
    assert isinstance(y, torch.Tensor)
    assert rel_err(y, dense_reference(x, to_numpy(w))) < TOL


def test_float32_input_casts_the_weight():
    import torch

    x = torch.randn(2, 3, 8, 7)
    w = torch.randn(3, 2, 6, 3, dtype=torch.complex128)
    y = fourier_mode_mix(x, w)
    assert y.dtype == torch.float32
    ref = dense_reference(x.double().numpy(), w.numpy())
    assert rel_err(y, ref) < 1e-5


def test_gradients_match_finite_differences():
    import torch

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 2, 6, 5, dtype=torch.float64, generator=g, requires_grad=True)
    w = torch.randn(2, 3, 4, 2, dtype=torch.complex128, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(fourier_mode_mix, (x, w))


def test_bad_input_is_a_clear_error():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 8, 8))
    w = rng.standard_normal((2, 2, 6, 3)) + 0j
    with pytest.raises(ValueError, match="channels"):
        fourier_mode_mix(x[:, :1], w)
    with pytest.raises(ValueError, match="n_1..n_2"):
        fourier_mode_mix(x[0], w)
    with pytest.raises(TypeError, match="complex weight"):
        fourier_mode_mix(x, w.real)
    with pytest.raises(TypeError, match="real x"):
        fourier_mode_mix(x + 0j, w)
    with pytest.raises(ValueError, match="2m entries"):
        fourier_mode_mix(x, w[:, :, :5])
    with pytest.raises(ValueError, match="weight must be"):
        fourier_mode_mix(x, w[0, 0])
    with pytest.raises(ValueError, match="x"):
        fourier_mode_mix(np.where(x > 0, np.nan, x), w)


def test_jax_jit_and_grad_match_eager_and_finite_differences():
    import jax
    import jax.numpy as jnp

    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.standard_normal((1, 2, 6, 5)))
    w = jnp.asarray(rng.standard_normal((2, 2, 4, 2)) + 1j * rng.standard_normal((2, 2, 4, 2)))
    assert (
        rel_err(jax.jit(fourier_mode_mix)(x, w), dense_reference(np.asarray(x), np.asarray(w)))
        < TOL
    )

    def loss(x):
        return jnp.sum(fourier_mode_mix(x, w) ** 2)

    g = jax.grad(loss)(x)
    v = jnp.asarray(rng.standard_normal(x.shape))
    eps = 1e-6
    fd = (loss(x + eps * v) - loss(x - eps * v)) / (2 * eps)
    assert abs(float(jnp.vdot(g, v)) - float(fd)) < 1e-6 * max(1.0, abs(float(fd)))


def test_non_array_input_is_a_type_error_naming_the_argument():
    w = np.ones((1, 1, 2, 2), dtype=complex)
    with pytest.raises(TypeError, match="x: expected a NumPy, torch or JAX array"):
        fourier_mode_mix([[[[1.0, 2.0], [3.0, 4.0]]]], w)
    with pytest.raises(TypeError, match="weight: expected a NumPy, torch or JAX array"):
        fourier_mode_mix(np.ones((1, 1, 4, 4)), None)
