"""Darcy generator: SPD operator, second-order manufactured solution, GRF statistics, dataset."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sciml.operators.darcy import darcy_operator, darcy_solve, generate_darcy
from sciml.operators.grf import grf_neumann


def test_operator_is_symmetric_positive_definite():
    rng = np.random.default_rng(0)
    a = np.exp(rng.standard_normal((2, 9, 9)))
    mat = darcy_operator(a).toarray()
    assert mat.shape == (2 * 49, 2 * 49)
    assert np.abs(mat - mat.T).max() < 1e-12 * np.abs(mat).max()
    eig = np.linalg.eigvalsh(mat)
    assert eig.min() > 0
    # constant a = 1: eigenvalues of the 5-point Laplacian (closed form)
    n, h = 9, 1 / 8
    k = np.arange(1, n - 1)
    lam1 = 4 / h**2 * np.sin(k * math.pi * h / 2) ** 2
    expected = np.sort((lam1[:, None] + lam1[None, :]).ravel())
    got = np.linalg.eigvalsh(darcy_operator(np.ones((n, n))).toarray())
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_operator_matches_stencil_on_a_random_vector():
    rng = np.random.default_rng(1)
    n = 7
    a = 1 + rng.random((n, n))
    u = np.zeros((n, n))
    u[1:-1, 1:-1] = rng.standard_normal((n - 2, n - 2))
    h = 1 / (n - 1)
    ref = np.zeros((n - 2, n - 2))
    for i in range(1, n - 1):
        for j in range(1, n - 1):
            acc = 0.0
            for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                af = 0.5 * (a[i, j] + a[i + di, j + dj])
                acc += af * (u[i + di, j + dj] - u[i, j])
            ref[i - 1, j - 1] = -acc / h**2
    got = darcy_operator(a) @ u[1:-1, 1:-1].ravel()
    np.testing.assert_allclose(got, ref.ravel(), rtol=1e-12)


def _manufactured(n):
    x = np.linspace(0, 1, n)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    a = 1 + xx**2 + 0.5 * np.sin(math.pi * yy)
    u = np.sin(math.pi * xx) * np.sin(2 * math.pi * yy)
    ax, ay = 2 * xx, 0.5 * math.pi * np.cos(math.pi * yy)
    ux = math.pi * np.cos(math.pi * xx) * np.sin(2 * math.pi * yy)
    uy = 2 * math.pi * np.sin(math.pi * xx) * np.cos(2 * math.pi * yy)
    lap = -(math.pi**2 + 4 * math.pi**2) * u
    f = -(ax * ux + ay * uy + a * lap)
    return a, f, u


def test_manufactured_solution_second_order():
    errs = []
    for n in (17, 33, 65):
        a, f, u = _manufactured(n)
        errs.append(np.abs(darcy_solve(a, f) - u).max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert errs[-1] < 2e-3
    assert np.all(rates > 1.9) and np.all(rates < 2.2), rates


def test_batched_solve_equals_per_sample_and_dense():
    rng = np.random.default_rng(2)
    a = 1 + 10 * rng.random((5, 8, 8))
    batched = darcy_solve(a, 1.0, chunk=2)
    for s in range(5):
        dense = np.linalg.solve(darcy_operator(a[s]).toarray(), np.ones(36))
        np.testing.assert_allclose(batched[s, 1:-1, 1:-1].ravel(), dense, rtol=1e-10)
    assert np.all(batched[:, 0] == 0) and np.all(batched[:, :, -1] == 0)


def test_grf_covariance_matches_spectrum():
    # variance at a node = Σ_k λ_k cos²(πk₁x)cos²(πk₂y) (closed form from the eigen-expansion)
    n, alpha, tau = 16, 2.0, 3.0
    g = grf_neumann(4000, n, alpha=alpha, tau=tau, seed=3)
    k = np.arange(n)
    lam = tau ** (2 * (alpha - 1)) * (math.pi**2 * (k[:, None] ** 2 + k[None] ** 2) + tau**2) ** (
        -alpha
    )
    lam[0, 0] = 0
    x = np.linspace(0, 1, n)
    c = np.cos(math.pi * x[:, None] * k[None]) ** 2
    var = c @ lam @ c.T
    np.testing.assert_allclose(g.var(axis=0), var, rtol=0.1)


def test_generate_darcy_dataset_shapes_and_physics():
    d = generate_darcy(0, resolution=16, n_train=6, n_test=2, progress=lambda it, **k: it)
    x, y = d["splits"]["train"]["x"], d["splits"]["train"]["y"]
    assert x.shape == y.shape == (6, 1, 16, 16) and x.dtype == np.float32
    assert set(np.unique(x)) <= {3.0, 12.0}
    assert np.all(y > -1e-7) and np.all(y[:, :, 0] == 0)  # maximum principle, boundary
    ref = darcy_solve(x[:, 0].astype(np.float64))
    np.testing.assert_allclose(y[:, 0], ref, rtol=1e-5, atol=1e-8)
    for key, arr in (("x", x), ("y", y)):  # scalar train statistics
        assert d["stats"][key]["mean"].shape == (1, 1, 1)
        np.testing.assert_allclose(d["stats"][key]["mean"].item(), arr.astype(np.float64).mean())
        np.testing.assert_allclose(d["stats"][key]["std"].item(), arr.astype(np.float64).std())


def test_darcy_dataset_through_the_registry_normalises_with_scalar_stats(tmp_path):
    import torch

    from sciml.data import FieldDataset, get_dataset
    from sciml.operators import register_datasets

    register_datasets()
    path = get_dataset("darcy", "quick", root=tmp_path, resolution=8, n_train=6, n_test=2)
    raw = FieldDataset(path, "train")
    norm = FieldDataset(path, "train", normalize=True)
    xs = torch.stack([raw[i][0] for i in range(6)]).double()
    xn = torch.stack([norm[i][0] for i in range(6)]).double()
    torch.testing.assert_close(xn, (xs - xs.mean()) / xs.std(unbiased=False), rtol=1e-5, atol=1e-5)


def test_darcy_bad_input():
    with pytest.raises(ValueError, match="a: expected"):
        darcy_solve(np.ones((4, 5)))
    with pytest.raises(ValueError, match="positive"):
        darcy_solve(-np.ones((5, 5)))
    with pytest.raises(ValueError, match="size"):
        grf_neumann(2, 1)
