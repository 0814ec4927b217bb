"""Baseline: exact GP regression on the K-dimensional continuous indices with gpytorch (ARD
Matérn kernel, type-II maximum likelihood) on a random subsample of the training entries."""

from __future__ import annotations

import math

import torch

from ._inputs import as_indices, as_values, check_int, check_lr

__all__ = ["GPBaseline"]


class GPBaseline:
    """GP regression y = f(i^1, …, i^K) + ε on at most ``max_points`` training entries.

    Args:
        nu: Matérn smoothness (0.5, 1.5, 2.5); max_points: subsample size; steps: Adam steps
        on the marginal likelihood; lr: learning rate; seed: subsample seed.
    """

    def __init__(
        self,
        nu: float = 1.5,
        max_points: int = 2000,
        steps: int = 100,
        lr: float = 0.1,
        seed: int = 0,
    ):
        if nu not in (0.5, 1.5, 2.5):
            raise ValueError(f"nu: expected one of (0.5, 1.5, 2.5), got {nu!r}")
        if not isinstance(max_points, int) or max_points < 2:
            raise ValueError(f"max_points: expected an integer >= 2, got {max_points!r}")
        check_int("steps", steps, 1)
        check_lr(lr)
        check_int("seed", seed, 0)
        self.nu, self.max_points, self.steps, self.lr, self.seed = nu, max_points, steps, lr, seed

    def fit(self, indices, y) -> GPBaseline:
        import gpytorch

        X = as_indices(indices)
        yv = as_values(y, X.shape[0], X)
        N, K = X.shape
        if N < 2:  # the standardisation (sample std) and the marginal likelihood need two
            raise ValueError(f"indices: GPBaseline needs at least 2 training entries, got {N}")
        self.K = K
        g = torch.Generator().manual_seed(self.seed)
        idx = torch.randperm(N, generator=g)[: self.max_points].to(X.device)
        Xs, ys = X[idx], yv[idx]
        self.mu, self.sd = Xs.mean(0), Xs.std(0).clamp_min(1e-12)
        self.ym, self.ys = float(ys.mean()), float(ys.std()) or 1.0
        Xn = (Xs - self.mu) / self.sd
        yn = (ys - self.ym) / self.ys
        nu = self.nu

        class _GP(gpytorch.models.ExactGP):
            def __init__(self, x, t, lik):
                super().__init__(x, t, lik)
                self.mean_module = gpytorch.means.ConstantMean()
                self.covar_module = gpytorch.kernels.ScaleKernel(
                    gpytorch.kernels.MaternKernel(nu=nu, ard_num_dims=K)
                )

            def forward(self, x):
                return gpytorch.distributions.MultivariateNormal(
                    self.mean_module(x), self.covar_module(x)
                )

        self.likelihood = gpytorch.likelihoods.GaussianLikelihood().to(X)
        self.model = _GP(Xn, yn, self.likelihood).to(X)
        self.model.train()
        self.likelihood.train()
        opt = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        mll = gpytorch.mlls.ExactMarginalLogLikelihood(self.likelihood, self.model)
        for _ in range(self.steps):
            opt.zero_grad()
            loss = -mll(self.model(Xn), yn)
            loss.backward()
            opt.step()
        self.model.eval()
        self.likelihood.eval()
        return self

    def predict(self, indices, return_var: bool = False):
        import gpytorch

        X = as_indices(indices, K=self.K).to(self.mu)
        with torch.no_grad(), gpytorch.settings.fast_pred_var():
            out = self.model((X - self.mu) / self.sd)
            mean = out.mean * self.ys + self.ym
            if return_var:
                return mean, out.variance * self.ys**2
        return mean

    def rmse(self, indices, y) -> float:
        X = as_indices(indices, K=self.K)
        yv = as_values(y, X.shape[0], X).to(self.mu)
        return math.sqrt(float(((self.predict(X) - yv) ** 2).mean()))
