"""GP-HM solver: fast U-solves vs dense algebra, fast vs faithful objective, manufactured solution."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import GPHMConfig, GPHMSolver, kernel_matrix
from tests.gp._problems import small_helmholtz


def _dense(mats):
    out = np.asarray(mats[0])
    for m in mats[1:]:
        out = np.kron(out, np.asarray(m))
    return out


@pytest.mark.parametrize("shape", [(7,), (5, 6), pytest.param((4, 3, 5), marks=pytest.mark.slow)])
def test_pcg_u_step_matches_dense_normal_equations(shape):
    cfg = GPHMConfig(num_components=3, jitter=1e-3, cg_tol=1e-13, cg_maxiter=500)
    prob = small_helmholtz(shape)
    s = GPHMSolver(prob, cfg)
    with jax.enable_x64(True):
        log_tau = jnp.array([1.3, 0.4])
        U0 = jnp.zeros(shape)
        U, it, rr = jax.jit(s._u_step_pcg)(U0, s.theta0, log_tau, s.active0)
        # dense reference: (C⁻¹ + λτ₁B + τ₂AᵀA) u = λτ₁Bg + τ₂Aᵀf on the interior rows
        d = len(shape)
        axes = [np.asarray(a) for a in s.axes]
        Ks = [np.asarray(kernel_matrix(s.spec, s.theta0[i], axes[i], axes[i])) + 1e-3 * np.eye(n)
              for i, n in enumerate(shape)]  # fmt: skip
        C = _dense(Ks)
        A = 0.5 * np.eye(C.shape[0])
        for i in range(d):
            D2 = np.asarray(
                kernel_matrix(s.spec, s.theta0[i], axes[i], axes[i], 2)
            ) @ np.linalg.inv(Ks[i])
            A = A + _dense([D2 if j == i else np.eye(shape[j]) for j in range(d)])
        b = np.asarray(s.bmask).ravel()
        cm = np.asarray(s.cmask).ravel()
        A = cm[:, None] * A
        beta, t2 = 200 * math.exp(1.3), math.exp(0.4)
        M = np.linalg.inv(C) + beta * np.diag(b) + t2 * A.T @ A
        rhs = beta * b * np.asarray(s.g).ravel() + t2 * A.T @ (cm * np.asarray(s.f).ravel())
        ref = np.linalg.solve(M, rhs)
    np.testing.assert_allclose(np.asarray(U).ravel(), ref, rtol=1e-6, atol=1e-7 * np.abs(ref).max())
    if len(shape) == 1:
        with jax.enable_x64(True):
            Ud, _, _ = jax.jit(s._u_step_dense)(U0, s.theta0, log_tau, s.active0)
        np.testing.assert_allclose(np.asarray(Ud).ravel(), ref, rtol=1e-6,
                                   atol=1e-7 * np.abs(ref).max())  # fmt: skip


def test_fast_and_faithful_reach_the_same_objective():
    """Kernel and precisions frozen: the loss is a convex quadratic in U; the fast path solves it
    exactly, 4000 Adam steps of the faithful path must reach the same value."""
    prob = small_helmholtz((10,))
    common = {"num_components": 3, "jitter": 1e-2, "learn_kernel": False, "learn_tau": False,
              "log_tau_init": (-3.0, -3.0)}  # fmt: skip
    fast = GPHMSolver(prob, GPHMConfig(path="fast", outer_iters=1, **common)).solve()
    slow = GPHMSolver(
        prob, GPHMConfig(path="faithful", steps=4000, log_every=500, lr=0.01, **common)
    ).solve()
    assert np.isfinite(fast.loss)
    np.testing.assert_allclose(slow.loss, fast.loss, rtol=1e-4, atol=1e-4)
    solver = GPHMSolver(prob, GPHMConfig(**common))
    start = solver.loss(np.zeros(10), solver.theta0, np.array([-3.0, -3.0]))
    assert start - fast.loss > 1.0  # Adam started well above the optimum it reached


def test_fast_path_solves_a_smooth_problem():
    prob = small_helmholtz((40,))
    sol = GPHMSolver(prob, GPHMConfig(num_components=5, outer_iters=4, theta_steps=10)).solve()
    assert sol.relative_l2(100) < 1e-2
    # no selection configured: the final iterate is reported, and says so
    assert sol.history["selection"] == "final"
    assert sol.history["selected_step"] == sol.history["final_step"] == 4
    with jax.enable_x64(True):
        # derivative predictor vs the exact derivative of the manufactured solution
        x = np.linspace(0.2, 2.9, 7)
        du = np.asarray(sol.predict((x,), "u_x"))
        np.testing.assert_allclose(du, 1.5 * np.cos(1.5 * x + 0.3), atol=5e-2)
        pts = np.asarray(sol.predict(x[:, None]))
        np.testing.assert_allclose(pts, np.sin(1.5 * x + 0.3), atol=1e-3)
