"""Profiled θ updates (envelope gradient), the generalised-eigenbasis ("geig") PCG preconditioner and
the P⁻¹-norm PCG stopping rule, against dense algebra and finite differences."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg as sl

from sciml.gp import GPHMConfig, GPHMSolver, PDEProblem, kernel_matrix
from tests.gp._problems import small_helmholtz


def _allen_cahn_1d(n):
    return PDEProblem(
        "ac-small",
        operator=lambda F, x: F["u_xx"] + F["u"] * (F["u"] ** 2 - 1.0),
        fields=("u", "u_xx"),
        domain=((0.0, math.pi),),
        grid=(n,),
        exact=lambda x: jnp.sin(2.0 * x[0] + 0.2),
        linear=False,
        freq_scale=1.0,
    )


def _kron(mats):
    out = np.asarray(mats[0])
    for m in mats[1:]:
        out = np.kron(out, np.asarray(m))
    return out


@pytest.mark.parametrize("collocation", ["interior", pytest.param("all", marks=pytest.mark.slow)])
def test_geig_preconditioner_equals_its_dense_definition(collocation):
    """P⁻¹ = blockdiag(W diag(Wᵀ M_II W)⁻¹ Wᵀ, diag(M_BB)⁻¹): interior block in the basis
    W = ⊗ V_i, V_i the generalised eigenvectors (scipy) of the 1-D pencil
    (D_iᵀD_i, (K_i⁻¹)_II) restricted to the collocation rows and interior columns; M the dense
    U-system matrix (constant coefficients, so the diagonal is exact)."""
    shape = (6, 5)
    jit = 1e-3
    cfg = GPHMConfig(num_components=3, jitter=jit, precond="geig", collocation=collocation)
    s = GPHMSolver(small_helmholtz(shape), cfg)
    rng = np.random.default_rng(0)
    with jax.enable_x64(True):
        theta = [{k: v + 0.05 * rng.standard_normal(v.shape) for k, v in th.items()}
                 for th in s.theta0]  # fmt: skip
        log_tau = jnp.array([0.7, 2.1])
        r = jnp.asarray(rng.standard_normal(shape))

        @jax.jit
        def apply(th, r):
            ops = s._ops(th, s.active0, explicit=True)
            return s._precond(ops, jnp.zeros(shape), log_tau)(r)

        got = np.asarray(apply(theta, r)).ravel()
    axes = [np.asarray(a) for a in s.axes]
    Ks, Vs, D2s = [], [], []
    for i, n in enumerate(shape):
        K = np.asarray(kernel_matrix(s.spec, theta[i], axes[i], axes[i])) + jit * np.eye(n)
        D2 = np.asarray(kernel_matrix(s.spec, theta[i], axes[i], axes[i], 2)) @ np.linalg.inv(K)
        rows = slice(1, n - 1) if collocation == "interior" else slice(0, n)
        X = D2[rows, 1 : n - 1]
        A = np.linalg.inv(K)[1 : n - 1, 1 : n - 1]
        lam, V = sl.eigh(X.T @ X, A)
        np.testing.assert_allclose(V.T @ A @ V, np.eye(n - 2), atol=1e-8)
        Ks.append(K)
        Vs.append(V)
        D2s.append(D2)
    N = math.prod(shape)
    A = 0.5 * np.eye(N) + _kron([D2s[0], np.eye(shape[1])]) + _kron([np.eye(shape[0]), D2s[1]])
    A = np.asarray(s.cmask).ravel()[:, None] * A
    beta, t2 = 200 * math.exp(0.7), math.exp(2.1)
    bm = np.asarray(s.bmask).ravel()
    M = np.linalg.inv(_kron(Ks)) + beta * np.diag(bm) + t2 * A.T @ A
    inner = np.flatnonzero(bm == 0)
    W = _kron(Vs)
    p = np.diag(W.T @ M[np.ix_(inner, inner)] @ W)
    rr = np.asarray(r).ravel()
    ref = rr / np.diag(M)
    ref[inner] = W @ ((W.T @ rr[inner]) / p)
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-9 * np.abs(ref).max())


def test_pcg_stopping_rules_match_their_definitions():
    """Badly scaled SPD system (four rows weighted 1e18, as the boundary rows with λ_b τ_1):
    the reported relative residual equals ‖b − Ax‖ / ‖b‖ (plain) or the same in the P⁻¹-norm
    (``rᵀP⁻¹r``), recomputed densely from the returned x, and meets the tolerance."""
    from sciml.gp._pcg import pcg

    rng = np.random.default_rng(1)
    n = 40
    B = rng.standard_normal((n, n))
    A = B @ B.T / n + 1e-3 * np.eye(n)
    s = np.ones(n)
    s[:4] = 1e9
    A = A + np.diag(s**2 - 1)
    b = rng.standard_normal(n) * s
    dinv = 1 / np.diag(A)
    with jax.enable_x64(True):
        args = (lambda v: jnp.asarray(A) @ v, jnp.asarray(b), jnp.zeros(n),
                lambda r: jnp.asarray(dinv) * r)  # fmt: skip
        for norm in ("preconditioned", "residual"):
            x, k, rr = pcg(*args, tol=1e-8, maxiter=500, norm=norm)
            r = b - A @ np.asarray(x)
            if norm == "residual":
                ref = np.linalg.norm(r) / np.linalg.norm(b)
            else:
                ref = math.sqrt(r @ (dinv * r) / (b @ (dinv * b)))
            assert 0 < int(k) < 500
            assert float(rr) <= 1e-8
            np.testing.assert_allclose(float(rr), ref, rtol=1e-3, atol=1e-12)
        with pytest.raises(ValueError, match="norm"):
            pcg(*args, norm="energy")


@pytest.mark.slow
def test_geig_pcg_u_step_matches_the_slice_preconditioner_solution():
    """Same linear system, two preconditioners: both converge to the same U."""
    shape = (9, 8)
    base = {"num_components": 3, "jitter": 1e-3, "cg_tol": 1e-13, "cg_maxiter": 800,
            "collocation": "interior"}  # fmt: skip
    prob = small_helmholtz(shape)
    out = []
    with jax.enable_x64(True):
        for pre in ("slice", "geig"):
            s = GPHMSolver(prob, GPHMConfig(precond=pre, **base))
            U, it, rr = jax.jit(s._u_step_pcg)(jnp.zeros(shape), s.theta0, jnp.array([1.0, 3.0]),
                                               s.active0)  # fmt: skip
            assert float(rr) < 1e-12
            out.append(np.asarray(U))
    np.testing.assert_allclose(out[1], out[0], rtol=1e-8, atol=1e-9 * np.abs(out[0]).max())


@pytest.mark.parametrize(
    "make", [lambda: small_helmholtz((8,)), pytest.param(lambda: _allen_cahn_1d(12),
                                                     marks=pytest.mark.slow)]
)  # fmt: skip
def test_profiled_gradient_matches_finite_differences_of_the_profiled_loss(make):
    """P(θ) = min_U L(U, θ, τ): the envelope gradient ∂L/∂θ at U*(θ) equals central finite
    differences of P (U* re-solved at every perturbed θ; Gauss–Newton to convergence for the
    nonlinear problem)."""
    prob = make()
    s = GPHMSolver(prob, GPHMConfig(num_components=2, jitter=1e-4))
    n_inner = 1 if prob.linear else 25
    with jax.enable_x64(True):
        log_tau = jnp.array([1.0, 0.5])
        U0 = jnp.zeros(prob.grid)
        # a good start for the nonlinear solve (GN from the linear part's solution)
        U0, _, _ = s._u_step_dense(U0, s.theta0, log_tau, s.active0)

        f = jax.jit(lambda th: s._profiled_value_and_grad(U0, th, log_tau, s.active0, n_inner))
        _, g, *_ = f(s.theta0)
        h = 1e-5
        for key, q in (("log_w", 0), ("mu", 1), ("log_rho", 1)):

            def shifted(eps, key=key, q=q):
                th = [{**s.theta0[0], key: s.theta0[0][key].at[q].add(eps)}]
                return float(f(th)[0])

            fd = (shifted(h) - shifted(-h)) / (2 * h)
            an = float(g[0][key][q])
            assert abs(fd - an) <= 1e-5 * max(1.0, abs(an)), (key, q, fd, an)


def test_profiled_pcg_gradient_matches_dense_finite_differences_2d():
    """2-D: the profiled gradient with a (tight) warm-startable PCG solve equals central finite
    differences of P(θ) = L(U*(θ), θ), with U* from dense algebra (U* = −∇²_U L⁻¹ ∇_U L(0), the
    Hessian formed densely by autodiff on a 6 × 5 grid)."""
    shape = (6, 5)
    cfg = GPHMConfig(num_components=2, jitter=1e-3, collocation="interior", precond="geig",
                     cg_norm="preconditioned", cg_tol=1e-14)  # fmt: skip
    s = GPHMSolver(small_helmholtz(shape), cfg)
    with jax.enable_x64(True):
        log_tau = jnp.array([2.0, 1.5])
        zero = jnp.zeros(shape)

        @jax.jit
        def dense_P(th):
            def lossU(u):
                return s._loss(u.reshape(shape), th, log_tau, s.active0)

            u0 = zero.ravel()
            Hm = jax.hessian(lossU)(u0)
            u = -jnp.linalg.solve(Hm, jax.grad(lossU)(u0))
            return lossU(u)

        f = jax.jit(lambda th: s._profiled_value_and_grad(zero, th, log_tau, s.active0, 1, 600))
        val, g, _, its = f(s.theta0)
        assert 0 < int(its) < 600
        np.testing.assert_allclose(float(val), float(dense_P(s.theta0)), rtol=1e-9)
        h = 1e-5
        for dim in (0, 1):
            for key, q in (("log_w", 0), ("mu", 1), ("log_rho", 1)):

                def shifted(eps, key=key, q=q, dim=dim):
                    th = [dict(t) for t in s.theta0]
                    th[dim] = {**th[dim], key: th[dim][key].at[q].add(eps)}
                    return float(dense_P(th))

                fd = (shifted(h) - shifted(-h)) / (2 * h)
                an = float(g[dim][key][q])
                assert abs(fd - an) <= 1e-5 * max(1.0, abs(an)), (dim, key, q, fd, an)


def test_profiled_options_reject_bad_input():
    for kw, name in (({"theta_update": "newton"}, "theta_update"),
                     ({"cg_norm": "energy"}, "cg_norm"),
                     ({"theta_lr_final": 0.0}, "theta_lr_final"),
                     ({"tau_damping": 0.0}, "tau_damping"),
                     ({"tau_damping": 1.5}, "tau_damping"),
                     ({"profiled_cg_maxiter": 0}, "profiled_cg_maxiter")):  # fmt: skip
        with pytest.raises(ValueError, match=name):
            GPHMConfig(**kw)


@pytest.mark.slow
def test_profiled_theta_update_runs():
    prob = small_helmholtz((24,))
    cfg = GPHMConfig(num_components=3, outer_iters=2, theta_steps=3, theta_update="profiled")
    sol = GPHMSolver(prob, cfg).solve()
    assert np.isfinite(sol.loss) and sol.relative_l2(100) < 1e-2
