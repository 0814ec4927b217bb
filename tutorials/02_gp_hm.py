# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 — GP-HM: Gaussian-process solver for high-frequency PDEs on Kronecker grids
#
# GP-HM (Fang et al., ICLR 2024) puts a Gaussian-process prior on the PDE solution whose power
# spectrum is a **mixture** (Gaussian or Student-t components); the dominant frequencies of the
# solution are *learned* from the PDE residual. Collocation points form a grid and the kernel is a
# product over dimensions, so every covariance is a Kronecker product and nothing of size
# N × N over the grid is ever formed.
#
# This tutorial
# 1. solves `u'' = f` with `u* = sin(100x)` on `[0, 2π]` (400 grid points) with the fast path
#    (exact quadratic solves for the grid values alternated with Adam steps on the kernel);
# 2. plots the learned spectrum, the solution and the error;
# 3. defines a PDE of its own (a 2-D Helmholtz-type equation) — the library entry point for
#    simulation codes — and solves it.
#
# `SCIML_SMOKE=1` shrinks everything to run in well under a minute.

# %%
import math
import os
import tempfile

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from sciml.gp import GPHMConfig, GPHMSolver, PDEProblem, get_problem

SMOKE = os.environ.get("SCIML_SMOKE", "0") == "1"
OUT = os.environ.get("SCIML_TUTORIAL_OUT", tempfile.mkdtemp(prefix="gphm_"))
print("smoke mode:", SMOKE, "| figures in", OUT)

# %% [markdown]
# ## 1. A high-frequency Poisson problem
# The solver works in float64 inside `jax.enable_x64(True)`; the global JAX config is untouched.
# `GPHMConfig()` holds the paper's defaults (GM kernel, Q = 30 components per dimension,
# frequencies initialised on `linspace(0, 1, Q) · freq_scale`, λ_b = 200, jitter 1e-6).
# `theta_update="profiled"` re-solves the grid values exactly at every kernel step (a small dense
# solve in 1-D), so each step follows the exact gradient of the profiled loss min_U L(U, θ, τ).
# Its trajectory fluctuates from round to round; `select="holdout"` reports the round with the
# smallest PDE residual on held-out collocation points (one per grid cell, off the grid, no test
# data), measured in the inverse-Laplacian norm ‖Δ_h⁻¹r‖ / ‖Δ_h⁻¹f‖
# (`holdout_norm="inverse_laplacian"`), which weights smooth error components as much as
# oscillating ones (the plain residual norm weights a component of wavenumber k by k²).
# `value_field="predictor"` (our change to the published model) lets the boundary term and the
# field `u` act on the GP mean at the grid nodes, ⊗(I − jitter·K_i⁻¹)U — the function that
# `solution.predict` returns — instead of on the raw grid values U, which differ from it by
# jitter·K⁻¹U; with it the boundary data constrain the returned solution.

# %%
problem = get_problem("poisson1d-sin100")
config = GPHMConfig(path="fast", outer_iters=4 if SMOKE else 40, theta_steps=20,
                    theta_update="profiled", holdout_points=problem.grid[0] - 1,
                    holdout_norm="inverse_laplacian", select="holdout",
                    value_field="predictor")  # fmt: skip
solution = GPHMSolver(problem, config).solve()
err = solution.relative_l2(300)
print(f"relative L2 error (300 test points): {err:.2e} in {solution.wall_time:.1f} s "
      f"(round {solution.history['selected_step']} of {solution.history['final_step']})")  # fmt: skip

# %% [markdown]
# ## 2. Learned spectrum, solution and error
# The true solution has one frequency, 100 / (2π) ≈ 15.9 cycles per unit length. The learned
# spectral density of the GP prior concentrates around it (log-domain weights = Jeffreys prior,
# which drives unneeded components towards zero).

# %%
freqs = np.linspace(0.0, 25.0, 2000)
with jax.enable_x64(True):
    init = GPHMSolver(problem, config)
    from sciml.gp import spectral_density

    s0 = np.asarray(spectral_density(solution.spec, init.theta0[0], freqs))
s1 = solution.spectrum(0, freqs)
fig, ax = plt.subplots(1, 3, figsize=(15, 3.8))
ax[0].semilogy(freqs, s0, label="initial prior")
ax[0].semilogy(freqs, s1, label="learned prior")
ax[0].axvline(100 / (2 * math.pi), color="k", ls="--", lw=0.8, label="true frequency")
ax[0].set_xlabel("frequency (cycles / unit)")
ax[0].set_ylim(1e-8, None)
ax[0].legend()
ax[0].set_title("spectral density")
xt = np.linspace(0, 2 * math.pi, 300)
pred = np.asarray(solution.predict((xt,)))
xz = np.linspace(0, 0.6, 600)
ax[1].plot(xz, np.sin(100 * xz), "k", lw=0.8, label="exact")
ax[1].plot(xz, np.asarray(solution.predict((xz,))), "r--", lw=0.8, label="GP-HM")
ax[1].set_xlim(0, 0.6)
ax[1].legend()
ax[1].set_title("solution (zoom)")
ax[2].semilogy(xt, np.abs(pred - np.sin(100 * xt)) + 1e-16)
ax[2].set_title(f"|error|, relative L2 = {err:.1e}")
fig.tight_layout()
fig.savefig(os.path.join(OUT, "gphm_poisson1d.png"), dpi=90)
plt.close(fig)

# %% [markdown]
# Training history (loss per round of the fast path):

# %%
print([f"{v:.4g}" for v in solution.history["loss"][:: max(1, len(solution.history["loss"]) // 8)]])

# %% [markdown]
# ## 3. Your own PDE
# A problem is the operator `L[u]` written on named fields (`"u"`, `"u_x"`, `"u_xx"`, `"u_yy"`,
# `"u_xy"`, ...), the box domain, the grid, and either a source `f` and boundary data `g` or an exact
# solution to manufacture them from. Here: `Δu + 4u = f` on `[0, π]²` with
# `u* = sin(2x) cos(3y)` (any JAX-traceable residual works; set `linear=False` for a nonlinear one,
# which is then solved by Gauss–Newton steps).
#
# Two settings used for 2-D grids:
# - `collocation="interior"`: the residual on interior points, boundary data on the boundary —
#   a square collocation system (the benchmark's 2-D setting);
# - model selection on **held-out collocation points**: `holdout_points=m` draws a random
#   `m × m` tensor grid strictly inside the domain and off the training grid, and measures the PDE
#   residual of the predictor there (it needs only the operator and the source, never the exact
#   solution or test points); `select="holdout"` returns the round with the smallest held-out
#   residual. The default is `select="final"` (final iterate). `history["selection"]` and
#   `history["selected_step"]` say which was reported;
# - `precond="geig"` with `cg_norm="preconditioned"`: PCG preconditioned by the boundary diagonal
#   plus, on the interior grid, a generalised-eigenbasis (fast-diagonalisation) approximation of
#   the U-system, stopped on the P⁻¹-norm of the residual (the plain residual is dominated by the
#   boundary rows once λ_b τ_1 is large);
# - `theta_update="profiled"` also works with PCG: every kernel step first re-solves U with a
#   few PCG iterations warm-started at the previous U (`profiled_cg_maxiter`), then follows the
#   gradient of the profiled loss there. In the benchmark this is what brings poisson2d-sin100
#   (400²) and poisson2d-sin6cos20 (200²) below the reference errors.
#
# The initial mixture frequencies are capped at `nyquist_frac` (default 0.8) times each factor
# grid's Nyquist frequency `1/(2h)` and learned frequencies are kept below it: components above
# Nyquist alias on the grid, make `K` nearly white and spoil the derivative operators.

# %%
n = 24 if SMOKE else 48
helmholtz = PDEProblem(
    name="helmholtz2d",
    operator=lambda F, x: F["u_xx"] + F["u_yy"] + 4.0 * F["u"],
    fields=("u", "u_xx", "u_yy"),
    domain=((0.0, math.pi), (0.0, math.pi)),
    grid=(n, n),
    exact=lambda x: jnp.sin(2 * x[0]) * jnp.cos(3 * x[1]),
    freq_scale=1.5,
)
cfg2 = GPHMConfig(num_components=8, outer_iters=3 if SMOKE else 15, theta_steps=20,
                  collocation="interior", holdout_points=20, select="holdout", precond="geig",
                  cg_norm="preconditioned", theta_update="profiled",
                  profiled_cg_maxiter=50)  # fmt: skip
sol2 = GPHMSolver(helmholtz, cfg2).solve()
h2 = sol2.history
print(f"helmholtz2d {n}x{n}: relative L2 = {sol2.relative_l2(60):.2e}, {sol2.wall_time:.1f} s, "
      f"CG iterations per round {h2['cg_iters']}")  # fmt: skip
print(f"reported: {h2['selection']} (round {h2['selected_step']} of {h2['final_step']}); "
      f"held-out residual per round {[f'{r:.1e}' for r in h2['holdout_residual']]}")  # fmt: skip

xs = np.linspace(0, math.pi, 60)
U = np.asarray(sol2.predict((xs, xs)))
ref = np.sin(2 * xs)[:, None] * np.cos(3 * xs)[None, :]
fig, ax = plt.subplots(1, 2, figsize=(9, 3.8))
im = ax[0].imshow(U.T, origin="lower", extent=(0, math.pi, 0, math.pi))
plt.colorbar(im, ax=ax[0])
ax[0].set_title("GP-HM solution")
im = ax[1].imshow(np.abs(U - ref).T, origin="lower", extent=(0, math.pi, 0, math.pi))
plt.colorbar(im, ax=ax[1])
ax[1].set_title("|error|")
fig.tight_layout()
fig.savefig(os.path.join(OUT, "gphm_helmholtz2d.png"), dpi=90)
plt.close(fig)

# %% [markdown]
# The solution object is callable off the grid, also for derivatives:

# %%
pts = np.array([[0.5, 1.0], [2.0, 0.3]])
print(
    "u   :", np.asarray(sol2.predict(pts)), "exact", np.sin(2 * pts[:, 0]) * np.cos(3 * pts[:, 1])
)
print("u_x :", np.asarray(sol2.predict(pts, "u_x")), "exact",
      2 * np.cos(2 * pts[:, 0]) * np.cos(3 * pts[:, 1]))  # fmt: skip
