"""One whole CEP epoch of FunBaT-CP / FunBaT (Tucker) against an independent dense reference.

The reference re-does the epoch from the model's state after the previous epoch with explicit
per-entry loops (messages), dense Kronecker algebra (core) and the dense GP posterior of every
mode (Matérn kernel matrix, closed form, solved directly) instead of the Kalman/RTS chain. The
data have unsorted, duplicated and irregularly spaced index values, with one pair of values
1e-9 apart and one far outlier.
"""

import copy

import pytest
import torch

from sciml.tensor import FunBaT, FunBaTConfig, FunBaTCP
from tests.helpers.dense_gp import matern_dense


def _data(K, N, seed):
    g = torch.Generator().manual_seed(seed)
    cols = []
    for k in range(K):
        vals = torch.rand(6 + 2 * k, generator=g, dtype=torch.float64)
        vals[0] = vals[1] + 1e-9  # (almost) coincident states
        vals[2] = 3.0 + k  # far from the rest
        cols.append(vals[torch.randint(len(vals), (N,), generator=g)])  # unsorted, duplicated
    X = torch.stack(cols, -1)
    y = torch.sin(3 * X[:, 0]) * torch.cos(X[:, 1]) + 0.1 * torch.randn(N, generator=g)
    return X, y


def _snapshot(model):
    keys = ("_m", "_V", "_Lam", "_eta", "tau", "W", "W_cov", "_LamW", "_etaW")
    return {k: copy.deepcopy(getattr(model, k)) for k in keys if hasattr(model, k)}


def _fit_with_snapshots(cls, cfg, X, y):
    snaps = []
    model = cls(cfg).fit(X, y, callback=lambda e, m: snaps.append(_snapshot(m)))
    return model, snaps


def _dense_mode_posterior(model, k, Lam, eta):
    """q(u^k) at the mode's unique values from the dense GP prior and summed messages."""
    cfg = model.config
    t = torch.unique(model._X[:, k])
    R = Lam.shape[-1]
    Kt = matern_dense(cfg.nu, cfg.lengthscale, cfg.variance, t, t)
    Kf = torch.kron(Kt, torch.eye(R, dtype=t.dtype))  # index s*R + r
    Lb = torch.block_diag(*Lam)
    n = Kf.shape[0]
    # (K⁻¹ + Lb)⁻¹ = K (I + Lb K)⁻¹, without inverting the ill-conditioned K
    C = Kf @ torch.linalg.solve(torch.eye(n, dtype=t.dtype) + Lb @ Kf, torch.eye(n, dtype=t.dtype))
    C = 0.5 * (C + C.T)
    mu = C @ eta.reshape(-1)
    S = t.shape[0]
    V = torch.stack([C[s * R : (s + 1) * R, s * R : (s + 1) * R] for s in range(S)])
    return mu.reshape(S, R), V


def _entry_moments(model, state, j, X):
    t = torch.unique(model._X[:, j])  # the mode's states: every training value, sorted
    idx = torch.searchsorted(t, X[:, j].contiguous())
    m = state["_m"][j][idx]
    S2 = state["_V"][j][idx] + m[:, :, None] * m[:, None, :]
    return idx, m, S2


@pytest.mark.parametrize("nu", [0.5, 1.5, 2.5])
def test_cp_epoch_equals_dense_reference(nu):
    K, R, N = 3, 2, 90
    X, y = _data(K, N, seed=int(2 * nu))
    cfg = FunBaTConfig(rank=R, nu=nu, lengthscale=0.3, variance=0.7, epochs=3, rho_u=0.4,
                       rho_tau=0.6, chunk_size=17)  # fmt: skip
    model, snaps = _fit_with_snapshots(FunBaTCP, cfg, X, y)
    model._X = X
    prev, new = snaps[-2], snaps[-1]
    st = copy.deepcopy(prev)
    for k in range(K):
        # messages: per entry E[a] = ∘_{j≠k} m_j, E[aaᵀ] = ∘_{j≠k} E[u_j u_jᵀ]; summed per state
        idx_k = torch.searchsorted(torch.unique(X[:, k]), X[:, k].contiguous())
        S = int(idx_k.max()) + 1
        Lsum = torch.zeros(S, R, R, dtype=X.dtype)
        esum = torch.zeros(S, R, dtype=X.dtype)
        for n in range(N):
            Ea, Eaa = torch.ones(R, dtype=X.dtype), torch.ones(R, R, dtype=X.dtype)
            for j in range(K):
                if j != k:
                    _, m, S2 = _entry_moments(model, st, j, X[n : n + 1])
                    Ea, Eaa = Ea * m[0], Eaa * S2[0]
            Lsum[idx_k[n]] += Eaa
            esum[idx_k[n]] += y[n] * Ea
        tau = st["tau"]
        st["_Lam"][k] = cfg.rho_u * st["_Lam"][k] + (1 - cfg.rho_u) * tau * Lsum
        st["_eta"][k] = cfg.rho_u * st["_eta"][k] + (1 - cfg.rho_u) * tau * esum
        st["_m"][k], st["_V"][k] = _dense_mode_posterior(model, k, st["_Lam"][k], st["_eta"][k])
        torch.testing.assert_close(new["_m"][k], st["_m"][k], atol=1e-8, rtol=1e-7)
        torch.testing.assert_close(new["_V"][k], st["_V"][k], atol=1e-8, rtol=1e-7)
    # τ: E[(y − f)²] under the factorised posterior, by explicit sums over r, r'
    sq = 0.0
    for n in range(N):
        Ef, Ef2 = torch.ones(R, dtype=X.dtype), torch.ones(R, R, dtype=X.dtype)
        for j in range(K):
            _, m, S2 = _entry_moments(model, st, j, X[n : n + 1])
            Ef, Ef2 = Ef * m[0], Ef2 * S2[0]
        sq += float(y[n] ** 2 - 2 * y[n] * Ef.sum() + Ef2.sum())
    tau_ref = cfg.rho_tau * st["tau"] + (1 - cfg.rho_tau) * (cfg.a0 + N / 2) / (cfg.b0 + sq / 2)
    assert abs(new["tau"] - tau_ref) <= 1e-9 * tau_ref


@pytest.mark.parametrize("max_cached", [None, 0])
def test_tucker_epoch_equals_dense_reference(max_cached):
    """Both schedules: rotated (core, τ, the core mode, other modes) and the paper's."""
    K, ranks, N = 3, (2, 3, 1), 70
    X, y = _data(K, N, seed=11)
    cfg = FunBaTConfig(rank=ranks, nu=1.5, lengthscale=0.4, variance=1.1, epochs=3, rho_u=0.3,
                       rho_w=0.5, rho_tau=0.6, core_prior_var=2.0, chunk_size=19)  # fmt: skip
    m0 = FunBaT(cfg)
    if max_cached is not None:
        m0._max_cached_floats = max_cached
    snaps = []
    model = m0.fit(X, y, callback=lambda e, m: snaps.append(_snapshot(m)))
    model._X = X
    st = copy.deepcopy(snaps[-2])
    new = snaps[-1]
    P = ranks[0] * ranks[1] * ranks[2]

    def z_moments(n, modes):
        Ez, Ezz = torch.ones(1, dtype=X.dtype), torch.ones(1, 1, dtype=X.dtype)
        for j in modes:
            _, m, S2 = _entry_moments(model, st, j, X[n : n + 1])
            Ez, Ezz = torch.kron(Ez, m[0]), torch.kron(Ezz, S2[0])
        return Ez, Ezz

    def core_and_tau():
        ZZ = torch.zeros(P, P, dtype=X.dtype)
        Zy = torch.zeros(P, dtype=X.dtype)
        for n in range(N):
            Ez, Ezz = z_moments(n, range(K))
            ZZ += Ezz
            Zy += y[n] * Ez
        tau = st["tau"]
        st["_LamW"] = cfg.rho_w * st["_LamW"] + (1 - cfg.rho_w) * tau * ZZ
        st["_etaW"] = cfg.rho_w * st["_etaW"] + (1 - cfg.rho_w) * tau * Zy
        VW = torch.linalg.inv(st["_LamW"] + torch.eye(P, dtype=X.dtype) / cfg.core_prior_var)
        mW = VW @ st["_etaW"]
        st["W"], st["W_cov"] = mW.reshape(ranks), VW
        sq = 0.0
        for n in range(N):
            Ez, Ezz = z_moments(n, range(K))
            sq += float(y[n] ** 2 - 2 * y[n] * (mW @ Ez) + ((torch.outer(mW, mW) + VW) * Ezz).sum())
        st["tau"] = cfg.rho_tau * tau + (1 - cfg.rho_tau) * (cfg.a0 + N / 2) / (cfg.b0 + sq / 2)

    def mode(k):
        others = [j for j in range(K) if j != k]
        Wk = st["W"].movedim(k, 0).reshape(ranks[k], -1)  # mode-k unfolding, C order
        idx_k = torch.searchsorted(torch.unique(X[:, k]), X[:, k].contiguous())
        S, R = int(idx_k.max()) + 1, ranks[k]
        Lsum = torch.zeros(S, R, R, dtype=X.dtype)
        esum = torch.zeros(S, R, dtype=X.dtype)
        for n in range(N):
            Ez, Ezz = z_moments(n, others)
            Lsum[idx_k[n]] += Wk @ Ezz @ Wk.T
            esum[idx_k[n]] += y[n] * (Wk @ Ez)
        tau = st["tau"]
        st["_Lam"][k] = cfg.rho_u * st["_Lam"][k] + (1 - cfg.rho_u) * tau * Lsum
        st["_eta"][k] = cfg.rho_u * st["_eta"][k] + (1 - cfg.rho_u) * tau * esum
        mk, Vk = _dense_mode_posterior(model, k, st["_Lam"][k], st["_eta"][k])
        st["_m"][k], st["_V"][k] = mk, Vk

    ks = min(range(K), key=lambda j: torch.unique(X[:, j]).shape[0])
    if max_cached is None:  # rotated: core → τ → mode ks → the others
        core_and_tau()
        mode(ks)
        for k in range(K):
            if k != ks:
                mode(k)
    else:
        for k in range(K):
            mode(k)
        core_and_tau()
    for k in range(K):
        torch.testing.assert_close(new["_m"][k], st["_m"][k], atol=1e-8, rtol=1e-7)
        torch.testing.assert_close(new["_V"][k], st["_V"][k], atol=1e-8, rtol=1e-7)
    torch.testing.assert_close(new["W"], st["W"], atol=1e-8, rtol=1e-7)
    torch.testing.assert_close(new["W_cov"], st["W_cov"], atol=1e-8, rtol=1e-7)
    assert abs(new["tau"] - st["tau"]) <= 1e-9 * st["tau"]
