"""Kronecker prior term, log-determinant, derivative operators and prediction vs dense algebra."""

import jax
import numpy as np
import pytest

from sciml.gp import SpectralKernel, kernel_matrix
from sciml.gp.kron_gp import (
    build_factors,
    grid_fields,
    predict_grid,
    predict_points,
    prior_logdet,
    prior_quad,
    prior_solve,
)

SHAPES = [(9,), (6, 7), (4, 5, 3)]


def _setup(shape, kind="gm"):
    spec = SpectralKernel(kind, 3)
    rng = np.random.default_rng(len(shape))
    axes = [np.linspace(0.0, 1.0 + 0.2 * i, n) for i, n in enumerate(shape)]
    params = []
    import jax.numpy as jnp

    for _ in shape:
        params.append(
            {
                "log_w": jnp.asarray(rng.normal(size=3) * 0.3),
                "mu": jnp.asarray(rng.uniform(0, 1.5, 3)),
                "log_rho": jnp.asarray(rng.normal(size=3) * 0.2 + 0.5),
            }
        )
    U = jnp.asarray(rng.normal(size=shape))
    return spec, axes, params, U


def _dense_kron(mats):
    out = np.asarray(mats[0])
    for m in mats[1:]:
        out = np.kron(out, np.asarray(m))
    return out


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("explicit", [True, False])
def test_prior_logdet_and_fields_match_dense(shape, explicit):
    with jax.enable_x64(True):
        spec, axes, params, U = _setup(shape, "stm" if explicit else "gm")
        d = len(shape)
        orders = [[1, 2]] * d
        axes = [jax.numpy.asarray(a) for a in axes]

        @jax.jit
        def run(params, U):
            ops = build_factors(spec, params, axes, orders, 1e-6, None, explicit)
            return (prior_quad(U, ops), prior_solve(U, ops), prior_logdet(ops),
                    prior_logdet(ops, use_chol=False), grid_fields(U, ops, names))  # fmt: skip

        names = (
            ["u"] + [f"u_{'xyz'[i]}" for i in range(d)] + [f"u_{'xyz'[i] * 2}" for i in range(d)]
        )
        if d > 1:
            names.append("u_xy")
        quad, sol, ld1, ld2, F = run(params, U)
        Ks = [np.asarray(kernel_matrix(spec, params[i], axes[i], axes[i])) + 1e-6 * np.eye(n)
              for i, n in enumerate(shape)]  # fmt: skip
        C = _dense_kron(Ks)
        u = np.asarray(U).ravel()
        np.testing.assert_allclose(float(quad), u @ np.linalg.solve(C, u), rtol=1e-7)
        np.testing.assert_allclose(
            np.asarray(sol).ravel(), np.linalg.solve(C, u), rtol=1e-6,
            atol=1e-6 * np.abs(np.linalg.solve(C, u)).max(),
        )  # fmt: skip
        sign, ld = np.linalg.slogdet(C)
        assert sign > 0
        np.testing.assert_allclose(float(ld1), ld, rtol=1e-10)
        np.testing.assert_allclose(float(ld2), ld, rtol=1e-10)
        for name in names:
            orders_i = [name[2:].count(a) for a in "xyz"[:d]] if name != "u" else [0] * d
            mats = []
            for i, a in enumerate(orders_i):
                Ka = np.asarray(kernel_matrix(spec, params[i], axes[i], axes[i], a))
                mats.append(Ka @ np.linalg.inv(Ks[i]) if a else np.eye(shape[i]))
            ref = (_dense_kron(mats) @ u).reshape(shape)
            np.testing.assert_allclose(np.asarray(F[name]), ref, rtol=1e-6,
                                       atol=1e-7 * np.abs(ref).max())  # fmt: skip


# 3-D prediction is slow to compile; the 3-D prior, log-det and fields stay in the default set
@pytest.mark.parametrize("shape", SHAPES[:2] + [pytest.param(SHAPES[2], marks=pytest.mark.slow)])
def test_prediction_matches_dense_and_interpolates(shape):
    with jax.enable_x64(True):
        spec, axes, params, U = _setup(shape)
        d = len(shape)
        ops = build_factors(spec, params, axes, [[]] * d, 1e-6)
        alpha = prior_solve(U, ops)
        rng = np.random.default_rng(7)
        new_axes = [np.sort(rng.uniform(0, 1, 4)) for _ in range(d)]
        orders = tuple([2] + [1] * (d - 1))
        got = np.asarray(predict_grid(spec, params, axes, ops, alpha, new_axes, orders))
        Kstar = [np.asarray(kernel_matrix(spec, params[i], new_axes[i], axes[i], orders[i]))
                 for i in range(d)]  # fmt: skip
        ref = (_dense_kron(Kstar) @ np.asarray(alpha).ravel()).reshape(got.shape)
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
        mesh = np.stack(np.meshgrid(*new_axes, indexing="ij"), -1).reshape(-1, d)
        pts = np.asarray(predict_points(spec, params, axes, alpha, mesh, orders, batch=7))
        np.testing.assert_allclose(pts, ref.ravel(), rtol=1e-9, atol=1e-9 * np.abs(ref).max())
        if d > 1:  # ⊗(K_i − jitter·I) ≠ ⊗K_i − jitter·I: the identity below is 1-D only
            return
        # on the grid itself: k(X, X) K⁻¹ U = (K − jitter·I) K⁻¹ U = U − jitter·alpha
        back = np.asarray(predict_grid(spec, params, axes, ops, alpha, axes))
        tol = 1e-8 + 1e-9 * float(np.abs(np.asarray(alpha)).max())  # K⁻¹U carries cond(K)·eps
        np.testing.assert_allclose(back, np.asarray(U - 1e-6 * alpha), atol=tol)


@pytest.mark.parametrize("shape", SHAPES[:2])
@pytest.mark.parametrize("explicit", [True, False])
def test_value_operator_fields_equal_the_predictor_at_the_nodes(shape, explicit):
    """Order 0 in ``orders`` adds D^(0) = K_0 K⁻¹: every grid field (values and derivatives)
    is then the GP predictor's at the nodes, checked against predict_grid and dense algebra."""
    with jax.enable_x64(True):
        spec, axes, params, U = _setup(shape)
        d = len(shape)
        jit = 1e-3
        axes = [jax.numpy.asarray(a) for a in axes]
        ops = build_factors(spec, params, axes, [[0, 1, 2]] * d, jit, None, explicit)
        alpha = prior_solve(U, ops)
        names = ["u", "u_x", "u_xx"] + (["u_y", "u_xy"] if d > 1 else [])
        F = grid_fields(U, ops, names)
        Ks = [np.asarray(kernel_matrix(spec, params[i], axes[i], axes[i])) + jit * np.eye(n)
              for i, n in enumerate(shape)]  # fmt: skip
        for name in names:
            orders = tuple(name[2:].count(a) for a in "xyz"[:d]) if name != "u" else (0,) * d
            pred = np.asarray(predict_grid(spec, params, axes, ops, alpha, axes, orders))
            mats = [np.asarray(kernel_matrix(spec, params[i], axes[i], axes[i], a))
                    @ np.linalg.inv(Ks[i]) for i, a in enumerate(orders)]  # fmt: skip
            ref = (_dense_kron(mats) @ np.asarray(U).ravel()).reshape(shape)
            scale = np.abs(ref).max()
            np.testing.assert_allclose(np.asarray(F[name]), ref, atol=1e-9 * scale)
            np.testing.assert_allclose(np.asarray(F[name]), pred, atol=1e-9 * scale)
        # and it is not the identity: u differs from U by jitter·K⁻¹U (1-D)
        assert np.abs(np.asarray(F["u"] - U)).max() > 1e-6
