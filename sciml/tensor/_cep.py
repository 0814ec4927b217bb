"""Conditional EP with state-space GP priors: the machinery shared by FunBaT and FunBaT-CP.

Per epoch and mode k: moments of the other modes at each entry → message (Λ_n, η_n) to
``u^k(i^k_n)``, summed per sorted unique index with a segment sum and damped (damping is linear,
so only the summed messages are stored: O(S_k R_k²) per mode), then one Kalman/RTS pass over the
mode's chain. Then the core (Tucker) and the noise precision τ.
"""

from __future__ import annotations

import math
import numbers

import torch

from ._inputs import as_indices, as_values
from .chain import ModeChain
from .config import FunBaTConfig
from .sde import matern_sde

Moments = list[tuple[torch.Tensor, torch.Tensor]]  # per mode: mean (n, R), second moment (n, R, R)


def _smooth_init(t: torch.Tensor, R: int, ell: float, gen: torch.Generator) -> torch.Tensor:
    """Random smooth functions (random Fourier features at the lengthscale) at index values t,
    (S, R) float64: the initial posterior means (iid values per state would carry no signal)."""
    J = 32
    t = t.to(torch.float64)
    w = torch.randn(R, J, generator=gen, dtype=torch.float64) / ell
    b = 2 * math.pi * torch.rand(R, J, generator=gen, dtype=torch.float64)
    a = torch.randn(R, J, generator=gen, dtype=torch.float64)
    feats = torch.cos(t[:, None, None] * w + b)  # (S, R, J)
    return math.sqrt(2.0 / J) * (feats * a).sum(-1)


def _initial_tau(y: torch.Tensor, cfg: FunBaTConfig) -> float:
    """Initial E[τ] = 1 / (init_noise_ratio · var(y)).

    For (nearly) constant data, var(y) ≤ 1e-6 · mean(y²) (the model has no offset, so the
    signal is not small there), it is instead (a0 + N/2) / b0, the largest value the τ update
    can produce: the former 1 / max(ratio · var(y), 1e-12) gave E[τ] up to 1e12, and a float32
    fit then broke down in its first Kalman pass (I + QΛ numerically singular)."""
    N = y.shape[0]
    var_y = float(y.var()) if N > 1 else 1.0
    if var_y <= 1e-6 * float((y * y).mean()):
        return (cfg.a0 + 0.5 * N) / cfg.b0
    return 1.0 / max(cfg.init_noise_ratio * var_y, 1e-12)


class CEPModel:
    """Base class; subclasses define the core-dependent parts (see FunBaT, FunBaTCP)."""

    name = "cep"

    def __init__(self, config: FunBaTConfig | None = None):
        config = FunBaTConfig() if config is None else config
        if not isinstance(config, FunBaTConfig):
            raise TypeError(f"config: expected a FunBaTConfig, got {type(config).__name__}")
        self.config = config
        self.chains: list[ModeChain] | None = None
        self.history: list[dict[str, float]] = []

    # ------------------------------------------------------------------ hooks
    def _ranks(self, K: int) -> tuple[int, ...]:
        raise NotImplementedError

    def _init_core(self, gen: torch.Generator) -> None:
        pass

    def _mode_stats(self, k: int, mom: Moments) -> tuple[torch.Tensor, torch.Tensor]:
        """E[a] (n, R_k) and E[aaᵀ] (n, R_k, R_k) for a chunk of entries."""
        raise NotImplementedError

    def _core_step(self, y: torch.Tensor) -> float:
        """Update the core (if any); return Σ_n E[(y_n − f_n)²] under the current posterior."""
        raise NotImplementedError

    def _predict_chunk(self, mom: Moments, need_var: bool = True):
        """E[f] (n,) and Var[f] (n,) (None unless ``need_var``) at a chunk of entries."""
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers
    def _entry_width(self) -> int:
        """Floats of temporary memory per entry (bounds the chunk size)."""
        return max(r * r for r in self.ranks)

    def _chunks(self, N: int):
        c = max(1, min(self.config.chunk_size, (1 << 22) // max(1, self._entry_width())))
        for s in range(0, N, c):
            yield slice(s, min(s + c, N))

    def _moments_at(self, sl: slice, modes=None) -> Moments:
        """Posterior moments of each mode's factors at the training entries ``sl``."""
        out = []
        for j in range(self.K) if modes is None else modes:
            ij = self._inv[j][sl]
            out.append((self._m[j][ij], self._second_moments(j)[ij]))
        return out

    # ------------------------------------------------------------------ fit
    def fit(self, indices, y, *, callback=None) -> CEPModel:
        """Fit to observations ``y`` (N,) at continuous ``indices`` (N, K), K >= 2.

        ``callback(epoch, model)`` is called after every epoch. Returns self.
        """
        cfg = self.config
        X = as_indices(indices)
        N, K = X.shape
        if K < 2:
            raise ValueError(f"indices: expected K >= 2 modes (columns), got {K}")
        yv = as_values(y, N, X)
        self.K, self.N = K, N
        self.dtype, self.device = X.dtype, X.device
        self.ranks = self._ranks(K)
        ells, s2s = cfg.per_mode("lengthscale", K), cfg.per_mode("variance", K)
        self.chains, self._inv = [], []
        for k in range(K):
            t, inv = torch.unique(X[:, k], sorted=True, return_inverse=True)
            if t.shape[0] < 2:
                raise ValueError(
                    f"indices: mode {k} has a single unique index value ({t[0].item()!r}); "
                    "each mode needs at least 2 distinct values"
                )
            sde = matern_sde(cfg.nu, ells[k], s2s[k], dtype=X.dtype, device=X.device)
            self.chains.append(ModeChain(t, self.ranks[k], sde))
            self._inv.append(inv)
        gen = torch.Generator(device="cpu").manual_seed(cfg.seed)
        self._m, self._V, self._Lam, self._eta = [], [], [], []
        for k, ch in enumerate(self.chains):
            S, R = ch.t.shape[0], self.ranks[k]
            m0 = cfg.init_scale * _smooth_init(ch.t.cpu(), R, ells[k], gen)
            self._m.append(m0.to(dtype=X.dtype, device=X.device))
            self._V.append(cfg.init_var * ch.prior()[1])
            self._Lam.append(X.new_zeros(S, R, R))
            self._eta.append(X.new_zeros(S, R))
        self._S2 = [None] * K
        # per mode: entries sorted by that mode's state, for contiguous per-state segment sums
        self._order = [torch.argsort(inv, stable=True) for inv in self._inv]
        self._init_core(gen)
        self.tau = _initial_tau(yv, cfg)
        self._y = yv
        self.history = []
        for epoch in range(cfg.epochs):
            self._epoch(yv)
            if callback is not None:
                callback(epoch, self)
        return self

    def _second_moments(self, j: int) -> torch.Tensor:
        """E[u uᵀ] of mode j at its states, (S_j, R_j, R_j) (cached until mode j changes)."""
        if self._S2[j] is None:
            m = self._m[j]
            self._S2[j] = self._V[j] + m[:, :, None] * m[:, None, :]
        return self._S2[j]

    def _mode_sums(self, k: int, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Σ over the entries at each state of mode k of E[aaᵀ] (S_k, R_k, R_k) and y·E[a]
        (S_k, R_k) (segment sums; multiply by E[τ] for the message)."""
        S, R = self.chains[k].t.shape[0], self.ranks[k]
        Lam = y.new_zeros(S, R, R)
        eta = y.new_zeros(S, R)
        others = [j for j in range(self.K) if j != k]
        for sl in self._chunks(self.N):
            mom = self._moments_at(sl, others)
            full = [None] * self.K
            for j, mj in zip(others, mom):
                full[j] = mj
            Ea, Eaa = self._mode_stats(k, full)
            idx = self._inv[k][sl]
            Lam.index_add_(0, idx, Eaa)
            eta.index_add_(0, idx, y[sl, None] * Ea)
        return Lam, eta

    def _update_mode(self, k: int, Lam: torch.Tensor, eta: torch.Tensor) -> None:
        """Damp the summed messages (raw sums times E[τ]) and smooth mode k's chain."""
        r = self.config.rho_u
        self._Lam[k] = r * self._Lam[k] + (1 - r) * self.tau * Lam
        self._eta[k] = r * self._eta[k] + (1 - r) * self.tau * eta
        self._m[k], self._V[k] = self.chains[k].smooth(self._Lam[k], self._eta[k])
        self._S2[k] = None

    def _update_tau(self, sq: float) -> None:
        """Damped E[τ] from a = a0 + N/2, b = b0 + ½ Σ_n E[(y_n − f_n)²]."""
        cfg = self.config
        a = cfg.a0 + 0.5 * self.N
        b = cfg.b0 + 0.5 * max(sq, 0.0)
        self.tau = cfg.rho_tau * self.tau + (1 - cfg.rho_tau) * a / b
        self.history.append({"tau": self.tau, "train_mse": sq / self.N})

    def _epoch(self, y: torch.Tensor) -> None:
        for k in range(self.K):
            self._update_mode(k, *self._mode_sums(k, y))
        self._update_tau(self._core_step(y))

    # ------------------------------------------------------------------ prediction
    def _check_fitted(self) -> None:
        if self.chains is None:
            raise RuntimeError(f"{type(self).__name__}: call fit() before predicting")

    def predict(self, indices, return_var: bool = False, include_noise: bool = False):
        """Predictive mean (M,) at ``indices`` (M, K), seen or unseen index values.

        With ``return_var`` also the variance (M,) of the latent value (plus 1/E[τ] when
        ``include_noise``).
        """
        self._check_fitted()
        X = as_indices(indices, K=self.K).to(dtype=self.dtype, device=self.device)
        moms = [self.chains[k].marginals(X[:, k]) for k in range(self.K)]
        means, vars_ = [], []
        for sl in self._chunks(X.shape[0]):
            mom = []
            for m, V in moms:
                mm = m[sl]
                mom.append((mm, V[sl] + mm[:, :, None] * mm[:, None, :]))
            mu, var = self._predict_chunk(mom, return_var)
            means.append(mu)
            vars_.append(var)
        mean = torch.cat(means)
        if not return_var:
            return mean
        var = torch.cat(vars_).clamp_min(0.0)
        if include_noise:
            var = var + 1.0 / self.tau
        return mean, var

    def posterior_factors(self, mode: int, grid) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean (M, R_k) and marginal variance (M, R_k) of mode ``mode``'s latent
        functions on ``grid`` (M,) index values."""
        self._check_fitted()
        if (
            isinstance(mode, bool)
            or not isinstance(mode, numbers.Integral)
            or not 0 <= mode < self.K
        ):
            raise ValueError(f"mode: expected an integer in [0, {self.K}), got {mode!r}")
        mode = int(mode)
        g = torch.as_tensor(grid, dtype=self.dtype, device=self.device).reshape(-1)
        if not torch.isfinite(g).all():
            raise ValueError("grid: expected finite index values")
        m, V = self.chains[mode].marginals(g)
        return m, V.diagonal(dim1=-2, dim2=-1)

    @property
    def noise_variance(self) -> float:
        """1 / E[τ]."""
        return 1.0 / self.tau

    def rmse(self, indices, y) -> float:
        X = as_indices(indices, K=self.K)
        yv = as_values(y, X.shape[0], X.to(self.dtype))
        return math.sqrt(float(((self.predict(X) - yv.to(self.device)) ** 2).mean()))
