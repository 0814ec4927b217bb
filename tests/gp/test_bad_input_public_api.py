"""Bad input at the public sciml.gp entry points (Python-level configuration only)."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import (
    GPHMConfig,
    GPHMSolver,
    PDEProblem,
    SpectralKernel,
    kernel_matrix,
    parse_field,
    prune_mask,
    spectral_density,
)
from tests.gp._problems import small_helmholtz

SPEC = SpectralKernel("gm", 3)
PARAMS = {"log_w": jnp.zeros(3), "mu": jnp.linspace(0.0, 1.0, 3), "log_rho": jnp.zeros(3)}


@pytest.mark.parametrize("kernel", ["rbf", None])
def test_config_kernel_named(kernel):
    with pytest.raises(ValueError, match="kernel") as e:
        GPHMConfig(kernel=kernel)
    assert "kind" in str(e.value)  # the earlier wording stays


@pytest.mark.parametrize("ndim", [0, -1, 4, 1.5, None, "2"])
def test_parse_field_ndim(ndim):
    with pytest.raises(ValueError, match="ndim"):
        parse_field("u_xx", ndim)


@pytest.mark.parametrize("name", ["freq_scale", "boundary_weight"])
@pytest.mark.parametrize("value", [None, "x"])
def test_problem_float_fields(name, value):
    p = small_helmholtz((6,))
    kw = {
        "name": p.name, "operator": p.operator, "fields": p.fields, "domain": p.domain,
        "grid": p.grid, "exact": p.exact, name: value,
    }  # fmt: skip
    with pytest.raises(TypeError, match=name):
        GPHMSolver(PDEProblem(**kw), GPHMConfig(num_components=3))


@pytest.mark.parametrize(
    "args, name",
    [
        ((None, PARAMS, np.zeros(3), np.zeros(3)), "spec"),
        ((SPEC, None, np.zeros(3), np.zeros(3)), "params"),
        ((SPEC, {"mu": jnp.zeros(3)}, np.zeros(3), np.zeros(3)), "params"),
        ((SPEC, PARAMS, None, np.zeros(3)), "x1"),
        ((SPEC, PARAMS, np.zeros(3), np.array(["a", "b"])), "x2"),
    ],
)
def test_kernel_matrix_arguments(args, name):
    with pytest.raises(TypeError, match=name):
        kernel_matrix(*args)


@pytest.mark.parametrize(
    "args, name, err",
    [
        ((None, PARAMS, np.zeros(3)), "spec", TypeError),
        ((SPEC, None, np.zeros(3)), "params", TypeError),
        ((SPEC, PARAMS, None), "freqs", TypeError),
        ((SPEC, PARAMS, np.zeros((2, 3))), "freqs", ValueError),
    ],
)
def test_spectral_density_arguments(args, name, err):
    with pytest.raises(err, match=name):
        spectral_density(*args)


@pytest.mark.parametrize(
    "tol, err", [(None, TypeError), ("1e-6", TypeError), (math.nan, ValueError), (-1.0, ValueError)]
)
def test_prune_mask_tol(tol, err):
    with pytest.raises(err, match="tol"):
        prune_mask(PARAMS, jnp.ones(3, bool), tol)


def test_prune_mask_params():
    with pytest.raises(TypeError, match="params"):
        prune_mask(None, jnp.ones(3, bool))
