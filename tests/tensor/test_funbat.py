"""FunBaT (Tucker): one axis convention in the message, core and prediction paths."""

import math

import numpy as np
import pytest
import torch

from sciml.tensor import FunBaT, FunBaTConfig

RANKS = (2, 3, 4)


@pytest.fixture(scope="module")
def fitted():
    g = torch.Generator().manual_seed(0)
    # repeated index values (10, 12, 15 unique per mode) so that states collect several entries
    cols = [torch.rand(s, generator=g, dtype=torch.float64) for s in (10, 12, 15)]
    X = torch.stack([c[torch.randint(len(c), (300,), generator=g)] for c in cols], -1)
    y = torch.sin(3 * X[:, 0]) * X[:, 1] + torch.cos(2 * X[:, 2]) * X[:, 0]
    # a small chunk size so that states are cut across chunks
    cfg = FunBaTConfig(rank=RANKS, nu=1.5, lengthscale=0.4, epochs=5, chunk_size=37)
    return FunBaT(cfg).fit(X, y), X


def _unfold(W, k):
    return W.movedim(k, 0).reshape(W.shape[k], -1)


def test_prediction_equals_einsum(fitted):
    m, X = fitted
    W = m.core
    assert tuple(W.shape) == RANKS
    U = [m.posterior_factors(k, X[:, k])[0] for k in range(3)]
    ref = torch.einsum("abc,na,nb,nc->n", W, *U)
    assert torch.allclose(m.predict(X), ref, atol=1e-12)
    # unseen index values, including extrapolation beyond both ends
    Xq = torch.tensor([[0.5, 0.25, 0.75], [-0.2, 1.3, 0.1], [1.5, -1.0, 0.4]], dtype=torch.float64)
    Uq = [m.posterior_factors(k, Xq[:, k])[0] for k in range(3)]
    assert torch.allclose(m.predict(Xq), torch.einsum("abc,na,nb,nc->n", W, *Uq), atol=1e-12)
    grids = [torch.linspace(0, 1, n, dtype=torch.float64) for n in (4, 5, 6)]
    Ug = [m.posterior_factors(k, grids[k])[0] for k in range(3)]
    surf = m.predict_grid(grids)
    assert torch.allclose(surf, torch.einsum("abc,ia,jb,kc->ijk", W, *Ug), atol=1e-12)


def test_message_and_core_paths_use_the_same_axes(fitted):
    m, X = fitted
    y = m._y
    N = y.shape[0]
    mom = m._moments_at(slice(0, N))
    f = torch.einsum("abc,na,nb,nc->n", m.W, *[mm for mm, _ in mom])
    for k in range(3):
        Lam, eta = m._mode_sums(k, y)
        # dense reference: per entry a_n = W_(k) (⊗_{j≠k} u^j), E[aaᵀ] with the dense Kronecker
        Wk = _unfold(m.W, k)
        others = [j for j in range(3) if j != k]
        Lam_ref = torch.zeros_like(Lam)
        eta_ref = torch.zeros_like(eta)
        for n in range(N):
            s = m._inv[k][n]
            Kz = torch.kron(mom[others[0]][1][n], mom[others[1]][1][n])
            Lam_ref[s] += Wk @ Kz @ Wk.T
            Ea = Wk @ torch.kron(mom[others[0]][0][n], mom[others[1]][0][n])
            eta_ref[s] += y[n] * Ea
            if n < 5:  # E[a]·u^k reproduces the prediction for every mode k
                assert torch.allclose(Ea @ mom[k][0][n], f[n], atol=1e-12)
        assert torch.allclose(Lam, Lam_ref, atol=1e-9)
        assert torch.allclose(eta, eta_ref, atol=1e-9)
    ZZ, Zy = m._core_sums(y)
    ZZ_ref = sum(torch.kron(torch.kron(mom[0][1][n], mom[1][1][n]), mom[2][1][n]) for n in range(N))
    Zy_ref = sum(
        y[n] * torch.kron(torch.kron(mom[0][0][n], mom[1][0][n]), mom[2][0][n]) for n in range(N)
    )
    assert torch.allclose(ZZ, ZZ_ref, atol=1e-9)
    assert torch.allclose(Zy, Zy_ref, atol=1e-9)
    assert torch.allclose(Zy @ m.W.reshape(-1), (y * f).sum(), atol=1e-9)


def test_predictive_variance_dense(fitted):
    m, X = fitted
    Xq = X[:7]
    mean, var = m.predict(Xq, return_var=True)
    mW = m.W.reshape(-1)
    M2 = torch.outer(mW, mW) + m.W_cov
    for n in range(7):
        mk = [m.posterior_factors(k, Xq[n : n + 1, k]) for k in range(3)]
        S = []
        for k in range(3):
            mu_k = mk[k][0][0]
            V_k = m.chains[k].marginals(Xq[n : n + 1, k])[1][0]
            S.append(V_k + torch.outer(mu_k, mu_k))
        Ef2 = (M2 * torch.kron(torch.kron(S[0], S[1]), S[2])).sum()
        assert torch.allclose(var[n], Ef2 - mean[n] ** 2, atol=1e-10)
        assert var[n] > 0


def _tucker_data(n, noise, seed):
    g = torch.Generator().manual_seed(seed)
    X = torch.rand(n, 3, generator=g, dtype=torch.float64)
    W = torch.tensor([[[1.0, -0.5], [0.3, 0.8], [0.0, 0.4]], [[0.2, 0.6], [-0.7, 0.1], [0.5, 0.0]]])
    W = W.double()  # ranks (2, 3, 2): distinct across modes 0/1 and 1/2
    u0 = torch.stack([torch.sin(2 * math.pi * X[:, 0]), torch.cos(math.pi * X[:, 0])], -1)
    u1 = torch.stack([torch.sin(math.pi * X[:, 1]), X[:, 1] ** 2, torch.cos(3 * X[:, 1])], -1)
    u2 = torch.stack([torch.exp(-X[:, 2]), torch.sin(4 * X[:, 2])], -1)
    f = torch.einsum("abc,na,nb,nc->n", W, u0, u1, u2)
    return X, f, f + noise * torch.randn(n, generator=g, dtype=torch.float64)


def test_tucker_recovers_distinct_rank_tensor():
    X, f, y = _tucker_data(700, 0.02, 1)
    cfg = FunBaTConfig(rank=(2, 3, 2), nu=1.5, lengthscale=0.3, epochs=60)
    m = FunBaT(cfg).fit(X[:500], y[:500])
    rmse = m.rmse(X[500:], f[500:])
    assert rmse < 0.1 * float(f.std()), rmse


def test_unrotated_schedule_fallback_also_fits():
    """Without room for the cached per-state sums, the paper's order (modes, then core) runs."""
    X, f, y = _tucker_data(700, 0.02, 1)
    m = FunBaT(FunBaTConfig(rank=(2, 3, 2), nu=1.5, lengthscale=0.3, epochs=60))
    m._max_cached_floats = 0
    m.fit(X[:500], y[:500])
    assert m.rmse(X[500:], f[500:]) < 0.1 * float(f.std())


def test_numpy_inputs_and_float32_follow_input():
    X, f, y = _tucker_data(60, 0.0, 2)
    m = FunBaT(FunBaTConfig(rank=2, epochs=2)).fit(X.numpy(), y.numpy())
    assert m.predict(np.asarray(X[:3])).dtype == torch.float64
    m32 = FunBaT(FunBaTConfig(rank=2, epochs=2)).fit(X.float(), y.float())
    assert m32.predict(X[:3].float()).dtype == torch.float32


@pytest.mark.parametrize(
    "bad, match",
    [
        (lambda X, y: (X, y[:-1]), "values"),
        (lambda X, y: (X, torch.where(torch.arange(len(y)) == 3, float("nan"), y)), "finite"),
        (
            lambda X, y: (torch.cat([X[:, :2], torch.full_like(X[:, :1], 0.5)], 1), y),
            "single unique",
        ),
        (lambda X, y: (X[:, :1], y), "K >= 2"),
        (lambda X, y: (X[0], y), r"\(N, K\)"),
        (lambda X, y: (X.clone().fill_(float("inf")), y), "finite index"),
    ],
)
def test_bad_input(bad, match):
    X, _, y = _tucker_data(30, 0.0, 3)
    Xb, yb = bad(X, y)
    with pytest.raises(ValueError, match=match):
        FunBaT(FunBaTConfig(rank=2, epochs=1)).fit(Xb, yb)


def test_bad_config_and_usage():
    with pytest.raises(ValueError, match="rank"):
        FunBaTConfig(rank=0)
    with pytest.raises(ValueError, match="rank"):
        FunBaTConfig(rank=(2, -1, 2))
    with pytest.raises(TypeError, match="rank"):
        FunBaTConfig(rank=2.5)
    with pytest.raises(ValueError, match="nu"):
        FunBaTConfig(nu=1.0)
    with pytest.raises(ValueError, match="rho_u"):
        FunBaTConfig(rho_u=1.0)
    X, _, y = _tucker_data(30, 0.0, 3)
    with pytest.raises(ValueError, match="rank: expected 3 values"):
        FunBaT(FunBaTConfig(rank=(2, 2), epochs=1)).fit(X, y)
    with pytest.raises(RuntimeError, match="fit"):
        FunBaT().predict(X)
    m = FunBaT(FunBaTConfig(rank=2, epochs=1)).fit(X, y)
    with pytest.raises(ValueError, match="3 index columns"):
        m.predict(X[:, :2])
    with pytest.raises(ValueError, match="mode"):
        m.posterior_factors(3, [0.1])
    with pytest.raises(TypeError, match="config"):
        FunBaT({"rank": 2})


def test_config_json_roundtrip():
    cfg = FunBaTConfig(rank=(2, 3, 4), lengthscale=(0.1, 0.2, 0.3), nu=2.5)
    assert FunBaTConfig.from_json(cfg.to_json()) == cfg


@pytest.mark.parametrize("ranks", [(2, 3), (2, 1, 3, 2)])
def test_summed_statistics_for_other_orders(ranks):
    """K = 2 and K = 4: per-state message sums and core sums against dense Kronecker algebra."""
    K = len(ranks)
    g = torch.Generator().manual_seed(K)
    cols = [torch.rand(s, generator=g, dtype=torch.float64) for s in (5, 7, 6, 4)[:K]]
    X = torch.stack([c[torch.randint(len(c), (80,), generator=g)] for c in cols], -1)
    y = X.sum(1) + torch.sin(3 * X[:, 0])
    m = FunBaT(FunBaTConfig(rank=ranks, epochs=3, chunk_size=13)).fit(X, y)
    mom = m._moments_at(slice(0, 80))

    def kron(ms):
        out = ms[0]
        for a in ms[1:]:
            out = torch.kron(out, a)
        return out

    f = torch.stack([m.W.reshape(-1) @ kron([mom[j][0][n] for j in range(K)]) for n in range(80)])
    assert torch.allclose(m.predict(X), f, atol=1e-10)
    for k in range(K):
        Lam, eta = m._mode_sums(k, y)
        Wk = _unfold(m.W, k)
        others = [j for j in range(K) if j != k]
        Lr, er = torch.zeros_like(Lam), torch.zeros_like(eta)
        for n in range(80):
            s = m._inv[k][n]
            Lr[s] += Wk @ kron([mom[j][1][n] for j in others]) @ Wk.T
            er[s] += y[n] * (Wk @ kron([mom[j][0][n] for j in others]))
        assert torch.allclose(Lam, Lr, atol=1e-9) and torch.allclose(eta, er, atol=1e-9)
    ZZ, Zy = m._core_sums(y)
    assert torch.allclose(
        ZZ, sum(kron([mom[j][1][n] for j in range(K)]) for n in range(80)), atol=1e-9
    )
    assert torch.allclose(
        Zy, sum(y[n] * kron([mom[j][0][n] for j in range(K)]) for n in range(80)), atol=1e-9
    )
