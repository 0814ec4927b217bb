"""Fast Poisson solves: residual of the assembled sparse Laplacian and SciPy DST/DCT references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft as sfft
import scipy.sparse as sp

from sciml.kernels import poisson_dst
from tests.helpers.arrays import LIBS, rel_err, to_lib, to_numpy


def laplacian_1d(n: int, h: float, bc: str) -> sp.csr_matrix:
    """-d²/dx² by 3-point differences: Dirichlet (vertex grid) or Neumann (cell grid, mirror ghosts)."""
    main = 2.0 * np.ones(n)
    if bc == "neumann":
        main[0] -= 1.0
        main[-1] -= 1.0  # a single cell (n = 1) has no neighbours at all
    return sp.diags([-np.ones(n - 1), main, -np.ones(n - 1)], [-1, 0, 1]) / h**2


def laplacian(shape, spacing, bc):
    """Assembled -Δ_h as a sum of Kronecker products of 1-D operators (independent reference)."""
    ops = [laplacian_1d(n, h, bc) for n, h in zip(shape, spacing)]
    eyes = [sp.identity(n) for n in shape]
    total = None
    for i in range(len(shape)):
        mats = eyes.copy()
        mats[i] = ops[i]
        term = mats[0]
        for m in mats[1:]:
            term = sp.kron(term, m)
        total = term if total is None else total + term
    return total.tocsr()


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize(
    "shape,spacing", [((9, 13), (0.1, 0.05)), ((6, 5, 7), (0.2, 0.3, 0.1)), ((1, 4), (1.0, 0.5))]
)
@pytest.mark.parametrize("bc", ["dirichlet", "neumann"])
def test_residual_of_discrete_laplacian(lib, shape, spacing, bc):
    rng = np.random.default_rng(0)
    f = rng.standard_normal(shape)
    if bc == "neumann":
        f -= f.mean()  # compatibility
    u = to_numpy(poisson_dst(to_lib(f, lib), spacing, bc=bc))
    A = laplacian(shape, spacing, bc)
    assert np.linalg.norm(A @ u.ravel() - f.ravel()) <= 1e-10 * np.linalg.norm(f)
    if bc == "neumann":
        assert abs(u.mean()) <= 1e-12 * np.abs(u).max()


def test_matches_scipy_dstn_reference_and_batches():
    rng = np.random.default_rng(1)
    f = rng.standard_normal((3, 10, 12))
    h = (0.1, 0.2)
    lam = [
        (2 * np.sin(np.pi * np.arange(1, n + 1) / (2 * (n + 1))) / hh) ** 2
        for n, hh in zip((10, 12), h)
    ]
    ref = sfft.idstn(
        sfft.dstn(f, type=1, axes=(1, 2)) / (lam[0][:, None] + lam[1][None, :]), type=1, axes=(1, 2)
    )
    assert rel_err(poisson_dst(f, h), ref) <= 1e-12
    lam_n = [(2 * np.sin(np.pi * np.arange(n) / (2 * n)) / hh) ** 2 for n, hh in zip((10, 12), h)]
    coef = sfft.dctn(f, type=2, axes=(1, 2))
    denom = lam_n[0][:, None] + lam_n[1][None, :]
    denom[0, 0] = np.inf
    ref_n = sfft.idctn(coef / denom, type=2, axes=(1, 2))
    assert rel_err(poisson_dst(f, h, bc="neumann"), ref_n) <= 1e-12


def test_neumann_drops_the_mean_of_incompatible_rhs():
    rng = np.random.default_rng(2)
    f = rng.standard_normal((8, 8)) + 3.0
    u = poisson_dst(f, 0.1, bc="neumann")
    assert rel_err(u, poisson_dst(f - f.mean(), 0.1, bc="neumann")) <= 1e-12


def test_complex_and_manufactured_solution_converges():
    # u = sin(πx) sin(2πy) on (0,1)²: second-order convergence of the discrete solve to the continuum
    errs = []
    for n in (15, 31, 63):
        h = 1.0 / (n + 1)
        x = np.arange(1, n + 1) * h
        X, Y = np.meshgrid(x, x, indexing="ij")
        exact = np.sin(np.pi * X) * np.sin(2 * np.pi * Y)
        f = 5 * np.pi**2 * exact
        u = poisson_dst(f * (1 + 2j), (h, h))
        errs.append(np.abs(u - exact * (1 + 2j)).max())
    rates = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert np.all(rates > 1.9)


def test_gradient_and_torch_jax_agree():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    f = torch.tensor(rng.standard_normal((4, 5)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda g: poisson_dst(g, (0.3, 0.2)), (f,))
    assert torch.autograd.gradcheck(
        lambda g: poisson_dst(g - g.mean(), (0.3, 0.2), bc="neumann"), (f,)
    )
    jnp = pytest.importorskip("jax.numpy")
    fj = jnp.asarray(f.detach().numpy())
    assert rel_err(poisson_dst(fj, (0.3, 0.2)), poisson_dst(f.detach(), (0.3, 0.2))) <= 1e-13


def test_bad_inputs():
    with pytest.raises(ValueError, match="bc must be"):
        poisson_dst(np.ones((3, 3)), 0.1, bc="periodic")
    with pytest.raises(ValueError, match="spacing must be positive"):
        poisson_dst(np.ones((3, 3)), (0.1, -1.0))
    with pytest.raises(ValueError, match="f contains 1 non-finite"):
        poisson_dst(np.array([[1.0, np.nan], [0.0, 0.0]]), 0.1)
    with pytest.raises(ValueError, match="1-3 grid axes"):
        poisson_dst(np.ones((2, 2, 2, 2)), 0.1)


@pytest.mark.gpu
def test_cuda_matches_cpu():
    torch = pytest.importorskip("torch")
    f = torch.randn(2, 33, 17, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = poisson_dst(f.cuda(), (0.1, 0.2, 0.3))  # device-ok: test of the CUDA path
    assert rel_err(out, poisson_dst(f, (0.1, 0.2, 0.3))) <= 1e-12
