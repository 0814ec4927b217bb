"""Bad input at the public sciml.tensor entry points: a ValueError/TypeError naming the argument."""

import math

import numpy as np
import pytest
import torch

from sciml.tensor import (
    FunBaT,
    FunBaTConfig,
    GPBaseline,
    SVITucker,
    discretise,
    kalman_smoother,
    make_rank1_cp,
    make_tucker3,
    matern_sde,
    read_table,
    tucker3_factors,
)


def _xy(n=40):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 2, generator=g, dtype=torch.float64), torch.randn(
        n, generator=g, dtype=torch.float64
    )


@pytest.mark.parametrize(
    "name", ["rho_u", "a0", "b0", "core_prior_var", "init_scale", "init_var", "init_noise_ratio"]
)
@pytest.mark.parametrize("value", [None, "x"])
def test_funbat_config_float_fields(name, value):
    with pytest.raises(TypeError, match=name):
        FunBaTConfig(**{name: value})


@pytest.mark.parametrize("seed", [None, 1.5, "3", -1])
def test_funbat_config_seed(seed):
    with pytest.raises(ValueError, match="seed"):
        FunBaTConfig(seed=seed)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.complex128])
def test_fit_indices_dtype(dtype):
    X, y = _xy()
    with pytest.raises(TypeError, match="indices"):
        FunBaT(FunBaTConfig(rank=2, epochs=1)).fit(X.to(dtype), y)


def test_fit_indices_no_columns():
    X, y = _xy()
    with pytest.raises(ValueError, match="indices"):
        FunBaT(FunBaTConfig(rank=2, epochs=1)).fit(X[:, :0], y)


def test_predict_grid_not_a_sequence():
    X, y = _xy()
    m = FunBaT(FunBaTConfig(rank=2, epochs=1)).fit(X, y)
    with pytest.raises(TypeError, match="grids"):
        m.predict_grid(None)


@pytest.mark.parametrize("name", ["lengthscale", "variance"])
@pytest.mark.parametrize("value", [None, "x"])
def test_matern_sde_types(name, value):
    kw = {"nu": 1.5, "lengthscale": 0.3, "variance": 1.0, name: value}
    with pytest.raises(TypeError, match=name):
        matern_sde(**kw)


@pytest.mark.parametrize(
    "dt, err",
    [
        (torch.tensor([0.1, math.nan], dtype=torch.float64), ValueError),
        (torch.tensor([0.1, math.inf], dtype=torch.float64), ValueError),
        (torch.tensor([0.1, -0.2], dtype=torch.float64), ValueError),
        (torch.ones(2, 2, dtype=torch.float64), ValueError),
        (torch.ones(3, dtype=torch.int64), TypeError),
        (torch.ones(3, dtype=torch.float16), TypeError),
        ([0.1, 0.2], TypeError),
    ],
)
def test_discretise_dt(dt, err):
    with pytest.raises(err, match=r"\bdt\b"):
        discretise(matern_sde(1.5, 0.3), dt)


def test_discretise_sde():
    with pytest.raises(TypeError, match="sde"):
        discretise(None, torch.ones(3, dtype=torch.float64))


def _chain(S=5):
    sde = matern_sde(1.5, 0.3, 1.0)
    A, Q = discretise(sde, torch.full((S,), 0.1, dtype=torch.float64))
    D = sde.dim
    G = torch.zeros(S, D, D, dtype=torch.float64)
    G[:, 0, 0] = 2.0
    g = torch.zeros(S, D, dtype=torch.float64)
    g[:, 0] = 1.0
    return {"A": A, "Q": Q, "P0": sde.Pinf, "G": G, "g": g}


def _nan(x):
    x = x.clone()
    x.view(-1)[-1] = math.nan
    return x


@pytest.mark.parametrize(
    "name, bad, err",
    [
        ("A", lambda x: x[:-1], ValueError),
        ("Q", lambda x: x[0], ValueError),
        ("P0", lambda x: x[:1], ValueError),
        ("G", lambda x: x.float(), TypeError),
        ("g", lambda x: x.long(), TypeError),
        ("A", lambda x: None, TypeError),
        ("P0", _nan, ValueError),
        ("G", _nan, ValueError),
        ("g", _nan, ValueError),
    ],
)
def test_kalman_smoother_arguments(name, bad, err):
    kw = _chain()
    kw[name] = bad(kw[name])
    with pytest.raises(err, match=rf"\b{name}\b"):
        kalman_smoother(**kw)


@pytest.mark.parametrize("fn", [make_rank1_cp, make_tucker3])
@pytest.mark.parametrize(
    "kw, name",
    [
        ({"noise": math.nan}, "noise"),
        ({"noise": math.inf}, "noise"),
        ({"noise": None}, "noise"),
        ({"train_frac": math.nan}, "train_frac"),
        ({"train_frac": "0.5"}, "train_frac"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_synthetic_generators(fn, kw, name):
    with pytest.raises((ValueError, TypeError), match=name):
        fn(n=40, **kw)


@pytest.mark.parametrize("x", [None, np.array([0.1, np.nan])])
def test_tucker3_factors_x(x):
    with pytest.raises((ValueError, TypeError), match=r"\bx\b"):
        tucker3_factors(x, 0)


@pytest.fixture
def csv_file(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("a,b,v\n" + "".join(f"{i % 4},{i % 5},{i * 0.1}\n" for i in range(20)))
    return p


@pytest.mark.parametrize(
    "kw, name, err",
    [
        ({"index_columns": None}, "index_columns", TypeError),
        ({"index_columns": "ab"}, "index_columns", TypeError),
        ({"value_column": None}, "value_column", TypeError),
        ({"index_range": math.inf}, "index_range", ValueError),
        ({"index_range": None}, "index_range", TypeError),
    ],
)
def test_read_table_arguments(csv_file, kw, name, err):
    args = {"index_columns": ["a", "b"], "value_column": "v", **kw}
    with pytest.raises(err, match=name):
        read_table(csv_file, **args)


def test_read_table_directory_and_binary(tmp_path):
    with pytest.raises(ValueError, match="path"):
        read_table(tmp_path, ["a", "b"], "v")
    bad = tmp_path / "b.csv"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n\x00\xff\xfe")
    with pytest.raises(ValueError, match="path"):
        read_table(bad, ["a", "b"], "v")


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"steps": 1.5}, "steps"),
        ({"steps": None}, "steps"),
        ({"lr": math.nan}, "lr"),
        ({"lr": math.inf}, "lr"),
        ({"lr": "0.1"}, "lr"),
        ({"seed": None}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_gp_baseline_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        GPBaseline(**kw)


@pytest.mark.parametrize(
    "kw, name",
    [
        ({"rank": -1}, "rank"),
        ({"rank": 1.5}, "rank"),
        ({"rank": None}, "rank"),
        ({"lr": math.nan}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 1.5}, "batch_size"),
        ({"num_samples": 0}, "num_samples"),
        ({"seed": None}, "seed"),
    ],
)
def test_svi_tucker_arguments(kw, name):
    with pytest.raises(ValueError, match=name):
        SVITucker(**kw)


def test_funbat_config_takes_numpy_scalars_as_python_numbers():
    """NumPy scalars (np.float32 lengthscales, np.int64 ranks) are valid numbers: they used to be
    rejected with "expected finite value(s) > 0" or made ``to_json`` fail."""
    cfg = FunBaTConfig(
        rank=(np.int64(2), np.int32(3)),
        lengthscale=np.float32(0.25),
        variance=(np.float32(1.5), 2.0),
        epochs=np.int64(3),
        init_var=np.float32(0.5),
    )
    assert cfg.rank == (2, 3) and type(cfg.rank[0]) is int
    assert cfg.lengthscale == 0.25 and type(cfg.lengthscale) is float
    assert cfg.variance == (1.5, 2.0) and type(cfg.epochs) is int
    assert FunBaTConfig.from_json(cfg.to_json()) == cfg
    with pytest.raises(TypeError, match="lengthscale"):
        FunBaTConfig(lengthscale="0.3")
    with pytest.raises(ValueError, match="lengthscale"):
        FunBaTConfig(lengthscale=np.float32("nan"))


def test_posterior_factors_accepts_numpy_integer_modes():
    X, y = _xy()
    model = FunBaT(FunBaTConfig(rank=2, epochs=1)).fit(X, y)
    grid = torch.linspace(0, 1, 5, dtype=torch.float64)
    m_np, v_np = model.posterior_factors(np.int64(1), grid)
    m, v = model.posterior_factors(1, grid)
    assert torch.equal(m_np, m) and torch.equal(v_np, v)
    with pytest.raises(ValueError, match="mode"):
        model.posterior_factors(True, grid)


def test_fit_on_indices_that_require_grad_builds_no_graph():
    X, y = _xy()
    ref = FunBaT(FunBaTConfig(rank=2, epochs=2)).fit(X, y).predict(X)
    model = FunBaT(FunBaTConfig(rank=2, epochs=2)).fit(
        X.clone().requires_grad_(True), y.clone().requires_grad_(True)
    )
    pred = model.predict(X.clone().requires_grad_(True))
    assert not pred.requires_grad
    assert torch.equal(pred, ref)


def test_gp_baseline_needs_two_entries():
    X, y = _xy(1)
    with pytest.raises(ValueError, match="at least 2 training entries"):
        GPBaseline(steps=1).fit(X, y)


def test_table_split_leaves_both_splits_non_empty(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("i,j,v\n0,0,1.0\n1,0,2.0\n0,1,3.0\n")
    table = read_table(path, ["i", "j"], "v")
    with pytest.raises(ValueError, match="both splits need at least one"):
        table.split(test_frac=0.1)  # round(0.3) = 0 test entries
    xtr, ytr, xte, yte = table.split(test_frac=0.34)
    assert len(ytr) == 2 and len(yte) == 1
