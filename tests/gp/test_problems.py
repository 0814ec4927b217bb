"""PDE problem descriptions: manufactured sources and bad-input errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import GPHMConfig, GPHMSolver, PDEProblem, get_problem, list_problems


def test_eleven_reference_problems_and_manufactured_sources():
    names = list_problems()
    assert len(names) == 11 and "poisson2d-sin100" in names and "advection2d" in names
    with jax.enable_x64(True):
        p = get_problem("poisson1d-sin100", (50,))
        x = p.axes()[0]
        np.testing.assert_allclose(p.source_values(p.axes()), -1e4 * np.sin(100 * x), atol=1e-8)
        a = get_problem("allencahn1d-sin100", (50,))
        u = np.sin(100 * x)
        np.testing.assert_allclose(a.source_values(a.axes()), -1e4 * u + u * (u**2 - 1), atol=1e-8)
        adv = get_problem("advection2d", (9, 11))
        np.testing.assert_allclose(adv.source_values(adv.axes()), 0.0, atol=1e-9)
        p2 = get_problem("poisson2d-sin6cos20", (7, 8))
        xs, ys = p2.axes()

        def lap1(t):  # d²/dt² sin(6t)cos(20t) = ½(−676 sin 26t + 196 sin 14t)
            return 0.5 * (-676 * np.sin(26 * t) + 196 * np.sin(14 * t))

        ref = lap1(np.asarray(xs))[:, None] + lap1(np.asarray(ys))[None, :]
        np.testing.assert_allclose(p2.source_values(p2.axes()), ref, atol=1e-8)


def _op(F, x):
    return F["u_xx"]


def test_bad_problem_inputs():
    good = {"operator": _op, "fields": ("u_xx",), "exact": lambda x: jnp.sin(x[0])}
    with pytest.raises(ValueError, match="domain"):
        PDEProblem("p", domain=(0.0, 1.0), grid=(10,), **good)
    with pytest.raises(ValueError, match="domain"):
        PDEProblem("p", domain=((1.0, 0.0),), grid=(10,), **good)
    with pytest.raises(ValueError, match="grid"):
        PDEProblem("p", domain=((0.0, 1.0),), grid=(10, 10), **good)
    with pytest.raises(ValueError, match="grid"):
        PDEProblem("p", domain=((0.0, 1.0),), grid=(2,), **good)
    with pytest.raises(ValueError, match="fields"):
        PDEProblem("p", domain=((0.0, 1.0),), grid=(10,), operator=_op, fields=("u_yy",),
                   exact=good["exact"])  # fmt: skip
    with pytest.raises(ValueError, match="source"):
        PDEProblem("p", domain=((0.0, 1.0),), grid=(10,), operator=_op, fields=("u_xx",))
    with pytest.raises(TypeError, match="operator"):
        PDEProblem("p", domain=((0.0, 1.0),), grid=(10,), operator=3, fields=("u_xx",),
                   exact=good["exact"])  # fmt: skip


def test_bad_solver_inputs():
    dom = ((0.0, math.pi),)
    nan_bc = PDEProblem("p", _op, ("u_xx",), dom, (10,), source=lambda x: 0 * x[0],
                        boundary=lambda x: jnp.where(x[0] > 1, jnp.nan, 0.0))  # fmt: skip
    with pytest.raises(ValueError, match="boundary"):
        GPHMSolver(nan_bc)
    wrong = PDEProblem("p", lambda F, x: F["u_xx"][:-1], ("u_xx",), dom, (10,),
                       exact=lambda x: jnp.sin(x[0]))  # fmt: skip
    with pytest.raises(ValueError, match="operator"):
        GPHMSolver(wrong)
    with pytest.raises(TypeError, match="problem"):
        GPHMSolver("poisson1d-sin100")
    with pytest.raises(ValueError, match="path"):
        GPHMConfig(path="newton")
    with pytest.raises(ValueError, match="kind"):
        GPHMConfig(kernel="rbf")
    ok = get_problem("poisson2d-sin6cos20", (8, 8))
    with pytest.raises(ValueError, match="linear_solver"):
        GPHMSolver(ok, GPHMConfig(linear_solver="dense")).solve()
    with pytest.raises(ValueError, match="config"):
        GPHMSolver(ok, GPHMConfig(kernel="stm", nu=0.5))


@pytest.mark.parametrize(
    "bad",
    [
        {"boundary_weight": -5.0},  # made the loss unbounded below: NaN solution
        {"boundary_weight": float("nan")},
        {"rho_init": -1.0},  # log of a negative length-scale: a non-SPD K deep in the solve
        {"rho_init": 0.0},  # log ρ = −inf: a constant kernel, silently
        {"log_tau_init": (float("nan"), 0.0)},  # NaN loss and NaN U
        {"log_tau_init": (1.0,)},  # an opaque scan carry-type error
        {"tau_step": -1.0},
        {"prune_tol": -1.0},
        {"prune_tol": 1.5},  # would switch off every component
        {"time_limit": -1.0},
        {"time_limit": float("nan")},  # never stops: silently ignored
    ],
)
def test_config_rejects_values_that_gave_nan_or_opaque_errors(bad):
    """Each of these used to be accepted: the fast path returned a NaN loss and NaN U (negative or
    NaN λ_b, NaN log τ) or failed far from the cause (ρ <= 0, a 1-element log_tau_init)."""
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        GPHMConfig(**bad)
    from sciml.gp import SpectralKernel

    with pytest.raises(ValueError, match="rho"):
        SpectralKernel("gm", 3).init_params(1.0, rho=-0.5)
    # the accepted edge values still construct
    GPHMConfig(prune_tol=0.0, time_limit=0.0, boundary_weight=1.0, rho_init=0.1,
               log_tau_init=[0.0, 1.0])  # fmt: skip
