"""Baseline: Bayesian Tucker decomposition on the binned grid, fitted by stochastic variational
inference with pyro-ppl (mean-field Gaussian guide; Gaussian priors on factors and core, a
Gamma prior on the noise precision)."""

from __future__ import annotations

import math

import torch

from ._binning import Binner
from ._inputs import as_indices, as_values, check_int, check_lr, check_mode_count

__all__ = ["SVITucker"]


class SVITucker:
    """Bayesian Tucker on a binned grid by SVI.

    Args:
        rank: R per mode (int or K ints); n_bins: bins per mode; steps: SVI steps;
        lr: Adam learning rate; batch_size: entries per step (None: all);
        num_samples: posterior draws averaged by ``predict``; seed: pyro/torch seed.
    """

    def __init__(
        self,
        rank=2,
        n_bins=50,
        steps: int = 1000,
        lr: float = 0.02,
        batch_size: int | None = 1024,
        num_samples: int = 50,
        seed: int = 0,
    ):
        if not isinstance(steps, int) or steps < 1:
            raise ValueError(f"steps: expected an integer >= 1, got {steps!r}")
        ranks = rank if isinstance(rank, tuple | list) else (rank,)
        if not ranks:
            raise ValueError(f"rank: expected a positive int or a tuple of them, got {rank!r}")
        for r in ranks:
            check_int("rank", r, 1)
        check_lr(lr)
        check_int("batch_size", batch_size, 1, allow_none=True)
        check_int("num_samples", num_samples, 1)
        check_int("seed", seed, 0)
        self.rank, self.n_bins, self.steps, self.lr = rank, n_bins, steps, lr
        self.batch_size, self.num_samples, self.seed = batch_size, num_samples, seed

    def _model(self, B, y=None, N=None):
        import pyro
        import pyro.distributions as dist

        kw = {"dtype": self._dtype, "device": self._device}
        U = []
        for k in range(self.K):
            shape = (self.binner.n_bins[k], self.ranks[k])
            U.append(pyro.sample(f"U{k}", dist.Normal(torch.zeros(shape, **kw), 1.0).to_event(2)))
        W = pyro.sample("W", dist.Normal(torch.zeros(self.ranks, **kw), 1.0).to_event(self.K))
        tau = pyro.sample("tau", dist.Gamma(torch.tensor(1.0, **kw), torch.tensor(1.0, **kw)))
        L = "abcdefgh"[: self.K]
        rows = [U[k][B[:, k]] for k in range(self.K)]
        f = torch.einsum(",".join([L] + ["n" + c for c in L]) + "->n", W, *rows)
        with pyro.plate("data", N, subsample_size=B.shape[0]):
            pyro.sample("y", dist.Normal(f, tau.rsqrt()), obs=y)
        return f

    def fit(self, indices, y) -> SVITucker:
        """Fit to ``y`` (N,) at continuous ``indices`` (N, K). Returns self."""
        import pyro
        from pyro.infer import SVI, Trace_ELBO
        from pyro.infer.autoguide import AutoNormal, init_to_sample

        X = as_indices(indices)
        yv = as_values(y, X.shape[0], X)
        K = X.shape[1]
        check_mode_count(K, 8, "SVITucker")
        self.K = K
        r = self.rank
        self.ranks = tuple(r) if isinstance(r, (tuple, list)) else (r,) * K
        nb = self.n_bins
        self.binner = Binner(tuple(nb) if isinstance(nb, (tuple, list)) else (nb,) * K).fit(X)
        B = self.binner(X)
        self._dtype, self._device = X.dtype, X.device
        self.y_mean, self.y_std = float(yv.mean()), float(yv.std()) or 1.0
        ys = (yv - self.y_mean) / self.y_std
        pyro.set_rng_seed(self.seed)
        pyro.clear_param_store()
        # random (prior-sample) initial locations: the all-zero median is a saddle of the
        # multilinear model
        self.guide = AutoNormal(self._model, init_loc_fn=init_to_sample, init_scale=0.05)
        svi = SVI(self._model, self.guide, pyro.optim.Adam({"lr": self.lr}), Trace_ELBO())
        N = X.shape[0]
        bs = N if self.batch_size is None else min(self.batch_size, N)
        g = torch.Generator().manual_seed(self.seed)
        self.losses = []
        for _ in range(self.steps):
            idx = torch.randperm(N, generator=g)[:bs].to(X.device)
            self.losses.append(svi.step(B[idx], ys[idx], N))
        return self

    def predict(self, indices) -> torch.Tensor:
        """Posterior predictive mean (M,), averaged over ``num_samples`` guide draws."""
        X = as_indices(indices, K=self.K).to(dtype=self._dtype, device=self._device)
        B = self.binner(X)
        out = torch.zeros(X.shape[0], dtype=X.dtype, device=X.device)
        L = "abcdefgh"[: self.K]
        with torch.no_grad():
            for _ in range(self.num_samples):
                s = self.guide()
                rows = [s[f"U{k}"][B[:, k]] for k in range(self.K)]
                out += torch.einsum(",".join([L] + ["n" + c for c in L]) + "->n", s["W"], *rows)
        return out / self.num_samples * self.y_std + self.y_mean

    def rmse(self, indices, y) -> float:
        X = as_indices(indices, K=self.K).to(self._device)
        yv = as_values(y, X.shape[0], X)
        return math.sqrt(float(((self.predict(X) - yv) ** 2).mean()))
