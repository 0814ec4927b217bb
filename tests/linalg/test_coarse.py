"""Two-level coarse space (deflation / additive) and the debias option of DCDM: dense algebra,
independent aggregation count, exact-inverse and CG-equivalence checks, held-out layouts."""

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch

from sciml.linalg import (
    DCDMConfig,
    DCDMSolver,
    add_box,
    box_mask,
    build_poisson,
    dcdm_solve,
    random_obstacles,
    smoke_rhs,
)
from sciml.linalg.bench import held_out_problem
from sciml.linalg.coarse import CoarseSpace, stencil_csr
from sciml.linalg.operator import as_matvec
from sciml.linalg.pretrained import pretrained
from sciml.linalg.system import SOLID
from tests.linalg._networks import exact_inverse_net


@pytest.fixture(scope="module")
def problem():
    # obstacles cut some 4×4 blocks into disconnected pieces; air top face
    s = build_poisson(random_obstacles((18, 15), 4, seed=11))
    return s, smoke_rhs(s, seed=4)


def _dense_Z(cs):
    Z = np.zeros((cs.agg.size, cs.m))
    Z[np.arange(cs.agg.size), cs.agg] = 1.0
    return Z


def test_aggregates_are_connected_pieces_of_blocks(problem):
    s, _ = problem
    cs = CoarseSpace(s, s.shape, s.index, block=4)
    coords = np.unravel_index(s.index, s.shape)
    blk = np.ravel_multi_index(tuple(c // 4 for c in coords), [-(-n // 4) for n in s.shape])
    for a in range(cs.m):  # one block per aggregate
        assert np.unique(blk[cs.agg == a]).size == 1
    expected = 0  # independent count: 4-connected fluid pieces of every block (ndimage.label)
    fluid = s.fluid
    for i in range(0, s.shape[0], 4):
        for j in range(0, s.shape[1], 4):
            expected += ndi.label(fluid[i : i + 4, j : j + 4])[1]
    assert cs.m == expected
    assert expected > np.prod([-(-n // 4) for n in s.shape]) - 10  # sanity: blocks are used


def test_coarse_correction_and_projection_equal_dense_algebra(problem):
    s, b = problem
    cs = CoarseSpace(s, s.shape, s.index, block=4)
    A = s.A.toarray()
    Z = _dense_Z(cs)
    E = Z.T @ A @ Z
    np.testing.assert_allclose(cs.E.toarray(), E, rtol=1e-12, atol=1e-12)
    Q = Z @ np.linalg.solve(E, Z.T)
    r = torch.from_numpy(b)
    np.testing.assert_allclose(cs.correction(r).numpy(), Q @ b, rtol=1e-9, atol=1e-12)
    P = np.eye(s.n) - Q @ A  # A-orthogonal projection
    np.testing.assert_allclose(P @ P, P, atol=1e-9)
    np.testing.assert_allclose(A @ P, (A @ P).T, atol=1e-9)
    q = torch.from_numpy(np.random.default_rng(0).standard_normal(s.n))
    mv = as_matvec(s, s.n, torch.device("cpu"))
    pq, apq = cs.project(q, mv(q), mv)
    np.testing.assert_allclose(pq.numpy(), P @ q.numpy(), atol=1e-10)
    np.testing.assert_allclose(apq.numpy(), A @ P @ q.numpy(), atol=1e-9)
    assert np.abs(Z.T @ apq.numpy()).max() < 1e-9 * np.abs(apq.numpy()).max()


def test_singular_neumann_coarse_solve_and_stencil_csr():
    mask = add_box(box_mask((12, 12, 10), air_faces=()), (4, 4, 0), (7, 7, 5))  # closed room
    s = build_poisson(mask)
    b = s.project(smoke_rhs(s, seed=1))
    cs = CoarseSpace(s.stencil(), s.shape, s.index, block=4)  # CSR rebuilt from the stencil
    assert (stencil_csr(s.stencil()) != s.A).nnz == 0
    assert len(cs.pinned) == 1
    g = cs.restrict(torch.from_numpy(b))
    c = cs.coarse_solve(g)
    np.testing.assert_allclose(cs.E @ c.numpy(), g.numpy(), atol=1e-10)
    assert (s.mask == SOLID).any()


@pytest.mark.parametrize("residual", ["true", "recurrence"])
def test_exact_inverse_with_deflation_converges_in_one_iteration(problem, residual):
    s, b = problem
    res = dcdm_solve(
        s, b, exact_inverse_net(s, scale=2.5), tol=1e-10, residual=residual, coarse="deflation"
    )
    assert res.converged and res.iterations == 1
    assert res.setup_time > 0 and res.info["coarse_size"] > 1
    np.testing.assert_allclose(res.x.numpy(), np.linalg.solve(s.A.toarray(), b), atol=1e-10)


def test_debias_removes_a_constant_network_offset(problem):
    s, b = problem
    offset = torch.from_numpy(np.random.default_rng(1).standard_normal(s.shape))[None, None]
    net = exact_inverse_net(s, scale=2.5, offset=offset)
    for coarse in (None, "deflation"):
        res = dcdm_solve(s, b, net, tol=1e-10, debias=True, coarse=coarse)
        assert res.converged and res.iterations == 1
    plain = dcdm_solve(s, b, net, tol=1e-10, maxiter=3, fallback="none")
    assert plain.iterations > 1  # the offset spoils the exact inverse without debias


def test_identity_network_with_deflation_is_deflated_cg(problem):
    """q = r, A-projected off range(Z), k = 2: exactly deflated CG (Nicolaides / Saad et al.),
    written out here with dense algebra."""
    s, b = problem
    cs = CoarseSpace(s, s.shape, s.index, block=4)
    A = s.A.toarray()
    Z = _dense_Z(cs)
    Einv = np.linalg.inv(Z.T @ A @ Z)
    x = Z @ Einv @ Z.T @ b
    r = b - A @ x
    p = r - Z @ Einv @ Z.T @ A @ r
    ref = [np.linalg.norm(r) / np.linalg.norm(b)]
    for _ in range(25):
        Ap = A @ p
        alpha = (r @ r) / (p @ Ap)
        x, r_new = x + alpha * p, r - alpha * Ap
        p = r_new - Z @ Einv @ Z.T @ A @ r_new + (r_new @ r_new) / (r @ r) * p
        r = r_new
        ref.append(np.linalg.norm(r) / np.linalg.norm(b))
    res = dcdm_solve(
        s, b, lambda g: g, tol=1e-14, maxiter=25, fallback="none", coarse="deflation",
        stall_patience=10**6,
    )  # fmt: skip
    np.testing.assert_allclose(res.residuals[:26], ref, rtol=1e-6)


@pytest.mark.parametrize("dim,n", [(2, 64), (3, 16)])
def test_shipped_model_with_coarse_and_debias_reaches_1e6_held_out(dim, n):
    system, b = held_out_problem(dim, n, seed=3)
    res = dcdm_solve(
        system, b, pretrained(dim), tol=1e-6, maxiter=200, fallback="none",
        stall_patience=10**6, coarse="deflation", debias=True,
    )  # fmt: skip
    assert res.converged and res.info["fallback_at"] is None
    assert np.linalg.norm(b - system.A @ res.x.numpy()) <= 1.01e-6 * np.linalg.norm(b)
    plain = dcdm_solve(system, b, pretrained(dim), tol=1e-6, maxiter=200, fallback="none")
    assert res.iterations < plain.iterations


def test_coarse_bad_input(problem):
    s, b = problem
    with pytest.raises(ValueError, match="coarse"):
        DCDMConfig(coarse="two-level")
    with pytest.raises(ValueError, match="coarse_block"):
        DCDMConfig(coarse_block=0)
    with pytest.raises(ValueError, match="coarse_block"):
        CoarseSpace(s, s.shape, s.index, block=0)
    cs = CoarseSpace(s, s.shape, s.index, block=4)
    with pytest.raises(ValueError, match="coarse_space"):
        DCDMSolver(lambda g: g).solve(s, b, coarse_space=cs)
    with pytest.raises(TypeError, match="A:"):
        dcdm_solve(lambda x: x, b, lambda g: g, mask=s.fluid, coarse="deflation")
    other = build_poisson(random_obstacles((10, 10), 2, seed=1))
    cs_other = CoarseSpace(other, other.shape, other.index, block=4)
    with pytest.raises(ValueError, match="coarse_space"):
        DCDMSolver(lambda g: g, DCDMConfig(coarse="deflation")).solve(s, b, coarse_space=cs_other)


def test_benchmark_solver_names_parse():
    from sciml.linalg.compare import dcdm_config

    c = dcdm_config("dcdm-coarse-debias-k16-b8", tol=1e-6)
    assert (c.coarse, c.debias, c.k, c.coarse_block, c.tol) == ("deflation", True, 16, 8, 1e-6)
    c = dcdm_config("dcdm-recurrence-additive")
    assert (c.residual, c.coarse, c.debias, c.k) == ("recurrence", "additive", False, 2)
    assert dcdm_config("dcdm") == DCDMConfig()
    with pytest.raises(ValueError, match="name"):
        dcdm_config("dcdm-fast")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_coarse_deflation_gpu_matches_cpu(problem):
    s, b = problem
    opts = dict(tol=1e-8, maxiter=300, coarse="deflation", stall_patience=10**6)
    ref = dcdm_solve(s, b, lambda g: g, **opts)
    res = dcdm_solve(
        s.stencil(device="cuda"), torch.from_numpy(b).cuda(), torch.nn.Identity(), **opts
    )
    assert res.x.is_cuda and res.converged  # float32 directions (Identity has no weights)
    np.testing.assert_allclose(res.x.cpu().numpy(), ref.x.numpy(), atol=1e-5)
