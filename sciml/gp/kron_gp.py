"""Kronecker-structured GP on a box grid: per-factor kernel matrices, prior term, log-determinant,
derivative operators on the grid and off-grid prediction (JAX).

The covariance over the grid is ``C = K_1 ⊗ ... ⊗ K_d`` with ``K_i = k_i(X_i, X_i) + jitter·I``;
only the ``d`` factors (``n_i × n_i``) are ever formed. For the grid values ``U`` (shape
``(n_1, ..., n_d)``):

* prior term ``vec(U)ᵀ C⁻¹ vec(U)`` through per-factor solves (:func:`sciml.kernels.kron_solve`);
* ``log|C| = Σ_i (N / n_i) log|K_i|`` (:func:`sciml.kernels.kron_logdet`);
* derivative of the GP conditional mean: ``∂^a/∂x_i^a`` is the mode-``i`` product with
  ``D_i^(a) = K_i^(a) K_i⁻¹`` where ``K_i^(a) = ∂^a k_i(x, x')/∂x^a`` (closed form);
* prediction off the grid: mode products with ``k_i^(a)(X*_i, X_i) K_i⁻¹``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from sciml.kernels import kron_logdet, kron_solve, multi_mode_product

from .problems import parse_field
from .spectral import SpectralKernel, kernel_matrix, kernel_toeplitz

__all__ = [
    "FactorOps",
    "build_factors",
    "grid_fields",
    "prior_quad",
    "prior_logdet",
    "predict_grid",
]


class FactorOps(dict):
    """Per-dimension matrices: ``K`` (n, n), ``chol`` (lower Cholesky of K), ``D`` = {order: D^(a)}."""


def build_factors(
    spec: SpectralKernel,
    params: Sequence[dict],
    axes: Sequence[jax.Array],
    orders: Sequence[Sequence[int]],
    jitter: float = 1e-6,
    active: Sequence[jax.Array] | None = None,
    explicit: bool = True,
) -> list[FactorOps]:
    """Kernel factor and derivative operators for every dimension.

    Args:
        spec: kernel kind shared by all dimensions.
        params: one parameter dict per dimension (see :class:`SpectralKernel`).
        axes: *uniform* grid coordinates per dimension, shapes (n_i,) (Toeplitz evaluation).
        orders: derivative orders needed per dimension (subset of {0, 1, 2}). Order 0 adds the
            value operator ``D^(0) = K_0 K⁻¹ = I − jitter·K⁻¹`` (``K_0`` without jitter): the GP
            mean at the grid nodes, which differs from ``U`` by ``jitter·K⁻¹U``.
        jitter: added to the diagonal of each K_i.
        active: optional component masks per dimension.
        explicit: form ``D^(a) = K^(a) K⁻¹`` (n³, best for many applications, e.g. CG); otherwise
            keep ``K^(a)`` and apply ``K^(a) (K⁻¹ U)`` per mode (n² per column; cheaper gradients).
    """
    out = []
    for i, x in enumerate(axes):
        act = None if active is None else active[i]
        K = kernel_toeplitz(spec, params[i], x, 0, act) + jitter * jnp.eye(x.shape[0])
        L = jnp.linalg.cholesky(K)
        D = {}
        for a in sorted(set(orders[i])):
            if a == 0:
                if explicit:
                    eye = jnp.eye(x.shape[0])
                    D[0] = eye - jitter * jsl.cho_solve((L, True), eye)
                else:
                    D[0] = K - jitter * jnp.eye(x.shape[0])
                continue
            Ka = kernel_toeplitz(spec, params[i], x, a, act)
            # D = Ka K^{-1} = (K^{-1} Ka^T)^T
            D[a] = jsl.cho_solve((L, True), Ka.T).T if explicit else Ka
        out.append(FactorOps(K=K, chol=L, D=D, explicit=explicit))
    return out


def field_orders(fields: Sequence[str], ndim: int) -> list[list[int]]:
    """Derivative orders needed per dimension for a list of field names."""
    need: list[set[int]] = [set() for _ in range(ndim)]
    for f in fields:
        for i, a in enumerate(parse_field(f, ndim)):
            if a:
                need[i].add(a)
    return [sorted(s) for s in need]


def apply_field(U: jax.Array, ops: Sequence[FactorOps], orders: tuple[int, ...]) -> jax.Array:
    """The field with derivative orders ``orders`` of the GP mean interpolating ``U`` on the grid.

    An axis with order 0 is left as ``U`` unless its factor carries the value operator ``D^(0)``
    (see :func:`build_factors`), which then maps ``U`` to the GP mean at the nodes."""
    modes = [i for i, a in enumerate(orders) if a or 0 in ops[i]["D"]]
    mats = [ops[i]["D"][orders[i]] for i in modes]
    if not mats:
        return U
    for i in modes:
        if not ops[i]["explicit"]:
            U = _mode_solve(U, ops[i]["chol"], i)
    return multi_mode_product(U, mats, modes)


def _mode_solve(U: jax.Array, L: jax.Array, mode: int) -> jax.Array:
    """``U ×_mode K⁻¹`` with K = L Lᵀ."""
    moved = jnp.moveaxis(U, mode, 0)
    sol = jsl.cho_solve((L, True), moved.reshape(moved.shape[0], -1)).reshape(moved.shape)
    return jnp.moveaxis(sol, 0, mode)


def grid_fields(U: jax.Array, ops: Sequence[FactorOps], fields: Sequence[str]) -> dict:
    """All requested fields on the grid, each of U's shape."""
    d = U.ndim
    return {f: apply_field(U, ops, parse_field(f, d)) for f in fields}


def prior_quad(U: jax.Array, ops: Sequence[FactorOps]) -> jax.Array:
    """``vec(U)ᵀ C⁻¹ vec(U)`` with ``C = ⊗ K_i`` (per-factor Cholesky solves)."""
    Ks = [o["K"] for o in ops]
    layout = "grid" if U.ndim > 1 else "flat"
    return jnp.sum(U * kron_solve(Ks, U, layout=layout, assume="spd", check=False))


def prior_solve(U: jax.Array, ops: Sequence[FactorOps]) -> jax.Array:
    """``C⁻¹ vec(U)`` in grid shape."""
    Ks = [o["K"] for o in ops]
    layout = "grid" if U.ndim > 1 else "flat"
    return kron_solve(Ks, U, layout=layout, assume="spd", check=False)


def prior_logdet(ops: Sequence[FactorOps], use_chol: bool = True) -> jax.Array:
    """``log|C| = Σ_i (N/n_i) log|K_i|``, from the Cholesky factors already computed (default) or
    through :func:`sciml.kernels.kron_logdet`."""
    if not use_chol:
        return kron_logdet([o["K"] for o in ops])
    sizes = [o["K"].shape[0] for o in ops]
    total = 1
    for n in sizes:
        total *= n
    return sum(
        (total // n) * 2.0 * jnp.sum(jnp.log(jnp.diagonal(o["chol"]))) for n, o in zip(sizes, ops)
    )


def predict_grid(
    spec: SpectralKernel,
    params: Sequence[dict],
    axes: Sequence[jax.Array],
    ops: Sequence[FactorOps],
    alpha: jax.Array,
    new_axes: Sequence[jax.Array],
    orders: tuple[int, ...] | None = None,
    active: Sequence[jax.Array] | None = None,
) -> jax.Array:
    """Posterior mean (or a derivative of it) on a new tensor grid.

    ``alpha = C⁻¹ vec(U)`` in grid shape; returns shape ``(m_1, ..., m_d)``:
    ``(⊗_i k_i^(a_i)(X*_i, X_i)) alpha``.
    """
    d = alpha.ndim
    orders = (0,) * d if orders is None else tuple(orders)
    mats = []
    for i in range(d):
        act = None if active is None else active[i]
        mats.append(kernel_matrix(spec, params[i], new_axes[i], axes[i], orders[i], act))
    return multi_mode_product(alpha, mats, list(range(d)))


def predict_points(
    spec: SpectralKernel,
    params: Sequence[dict],
    axes: Sequence[jax.Array],
    alpha: jax.Array,
    points: jax.Array,
    orders: tuple[int, ...] | None = None,
    active: Sequence[jax.Array] | None = None,
    batch: int = 4096,
) -> jax.Array:
    """Posterior mean (or a derivative) at scattered points ``points`` of shape (M, d) → (M,)."""
    d = alpha.ndim
    orders = (0,) * d if orders is None else tuple(orders)
    outs = []
    for s in range(0, points.shape[0], batch):
        p = points[s : s + batch]
        rows = []
        for i in range(d):
            act = None if active is None else active[i]
            rows.append(kernel_matrix(spec, params[i], p[:, i], axes[i], orders[i], act))
        # contract alpha with one row per dimension for every point, last mode first
        t = jnp.einsum("...j,mj->m...", alpha, rows[-1]) if d > 1 else rows[0] @ alpha
        for i in range(d - 2, -1, -1):
            t = jnp.einsum("m...j,mj->m...", t, rows[i])
        outs.append(t)
    return jnp.concatenate(outs)
