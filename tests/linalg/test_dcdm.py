import numpy as np
import pytest
import torch

from sciml.linalg import (
    DCDMConfig,
    DCDMSolver,
    build_poisson,
    cg,
    dcdm_solve,
    random_obstacles,
    smoke_rhs,
)
from tests.linalg._networks import exact_inverse_net


@pytest.fixture(scope="module")
def problem():
    s = build_poisson(random_obstacles((16, 14), 3, seed=7))
    return s, smoke_rhs(s, seed=2)


@pytest.mark.parametrize("residual", ["true", "recurrence"])
def test_exact_inverse_converges_in_one_iteration(problem, residual):
    s, b = problem
    res = dcdm_solve(s, b, exact_inverse_net(s), tol=1e-10, residual=residual)
    assert res.converged and res.iterations == 1
    x_ref = np.linalg.solve(s.A.toarray(), b)
    np.testing.assert_allclose(res.x.numpy(), x_ref, atol=1e-10)


def test_identity_network_reproduces_cg(problem):
    """q = r with A-orthogonalisation against the previous direction is exactly CG."""
    s, b = problem

    def ident(g):
        return g

    ref = cg(s, b, tol=1e-8, maxiter=500)
    for residual in ("true", "recurrence"):
        res = dcdm_solve(
            s,
            b,
            ident,
            tol=1e-8,
            maxiter=500,
            k=2,
            residual=residual,
            fallback="none",
            stall_patience=10**6,
        )
        assert res.converged
        assert abs(res.iterations - ref.iterations) <= 2
        np.testing.assert_allclose(res.residuals[:20], ref.residuals[:20], rtol=1e-6)
        assert np.linalg.norm(b - s.A @ res.x.numpy()) <= 1e-8 * 1.01


def test_stall_falls_back_to_cg(problem):
    s, b = problem
    const = torch.ones(s.shape, dtype=torch.float64)[None, None]

    def bad(g):  # same direction every time: the method stalls after one step
        return const

    res = DCDMSolver(bad, DCDMConfig(tol=1e-6, maxiter=400)).solve(s, b)
    assert res.info["fallback_at"] is not None and res.converged
    assert np.linalg.norm(b - s.A @ res.x.numpy()) <= 1.01e-6
    assert len(res.residuals) == res.iterations + 1 == len(res.times)
    assert all(np.diff(res.times) >= 0)
    res2 = DCDMSolver(bad, DCDMConfig(tol=1e-6, maxiter=50, fallback="none")).solve(s, b)
    assert not res2.converged and res2.info["stalled"]


def test_matrix_input_with_mask(problem):
    s, b = problem
    net = exact_inverse_net(s)
    res = dcdm_solve(s.A, b, net, tol=1e-10, mask=s.fluid)
    assert res.iterations == 1
    with pytest.raises(ValueError, match="mask"):
        dcdm_solve(s.A, b, net)


def test_dcdm_bad_input(problem):
    s, b = problem
    net = exact_inverse_net(s)
    with pytest.raises(ValueError, match="b: expected length"):
        dcdm_solve(s, b[:-3], net)
    with pytest.raises(ValueError, match="non-finite"):
        dcdm_solve(s, np.full_like(b, np.inf), net)
    with pytest.raises(ValueError, match="residual"):
        DCDMConfig(residual="exact")
    with pytest.raises(ValueError, match="tol"):
        DCDMConfig(tol=-1.0)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_matches_cpu(problem):
    s, b = problem
    net = torch.nn.Identity()
    ref = dcdm_solve(s, b, lambda g: g, tol=1e-8, maxiter=300, stall_patience=10**6)
    bt = torch.from_numpy(b).cuda()
    for A in (s, s.stencil(device="cuda")):
        res = dcdm_solve(A, bt, net, tol=1e-8, maxiter=300, stall_patience=10**6)
        assert res.x.is_cuda
        np.testing.assert_allclose(res.x.cpu().numpy(), ref.x.numpy(), atol=1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gpu_solve_moves_the_unknowns_index_to_the_device_once_per_solve(problem):
    """The index of the unknowns lives on the CPU; it used to be copied host-to-device in every
    iteration (16 MB per iteration at 128^3)."""
    from tests.helpers.devices import device_copies

    s, b = problem
    bt = torch.as_tensor(b, device="cuda")
    with device_copies() as log:
        res = dcdm_solve(s, bt, torch.nn.Identity(), tol=1e-8, maxiter=300, stall_patience=10**6)
    assert res.iterations > 5
    index_copies = [e for e in log if e[0] == "cpu" and e[2] == (s.n,)]
    assert len(index_copies) <= 2, index_copies
