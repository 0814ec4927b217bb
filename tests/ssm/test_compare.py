import numpy as np
import pytest

from sciml.ssm import block_bootstrap_means, mse_ratio_ci


def _ar1(n, phi, seed):
    rng = np.random.default_rng(seed)
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0]
    for t in range(1, n):
        x[t] = phi * x[t - 1] + e[t]
    return x


def test_block_bootstrap_means_equal_explicit_index_resampling():
    """The cumulative-sum implementation equals resampling explicit row indices (same draws),
    including a final partial block (n not a multiple of block)."""
    n, block, n_boot, seed = 103, 10, 50, 3
    x = np.random.default_rng(0).standard_normal((n, 2))
    got = block_bootstrap_means(x, block, n_boot, seed)
    k = -(-n // block)
    starts = np.random.default_rng(seed).integers(0, n, size=(n_boot, k))
    idx = ((starts[:, :, None] + np.arange(block)) % n).reshape(n_boot, k * block)[:, :n]
    np.testing.assert_allclose(got, x[idx].mean(1), rtol=0, atol=1e-12)


def test_block_bootstrap_variance_matches_closed_form():
    """For n = k·block the circular block bootstrap mean has E* = x̄ and
    Var* = Var_s(block mean at start s) / k exactly (Politis & Romano 1992)."""
    block, k = 12, 25
    n = block * k
    x = _ar1(n, 0.8, seed=1)
    xx = np.concatenate([x, x])
    block_means = np.array([xx[s : s + block].mean() for s in range(n)])
    var_exact = ((block_means - x.mean()) ** 2).mean() / k
    means = block_bootstrap_means(x, block, n_boot=40_000, seed=2)[:, 0]
    assert abs(means.mean() - x.mean()) < 4 * np.sqrt(var_exact / 40_000)
    assert abs(means.var() / var_exact - 1) < 0.04  # Monte Carlo s.e. ≈ 0.7 %
    # with correlated data, blocks matter: block = 1 underestimates the variance
    iid = block_bootstrap_means(x, 1, n_boot=20_000, seed=2)[:, 0].var()
    assert iid < 0.5 * var_exact


def test_mse_ratio_ci_degenerate_and_paired_cases():
    b = np.random.default_rng(4).exponential(size=400)
    same = mse_ratio_ci(b, b, block=20)
    assert same == {"ratio": 1.0, "lo": 1.0, "hi": 1.0, "p_below_one": 0.0}
    scaled = mse_ratio_ci(0.9 * b, b, block=20)  # a exactly 10 % better on every window
    assert scaled["ratio"] == pytest.approx(0.9, abs=1e-12)
    assert scaled["lo"] == pytest.approx(0.9, abs=1e-12) == scaled["hi"]
    assert scaled["p_below_one"] == 1.0
    # independent noise: the interval contains the point estimate and widens with the block
    a = b * np.random.default_rng(5).uniform(0.8, 1.25, size=400)
    r1, r40 = mse_ratio_ci(a, b, block=1), mse_ratio_ci(a, b, block=40)
    assert r1["lo"] < r1["ratio"] < r1["hi"]
    assert r40["ratio"] == r1["ratio"]


def test_bad_inputs():
    x = np.ones(10)
    with pytest.raises(ValueError, match="block"):
        block_bootstrap_means(x, 0)
    with pytest.raises(ValueError, match="block"):
        block_bootstrap_means(x, 11)
    with pytest.raises(ValueError, match="n_boot"):
        block_bootstrap_means(x, 2, n_boot=0)
    with pytest.raises(ValueError, match="non-finite"):
        block_bootstrap_means(np.array([1.0, np.nan, 2.0]), 1)
    with pytest.raises(ValueError, match="equal shapes"):
        mse_ratio_ci(x, np.ones(9), block=2)
    with pytest.raises(ValueError, match="level"):
        mse_ratio_ci(x, x, block=2, level=1.0)
