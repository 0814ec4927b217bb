"""DCDM against an independent NumPy transcription of the reference loop (non-symmetric linear
"network", every k and both residual modes), and the dtype/device a torch module's input is
built in (parameters, buffers, or none)."""

import numpy as np
import pytest
import torch

from sciml.linalg import build_poisson, cg, dcdm_solve, random_obstacles, smoke_rhs


@pytest.fixture(scope="module")
def problem():
    s = build_poisson(random_obstacles((12, 10), 2, seed=3))
    return s, smoke_rhs(s, seed=1)


def _reference_dcdm(A, b, W, index, n_grid, k, residual, iters):
    """Kaneda et al.'s loop as written in the paper: q = f(r/||r||), classical Gram-Schmidt
    A-orthogonalisation against the last k directions, exact line search."""
    x, r = np.zeros_like(b), b.copy()
    r0 = np.linalg.norm(r)
    kept, res = [], [1.0]
    for _ in range(iters):
        g = np.zeros(n_grid)
        g[index] = r / np.linalg.norm(r)
        q0 = (W @ g)[index]
        q = q0 - sum(((q0 @ A @ p) / (p @ A @ p)) * p for p in kept)
        alpha = (q @ r) / (q @ A @ q)
        x = x + alpha * q
        r = b - A @ x if residual == "true" else r - alpha * (A @ q)
        res.append(np.linalg.norm(r) / r0)
        kept = (kept + [q])[-k:] if k > 0 else []
    return x, np.array(res)


@pytest.mark.parametrize("k", [0, 1, 2, 4])
@pytest.mark.parametrize("residual", ["true", "recurrence"])
def test_dcdm_matches_numpy_transcription(problem, k, residual):
    s, b = problem
    A = s.A.toarray()
    n_grid = int(np.prod(s.shape))
    W = np.eye(n_grid) + 0.05 * np.random.default_rng(5).standard_normal((n_grid, n_grid))
    Wt = torch.from_numpy(W)

    def net(g):  # a fixed non-symmetric linear map on the grid
        return (Wt @ g.reshape(-1)).reshape(g.shape)

    iters = 12
    x_ref, res_ref = _reference_dcdm(A, b, W, s.index, n_grid, k, residual, iters)
    out = dcdm_solve(
        s,
        b,
        net,
        tol=1e-14,
        maxiter=iters,
        k=k,
        residual=residual,
        fallback="none",
        stall_patience=10**6,
    )
    assert out.iterations == iters
    np.testing.assert_allclose(out.residuals, res_ref, rtol=1e-10)
    np.testing.assert_allclose(out.x.numpy(), x_ref, rtol=1e-10, atol=1e-14)


class _InverseBufferNet(torch.nn.Module):
    """Exact inverse as a module holding float64 buffers and no parameters."""

    def __init__(self, s):
        super().__init__()
        self.register_buffer("ainv", torch.from_numpy(np.linalg.inv(s.A.toarray())))
        self.register_buffer("idx", torch.as_tensor(s.index))

    def forward(self, g):
        flat = g.reshape(-1)
        out = torch.zeros_like(flat)
        out[self.idx] = self.ainv @ flat[self.idx]
        return out.reshape(g.shape)


def test_buffer_only_module_runs_in_its_buffers_dtype(problem):
    s, b = problem
    res = dcdm_solve(s, b, _InverseBufferNet(s), tol=1e-10)
    assert res.converged and res.iterations == 1
    np.testing.assert_allclose(res.x.numpy(), np.linalg.solve(s.A.toarray(), b), atol=1e-10)


def test_tensor_free_module_is_cg_in_float64(problem):
    """q = r through nn.Identity is CG (k >= 1): the residual history equals CG's to round-off,
    which needs the network input in the right-hand side's float64, not float32."""
    s, b = problem
    ref = cg(s, b, tol=1e-10, maxiter=500)
    res = dcdm_solve(
        s,
        b,
        torch.nn.Identity(),
        tol=1e-10,
        maxiter=500,
        residual="recurrence",
        fallback="none",
        stall_patience=10**6,
    )
    assert res.converged and abs(res.iterations - ref.iterations) <= 1
    # float32 directions drift by ~1e-7 within 30 steps; float64 ones agree to ~1e-14
    np.testing.assert_allclose(res.residuals[:30], ref.residuals[:30], rtol=1e-10)
