"""Baselines: discrete Tucker and CP decompositions of continuous-indexed data on a binned grid,
fitted by alternating least squares with missing entries (only observed cells enter the
least-squares problems; a ridge term ``reg`` keeps empty rows at zero)."""

from __future__ import annotations

import math

import torch

from sciml.kernels import multi_mode_product

from ._binning import Binner
from ._inputs import as_indices, as_values, check_mode_count

__all__ = ["TuckerALS", "CPALS"]


class _BinnedALS:
    kind = ""
    MAX_MODES: int | None = None  # Tucker: one einsum letter per mode

    def __init__(self, rank, n_bins=50, n_iter: int = 50, reg: float = 0.1, seed: int = 0):
        self.rank, self.n_bins, self.n_iter, self.reg, self.seed = rank, n_bins, n_iter, reg, seed
        if not isinstance(n_iter, int) or n_iter < 1:
            raise ValueError(f"n_iter: expected an integer >= 1, got {n_iter!r}")
        if not reg > 0:
            raise ValueError(f"reg: expected a value > 0, got {reg!r}")

    def _per_mode(self, v, K, name):
        t = tuple(v) if isinstance(v, (tuple, list)) else (v,) * K
        if len(t) != K or any((not isinstance(r, int)) or r < 1 for r in t):
            raise ValueError(f"{name}: expected a positive int or {K} positive ints, got {v!r}")
        return t

    def fit(self, indices, y):
        """Fit to ``y`` (N,) at continuous ``indices`` (N, K). Returns self."""
        X = as_indices(indices)
        yv = as_values(y, X.shape[0], X)
        K = X.shape[1]
        if self.MAX_MODES is not None:
            check_mode_count(K, self.MAX_MODES, type(self).__name__)
        self.K = K
        self.ranks = self._per_mode(self.rank, K, "rank")
        self.binner = Binner(self._per_mode(self.n_bins, K, "n_bins")).fit(X)
        B = self.binner(X)
        g = torch.Generator().manual_seed(self.seed)
        kw = {"dtype": X.dtype, "device": X.device}
        self.U = [
            torch.randn(self.binner.n_bins[k], self.ranks[k], generator=g, dtype=torch.float64).to(
                **kw
            )
            for k in range(K)
        ]
        self._init_core(g, kw)
        for _ in range(self.n_iter):
            for k in range(K):
                A = self._design(k, B)  # (N, R_k)
                R = self.ranks[k]
                G = X.new_zeros(self.binner.n_bins[k], R, R).index_add_(
                    0, B[:, k], A[:, :, None] * A[:, None, :]
                )
                b = X.new_zeros(self.binner.n_bins[k], R).index_add_(0, B[:, k], yv[:, None] * A)
                G = G + self.reg * torch.eye(R, **kw)
                self.U[k] = torch.linalg.solve(G, b[..., None])[..., 0]
                self._normalise(k)
            self._update_core(B, yv, kw)
        return self

    def _normalise(self, k: int) -> None:
        """Unit-RMS factor columns; the scale moves into the core (Tucker) or the last factor
        (CP), so that the ridge acts on comparable scales and the iteration does not drift."""
        U = self.U[k]
        c = U.pow(2).mean(0).sqrt().clamp_min(1e-12)
        self.U[k] = U / c
        self._absorb(k, c)

    def _rows(self, B):
        return [self.U[k][B[:, k]] for k in range(self.K)]

    def predict(self, indices) -> torch.Tensor:
        """Value of the fitted cell containing each index row, (M,), on the fitted device."""
        X = as_indices(indices, K=self.K).to(self.binner.lo.device)  # NumPy/CPU input too
        return self._reconstruct(self._rows(self.binner(X)))

    def rmse(self, indices, y) -> float:
        X = as_indices(indices, K=self.K).to(self.binner.lo.device)
        yv = as_values(y, X.shape[0], X)
        return math.sqrt(float(((self.predict(X) - yv) ** 2).mean()))


class TuckerALS(_BinnedALS):
    """Tucker ``W ×_1 U^1 … ×_K U^K`` on the binned grid (ALS with missing entries).

    Args:
        rank: R per mode (int or K ints); n_bins: bins per mode; n_iter: ALS sweeps;
        reg: ridge on every factor row and on the core; seed: initialisation.
    """

    kind = "tucker"
    MAX_MODES = 8

    def _init_core(self, g, kw):
        self.W = torch.randn(self.ranks, generator=g, dtype=torch.float64).to(**kw)

    def _absorb(self, k, c):
        shape = [1] * self.K
        shape[k] = -1
        self.W = self.W * c.reshape(shape)

    def _design(self, k, B):
        rows = self._rows(B)
        L = "abcdefgh"[: self.K]
        specs = [L] + ["n" + L[j] for j in range(self.K) if j != k]
        ops = [self.W] + [rows[j] for j in range(self.K) if j != k]
        return torch.einsum(",".join(specs) + "->n" + L[k], *ops)

    def _update_core(self, B, y, kw):
        rows = self._rows(B)
        Z = rows[0]
        for r in rows[1:]:
            Z = (Z[:, :, None] * r[:, None, :]).reshape(Z.shape[0], -1)  # C-order Kronecker
        P = Z.shape[1]
        G = Z.T @ Z + self.reg * torch.eye(P, **kw)
        self.W = torch.linalg.solve(G, Z.T @ y).reshape(self.ranks)

    def _reconstruct(self, rows):
        L = "abcdefgh"[: self.K]
        return torch.einsum(",".join([L] + ["n" + c for c in L]) + "->n", self.W, *rows)

    def grid(self) -> torch.Tensor:
        """The full reconstructed grid (n_bins_1, …, n_bins_K)."""
        return multi_mode_product(self.W, self.U, list(range(self.K)))


class CPALS(_BinnedALS):
    """CP ``Σ_r Π_k U^k[:, r]`` on the binned grid (ALS with missing entries)."""

    kind = "cp"

    def _init_core(self, g, kw):
        if len(set(self.ranks)) != 1:
            raise ValueError(f"rank: CP needs one rank for every mode, got {self.ranks}")

    def _absorb(self, k, c):
        j = (k + 1) % self.K
        self.U[j] = self.U[j] * c

    def _design(self, k, B):
        rows = self._rows(B)
        out = None
        for j in range(self.K):
            if j != k:
                out = rows[j] if out is None else out * rows[j]
        return out

    def _update_core(self, B, y, kw):
        pass

    def _reconstruct(self, rows):
        out = rows[0]
        for r in rows[1:]:
            out = out * r
        return out.sum(-1)
