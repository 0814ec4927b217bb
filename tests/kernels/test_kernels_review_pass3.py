"""Review pass 3 (kernels): a singular Kronecker factor and non-array input get clear errors."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from sciml.kernels import kron_solve, multi_mode_product, poisson_dst

jax.config.update("jax_enable_x64", True)

LIBS: dict[str, Callable[[np.ndarray], object]] = {
    "numpy": np.asarray,
    "torch": torch.as_tensor,
    "jax": jnp.asarray,
}

# rank 1 (symmetric PSD: Cholesky fails, then a zero LU pivot) and a nilpotent non-symmetric matrix
SINGULAR = {
    "symmetric": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "nilpotent": np.array([[0.0, 1.0], [0.0, 0.0]]),
}


@pytest.mark.parametrize("kind", list(SINGULAR))
@pytest.mark.parametrize("lib", list(LIBS))
def test_kron_solve_with_a_singular_factor_is_a_value_error_naming_it(lib: str, kind: str) -> None:
    """Was: JAX returned all-NaN silently, NumPy raised 'array must not contain infs or NaNs'
    (after a LinAlgWarning), torch a RuntimeError from inside ``lu_factor``."""
    a = SINGULAR[kind]
    assert np.linalg.matrix_rank(a) < a.shape[0]  # independent check: the factor is singular
    to = LIBS[lib]
    factors = [to(np.eye(3)), to(a)]
    b = to(np.arange(6.0))
    with pytest.raises(ValueError, match=r"factors\[1\].*singular"):
        kron_solve(factors, b)


@pytest.mark.parametrize("lib", list(LIBS))
def test_kron_solve_of_nonsingular_nonsymmetric_factors_still_matches_dense(lib: str) -> None:
    rng = np.random.default_rng(3)
    mats = [rng.standard_normal((n, n)) + n * np.eye(n) for n in (3, 2)]
    mats[1][0, 0] = 0.0  # a zero diagonal entry: LU pivots, the matrix is nonsingular
    b = rng.standard_normal((4, 6))
    ref = np.linalg.solve(np.kron(mats[0], mats[1]), b.T).T
    to = LIBS[lib]
    got = np.asarray(kron_solve([to(m) for m in mats], to(b)))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_jax_traced_singular_solve_still_runs_under_jit() -> None:
    """Under tracing the pivots are unknown: no check, the result holds inf/NaN (documented)."""
    a = jnp.asarray(SINGULAR["nilpotent"])
    out = jax.jit(lambda m, b: kron_solve([m], b))(a, jnp.ones(2))
    assert not bool(jnp.all(jnp.isfinite(out)))


@pytest.mark.parametrize("bad", [None, [1.0, 2.0, 3.0]])
def test_poisson_and_multi_mode_product_name_a_non_array_argument(bad: object) -> None:
    """Was: AttributeError ('list' object has no attribute 'shape')."""
    with pytest.raises(TypeError, match="^f: expected a NumPy, torch or JAX array"):
        poisson_dst(bad, 0.1)
    with pytest.raises(TypeError, match="^x: expected a NumPy, torch or JAX array"):
        multi_mode_product(bad, [np.eye(3)])


def test_multi_mode_product_rejects_more_matrices_than_axes_and_out_of_range_modes() -> None:
    """Was: ZeroDivisionError for a 0-d x, and a misleading 'modes must be distinct' for a 1-D x
    with two matrices (the default modes wrapped around to the same axis)."""
    with pytest.raises(ValueError, match="fewer than the 1 matrices"):
        multi_mode_product(np.float64(3.0), [np.eye(2)])
    with pytest.raises(ValueError, match="fewer than the 2 matrices"):
        multi_mode_product(np.ones(2), [np.eye(2), np.eye(2)])
    with pytest.raises(ValueError, match="mode 3 out of range"):
        multi_mode_product(np.ones(2), [np.eye(2)], [3])


@pytest.mark.parametrize("lib", list(LIBS))
def test_causal_fft_conv_with_a_kernel_longer_than_the_signal(lib: str) -> None:
    # taps beyond L are dropped before the FFT (they cannot reach the first L outputs)
    from sciml.kernels import fft_conv

    rng = np.random.default_rng(0)
    u, k = rng.standard_normal((3, 7)), rng.standard_normal((3, 20))
    ref = np.stack([np.convolve(a, b)[:7] for a, b in zip(u, k)])
    got = np.asarray(fft_conv(LIBS[lib](u), LIBS[lib](k), causal=True))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    full = np.asarray(fft_conv(LIBS[lib](u), LIBS[lib](k), causal=False))
    np.testing.assert_allclose(
        full, np.stack([np.convolve(a, b) for a, b in zip(u, k)]), atol=1e-12
    )


def test_causal_fft_conv_gradient_of_unreachable_taps_is_zero() -> None:
    from sciml.kernels import fft_conv

    g = torch.Generator().manual_seed(1)
    u = torch.randn(5, dtype=torch.float64, generator=g)
    k = torch.randn(9, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(lambda kk: fft_conv(u, kk, causal=True), (k,))
    (grad,) = torch.autograd.grad(fft_conv(u, k, causal=True).sum(), k)
    assert torch.all(grad[5:] == 0)


@pytest.mark.parametrize("lib", list(LIBS))
def test_kron_eigh_shift_must_be_a_scalar(lib: str) -> None:
    # was: an (N,) shift broadcast against the eigenvalues, i.e. added in the eigenbasis
    from sciml.kernels import KronEigh

    rng = np.random.default_rng(2)
    mats = []
    for n in (3, 4):
        a = rng.standard_normal((n, n))
        mats.append(a @ a.T + n * np.eye(n))
    ke = KronEigh([LIBS[lib](m) for m in mats])
    b = rng.standard_normal(12)
    dense = np.kron(mats[0], mats[1]) + 0.5 * np.eye(12)
    got = np.asarray(ke.solve(LIBS[lib](b), LIBS[lib](np.array(0.5))))  # 0-d array: fine
    np.testing.assert_allclose(got, np.linalg.solve(dense, b), rtol=1e-10)
    with pytest.raises(ValueError, match="shift: expected a scalar"):
        ke.solve(LIBS[lib](b), LIBS[lib](np.full(12, 0.5)))
