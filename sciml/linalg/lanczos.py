"""Lanczos with full re-orthogonalisation → Ritz values and vectors of a symmetric matrix."""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla

from sciml.linalg.system import PoissonSystem


def lanczos(
    A, steps: int, seed: int = 0, v0: np.ndarray | None = None, nullspace: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Run ``steps`` Lanczos iterations with full (two-pass Gram–Schmidt) re-orthogonalisation.

    Args:
        A: PoissonSystem, scipy sparse or dense (n, n) symmetric matrix.
        steps: Krylov dimension m (≤ n); stops early on an invariant subspace.
        seed: seed of the random start vector (when ``v0`` is None).
        nullspace: (n, p) orthonormal basis kept out of the Krylov space (Neumann null space).

    Returns:
        (theta, Z): Ritz values (m,) ascending and Ritz vectors (n, m), orthonormal columns.
    """
    if isinstance(A, PoissonSystem):
        if nullspace is None:
            nullspace = A.nullspace()
        A = A.A
    n = A.shape[0]
    if A.ndim != 2 or A.shape[1] != n:
        raise ValueError(f"A: expected a square matrix, got shape {A.shape}")
    m = int(steps)
    if not 1 <= m <= n:
        raise ValueError(f"steps: expected 1 <= steps <= n={n}, got {steps}")
    v = np.random.default_rng(seed).standard_normal(n) if v0 is None else np.array(v0, float)
    Z0 = nullspace if nullspace is not None and nullspace.shape[1] else None
    if Z0 is not None:
        v -= Z0 @ (Z0.T @ v)
    V = np.zeros((n, m))
    alpha = np.zeros(m)
    beta = np.zeros(m)
    V[:, 0] = v / np.linalg.norm(v)
    k = m
    anorm = 0.0  # running estimate of ‖A‖ (max |α|, β so far): the stop test is scale-free
    for j in range(m):
        w = A @ V[:, j]
        alpha[j] = V[:, j] @ w
        anorm = max(anorm, abs(alpha[j]), beta[j - 1] if j else 0.0)
        for _ in range(2):  # full re-orthogonalisation, twice is enough
            w -= V[:, : j + 1] @ (V[:, : j + 1].T @ w)
            if Z0 is not None:
                w -= Z0 @ (Z0.T @ w)
        if j + 1 == m:
            break
        beta[j] = np.linalg.norm(w)
        if beta[j] <= 1e-12 * anorm:  # invariant subspace (also A = 0 on it)
            k = j + 1
            break
        V[:, j + 1] = w / beta[j]
    theta, Y = sla.eigh_tridiagonal(alpha[:k], beta[: k - 1])
    return theta, V[:, :k] @ Y
