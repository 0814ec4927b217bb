"""FunBaT / FunBaT-CP predictions at new continuous indices (between states, beyond both ends,
far away) against the dense GP posterior of each mode, rebuilt from the model's stored summed
messages with a dense Matérn kernel, and composed with the core by explicit Kronecker algebra."""

from __future__ import annotations

import pytest
import torch

from sciml.tensor import FunBaT, FunBaTConfig, FunBaTCP
from tests.helpers.dense_gp import matern_dense

ELLS = (0.3, 0.5, 0.4)
VARS = (1.0, 0.7, 1.3)


def _dense_mode_posterior(m, k, nu, tq):
    """Mean (M, R) and covariance (M, R, R) of u^k at ``tq`` from the prior kron(K, I_R) and the
    stored per-state messages (precision block-diag Λ_s, information η_s)."""
    t, R = m.chains[k].t, m.ranks[k]
    ta = torch.cat([t, tq])
    Kf = torch.kron(matern_dense(nu, ELLS[k], VARS[k], ta, ta), torch.eye(R, dtype=torch.float64))
    n = t.shape[0] * R
    Ktt, Kqt = Kf[:n, :n], Kf[n:, :n]
    C = torch.linalg.inv(torch.linalg.inv(Ktt) + torch.block_diag(*m._Lam[k]))
    mu = C @ m._eta[k].reshape(-1)
    P = Kqt @ torch.linalg.inv(Ktt)
    cov = Kf[n:, n:] - P @ Kqt.T + P @ C @ P.T
    M = tq.shape[0]
    blocks = torch.stack([cov[i * R : (i + 1) * R, i * R : (i + 1) * R] for i in range(M)])
    return (P @ mu).reshape(M, R), blocks


def _kron(ms):
    out = ms[0]
    for a in ms[1:]:
        out = torch.kron(out, a)
    return out


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
@pytest.mark.parametrize("cls", [FunBaT, FunBaTCP])
def test_prediction_at_new_indices_equals_dense_gp_composed_with_the_core(cls, nu):
    g = torch.Generator().manual_seed(3)
    cols = [torch.rand(s, generator=g, dtype=torch.float64) for s in (6, 8, 7)]
    X = torch.stack([c[torch.randint(len(c), (120,), generator=g)] for c in cols], -1)
    y = torch.sin(3 * X[:, 0]) * X[:, 1] + torch.cos(2 * X[:, 2])
    rank = (2, 3, 2) if cls is FunBaT else 2
    cfg = FunBaTConfig(rank=rank, nu=nu, lengthscale=ELLS, variance=VARS, epochs=4)
    m = cls(cfg).fit(X, y)
    Xq = torch.tensor(
        [
            [0.5, 0.25, 0.75],
            [-0.2, 1.3, 0.1],
            [1.5, -1.0, 0.4],
            [float(X[0, 0]), float(X[1, 1]) + 1e-3, float(X[2, 2])],
            [40.0, 0.5, -30.0],  # far from every state: those modes revert to the prior
        ],
        dtype=torch.float64,
    )
    post = [_dense_mode_posterior(m, k, nu, Xq[:, k]) for k in range(3)]
    mean, var = m.predict(Xq, return_var=True)
    for n in range(Xq.shape[0]):
        mus = [post[k][0][n] for k in range(3)]
        S = [post[k][1][n] + torch.outer(mus[k], mus[k]) for k in range(3)]
        if cls is FunBaT:
            mW = m.core.reshape(-1)
            Ef = mW @ _kron(mus)
            Ef2 = ((torch.outer(mW, mW) + m.W_cov) * _kron(S)).sum()
        else:
            Ef = (mus[0] * mus[1] * mus[2]).sum()
            Ef2 = (S[0] * S[1] * S[2]).sum()
        torch.testing.assert_close(mean[n], Ef, rtol=1e-7, atol=1e-8)
        torch.testing.assert_close(var[n], Ef2 - Ef**2, rtol=1e-6, atol=1e-8)
    # far away: the GP prior of modes 0 and 2 (mean 0, variance σ²) makes E[f] vanish
    assert abs(float(mean[-1])) < 1e-8
    u0, v0 = m.posterior_factors(0, [40.0])
    torch.testing.assert_close(u0, torch.zeros_like(u0), rtol=0, atol=1e-12)
    torch.testing.assert_close(v0, torch.full_like(v0, VARS[0]), rtol=1e-10, atol=1e-12)


def test_prediction_input_validation_names_the_problem():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 3, generator=g, dtype=torch.float64)
    m = FunBaTCP(FunBaTConfig(rank=2, epochs=1)).fit(X, X.sum(1))
    with pytest.raises(ValueError, match="finite index"):
        m.predict(torch.tensor([[0.1, float("nan"), 0.2]], dtype=torch.float64))
    with pytest.raises(ValueError, match="3 index columns"):
        m.predict(X[:, :2])
    with pytest.raises(ValueError, match="finite values"):
        m.rmse(X[:3], [0.0, float("nan"), 1.0])
    with pytest.raises(ValueError, match="grid: expected finite"):
        m.posterior_factors(1, [0.1, float("inf")])
    with pytest.raises(ValueError, match="expected 3 grids"):
        FunBaT(FunBaTConfig(rank=2, epochs=1)).fit(X, X.sum(1)).predict_grid([[0.1], [0.2]])
