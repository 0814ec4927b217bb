"""FunBaT: functional Bayesian Tucker decomposition of continuous-indexed tensors
(Fang et al., ICLR 2024), with per-mode ranks and one axis convention everywhere.

Convention: the core ``W`` has shape (R_1, …, R_K) and ``vec(W)`` is C-order (mode 1 slowest),
matching ``z = u^1 ⊗ … ⊗ u^K`` (``torch.kron`` order) and ``f = einsum(W, u^1, …, u^K)``.
"""

from __future__ import annotations

import math

import torch

from sciml.kernels import multi_mode_product

from ._cep import CEPModel, Moments
from ._inputs import check_mode_count
from .config import FunBaTConfig

__all__ = ["FunBaT"]

_L = "abcdefghijklm"
_U = "ABCDEFGHIJKLM"


class FunBaT(CEPModel):
    """Tucker model ``y = vec(W)ᵀ (u^1(i^1) ⊗ … ⊗ u^K(i^K)) + ε`` with GP (Matérn SDE) factors.

    Usage: ``FunBaT(FunBaTConfig(rank=(2, 3, 4))).fit(indices, y).predict(new_indices)``.
    """

    name = "funbat"
    _max_cached_floats = 1 << 24  # per-state sums kept for the rotated schedule (128 MB f64)

    def __init__(self, config: FunBaTConfig | None = None):
        super().__init__(config)
        self.W: torch.Tensor | None = None

    def _ranks(self, K: int) -> tuple[int, ...]:
        check_mode_count(K, len(_L), "FunBaT")
        return tuple(self.config.per_mode("rank", K))

    def _entry_width(self) -> int:
        # per-entry Kronecker second moments of K-1 modes, or the prediction's E[f²] contraction
        P = math.prod(self.ranks)
        return max((P // min(self.ranks)) ** 2, P * P // min(self.ranks))

    def _init_core(self, gen: torch.Generator) -> None:
        cfg = self.config
        self._inv_sorted_cache = None
        self._y_sorted_cache = None
        P = math.prod(self.ranks)
        W = math.sqrt(cfg.core_prior_var) * torch.randn(P, generator=gen, dtype=torch.float64)
        kw = {"dtype": self.dtype, "device": self.device}
        self.W = W.to(**kw).reshape(self.ranks)
        self.W_cov = cfg.core_prior_var * torch.eye(P, **kw)
        self._LamW = torch.zeros(P, P, **kw)
        self._etaW = torch.zeros(P, **kw)

    # --------------------------------------------------------------- summed statistics
    def _state_chunks(self, k: int, y: torch.Tensor):
        """Per-state sums over entries of ``⊗_{j≠k} E[u^j u^jᵀ]`` and ``y ⊗_{j≠k} E[u^j]``.

        Entries are visited sorted by their mode-k state, a chunk at a time; yields
        ``(s0, Z, zy)`` for states ``s0 … s0+s-1`` (a state cut by a chunk boundary appears in
        two chunks, whose sums add). Layout ("pair" order, cheaper to build than the Kronecker
        interleaving): Z (s, R_j1², R_j2², …) with each E[u^j u^jᵀ] flattened row-major, and
        zy (s, R_j1, R_j2, …), for the modes j ≠ k in increasing order.
        """
        others = [j for j in range(self.K) if j != k]
        inv_sorted = self._sorted_inv(k)  # (K, N): every mode's state, entries sorted by mode k
        ys = self._sorted_y(k, y)
        S2 = {j: self._second_moments(j).flatten(1) for j in others}
        for sl in self._chunks(self.N):
            sk = inv_sorted[k, sl]
            s0 = int(sk[0])
            loc = sk - s0
            ns = int(sk[-1]) - s0 + 1
            Kz = Km = None
            for j in others:
                ij = inv_sorted[j, sl]
                Sj = S2[j].index_select(0, ij)
                mj = self._m[j].index_select(0, ij)
                if Kz is None:
                    Kz, Km = Sj, mj
                else:
                    n = Kz.shape[0]
                    Kz = (Kz[:, :, None] * Sj[:, None, :]).reshape(n, -1)
                    Km = (Km[:, :, None] * mj[:, None, :]).reshape(n, -1)
            Z = y.new_zeros(ns, Kz.shape[1]).index_add_(0, loc, Kz)
            zy = y.new_zeros(ns, Km.shape[1]).index_add_(0, loc, ys[sl, None] * Km)
            shape_z = [self.ranks[j] ** 2 for j in others]
            shape_m = [self.ranks[j] for j in others]
            yield s0, Z.view(ns, *shape_z), zy.view(ns, *shape_m)

    def _pair_spec(self, k: int) -> str:
        """einsum letters of the pair layout of Z for mode k: l_j u_j for each j ≠ k."""
        return "".join(_L[j] + _U[j] for j in range(self.K) if j != k)

    def _unflatten_pairs(self, k: int, Z: torch.Tensor) -> torch.Tensor:
        shape = []
        for j in range(self.K):
            if j != k:
                shape += [self.ranks[j], self.ranks[j]]
        return Z.reshape(Z.shape[0], *shape)

    def _sorted_inv(self, k: int) -> torch.Tensor:
        if getattr(self, "_inv_sorted_cache", None) is None:
            self._inv_sorted_cache = [None] * self.K
        if self._inv_sorted_cache[k] is None:
            order = self._order[k]
            self._inv_sorted_cache[k] = torch.stack([inv[order] for inv in self._inv])
        return self._inv_sorted_cache[k]

    def _sorted_y(self, k: int, y: torch.Tensor) -> torch.Tensor:
        if getattr(self, "_y_sorted_cache", None) is None or self._y_sorted_cache[0] is not y:
            self._y_sorted_cache = (y, [y[o] for o in self._order])
        return self._y_sorted_cache[1][k]

    def _project(self, k: int, Z: torch.Tensor, zy: torch.Tensor):
        """Per-state sums (Z, zy) of mode k → E[aaᵀ] and y·E[a] sums through W_(k):
        Λ_s = W_(k) (Σ_{n∈s} ⊗_{j≠k} S_j) W_(k)ᵀ, η_s = W_(k) zy_s."""
        K = self.K
        w1 = _L[:K].replace(_L[k], "r")
        w2 = _U[:K].replace(_U[k], "t")
        pairs = self._pair_spec(k)
        Lam = torch.einsum(f"s{pairs},{w1},{w2}->srt", self._unflatten_pairs(k, Z), self.W, self.W)
        others = "".join(_L[j] for j in range(K) if j != k)
        eta = torch.einsum(f"s{others},{w1}->sr", zy, self.W)
        return Lam, eta

    def _mode_sums(self, k: int, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # Σ_{n∈s} E[aaᵀ] = W_(k) (Σ_{n∈s} ⊗_{j≠k} E[u^j u^jᵀ]) W_(k)ᵀ: project once per state
        S, R = self.chains[k].t.shape[0], self.ranks[k]
        Lam = y.new_zeros(S, R, R)
        eta = y.new_zeros(S, R)
        for s0, Z, zy in self._state_chunks(k, y):
            ns = Z.shape[0]
            L, e = self._project(k, Z, zy)
            Lam[s0 : s0 + ns] += L
            eta[s0 : s0 + ns] += e
        return Lam, eta

    def _core_mode(self) -> int:
        return min(range(self.K), key=lambda j: self.chains[j].t.shape[0])  # fewest states

    def _core_from_states(self, ks: int, chunks) -> tuple[torch.Tensor, torch.Tensor]:
        """ZZ = Σ_n ⊗_j E[u^j u^jᵀ] (P, P) and Zy = Σ_n y_n ⊗_j E[u^j] (P,), C order, from
        per-state sums over mode ``ks``: ZZ = Σ_s Z_s ⊗ E[u uᵀ]_s with the axes put in order."""
        K = self.K
        Sk, mk = self._second_moments(ks), self._m[ks]
        P = math.prod(self.ranks)
        pairs = self._pair_spec(ks)
        others = "".join(_L[j] for j in range(K) if j != ks)
        l, u = _L[ks], _U[ks]
        ZZ = mk.new_zeros(self.ranks + self.ranks)
        Zy = mk.new_zeros(self.ranks)
        for s0, Z, zy in chunks:
            ns = Z.shape[0]
            Zp = self._unflatten_pairs(ks, Z)
            ZZ += torch.einsum(f"s{pairs},s{l}{u}->{_L[:K]}{_U[:K]}", Zp, Sk[s0 : s0 + ns])
            Zy += torch.einsum(f"s{others},s{l}->{_L[:K]}", zy, mk[s0 : s0 + ns])
        return ZZ.reshape(P, P), Zy.reshape(P)

    def _core_sums(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        ks = self._core_mode()
        return self._core_from_states(ks, self._state_chunks(ks, y))

    def _core_update(self, ZZ: torch.Tensor, Zy: torch.Tensor, y: torch.Tensor) -> float:
        """Damped update of q(W) from the sums; returns Σ_n E[(y_n − f_n)²]."""
        cfg = self.config
        P = ZZ.shape[0]
        r = cfg.rho_w
        self._LamW = r * self._LamW + (1 - r) * self.tau * ZZ
        self._etaW = r * self._etaW + (1 - r) * self.tau * Zy
        prec = self._LamW + torch.eye(P, dtype=y.dtype, device=y.device) / cfg.core_prior_var
        Lc = torch.linalg.cholesky(0.5 * (prec + prec.T))
        self.W_cov = torch.cholesky_inverse(Lc)
        mW = torch.cholesky_solve(self._etaW[:, None], Lc)[:, 0]
        self.W = mW.reshape(self.ranks)
        second = torch.outer(mW, mW) + self.W_cov
        return float((y * y).sum() - 2.0 * (mW @ Zy) + (second * ZZ).sum())

    def _core_step(self, y: torch.Tensor) -> float:
        return self._core_update(*self._core_sums(y), y)

    def _epoch(self, y: torch.Tensor) -> None:
        """One sweep. The per-state sums of the mode with the fewest states serve both the core
        (and τ) update and, projected through the new core, that mode's messages, saving one
        pass over the entries; the order core → τ → modes is the paper's cyclic schedule
        rotated. Falls back to separate passes when those sums would exceed ~128 MB."""
        ks = self._core_mode()
        Sks = self.chains[ks].t.shape[0]
        Q = math.prod(self.ranks) // self.ranks[ks]
        if Sks * Q * Q > self._max_cached_floats:
            return super()._epoch(y)
        Z = zy = None
        for s0, Zc, zyc in self._state_chunks(ks, y):
            if Z is None:
                Z = y.new_zeros(Sks, *Zc.shape[1:])
                zy = y.new_zeros(Sks, *zyc.shape[1:])
            ns = Zc.shape[0]
            Z[s0 : s0 + ns] += Zc
            zy[s0 : s0 + ns] += zyc
        self._update_tau(self._core_update(*self._core_from_states(ks, [(0, Z, zy)]), y))
        self._update_mode(ks, *self._project(ks, Z, zy))
        for k in range(self.K):
            if k != ks:
                self._update_mode(k, *self._mode_sums(k, y))

    def _predict_chunk(self, mom: Moments, need_var: bool = True):
        K = self.K
        specs = ",".join([_L[:K]] + ["n" + _L[j] for j in range(K)])
        mean = torch.einsum(specs + "->n", self.W, *[m for m, _ in mom])
        if not need_var:
            return mean, None
        # E[f²] = tr((m_W m_Wᵀ + V_W) ⊗_j E[u^j u^jᵀ]), contracted one mode at a time
        mW = self.W.reshape(-1)
        M = (torch.outer(mW, mW) + self.W_cov).reshape(self.ranks + self.ranks)
        X, cur = M, _L[:K] + _U[:K]
        for j in range(K):
            new = cur.replace(_L[j], "").replace(_U[j], "")
            out = new if new.startswith("n") else "n" + new
            X = torch.einsum(f"{cur},n{_L[j]}{_U[j]}->{out}", X, mom[j][1])
            cur = out
        return mean, X - mean * mean

    # --------------------------------------------------------------- grid prediction
    def predict_grid(self, grids) -> torch.Tensor:
        """Posterior-mean surface on the Cartesian product of per-mode grids.

        Args:
            grids: K sequences of index values (M_1,), …, (M_K,).
        Returns:
            (M_1, …, M_K) tensor ``W ×_1 U^1 … ×_K U^K`` with U^k the factor means on grid k.
        """
        self._check_fitted()
        if isinstance(grids, str) or not hasattr(grids, "__len__"):
            raise TypeError(
                f"grids: expected a list of {self.K} 1-D index grids, got {type(grids).__name__}"
            )
        if len(grids) != self.K:
            raise ValueError(f"grids: expected {self.K} grids (one per mode), got {len(grids)}")
        mats = [self.posterior_factors(k, g)[0] for k, g in enumerate(grids)]
        return multi_mode_product(self.W, mats, list(range(self.K)))

    @property
    def core(self) -> torch.Tensor:
        """Posterior mean of the core, (R_1, …, R_K)."""
        self._check_fitted()
        return self.W
