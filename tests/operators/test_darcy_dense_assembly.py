"""Darcy solve against a dense assembly on the full node grid written independently: boundary
rows are the identity (u = 0), interior rows the flux form with arithmetic face means, nodal
right-hand side."""

from __future__ import annotations

import numpy as np

from sciml.operators.darcy import darcy_solve


def _dense_full_grid(a: np.ndarray, f: np.ndarray, mean) -> np.ndarray:
    n = a.shape[0]
    h = 1.0 / (n - 1)
    N = n * n
    A = np.zeros((N, N))
    b = np.zeros(N)
    node = {(i, j): i * n + j for i in range(n) for j in range(n)}
    for (i, j), r in node.items():
        if i in (0, n - 1) or j in (0, n - 1):
            A[r, r] = 1.0  # Dirichlet u = 0
            continue
        for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            kf = mean(a[i, j], a[i + di, j + dj]) / h**2
            A[r, r] += kf
            A[r, node[(i + di, j + dj)]] -= kf
        b[r] = f[i, j]
    return np.linalg.solve(A, b).reshape(n, n)


def test_solve_equals_dense_full_grid_assembly_with_arithmetic_face_means():
    rng = np.random.default_rng(4)
    n = 9
    a = np.where(rng.standard_normal((2, n, n)) >= 0, 12.0, 3.0)
    a[1] = np.exp(rng.standard_normal((n, n)))
    f = 1.0 + rng.random((2, n, n))
    got = darcy_solve(a, f, chunk=1)
    arith = [_dense_full_grid(a[s], f[s], lambda p, q: 0.5 * (p + q)) for s in range(2)]
    np.testing.assert_allclose(got, np.stack(arith), rtol=1e-9, atol=1e-12)
    # the documented convention is the arithmetic mean: the harmonic one gives another answer
    harm = _dense_full_grid(a[0], f[0], lambda p, q: 2 * p * q / (p + q))
    assert np.abs(got[0] - harm).max() > 1e-2 * np.abs(harm).max()
    # the default right-hand side is f = 1
    ones = _dense_full_grid(a[0], np.ones((n, n)), lambda p, q: 0.5 * (p + q))
    np.testing.assert_allclose(darcy_solve(a[0]), ones, rtol=1e-9, atol=1e-12)
