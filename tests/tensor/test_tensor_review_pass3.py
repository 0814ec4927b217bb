"""Review pass 3: constant data (zero variance) in FunBaT / FunBaT-CP."""

import numpy as np
import pytest
import torch

from sciml.tensor import FunBaT, FunBaTConfig, FunBaTCP, TuckerALS


@pytest.mark.parametrize("model", [FunBaT, FunBaTCP])
def test_constant_data_fit_in_float32_like_float64(model):
    # was: var(y) = 0 gave E[τ] = 1e12 at the start and the float32 fit raised a LinAlgError
    # ("input matrix is singular") in its first Kalman pass, while float64 fitted
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (200, 3))
    y = np.full(200, 3.0)
    preds = {}
    for dt in (torch.float64, torch.float32):
        m = model(FunBaTConfig(rank=2, nu=2.5, epochs=30)).fit(
            torch.tensor(X, dtype=dt), torch.tensor(y, dtype=dt)
        )
        preds[dt] = m.predict(torch.tensor(X, dtype=dt)).double()
        assert np.isfinite(m.tau) and m.tau <= m.config.a0 + 0.5 * len(y)  # (a0 + N/2) / b0
    np.testing.assert_allclose(preds[torch.float64].numpy(), 3.0, rtol=1e-2)
    np.testing.assert_allclose(
        preds[torch.float32].numpy(), preds[torch.float64].numpy(), rtol=1e-3
    )


def test_initial_noise_precision_closed_forms():
    from sciml.tensor._cep import _initial_tau

    cfg = FunBaTConfig()
    y = torch.tensor([0.3, -1.2, 0.7, 2.0], dtype=torch.float64)
    assert _initial_tau(y, cfg) == 1.0 / (cfg.init_noise_ratio * float(y.var()))  # unchanged
    for c in (0.0, 3.0, -0.02):
        yc = torch.full((10,), c, dtype=torch.float64)
        assert _initial_tau(yc, cfg) == (cfg.a0 + 5.0) / cfg.b0  # the largest update value


@pytest.mark.parametrize(
    "make, limit",
    [
        (lambda: FunBaT(FunBaTConfig(epochs=1, rank=1)), 13),
        (lambda: TuckerALS(rank=1, n_iter=1), 8),
    ],
)
def test_tucker_models_name_their_mode_limit(make, limit):
    # was: IndexError "string index out of range" (FunBaT) / an einsum shape error (ALS)
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, limit + 1, generator=g, dtype=torch.float64)
    with pytest.raises(ValueError, match=f"at most {limit} modes"):
        make().fit(X, torch.sin(X.sum(1)))


def test_cp_models_have_no_mode_limit():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(60, 14, generator=g, dtype=torch.float64)
    y = torch.prod(torch.cos(X), dim=1)
    pred = FunBaTCP(FunBaTConfig(epochs=2, rank=1)).fit(X, y).predict(X)
    assert pred.shape == (60,) and torch.isfinite(pred).all()
