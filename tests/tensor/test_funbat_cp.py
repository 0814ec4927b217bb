"""FunBaT-CP on the reference's synthetic rank-1 case and against closed forms."""

import pytest
import torch

from sciml.tensor import FunBaTConfig, FunBaTCP
from sciml.tensor.synthetic import make_rank1_cp


def test_rank1_cp_reference_case_rmse():
    d = make_rank1_cp(seed=0)
    cfg = FunBaTConfig(rank=1, nu=1.5, lengthscale=0.1, variance=0.5, epochs=100)
    m = FunBaTCP(cfg).fit(d["x_train"], d["y_train"])
    rmse = m.rmse(d["x_test"], d["y_test"])
    assert rmse <= 0.01, rmse


def test_cp_prediction_is_sum_of_products():
    g = torch.Generator().manual_seed(1)
    X = torch.rand(80, 3, generator=g, dtype=torch.float64)
    y = X.sum(1)
    m = FunBaTCP(FunBaTConfig(rank=3, epochs=3)).fit(X, y)
    Xq = torch.tensor([[0.3, 0.4, 1.4], [-0.5, 0.2, 0.9]], dtype=torch.float64)
    U = [m.posterior_factors(k, Xq[:, k])[0] for k in range(3)]
    ref = (U[0] * U[1] * U[2]).sum(-1)
    mean, var = m.predict(Xq, return_var=True)
    assert torch.allclose(mean, ref, atol=1e-12)
    # variance: E[f²] − E[f]² with E[f²] = Σ_{r,r'} Π_k E[u_r u_r'] (factors independent)
    for n in range(2):
        S = []
        for k in range(3):
            mu, V = m.chains[k].marginals(Xq[n : n + 1, k])
            S.append(V[0] + torch.outer(mu[0], mu[0]))
        Ef2 = (S[0] * S[1] * S[2]).sum()
        assert torch.allclose(var[n], Ef2 - mean[n] ** 2, atol=1e-12)


def test_cp_needs_equal_ranks():
    X = torch.rand(20, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="same rank"):
        FunBaTCP(FunBaTConfig(rank=(1, 2), epochs=1)).fit(X, X[:, 0])
