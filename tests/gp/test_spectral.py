"""Spectral-mixture kernels: closed-form derivatives vs finite differences, GM vs gpytorch."""

import math

import jax
import numpy as np
import pytest

from sciml.gp import SpectralKernel, kernel_matrix, prune_mask, spectral_density
from sciml.gp.spectral import kernel_toeplitz

KINDS = [("gm", 2.5), ("stm", 2.5), ("stm", 1.5), ("se", 2.5), ("matern", 2.5), ("matern", 1.5)]


def _params(spec, seed=0):
    rng = np.random.default_rng(seed)
    q = spec.num_components
    with jax.enable_x64(True):
        import jax.numpy as jnp

        return {
            "log_w": jnp.asarray(rng.normal(size=q) - 1.0),
            "mu": jnp.asarray(rng.uniform(0.0, 3.0, size=q)),
            "log_rho": jnp.asarray(rng.normal(size=q) * 0.3),
        }


@pytest.mark.parametrize("kind,nu", KINDS)
def test_derivative_kernels_match_finite_differences(kind, nu):
    spec = SpectralKernel(kind, 4, nu)
    p = _params(spec)
    rng = np.random.default_rng(1)
    x1 = np.concatenate([rng.uniform(-1, 1, 7), [0.3]])
    x2 = np.concatenate([rng.uniform(-1, 1, 5), [0.3]])  # includes d = 0 exactly
    h = 1e-4
    with jax.enable_x64(True):

        def k(a, order=0):
            return np.asarray(kernel_matrix(spec, p, a, x2, order))

        fd1 = (k(x1 + h) - k(x1 - h)) / (2 * h)
        fd2 = (k(x1 + h) - 2 * k(x1) + k(x1 - h)) / h**2
        d1 = k(x1, 1)
        d2 = k(x1, 2)
        # derivative of the first-derivative kernel: second derivative from the closed-form first
        fd21 = (k(x1 + h, 1) - k(x1 - h, 1)) / (2 * h)
    scale = np.abs(d2).max()
    np.testing.assert_allclose(d1, fd1, atol=1e-6 * max(np.abs(d1).max(), 1))
    np.testing.assert_allclose(d2, fd2, atol=2e-4 * scale)
    if not (nu == 1.5 and kind in ("stm", "matern")):  # k'' of Matérn-3/2 has a kink at d = 0
        np.testing.assert_allclose(d2, fd21, atol=1e-6 * scale)
    else:
        off = np.abs(x1[:, None] - x2[None, :]) > 1e-3
        np.testing.assert_allclose(d2[off], fd21[off], atol=1e-6 * scale)
    # symmetry: k'' is symmetric in (x, x'), k' antisymmetric
    with jax.enable_x64(True):
        xs = np.linspace(-1, 1, 9)
        K1 = np.asarray(kernel_matrix(spec, p, xs, xs, 1))
        K2 = np.asarray(kernel_matrix(spec, p, xs, xs, 2))
    np.testing.assert_allclose(K1, -K1.T, atol=1e-12)
    np.testing.assert_allclose(K2, K2.T, atol=1e-10 * np.abs(K2).max())


def test_gm_matches_gpytorch_spectral_mixture():
    torch = pytest.importorskip("torch")
    gpytorch = pytest.importorskip("gpytorch")
    q = 5
    rng = np.random.default_rng(3)
    w = rng.uniform(0.1, 1.0, q)
    mu = rng.uniform(0.0, 4.0, q)
    sd = rng.uniform(0.1, 1.0, q)  # gpytorch mixture_scales: std of each spectral Gaussian
    kern = gpytorch.kernels.SpectralMixtureKernel(num_mixtures=q, ard_num_dims=1).double()
    kern.mixture_weights = torch.tensor(w)
    kern.mixture_means = torch.tensor(mu).reshape(q, 1, 1)
    kern.mixture_scales = torch.tensor(sd).reshape(q, 1, 1)
    x1 = rng.uniform(-2, 2, 11)
    x2 = rng.uniform(-2, 2, 8)
    with torch.no_grad():
        ref = kern(torch.tensor(x1)[:, None], torch.tensor(x2)[:, None]).to_dense().numpy()
    spec = SpectralKernel("gm", q)
    with jax.enable_x64(True):
        import jax.numpy as jnp

        p = {
            "log_w": jnp.log(jnp.asarray(w)),
            "mu": jnp.asarray(mu),
            "log_rho": jnp.log(math.sqrt(2) * math.pi * jnp.asarray(sd)),
        }
        ours = np.asarray(kernel_matrix(spec, p, x1, x2))
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind,nu", [("gm", 2.5), ("stm", 2.5), ("matern", 1.5)])
def test_toeplitz_equals_dense_and_spectrum_is_fourier_pair(kind, nu):
    spec = SpectralKernel(kind, 3, nu)
    p = _params(spec, 5)
    with jax.enable_x64(True):
        x = np.linspace(0.0, 2.0, 17)
        for order in (0, 1, 2):
            np.testing.assert_allclose(
                np.asarray(kernel_toeplitz(spec, p, x, order)),
                np.asarray(kernel_matrix(spec, p, x, x, order)),
                rtol=1e-12,
                atol=1e-12,
            )
        # k(d) = ∫ S(s) cos(2π s d) ds  (S symmetric): trapezoid quadrature on a wide grid
        s = np.linspace(-150.0, 150.0, 150_001)
        dens = spectral_density(spec, p, s)
        d = np.array([0.0, 0.13, 0.5])
        k_q = [np.trapezoid(np.asarray(dens) * np.cos(2 * np.pi * s * di), s) for di in d]
        k_c = np.asarray(kernel_matrix(spec, p, d, np.zeros(1)))[:, 0]
    np.testing.assert_allclose(k_q, k_c, rtol=2e-3, atol=2e-4)


def test_prune_mask_and_bad_inputs():
    spec = SpectralKernel("gm", 4)
    with jax.enable_x64(True):
        import jax.numpy as jnp

        p = {"log_w": jnp.log(jnp.array([1.0, 1e-12, 0.5, 1e-3])), "mu": jnp.zeros(4),
             "log_rho": jnp.zeros(4)}  # fmt: skip
        m = np.asarray(prune_mask(p, jnp.ones(4, bool), 1e-6))
        np.testing.assert_array_equal(m, [True, False, True, True])
        K = kernel_matrix(spec, p, jnp.zeros(1), jnp.zeros(1), 0, jnp.asarray(m))
        assert float(K[0, 0]) == pytest.approx(1.5 + 1e-3)
    with pytest.raises(ValueError, match="kind"):
        SpectralKernel("rbf")
    with pytest.raises(ValueError, match="nu"):
        SpectralKernel("stm", 3, 0.7)
    with pytest.raises(ValueError, match="order"):
        kernel_matrix(
            SpectralKernel("stm", 2, 0.5), _params(SpectralKernel("stm", 2)), [0.0], [1.0], 1
        )
    with pytest.raises(ValueError, match="x1, x2"):
        kernel_matrix(spec, p, np.zeros((2, 2)), np.zeros(2))


@pytest.mark.parametrize("kind,nu", KINDS)
def test_component_scan_equals_vectorised_sum_values_and_gradients(kind, nu):
    """The memory-saving path (components accumulated one at a time) against the vectorised sum,
    with pruned components, for every derivative order the kernel has."""
    from sciml.gp.spectral import VECTORISED_MAX_ENTRIES, kernel_1d

    spec = SpectralKernel(kind, 5, nu)
    p = _params(spec, seed=3)
    rng = np.random.default_rng(4)
    with jax.enable_x64(True):
        import jax.numpy as jnp

        d = jnp.asarray(rng.uniform(-2, 2, size=(6, 11)))
        active = jnp.asarray([True, True, False, True, True])
        for order in range(spec.max_order + 1):

            def total(q, limit, order=order):
                return jnp.sum(jnp.sin(kernel_1d(spec, q, d, order, active, limit)))

            ref = kernel_1d(spec, p, d, order, active, VECTORISED_MAX_ENTRIES)
            got = kernel_1d(spec, p, d, order, active, 0)
            scale = float(jnp.max(jnp.abs(ref)))
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * scale)
            grad = jax.jit(jax.grad(total), static_argnums=1)
            g_ref, g_got = grad(p, VECTORISED_MAX_ENTRIES), grad(p, 0)
            for key in p:
                gs = float(jnp.max(jnp.abs(g_ref[key]))) + 1e-300
                np.testing.assert_allclose(g_got[key], g_ref[key], rtol=0, atol=1e-12 * gs)
        if kind != "stm":
            return
        # large inputs take the scan by default: same matrix as the forced vectorised sum
        x1, x2 = jnp.linspace(-1, 1, 1001), jnp.linspace(-1, 1, 900)
        assert x1.size * x2.size * spec.num_components > VECTORISED_MAX_ENTRIES
        big = kernel_matrix(spec, p, x1, x2, spec.max_order)
        ref = kernel_1d(spec, p, x1[:, None] - x2[None, :], spec.max_order, None, 1 << 40)
        np.testing.assert_allclose(big, ref, rtol=0, atol=1e-13 * float(jnp.max(jnp.abs(ref))))
