"""The GP-HM loss and the fixed points of the fast path against dense algebra written from the
formulas (NumPy GM kernel and its second derivative in closed form, dense Kronecker covariance,
slogdet, explicit boundary/collocation selectors and dense derivative matrices).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import GPHMConfig, GPHMSolver, PDEProblem


def _kron(mats):
    out = np.asarray(mats[0])
    for m in mats[1:]:
        out = np.kron(out, np.asarray(m))
    return out


def _allen_cahn(shape):
    """Δu + u(u² − 1) = f on a non-square box, u* = Π sin(2x_i + 0.2) (source by hand)."""
    d = len(shape)
    axes = "xy"[:d]

    def exact(x):
        return math.prod(jnp.sin(2.0 * xi + 0.2) for xi in x)

    return PDEProblem(
        "ac-small",
        operator=lambda F, x: sum(F[f"u_{a}{a}"] for a in axes) + F["u"] * (F["u"] ** 2 - 1.0),
        fields=("u",) + tuple(f"u_{a}{a}" for a in axes),
        domain=tuple((0.0, 2.0 + 0.5 * i) for i in range(d)),
        grid=shape,
        source=lambda x: -4.0 * d * exact(x) + exact(x) * (exact(x) ** 2 - 1.0),
        boundary=exact,
        linear=False,
        freq_scale=1.0,
    )


def _gm_kernel(theta, x, order):
    """GM kernel Σ_q w_q exp(−ρ_q² d²) cos(2π μ_q d) and its d-derivatives, written out in NumPy:
    (e c)'' = e [(4a²d² − 2a − b²) c + 4abd sin(bd)], a = ρ², b = 2πμ."""
    w, a = np.exp(np.asarray(theta["log_w"])), np.exp(2 * np.asarray(theta["log_rho"]))
    b = 2 * np.pi * np.asarray(theta["mu"])
    d = (x[:, None] - x[None, :])[..., None]
    e, c, sn = np.exp(-a * d**2), np.cos(b * d), np.sin(b * d)
    if order == 0:
        return np.sum(w * e * c, -1)
    return np.sum(w * e * ((4 * a**2 * d**2 - 2 * a - b**2) * c + 4 * a * b * d * sn), -1)


def _dense_parts(s, theta, jit):
    """Dense K_i, value operators V_i (grid: I; predictor: k(X,X)K⁻¹) and D2_i = K''K⁻¹."""
    Ks, Vs, D2s = [], [], []
    for i, x in enumerate(s.axes):
        x = np.asarray(x)
        K0 = _gm_kernel(theta[i], x, 0)
        K = K0 + jit * np.eye(x.size)
        Ki = np.linalg.inv(K)
        Ks.append(K)
        Vs.append(K0 @ Ki if s.config.value_field == "predictor" else np.eye(x.size))
        D2s.append(_gm_kernel(theta[i], x, 2) @ Ki)
    return Ks, Vs, D2s


def _grid_data(s):
    """Boundary mask, collocation mask, source f and boundary data g on the grid, in NumPy."""
    axes = [np.asarray(a) for a in s.axes]
    mesh = np.meshgrid(*axes, indexing="ij")
    u_star = np.prod([np.sin(2.0 * m + 0.2) for m in mesh], axis=0)
    f = -4.0 * len(axes) * u_star + u_star * (u_star**2 - 1.0)
    idx = np.meshgrid(*[np.arange(a.size) for a in axes], indexing="ij")
    b = np.any([(i == 0) | (i == a.size - 1) for i, a in zip(idx, axes)], axis=0)
    cm = np.ones_like(f) if s.config.collocation == "all" else (~b).astype(float)
    return b.ravel().astype(float), cm.ravel(), f.ravel(), u_star.ravel()


def _dense_residual(s, u, Vs, D2s):
    """H(u) of Allen–Cahn: Σ_i D2_i ⊗ (value fields elsewhere) u + v(v² − 1) − f, masked."""
    d = len(Vs)
    V = _kron(Vs)
    lap = sum(_kron([D2s[j] if j == i else Vs[j] for j in range(d)]) @ u for i in range(d))
    v = V @ u
    _, cm, f, _ = _grid_data(s)
    return cm * (lap + v * (v**2 - 1.0) - f), v


def _dense_loss(s, u, theta, log_tau, jit):
    Ks, Vs, D2s = _dense_parts(s, theta, jit)
    C = _kron(Ks)
    H, v = _dense_residual(s, u, Vs, D2s)
    b, cm, _, g = _grid_data(s)
    rb = b * (v - g)
    Nb, Nc = int(b.sum()), int(cm.sum())
    t1, t2 = math.exp(log_tau[0]), math.exp(log_tau[1])
    return (
        0.5 * np.linalg.slogdet(C)[1]
        + 0.5 * u @ np.linalg.solve(C, u)
        - 200.0 * (0.5 * Nb * log_tau[0] - 0.5 * t1 * rb @ rb)
        - (0.5 * Nc * log_tau[1] - 0.5 * t2 * H @ H)
    )


@pytest.mark.parametrize(
    "shape,value_field,collocation", [((7,), "grid", "all"), ((5, 4), "predictor", "interior")]
)
def test_loss_equals_dense_formula(shape, value_field, collocation):
    jit = 1e-3
    cfg = GPHMConfig(num_components=3, jitter=jit, value_field=value_field,
                     collocation=collocation)  # fmt: skip
    s = GPHMSolver(_allen_cahn(shape), cfg)
    rng = np.random.default_rng(1)
    with jax.enable_x64(True):
        theta = [{k: v + 0.1 * rng.standard_normal(v.shape) for k, v in th.items()}
                 for th in s.theta0]  # fmt: skip
    u = rng.standard_normal(shape)
    log_tau = (0.3, -0.8)
    with jax.enable_x64(True):  # jitted: one compilation instead of eager per-op dispatch
        got = float(jax.jit(s._loss)(jnp.asarray(u), theta, jnp.asarray(log_tau), s.active0))
    ref = _dense_loss(s, u.ravel(), theta, log_tau, jit)
    assert got == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("shape", [(9,), (5, 4)])
def test_gauss_newton_fixed_point_is_stationary_for_the_dense_loss(shape):
    """Allen–Cahn (nonlinear): repeated Gauss–Newton U-steps (dense QR in 1-D, PCG in 2-D) at
    fixed θ, τ converge to a U where the dense gradient C⁻¹u + λτ₁VᵀB(Vu − g) + τ₂JᵀH vanishes,
    J = Σ D2 ⊗ V + diag(3v² − 1) V written out by hand."""
    jit = 1e-3
    cfg = GPHMConfig(num_components=3, jitter=jit, cg_tol=1e-13, cg_maxiter=400,
                     value_field="predictor", collocation="interior")  # fmt: skip
    s = GPHMSolver(_allen_cahn(shape), cfg)
    log_tau = jnp.array([0.5, 0.2])
    with jax.enable_x64(True):
        step = jax.jit(s._u_step_dense if len(shape) == 1 else s._u_step_pcg)
        U = jnp.zeros(shape)
        for _ in range(12):
            U, _, _ = step(U, s.theta0, log_tau, s.active0)
        u = np.asarray(U).ravel()
    Ks, Vs, D2s = _dense_parts(s, s.theta0, jit)
    C = _kron(Ks)
    V = _kron(Vs)
    d = len(shape)
    lapm = sum(_kron([D2s[j] if j == i else Vs[j] for j in range(d)]) for i in range(d))
    H, v = _dense_residual(s, u, Vs, D2s)
    b, cm, _, g = _grid_data(s)
    J = cm[:, None] * (lapm + (3 * v**2 - 1.0)[:, None] * V)
    t1, t2 = 200.0 * math.exp(0.5), math.exp(0.2)  # λ_b = 200: the PDEProblem default
    prior = np.linalg.solve(C, u)
    bterm = t1 * V.T @ (b * (V @ u - g))
    rterm = t2 * J.T @ H
    grad = prior + bterm + rterm
    scale = np.abs(prior).max() + np.abs(bterm).max() + np.abs(rterm).max()
    assert np.abs(grad).max() <= 1e-7 * scale
    # and it is a genuine nonlinear solve: the cubic term matters at this U
    assert np.abs(v**3).max() > 0.1
