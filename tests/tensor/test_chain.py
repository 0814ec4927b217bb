"""ModeChain queries (interpolation, extrapolation, exact states) equal the dense GP posterior."""

import pytest
import torch

from sciml.tensor.chain import ModeChain
from sciml.tensor.sde import matern_sde
from tests.helpers.dense_gp import matern_dense


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
def test_marginals_match_dense_posterior(nu):
    g = torch.Generator().manual_seed(7)
    S, R = 12, 2
    t = torch.sort(torch.rand(S, generator=g, dtype=torch.float64)).values
    ell, s2 = 0.25, 0.8
    ch = ModeChain(t, R, matern_sde(nu, ell, s2))
    B = torch.randn(S, R, R, generator=g, dtype=torch.float64)
    Lam = B @ B.mT + 0.2 * torch.eye(R, dtype=torch.float64)
    eta = torch.randn(S, R, generator=g, dtype=torch.float64)
    m, V = ch.smooth(Lam, eta)
    tq = torch.cat([t[[0, 5, -1]], torch.tensor([-0.3, -0.01, 1.2, 2.0], dtype=torch.float64)])
    tq = torch.cat([tq, 0.5 * (t[:-1] + t[1:]), t[3:4] + 1e-4])
    mq, Vq = ch.marginals(tq)
    # dense joint over (training states, queries), components independent a priori
    ta = torch.cat([t, tq])
    Ka = matern_dense(nu, ell, s2, ta, ta)
    eye = torch.eye(R, dtype=torch.float64)
    Kf = torch.kron(Ka, eye)  # index point*R + r
    n_tr = S * R
    Ktt = Kf[:n_tr, :n_tr]
    Kqt = Kf[n_tr:, :n_tr]
    Lb = torch.block_diag(*Lam)
    # posterior: f_t ~ N(mu, C) with C = (K^-1 + Lb)^-1; queries by GP conditioning
    C = torch.linalg.inv(torch.linalg.inv(Ktt) + Lb)
    mu = C @ eta.reshape(-1)
    Kinv = torch.linalg.inv(Ktt)
    Pm = Kqt @ Kinv
    mean_q = Pm @ mu
    cov_q = Kf[n_tr:, n_tr:] - Pm @ Kqt.T + Pm @ C @ Pm.T
    M = tq.shape[0]
    assert torch.allclose(m.reshape(-1), mu, atol=1e-8)
    assert torch.allclose(mq.reshape(-1), mean_q, atol=1e-8)
    blocks = torch.stack([cov_q[i * R : (i + 1) * R, i * R : (i + 1) * R] for i in range(M)])
    assert torch.allclose(Vq, blocks, atol=1e-8)
