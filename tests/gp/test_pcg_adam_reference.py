"""The private PCG and Adam helpers of sciml.gp against a dense solve and NumPy transcriptions of
the textbook algorithms (Saad, Iterative Methods, Alg. 9.1; Kingma & Ba 2015, Alg. 1)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp._adam import adam_init, adam_update
from sciml.gp._pcg import pcg


def _spd(n=30, cond=1e4, seed=0):
    rng = np.random.default_rng(seed)
    q = np.linalg.qr(rng.normal(size=(n, n)))[0]
    a = q @ np.diag(np.logspace(0, np.log10(cond), n)) @ q.T
    d = np.exp(rng.normal(size=n))  # unevenly scaled rows / columns
    return d[:, None] * a * d[None, :], rng.normal(size=n)


def _pcg_numpy(A, b, x0, Minv, tol, maxiter, pre):
    """Saad Alg. 9.1 with the stopping test ‖r‖ ≤ tol‖b‖ (or in the M⁻¹-norm)."""

    def nrm(v):
        return np.sqrt(abs(v @ (Minv * v))) if pre else np.linalg.norm(v)

    x = x0.copy()
    r = b - A @ x
    z = Minv * r
    p = z.copy()
    k = 0
    while nrm(r) > tol * nrm(b) and k < maxiter:
        Ap = A @ p
        alpha = (r @ z) / (p @ Ap)
        x = x + alpha * p
        r_new = r - alpha * Ap
        z_new = Minv * r_new
        p = z_new + (r_new @ z_new) / (r @ z) * p
        r, z = r_new, z_new
        k += 1
    return x, k, nrm(r) / nrm(b)


@pytest.mark.parametrize("norm", ["residual", "preconditioned"])
def test_pcg_matches_dense_solve_textbook_iterates_and_stopping_rule(norm):
    A, b = _spd()
    Minv = 1.0 / np.diag(A)
    x_dense = np.linalg.solve(A, b)
    pre = norm == "preconditioned"

    def true_rel(x):  # the relative residual of x in the rule's norm, recomputed from scratch
        r = b - A @ x
        if pre:
            return np.sqrt(r @ (Minv * r)) / np.sqrt(b @ (Minv * b))
        return np.linalg.norm(r) / np.linalg.norm(b)

    with jax.enable_x64(True):
        Aj, Mj = jnp.asarray(A), jnp.asarray(Minv)

        @jax.jit  # one compilation: tol and maxiter are traced
        def solve(x0, tol, maxiter):
            return pcg(lambda v: Aj @ v, jnp.asarray(b), x0, lambda r: Mj * r, tol, maxiter, norm)

        def run(tol, maxiter, x0):
            x, k, rr = solve(jnp.asarray(x0), tol, maxiter)
            return np.asarray(x), int(k), float(rr)

        x, k, rr = run(1e-12, 1000, np.zeros_like(b))
        np.testing.assert_allclose(x, x_dense, rtol=0, atol=1e-9 * np.abs(x_dense).max())
        # the first iterates are the textbook's (before rounding differences accumulate)
        for x0 in (np.zeros_like(b), np.linspace(-1, 1, b.size)):
            xr, kr, rrr = _pcg_numpy(A, b, x0, Minv, 1e-12, 6, pre)
            x, k, rr = run(1e-12, 6, x0)
            assert k == kr == 6  # the cap
            np.testing.assert_allclose(x, xr, rtol=0, atol=1e-12 * np.abs(xr).max())
            np.testing.assert_allclose(rr, rrr, rtol=1e-9)
            np.testing.assert_allclose(rr, true_rel(x), rtol=1e-6)
        # stopping rule: stops at the first iteration whose residual meets tol, not later
        for tol in (1e-4, 1e-8):
            x, k, rr = run(tol, 1000, np.zeros_like(b))
            assert 0 < k < 1000 and rr <= tol
            assert true_rel(x) <= 1.01 * tol  # the recursive residual is the true one here
            _, k1, rr1 = run(tol, k - 1, np.zeros_like(b))
            assert k1 == k - 1 and rr1 > tol


@pytest.mark.parametrize("norm", ["residual", "preconditioned"])
def test_pcg_zero_right_hand_side_returns_zero(norm):
    """b = 0: x = 0 with relative residual 0. Before: 0/0 = NaN from x0 = 0; from x0 ≠ 0 every
    iteration up to maxiter ran (threshold tol·‖b‖ = 0) and the relative residual was inf."""
    A, _ = _spd(12, 1e3, 1)
    with jax.enable_x64(True):
        Aj = jnp.asarray(A)
        solve = jax.jit(lambda x0: pcg(lambda v: Aj @ v, jnp.zeros(12), x0, lambda r: r, 1e-10,
                                       200, norm))  # fmt: skip
        for x0 in (np.zeros(12), np.ones(12)):
            x, k, rr = solve(jnp.asarray(x0))
            assert float(rr) == 0.0 and int(k) == 0
            np.testing.assert_array_equal(np.asarray(x), 0.0)


def test_adam_matches_kingma_ba():
    rng = np.random.default_rng(0)
    p0 = {"a": rng.normal(size=3), "b": [rng.normal(size=(2, 2)), rng.normal(size=())]}
    grads = [jax.tree_util.tree_map(lambda v, k=k: rng.normal(size=np.shape(v)) * 10.0**k, p0)
             for k in (-3, 0, 2, -1, 1)]  # fmt: skip
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    # NumPy reference, leaf by leaf
    leaves0, tree = jax.tree_util.tree_flatten(p0)
    ref = [np.array(v, dtype=float) for v in leaves0]
    m = [np.zeros_like(v) for v in ref]
    v = [np.zeros_like(x) for x in ref]
    with jax.enable_x64(True):
        params = jax.tree_util.tree_map(jnp.asarray, p0)
        state = adam_init(params)
        step = jax.jit(adam_update)
        for t, g in enumerate(grads, start=1):
            gl = jax.tree_util.tree_leaves(g)
            for i, gi in enumerate(gl):
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi**2
                mhat, vhat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
                ref[i] = ref[i] - lr * mhat / (np.sqrt(vhat) + eps)
            params, state = step(jax.tree_util.tree_map(jnp.asarray, g), state, params, lr)
        assert int(state["t"]) == len(grads)
        got = jax.tree_util.tree_leaves(params)
    assert jax.tree_util.tree_structure(params) == tree
    for a, r in zip(got, ref):
        assert np.asarray(a).dtype == np.float64
        np.testing.assert_allclose(np.asarray(a), r, rtol=1e-13, atol=1e-15)
