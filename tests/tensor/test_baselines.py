"""GP baseline against a dense posterior with its learned hyper-parameters; SVI Tucker smoke
accuracy against the mean predictor."""

import pytest
import torch

from sciml.tensor import GPBaseline, SVITucker
from sciml.tensor.synthetic import make_tucker3


def _matern52(A, B, ell):
    r = torch.cdist(A / ell, B / ell)
    x = 5**0.5 * r
    return (1 + x + x * x / 3) * torch.exp(-x)


def test_gp_baseline_matches_dense_posterior_mean():
    d = make_tucker3(n=300, noise=0.05, seed=0)
    m = GPBaseline(nu=2.5, max_points=150, steps=20).fit(d["x_train"], d["y_train"])
    Xq = torch.as_tensor(d["x_test"][:20])
    # dense reference with the learned hyper-parameters (on the normalised inputs/targets)
    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(d["y_train"]), generator=g)[:150]
    Xs = torch.as_tensor(d["x_train"])[idx]
    ys = torch.as_tensor(d["y_train"])[idx]
    Xn, Xqn = (Xs - m.mu) / m.sd, (Xq - m.mu) / m.sd
    yn = (ys - m.ym) / m.ys
    k = m.model.covar_module
    ell = k.base_kernel.lengthscale.detach()[0]
    s2 = k.outputscale.detach()
    c = m.model.mean_module.constant.detach()
    noise = m.likelihood.noise.detach()
    K = s2 * _matern52(Xn, Xn, ell) + noise * torch.eye(150, dtype=torch.float64)
    Ks = s2 * _matern52(Xqn, Xn, ell)
    ref = (Ks @ torch.linalg.solve(K, yn - c) + c) * m.ys + m.ym
    assert torch.allclose(m.predict(Xq), ref, atol=1e-6)


def test_svi_tucker_beats_mean_predictor():
    d = make_tucker3(n=600, noise=0.05, seed=1)
    m = SVITucker(rank=2, n_bins=6, steps=150, lr=0.05, batch_size=None, num_samples=10)
    m.fit(d["x_train"], d["y_train"])
    base = float(((d["y_test"] - d["y_train"].mean()) ** 2).mean() ** 0.5)
    assert m.rmse(d["x_test"], d["y_test"]) < 0.7 * base
    assert m.losses[-1] < m.losses[0]


def test_baseline_bad_arguments():
    with pytest.raises(ValueError, match="nu"):
        GPBaseline(nu=1.0)
    with pytest.raises(ValueError, match="steps"):
        SVITucker(steps=0)
