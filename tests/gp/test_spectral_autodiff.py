"""Closed-form derivative kernels against JAX autodiff of the kernels as the reference page writes
them (an independent transcription, with |d|), and the relative L2 error against its formula with a
NumPy posterior mean."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import GPHMConfig, SpectralKernel, get_problem, kernel_matrix
from sciml.gp.solver import GPHMSolution


def _page_kernel(kind, nu, w, mu, s):
    """k(d) of the reference page: GM Σ w exp(−s²d²) cos(2πμd); StM Σ w Matérn_ν(d; s) cos(2πμd)
    with Matérn-5/2 (1 + √5|d|s + 5/3 d²s²) exp(−√5|d|s), Matérn-3/2 (1 + √3|d|s) exp(−√3|d|s);
    SE / Matérn baselines without the cosine."""

    def k(d):
        r = jnp.abs(d)
        if kind in ("gm", "se"):
            env = jnp.exp(-(s**2) * d**2)
        elif nu == 2.5:
            env = (1 + math.sqrt(5) * r * s + 5.0 / 3.0 * d**2 * s**2) * jnp.exp(
                -math.sqrt(5) * r * s
            )
        else:
            env = (1 + math.sqrt(3) * r * s) * jnp.exp(-math.sqrt(3) * r * s)
        cos = jnp.cos(2 * math.pi * mu * d) if kind in ("gm", "stm") else 1.0
        return jnp.sum(w * env * cos)

    return k


# GM is checked against gpytorch in test_spectral.py; the Matérn envelopes only here
KINDS = [("stm", 2.5), ("stm", 1.5), ("matern", 2.5)]


@pytest.mark.parametrize("kind,nu", KINDS)
def test_derivative_kernels_match_autodiff_of_the_page_formula(kind, nu):
    rng = np.random.default_rng(11)
    q = 4
    w, mu, s = rng.uniform(0.2, 1.0, q), rng.uniform(0.0, 3.0, q), rng.uniform(0.5, 2.0, q)
    params = {"log_w": jnp.log(w), "mu": jnp.asarray(mu), "log_rho": jnp.log(s)}
    spec = SpectralKernel(kind, q, nu)
    x1 = rng.uniform(-1.0, 1.0, 6)
    x2 = rng.uniform(-1.0, 1.0, 5)  # rectangular cross-covariance, d ≠ 0
    with jax.enable_x64(True):
        k = _page_kernel(kind, nu, jnp.asarray(w), jnp.asarray(mu), jnp.asarray(s))

        def kx(a, b):
            return k(a - b)

        ref = {a: jax.jit(jax.vmap(jax.vmap(f, (None, 0)), (0, None)))
               for a, f in enumerate([kx, jax.grad(kx, 0), jax.grad(jax.grad(kx, 0), 0)])}  # fmt: skip
        for order in range(3):
            got = np.asarray(kernel_matrix(spec, params, x1, x2, order))
            want = np.asarray(ref[order](jnp.asarray(x1), jnp.asarray(x2)))
            np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12 * np.abs(want).max())
        # d = 0 (the diagonal of K, K', K''): closed form vs the two-sided limit of autodiff
        # values at |d| = 1e-7 (the page's |d| is not differentiable at 0 itself)
        h = 1e-7
        for order in range(3):
            got = float(kernel_matrix(spec, params, jnp.zeros(1), jnp.zeros(1), order)[0, 0])
            lim = 0.5 * float(ref[order](jnp.asarray([h]), jnp.zeros(1))[0, 0]
                              + ref[order](jnp.asarray([-h]), jnp.zeros(1))[0, 0])  # fmt: skip
            assert got == pytest.approx(lim, rel=1e-5, abs=1e-6)


def test_relative_l2_is_the_formula_with_a_numpy_posterior_mean(grid=(6, 7), n_test=23):
    """relative_l2(n) = ‖m − u*‖₂ / ‖u*‖₂ on the uniform n^d grid of the whole domain (end points
    included), m the posterior mean k(x, X) C⁻¹ vec U built here with NumPy."""
    name = "poisson1d-sin6cos100" if len(grid) == 1 else "poisson2d-sin6cos20"
    prob = get_problem(name, grid)
    cfg = GPHMConfig(kernel="gm", num_components=2, jitter=1e-6)
    spec = SpectralKernel("gm", 2)
    rng = np.random.default_rng(5)
    raw = [(rng.uniform(0.3, 1, 2), rng.uniform(0, 0.5, 2), rng.uniform(0.5, 1.5, 2)) for _ in grid]
    U = rng.normal(size=grid)

    def k_np(a, b, w, m, s):
        d = a[:, None] - b[None, :]
        return sum(w[j] * np.exp(-(s[j] ** 2) * d**2) * np.cos(2 * np.pi * m[j] * d)
                   for j in range(len(w)))  # fmt: skip

    xs = [np.linspace(lo, hi, n) for (lo, hi), n in zip(prob.domain, grid)]
    ts = [np.linspace(lo, hi, n_test) for lo, hi in prob.domain]
    Kinv, Kstar = [], []
    for x, t, r in zip(xs, ts, raw):
        Kinv.append(np.linalg.inv(k_np(x, x, *r) + 1e-6 * np.eye(x.size)))
        Kstar.append(k_np(t, x, *r))
    if len(grid) == 1:
        m = Kstar[0] @ Kinv[0] @ U
        T = np.meshgrid(ts[0], indexing="ij")
        u_star = np.sin(6 * T[0]) * np.cos(100 * T[0])
    else:
        m = Kstar[0] @ Kinv[0] @ U @ Kinv[1].T @ Kstar[1].T
        T = np.meshgrid(*ts, indexing="ij")
        u_star = sum(np.sin(6 * t) * np.cos(20 * t) for t in T)
    ref = np.linalg.norm(m - u_star) / np.linalg.norm(u_star)
    with jax.enable_x64(True):
        params = [{"log_w": jnp.log(w), "mu": jnp.asarray(mu), "log_rho": jnp.log(s)}
                  for w, mu, s in raw]  # fmt: skip
        sol = GPHMSolution(prob, cfg, spec, jnp.asarray(U), [jnp.asarray(x) for x in xs], params,
                           [jnp.ones(2, bool) for _ in grid], jnp.zeros(2), 0.0)  # fmt: skip
        got = sol.relative_l2(n_test)
    assert got == pytest.approx(ref, rel=1e-8)
