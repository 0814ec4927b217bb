"""Preconditioned conjugate gradients on JAX arrays of any shape (jit-compatible)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def pcg(matvec, b, x0, precond, tol: float = 1e-10, maxiter: int = 1000, norm: str = "residual"):
    """Solve ``A x = b`` for SPD ``A`` given as ``matvec``; ``precond`` applies ``P⁻¹``.

    Stops when ``‖r‖ ≤ tol ‖b‖`` (``norm="residual"``) or ``‖r‖_{P⁻¹} ≤ tol ‖b‖_{P⁻¹}``
    (``norm="preconditioned"``, ``‖r‖²_{P⁻¹} = rᵀP⁻¹r``: balanced when the rows of ``A`` have very
    different scales) or after ``maxiter`` iterations.
    ``b = 0`` returns the exact solution ``x = 0`` (whatever ``x0``) with relative residual 0, as
    SciPy's ``cg`` does (a relative residual has no meaning there: it was 0/0 = NaN, or, with
    ``x0 ≠ 0``, every iteration up to ``maxiter`` ran against a threshold of 0 and returned inf).
    Returns ``(x, iterations, relative residual in that norm)``.
    """
    if norm not in ("residual", "preconditioned"):
        raise ValueError(f"norm: expected 'residual' or 'preconditioned', got {norm!r}")

    def dot(u, v):
        return jnp.sum(u * v)

    pre = norm == "preconditioned"
    bnorm = jnp.sqrt(jnp.abs(dot(b, precond(b)))) if pre else jnp.sqrt(dot(b, b))
    zero_b = bnorm == 0
    x0 = jnp.where(zero_b, jnp.zeros_like(x0), x0)  # A x = 0 → x = 0 (A SPD)
    r0 = b - matvec(x0)
    z0 = precond(r0)
    state = (x0, r0, z0, z0, dot(r0, z0), jnp.asarray(0))

    def rnorm(r, rz):
        return jnp.sqrt(jnp.abs(rz)) if pre else jnp.sqrt(dot(r, r))

    def cond(s):
        _, r, _, _, rz, k = s
        return jnp.logical_and(rnorm(r, rz) > tol * bnorm, k < maxiter)

    def body(s):
        x, r, z, p, rz, k = s
        Ap = matvec(p)
        alpha = rz / dot(p, Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        z = precond(r)
        rz_new = dot(r, z)
        p = z + (rz_new / rz) * p
        return (x, r, z, p, rz_new, k + 1)

    x, r, _, _, rz, k = jax.lax.while_loop(cond, body, state)
    res = rnorm(r, rz)
    return x, k, jnp.where(zero_b, res, res / jnp.where(zero_b, 1.0, bnorm))
