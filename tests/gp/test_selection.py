"""Nyquist-bounded initial frequencies, the marginal-likelihood θ objective, held-out selection
(never on test points or the exact solution), final-iterate reporting and compile caching."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import (
    GPHMConfig,
    GPHMSolver,
    PDEProblem,
    SpectralKernel,
    get_problem,
    kernel_matrix,
)


def test_initial_frequencies_stay_below_each_grids_nyquist():
    # poisson2d-sin6cos20: freq_scale 20 cycles/unit, 200 points on [0, 2π] → Nyquist 15.84;
    # second dimension shrunk to 9 points (Nyquist 0.64) to check the cap per factor grid
    prob = get_problem("poisson2d-sin6cos20", (200, 9))
    nyqs = [1.0 / (2 * (2 * math.pi / (n - 1))) for n in (200, 9)]
    assert prob.freq_scale > nyqs[0]
    s = GPHMSolver(prob, GPHMConfig())
    for th, nq, ref in zip(s.theta0, s.nyquist, nyqs):
        assert nq == pytest.approx(ref, rel=1e-12)
        mu = np.asarray(th["mu"])
        assert mu.max() == pytest.approx(0.8 * ref, rel=1e-12)
        assert np.all(mu <= ref)
    # the paper's initialisation when disabled
    s0 = GPHMSolver(prob, GPHMConfig(nyquist_frac=None))
    assert float(s0.theta0[0]["mu"].max()) == pytest.approx(prob.freq_scale)
    # a problem whose freq_scale is already below 0.8 · Nyquist is unchanged
    p1 = get_problem("poisson1d-sin100")
    s1 = GPHMSolver(p1, GPHMConfig())
    assert float(s1.theta0[0]["mu"].max()) == pytest.approx(p1.freq_scale)
    # learned frequencies are projected into [-Nyquist, Nyquist]
    with jax.enable_x64(True):
        th = [{**t, "mu": t["mu"] * 10.0} for t in s.theta0]
        proj = s._project(th)
    for t, nq in zip(proj, nyqs):
        assert float(jnp.max(jnp.abs(t["mu"]))) == pytest.approx(nq, rel=1e-12)


def test_aliasing_above_nyquist_makes_k_nearly_white():
    """Why the cap matters: on the grid a component at μ and one at 2·Nyquist − μ give the same
    cosine samples, so a mixture reaching past Nyquist cannot tell frequencies apart."""
    prob = get_problem("poisson2d-sin6cos20")
    s = GPHMSolver(prob.with_grid((200, 5)), GPHMConfig(nyquist_frac=None))
    x = np.asarray(s.axes[0])
    nyq = s.nyquist[0]
    mu = 3.0
    with jax.enable_x64(True):
        cos_lo = np.cos(2 * np.pi * mu * (x - x[0]))
        cos_hi = np.cos(2 * np.pi * (2 * nyq - mu) * (x - x[0]))
    np.testing.assert_allclose(cos_lo, cos_hi, atol=1e-9)


def _helmholtz(shape, exact=True):
    d = len(shape)
    axes = "xy"[:d]
    u = lambda x: math.prod(jnp.sin(1.5 * xi + 0.3) for xi in x)  # noqa: E731
    op = lambda F, x: sum(F[f"u_{a}{a}"] for a in axes) + 0.5 * F["u"]  # noqa: E731
    kw = {"exact": u} if exact else {
        "source": lambda x: (0.5 - 2.25 * d) * u(x), "boundary": u}  # fmt: skip
    return PDEProblem("small", operator=op, fields=("u",) + tuple(f"u_{a}{a}" for a in axes),
                      domain=tuple((0.0, math.pi) for _ in range(d)), grid=shape,
                      freq_scale=1.0, **kw)  # fmt: skip


def test_marginal_objective_matches_dense_gaussian_log_likelihood():
    shape = (6, 5)
    s = GPHMSolver(_helmholtz(shape), GPHMConfig(num_components=3, jitter=1e-3))
    rng = np.random.default_rng(0)
    U = rng.normal(size=shape)
    with jax.enable_x64(True):
        val = float(s._marginal(jnp.asarray(U), s.theta0, s.active0))
        Ks = [np.asarray(kernel_matrix(s.spec, s.theta0[i], s.axes[i], s.axes[i]))
              + 1e-3 * np.eye(n) for i, n in enumerate(shape)]  # fmt: skip
    C = np.kron(Ks[0], Ks[1])
    ref = 0.5 * np.linalg.slogdet(C)[1] + 0.5 * U.ravel() @ np.linalg.solve(C, U.ravel())
    assert val == pytest.approx(ref, rel=1e-10)


def test_holdout_selection_uses_only_pde_data_and_off_grid_points():
    prob = _helmholtz((24,), exact=False)  # no exact solution: selection cannot use it
    cfg = GPHMConfig(num_components=4, outer_iters=2, theta_steps=3, holdout_points=9,
                     select="holdout")  # fmt: skip
    s = GPHMSolver(prob, cfg)
    xv = np.asarray(s.val_axes[0])
    grid = np.asarray(s.axes[0])
    test = np.linspace(0.0, math.pi, 300)
    h = grid[1] - grid[0]
    assert xv.size == 9 and xv.min() > 0 and xv.max() < math.pi
    assert np.min(np.abs(xv[:, None] - grid[None, :])) >= 0.04 * h  # off the training grid
    assert np.min(np.abs(xv[:, None] - test[None, :])) > 1e-9  # not a test point
    sol = s.solve()
    hist = sol.history
    assert hist["selection"] == "holdout"
    k = int(np.argmin(hist["holdout_residual"]))
    assert hist["selected_step"] == hist["step"][k]
    # the recorded held-out residual equals a finite-difference residual of the returned predictor
    with jax.enable_x64(True):
        eps = 1e-4
        u0, up, um = (np.asarray(sol.predict((xv + e,))) for e in (0.0, eps, -eps))
        f = (0.5 - 2.25) * np.sin(1.5 * xv + 0.3)
    r = (up - 2 * u0 + um) / eps**2 + 0.5 * u0 - f
    fd = np.sqrt(np.mean(r**2)) / np.sqrt(np.mean(f**2))
    assert fd == pytest.approx(hist["holdout_residual"][k], rel=1e-3, abs=1e-6)
    assert hist["final_step"] == 2
    # a second solve reuses the compiled functions and reproduces the run
    n_cached = len(s._jit_cache)
    again = s.solve()
    assert len(s._jit_cache) == n_cached
    # bit-for-bit on CPU; GPU reductions may change order between runs (seen on an H100: 5e-13)
    tol = dict(rtol=1e-12, atol=1e-14) if jax.default_backend() == "cpu" else dict(rtol=1e-9)
    np.testing.assert_allclose(np.asarray(again.U), np.asarray(sol.U), **tol)


def test_bad_selection_inputs():
    with pytest.raises(ValueError, match="holdout_points"):
        GPHMConfig(select="holdout")
    with pytest.raises(ValueError, match="select"):
        GPHMConfig(select="test")
    with pytest.raises(ValueError, match="nyquist_frac"):
        GPHMConfig(nyquist_frac=1.5)
    with pytest.raises(ValueError, match="theta_objective"):
        GPHMConfig(theta_objective="ml")
    with pytest.raises(ValueError, match="max_freq"):
        SpectralKernel("gm", 3).init_params(1.0, max_freq=-1.0)


@pytest.mark.parametrize("shape", [(12,), pytest.param((9, 7), marks=pytest.mark.slow)])
def test_inverse_laplacian_holdout_norm_matches_dense_and_closed_form(shape):
    """``holdout_norm='inverse_laplacian'``: the held-out points lie in distinct cells; Δ_h⁻¹ from
    the per-dimension eigen-decompositions equals a dense solve with the Kronecker-sum
    finite-difference Laplacian, and inverts exactly the Laplacian of Π x_i(π − x_i) (zero
    Dirichlet data) and of Σ x_i² + 1 (its values on the faces as Dirichlet data): the three-point
    stencil is exact for quadratics on non-uniform nodes."""
    d = len(shape)
    prob = PDEProblem(
        "lap",
        operator=lambda F, x: sum(F[f"u_{a}{a}"] for a in "xy"[:d]),
        fields=tuple(f"u_{a}{a}" for a in "xy"[:d]),
        domain=tuple((0.0, math.pi) for _ in range(d)),
        grid=shape,
        exact=lambda x: math.prod(jnp.sin(xi) for xi in x),
    )
    m = 8
    cfg = GPHMConfig(holdout_points=m, holdout_norm="inverse_laplacian", num_components=2)
    s = GPHMSolver(prob, cfg)
    h = math.pi / (np.asarray(shape) - 1)
    with jax.enable_x64(True):
        axes = [np.asarray(a) for a in s.val_axes]
        for a, n, hi in zip(axes, shape, h):
            cells = np.floor(a / hi).astype(int)
            assert a.size == min(m, n - 1) and np.unique(cells).size == a.size
        mats = []
        for a in axes:
            nodes = np.concatenate([[0.0], a, [math.pi]])
            A = np.zeros((a.size, a.size))
            for j in range(a.size):
                hm, hp = nodes[j + 1] - nodes[j], nodes[j + 2] - nodes[j + 1]
                A[j, j] = -2 / (hm * hp)
                if j > 0:
                    A[j, j - 1] = 2 / (hm * (hm + hp))
                if j < a.size - 1:
                    A[j, j + 1] = 2 / (hp * (hm + hp))
            mats.append(A)
        if d == 1:
            Ad = mats[0]
        else:
            Ad = np.kron(mats[0], np.eye(len(axes[1]))) + np.kron(np.eye(len(axes[0])), mats[1])
        r = np.random.default_rng(0).standard_normal([len(a) for a in axes])
        got = np.asarray(s._apply_inv_lap(jnp.asarray(r)))
        np.testing.assert_allclose(got.ravel(), np.linalg.solve(Ad, r.ravel()), rtol=1e-8,
                                   atol=1e-10)  # fmt: skip
        q = [a * (math.pi - a) for a in axes]
        u = q[0] if d == 1 else np.outer(q[0], q[1])
        lap = -2 * np.ones_like(u) if d == 1 else -2 * (np.outer(np.ones_like(q[0]), q[1])
                                                        + np.outer(q[0], np.ones_like(q[1])))  # fmt: skip
        np.testing.assert_allclose(np.asarray(s._apply_inv_lap(jnp.asarray(lap))), u, rtol=1e-9)

        # non-zero Dirichlet data on the faces: u = Σ x_i² + 1 (Δu = 2d) is recovered exactly
        def quad(ax):
            return sum(np.asarray(a).reshape([-1 if j == i else 1 for j in range(d)]) ** 2
                       for i, a in enumerate(ax)) + 1.0  # fmt: skip

        faces = [jnp.asarray(quad(s._face_axes(i))) for i in range(d)]
        u2 = np.broadcast_to(quad(axes), r.shape)
        got2 = s._apply_inv_lap(jnp.full(r.shape, 2.0 * d), faces)
        np.testing.assert_allclose(np.asarray(got2), u2, rtol=1e-9)
    with pytest.raises(ValueError, match="holdout_norm"):
        GPHMConfig(holdout_norm="h1")
