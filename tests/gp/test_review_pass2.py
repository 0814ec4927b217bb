"""Review pass 2 (session 15): defects found against independent references."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import GPHMConfig, GPHMSolver, PDEProblem, SpectralKernel, kernel_matrix
from sciml.gp.kron_gp import build_factors
from sciml.gp.spectral import kernel_toeplitz
from tests.gp._problems import small_helmholtz

PARAMS = {
    "log_w": np.log([0.5, 0.3, 0.2]),
    "mu": np.array([0.0, 1.3, 2.7]),
    "log_rho": np.log([0.7, 1.1, 1.9]),
}


def _k_at_zero(order: int) -> float:
    """Closed form of ∂^order k(0) for the GM kernel Σ w exp(−ρ²d²) cos(2πμd)."""
    w, mu, rho = np.exp(PARAMS["log_w"]), PARAMS["mu"], np.exp(PARAMS["log_rho"])
    if order == 0:
        return float(w.sum())
    if order == 1:
        return 0.0
    return float(np.sum(w * (-2.0 * rho**2 - (2.0 * math.pi * mu) ** 2)))


@pytest.mark.parametrize("order", [0, 1, 2])
def test_toeplitz_kernel_of_a_single_point_is_k_at_zero(order: int) -> None:
    """One grid point: the spacing (x[-1] − x[0])/(n − 1) is 0/0; the matrix was [[nan]]."""
    spec = SpectralKernel("gm", 3)
    with jax.enable_x64(True):
        p = {k: jnp.asarray(v) for k, v in PARAMS.items()}
        x = jnp.asarray([0.37])
        K = np.asarray(kernel_toeplitz(spec, p, x, order))
        assert K.shape == (1, 1)
        np.testing.assert_allclose(K[0, 0], _k_at_zero(order), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(K, np.asarray(kernel_matrix(spec, p, x, x, order)), atol=1e-13)
        # the factor operators of a one-point axis are finite too
        (ops,) = build_factors(spec, [p], [x], [[2]], jitter=1e-6)
        assert np.isfinite(np.asarray(ops["K"])).all()
        np.testing.assert_allclose(
            np.asarray(ops["D"][2]), _k_at_zero(2) / (_k_at_zero(0) + 1e-6), rtol=1e-12
        )


def _adam_reference(grad_fn, params: dict, steps: int, lr: float) -> dict:
    """A plain transcription of Kingma & Ba's Adam (β₁ 0.9, β₂ 0.999, ε 1e-8) on a dict of
    arrays, one Python iteration per step."""
    flat, tree = jax.tree_util.tree_flatten(params)
    flat = [np.asarray(a, dtype=np.float64) for a in flat]
    m = [np.zeros_like(a) for a in flat]
    v = [np.zeros_like(a) for a in flat]
    for t in range(1, steps + 1):
        g = jax.tree_util.tree_leaves(grad_fn(jax.tree_util.tree_unflatten(tree, flat)))
        for i, gi in enumerate(g):
            gi = np.asarray(gi)
            m[i] = 0.9 * m[i] + 0.1 * gi
            v[i] = 0.999 * v[i] + 0.001 * gi * gi
            mh, vh = m[i] / (1 - 0.9**t), v[i] / (1 - 0.999**t)
            flat[i] = flat[i] - lr * mh / (np.sqrt(vh) + 1e-8)
    return jax.tree_util.tree_unflatten(tree, flat)


@pytest.mark.parametrize("steps,log_every,recorded", [(7, 5, [5, 7]), (3, 100, [3])])
def test_faithful_path_takes_exactly_the_requested_adam_steps(steps, log_every, recorded):
    """``steps`` not a multiple of ``log_every``: the faithful path ran whole chunks (10 Adam
    steps for steps=7, log_every=5; 100 for steps=3). Now exactly ``steps``, and the final state
    equals an explicit Adam loop of that many steps on the same loss."""
    prob = small_helmholtz((8,))
    cfg = GPHMConfig(path="faithful", steps=steps, log_every=log_every, num_components=2,
                     prune_tol=0.0, nyquist_frac=None, lr=0.01)  # fmt: skip
    solver = GPHMSolver(prob, cfg)
    sol = solver.solve()
    assert sol.history["step"] == recorded
    with jax.enable_x64(True):
        start = {
            "U": jnp.zeros(prob.grid),
            "theta": solver.theta0,
            "log_tau": jnp.asarray(cfg.log_tau_init, dtype=jnp.float64),
        }
        grad = jax.jit(
            jax.grad(lambda pr: solver._loss(pr["U"], pr["theta"], pr["log_tau"], solver.active0))
        )
        ref = _adam_reference(grad, start, steps, cfg.lr)
    np.testing.assert_allclose(np.asarray(sol.U), ref["U"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(sol.log_tau), ref["log_tau"], rtol=1e-9, atol=1e-12)
    for got, want in zip(sol.params, ref["theta"]):
        for k in want:
            np.testing.assert_allclose(np.asarray(got[k]), want[k], rtol=1e-9, atol=1e-12)


def _dense_helmholtz_1d(prob, spec, theta, jitter):
    """Dense NumPy pieces of the 1-D Helmholtz loss: K, J (residual Jacobian u_xx + u/2), f, g."""
    with jax.enable_x64(True):
        (x,) = prob.axes()
        K = np.asarray(kernel_matrix(spec, theta, x, x, 0)) + jitter * np.eye(x.size)
        K2 = np.asarray(kernel_matrix(spec, theta, x, x, 2))
        f = np.asarray(prob.source_values([x]))
        g = np.asarray(prob.boundary_values([x]))
    J = np.linalg.solve(K, K2.T).T + 0.5 * np.eye(x.size)  # K2 K⁻¹ + I/2
    return K, J, f, g


def _u_star(K, J, f, g, lam, lt):
    """argmin_U ½UᵀK⁻¹U + ½λτ₁‖U_∂ − g_∂‖² + ½τ₂‖JU − f‖² (normal equations, dense)."""
    n = K.shape[0]
    S = np.eye(n)[[0, n - 1]]
    b1, t2 = lam * math.exp(lt[0]), math.exp(lt[1])
    A = np.linalg.inv(K) + b1 * S.T @ S + t2 * J.T @ J
    return np.linalg.solve(A, b1 * S.T @ g[[0, n - 1]] + t2 * J.T @ f)


def _tau_gradient(U, J, f, g, lam, lt):
    """∂L/∂(log τ₁, log τ₂) of the GP-HM loss, closed form (N_b = 2, N_c = n)."""
    n = U.size
    rb2 = float(np.sum((U[[0, n - 1]] - g[[0, n - 1]]) ** 2))
    h2 = float(np.sum((J @ U - f) ** 2))
    return np.array(
        [lam * (-1.0 + 0.5 * math.exp(lt[0]) * rb2), -0.5 * n + 0.5 * math.exp(lt[1]) * h2]
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"learn_kernel": False},
        {"learn_kernel": False, "theta_objective": "marginal"},
        {"learn_kernel": False, "theta_update": "profiled"},
    ],
    ids=["block", "marginal", "profiled"],
)
def test_tau_adam_learns_tau_on_every_theta_path(extra):
    """``tau_update='adam'`` (learn_tau=True): log τ stayed at ``log_tau_init`` whenever the kernel
    was frozen (learn_kernel=False), with the marginal θ objective, and with profiled θ steps.
    Reference: a NumPy Adam on log τ with the closed-form gradient at the dense U*, fixed at the
    round's solution (block / marginal) or re-solved at every step (profiled)."""
    prob = small_helmholtz((12,))
    steps, lr = 6, 0.05
    cfg = GPHMConfig(num_components=2, outer_iters=1, theta_steps=steps, theta_lr=lr,
                     tau_update="adam", log_tau_init=(1.0, -1.0), jitter=1e-4, **extra)  # fmt: skip
    solver = GPHMSolver(prob, cfg)
    sol = solver.solve()
    K, J, f, g = _dense_helmholtz_1d(prob, solver.spec, solver.theta0[0], cfg.jitter)
    lam = solver.lam
    lt = np.array(cfg.log_tau_init, dtype=np.float64)
    U0 = _u_star(K, J, f, g, lam, lt)
    m, v = np.zeros(2), np.zeros(2)
    for t in range(1, steps + 1):
        U = _u_star(K, J, f, g, lam, lt) if cfg.theta_update == "profiled" else U0
        gr = _tau_gradient(U, J, f, g, lam, lt)
        m, v = 0.9 * m + 0.1 * gr, 0.999 * v + 0.001 * gr**2
        lt = lt - lr * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    assert np.abs(lt - np.array(cfg.log_tau_init)).min() > 0.1  # τ moved
    np.testing.assert_allclose(np.asarray(sol.log_tau), lt, rtol=1e-7, atol=1e-8)
    U_final = _u_star(K, J, f, g, lam, lt)
    np.testing.assert_allclose(
        np.asarray(sol.U), U_final, rtol=1e-6, atol=1e-8 * np.abs(U_final).max()
    )


def test_tau_adam_with_profiled_kernel_steps_takes_the_envelope_gradient():
    """Profiled θ steps with ``tau_update='adam'`` and a learned kernel: the first Adam step
    moves log τ by −lr·sign(∂L/∂log τ) (Adam's first step), the gradient taken at the dense U*
    of the initial θ and τ; before, log τ never moved."""
    prob = small_helmholtz((12,))
    lr = 0.05
    cfg = GPHMConfig(num_components=2, outer_iters=1, theta_steps=1, theta_lr=lr,
                     tau_update="adam", theta_update="profiled", log_tau_init=(1.0, -1.0),
                     jitter=1e-4)  # fmt: skip
    solver = GPHMSolver(prob, cfg)
    sol = solver.solve()
    K, J, f, g = _dense_helmholtz_1d(prob, solver.spec, solver.theta0[0], cfg.jitter)
    lt0 = np.array(cfg.log_tau_init)
    gr = _tau_gradient(_u_star(K, J, f, g, solver.lam, lt0), J, f, g, solver.lam, lt0)
    np.testing.assert_allclose(
        np.asarray(sol.log_tau), lt0 - lr * gr / (np.abs(gr) + 1e-8), rtol=1e-9, atol=1e-9
    )


def test_problem_and_config_are_fixed_at_construction() -> None:
    """The kernel, grids and jitted functions are built from them: assigning a new config used to
    be accepted and silently reuse the functions compiled for the old one."""
    import dataclasses

    prob = small_helmholtz((8,))
    cfg = GPHMConfig(num_components=2)
    solver = GPHMSolver(prob, cfg)
    assert solver.config is cfg and solver.problem is prob
    with pytest.raises(AttributeError):
        solver.config = dataclasses.replace(cfg, num_components=3)
    with pytest.raises(AttributeError):
        solver.problem = prob
    assert solver.config is cfg


def test_predict_of_no_points_and_relative_l2_of_a_zero_solution() -> None:
    prob = small_helmholtz((8,))
    sol = GPHMSolver(prob, GPHMConfig(num_components=2, outer_iters=2)).solve()
    assert sol.predict(np.zeros((0, 1))).shape == (0,)
    # the same points one at a time and together (independent of the empty case)
    pts = np.array([[0.3], [1.7]])
    both = np.asarray(sol.predict(pts))
    single = [float(sol.predict(p[None])[0]) for p in pts]
    np.testing.assert_allclose(both, single, rtol=1e-12)
    zero = PDEProblem(
        "zero",
        operator=lambda F, x: F["u_xx"] + 0.5 * F["u"],
        fields=("u", "u_xx"),
        domain=((0.0, math.pi),),
        grid=(8,),
        exact=lambda x: 0.0 * x[0],
        freq_scale=1.0,
    )
    zsol = GPHMSolver(zero, GPHMConfig(num_components=2, outer_iters=2)).solve()
    with pytest.raises(ValueError, match="exact solution is zero"):
        zsol.relative_l2(20)


def test_toeplitz_kernel_rejects_a_non_uniform_grid_and_matches_dense_on_uniform_ones() -> None:
    spec = SpectralKernel("gm", 3)
    params = spec.init_params(1.0)
    with jax.enable_x64(True):
        cheb = jnp.cos(jnp.linspace(0, math.pi, 9))[::-1]
        with pytest.raises(ValueError, match="uniform grid"):
            kernel_toeplitz(spec, params, cheb)
        # a uniform grid in float64 and in float32 (spacings rounded) is accepted, and equals
        # the dense kernel matrix
        for dtype in (jnp.float64, jnp.float32):
            x = jnp.linspace(-3.0, 7.0, 401, dtype=dtype)
            dense = kernel_matrix(spec, params, x, x)
            np.testing.assert_allclose(
                np.asarray(kernel_toeplitz(spec, params, x)), np.asarray(dense), rtol=1e-4,
                atol=1e-5 * float(jnp.abs(dense).max()),
            )  # fmt: skip
