# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 06 — DCDM: a neural network as a search-direction generator for Poisson systems
#
# The Deep Conjugate Direction Method (Kaneda et al., ICML 2023) solves the sparse SPD systems
# of pressure projection, `A x = b` with `A = -Δ_h` on the fluid cells of a grid, in few
# iterations. A small CNN `f` approximates `r ↦ A⁻¹ r` (up to scale); each iteration takes
# `q = f(r/‖r‖)`, A-orthogonalises it against the last two directions and does an exact line
# search. This tutorial
#
# 1. builds obstacle scenes and smoke-like right-hand sides (`sciml.linalg`),
# 2. solves them with CG, Jacobi-PCG, IC(0)-PCG, pyamg AMG-PCG and DCDM with the shipped model,
# 3. plots residual vs iteration and vs wall time,
# 4. shows how the training data (Ritz vectors) and the unsupervised loss are made.
#
# Set `SCIML_SMOKE=1` for a fast run (smaller grids).

# %%
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from sciml.linalg import (
    AIR,
    SOLID,
    DCDMLoss,
    build_poisson,
    dcdm_solve,
    pretrained,
    random_obstacles,
    ritz_rhs,
    ritz_vectors,
    run_solvers,
    smoke_rhs,
    training_system,
)

SMOKE = os.environ.get("SCIML_SMOKE", "0") not in ("", "0")
N2 = 64 if SMOKE else 128
torch.manual_seed(0)

# %% [markdown]
# ## 1. A scene: obstacles, walls, an open top
# Cell types: fluid (unknowns), solid (Neumann faces), air (Dirichlet `p = 0`). The top layer
# along axis 1 is air; the outer walls are solid. The right-hand side is the divergence of a
# smooth random velocity field with a buoyant plume, as in a smoke simulation's projection step.

# %%
mask = random_obstacles((N2, N2), n_obstacles=5, seed=42)
system = build_poisson(mask)
b = smoke_rhs(system, seed=1)
print(f"{N2}x{N2} grid: {system.n} unknowns, nnz(A) = {system.A.nnz}")

fig, ax = plt.subplots(1, 2, figsize=(9, 4))
ax[0].imshow(mask.T, origin="lower", cmap="viridis")
ax[0].set_title(f"cell types (solid={SOLID}, air={AIR})")
ax[1].imshow(system.to_grid(b).T, origin="lower", cmap="RdBu_r")
ax[1].set_title("right-hand side b = -div u*")
fig

# %% [markdown]
# ## 2. All solvers, one stopping rule
# Every solver stops at `‖b − A x_k‖ ≤ tol·‖b‖` (relative residual). DCDM uses the shipped
# 2-D model (trained on an empty 64² box only, so this layout is unseen).

# %%
model = pretrained(2)
table = run_solvers(system, b, model, tols=(1e-4, 1e-6), log=print)

# %%
fig, ax = plt.subplots(1, 2, figsize=(11, 4))
for name, rec in table.items():
    r = rec["residuals"]
    ax[0].semilogy(r, label=name)
    ax[1].semilogy([t + rec["setup"] for t in rec["times"]], r, label=name)
ax[0].set_xlabel("iteration")
ax[1].set_xlabel("wall time incl. setup [s]")
for a in ax:
    a.set_ylabel("relative residual")
    a.grid(True, which="both", alpha=0.3)
ax[0].legend()
fig.tight_layout()
fig

# %% [markdown]
# The DCDM solution agrees with a direct solve:

# %%
import scipy.sparse.linalg as spla

res = dcdm_solve(system, b, model, tol=1e-6, maxiter=200)
x_ref = spla.spsolve(system.A.tocsc(), b)
err = np.linalg.norm(res.x.numpy() - x_ref) / np.linalg.norm(x_ref)
print(
    f"DCDM: {res.iterations} iterations, fallback at {res.info['fallback_at']}, rel. error {err:.2e}"
)
assert err < 1e-3

# %% [markdown]
# ### Our addition (not in the paper): debias + a two-level coarse space
# The shipped networks have biases, so `f(0) ≠ 0`; its size relative to `f(r/‖r‖)` grows with
# the grid. `debias=True` uses `f(r/‖r‖) − f(0)`. `coarse="deflation"` adds piecewise-constant
# aggregates over 4^d-cell blocks (Nicolaides deflation): the solver starts from the coarse
# solution and A-projects every network direction off the coarse space, so the domain-spanning
# modes the local network under-amplifies are solved exactly. The network is unchanged.

# %%
two = dcdm_solve(system, b, model, tol=1e-6, maxiter=200, coarse="deflation", debias=True)
print(
    f"DCDM + deflation + debias: {two.iterations} iterations (plain DCDM {res.iterations}), "
    f"coarse size {two.info['coarse_size']}, setup {two.setup_time:.3f} s"
)
assert two.converged

# %% [markdown]
# ## 3. Training data and the loss
# Training right-hand sides are combinations of Ritz vectors of one training matrix (Lanczos
# with full re-orthogonalisation), weighted ×9 towards the low end of the spectrum. The loss
# `‖b − (qᵀb / qᵀAq) A q‖²` is scale invariant and zero exactly for `q ∝ A⁻¹ b`.

# %%
train_sys = training_system(2, 32 if SMOKE else 64)
theta, Z = ritz_vectors(train_sys, 200)
B = ritz_rhs(Z, 64, seed=0)
print(f"Ritz values in [{theta.min():.2e}, {theta.max():.2f}], {Z.shape[1]} vectors")

bg = torch.from_numpy(train_sys.to_grid(B)[:, None]).float()
loss = DCDMLoss(train_sys.stencil(dtype=torch.float32))
with torch.no_grad():
    print("loss of the identity direction q = b :", float(loss(bg, bg)))
    print("loss of the shipped network         :", float(loss(model(bg), bg)))
    exact = torch.from_numpy(
        train_sys.to_grid(spla.spsolve(train_sys.A.tocsc(), B.T).T)[:, None]
    ).float()
    print("loss of the exact inverse           :", float(loss(exact, bg)))

# %% [markdown]
# ## 4. 3-D (full mode only)

# %%
if not SMOKE:
    mask3 = random_obstacles((32, 32, 32), n_obstacles=5, seed=7)
    sys3 = build_poisson(mask3)
    b3 = smoke_rhs(sys3, seed=3)
    t0 = time.perf_counter()
    table3 = run_solvers(sys3, b3, pretrained(3), tols=(1e-4, 1e-6), log=print)
    print(f"3-D comparison took {time.perf_counter() - t0:.1f} s")
