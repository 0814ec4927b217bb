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


@pytest.mark.parametrize("value_field", ["grid", "predictor"])
@pytest.mark.parametrize("shape", [(7,), (5, 6), pytest.param((4, 3, 5), marks=pytest.mark.slow)])
def test_pcg_u_step_matches_dense_normal_equations(shape, value_field):
    """'grid': the u field and the boundary term on U; 'predictor': on V U with the dense
    V = ⊗ k(X_i, X_i) K_i⁻¹ (the GP mean at the nodes), derivative fields D2 ⊗ V_j."""
    cfg = GPHMConfig(num_components=3, jitter=1e-3, cg_tol=1e-13, cg_maxiter=500,
                     value_field=value_field)  # fmt: skip
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
        if value_field == "grid":
            Vs = [np.eye(n) for n in shape]
        else:
            Vs = [np.asarray(kernel_matrix(s.spec, s.theta0[i], axes[i], axes[i]))
                  @ np.linalg.inv(Ks[i]) for i in range(d)]  # fmt: skip
        V = _dense(Vs)
        A = 0.5 * V
        for i in range(d):
            D2 = np.asarray(
                kernel_matrix(s.spec, s.theta0[i], axes[i], axes[i], 2)
            ) @ np.linalg.inv(Ks[i])
            A = A + _dense([D2 if j == i else Vs[j] for j in range(d)])
        b = np.asarray(s.bmask).ravel()
        cm = np.asarray(s.cmask).ravel()
        A = cm[:, None] * A
        beta, t2 = 200 * math.exp(1.3), math.exp(0.4)
        B = b[:, None] * V
        M = np.linalg.inv(C) + beta * B.T @ B + t2 * A.T @ A
        rhs = beta * B.T @ np.asarray(s.g).ravel() + t2 * A.T @ (cm * np.asarray(s.f).ravel())
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


def test_predictor_value_field_fits_the_boundary_with_the_returned_solution():
    """value_field='predictor': the boundary term acts on the GP mean at the nodes, so the
    solution returned by predict() matches the boundary data there, and the loss's boundary
    residual is that of the predictor."""
    prob = small_helmholtz((30,))
    cfg = GPHMConfig(num_components=4, outer_iters=3, theta_steps=5, jitter=1e-4,
                     value_field="predictor")  # fmt: skip
    sol = GPHMSolver(prob, cfg).solve()
    with jax.enable_x64(True):
        ends = np.array([0.0, math.pi])
        pred = np.asarray(sol.predict((ends,)))
        g = np.sin(1.5 * ends + 0.3)
        np.testing.assert_allclose(pred, g, atol=1e-9)
        # the grid values themselves differ from the predictor by jitter·K⁻¹U at the nodes
        s = GPHMSolver(prob, cfg)
        ops = s._ops(sol.params, sol.active, explicit=True)
        np.testing.assert_allclose(
            np.asarray(s._node_values(sol.U, ops)), np.asarray(sol.predict(tuple(sol.axes))),
            rtol=1e-8, atol=1e-10,
        )  # fmt: skip
    assert sol.relative_l2(100) < 1e-2


def test_value_field_rejects_bad_input():
    with pytest.raises(ValueError, match="value_field"):
        GPHMConfig(value_field="nodes")
