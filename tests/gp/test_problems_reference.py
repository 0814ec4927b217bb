"""The 11 benchmark problems against the reference page's table, with the PDE operator applied to
the stated exact solution symbolically (SymPy), independently of the JAX autodiff that manufactures
the sources in ``sciml.gp.problems``."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sciml.gp import GPHMSolver, PDEProblem, get_problem, list_problems

sp = pytest.importorskip("sympy")

X, Y, Z = sp.symbols("x y z", real=True)
S, C = sp.sin, sp.cos
R = sp.Rational
TWO_PI = 2 * math.pi


def _mix(t):
    return S(t) + R(1, 10) * S(20 * t) + R(1, 20) * S(100 * t)


def _ac2(t):
    return S(t) + R(1, 10) * S(20 * t) + C(100 * t)


# id: (PDE, u*, domain, grid, freq_scale), transcribed from the table of the reference page
# (docs: /work/shared/reference/gphm.md, "Benchmark problems").
TABLE = {
    "poisson1d-sin100": ("poisson", S(100 * X), [(0, TWO_PI)], (400,), 20),
    "poisson1d-xsin200": ("poisson", X * S(200 * X), [(0, TWO_PI)], (900,), 50),
    "poisson1d-sin6cos100": ("poisson", S(6 * X) * C(100 * X), [(0, TWO_PI)], (400,), 20),
    "poisson1d-mix": ("poisson", _mix(X), [(0, 1)], (900,), 30),
    "poisson1d-sin500": ("poisson", S(500 * X) - 2 * (X - R(1, 2)) ** 2, [(0, 1)], (400,), 100),
    "allencahn1d-sin100": ("allencahn", S(100 * X), [(0, TWO_PI)], (400,), 20),
    "allencahn1d-sin6cos100": ("allencahn", S(6 * X) * C(100 * X), [(0, TWO_PI)], (400,), 20),
    "poisson2d-sin100": ("poisson", S(100 * X) * S(100 * Y), [(0, TWO_PI)] * 2, (400, 400), 20),
    "poisson2d-sin6cos20": (
        "poisson", S(6 * X) * C(20 * X) + S(6 * Y) * C(20 * Y), [(0, TWO_PI)] * 2, (200, 200), 20
    ),
    "allencahn2d-mix": ("allencahn", _ac2(X) * _ac2(Y), [(0, 1)] * 2, (400, 400), 30),
    "advection2d": ("advection", S(X - 200 * Y), [(0, 1)] * 2, (200, 200), 40),
}  # fmt: skip


def _apply(pde, u, d):
    syms = (X, Y)[:d]
    lap = sum(sp.diff(u, s, 2) for s in syms)
    if pde == "poisson":
        return lap
    if pde == "allencahn":
        return lap + u * (u**2 - 1)
    return 200 * sp.diff(u, X) + sp.diff(u, Y)


def _on_grid(expr, axes):
    mesh = np.meshgrid(*[np.asarray(a, dtype=np.float64) for a in axes], indexing="ij")
    fn = sp.lambdify((X, Y)[: len(axes)], expr, "numpy")
    return np.broadcast_to(fn(*mesh), mesh[0].shape)


def test_table_matches_the_reference_page():
    assert sorted(list_problems()) == sorted(TABLE)
    for name, (pde, _, domain, grid, fs) in TABLE.items():
        p = get_problem(name)
        np.testing.assert_allclose(np.asarray(p.domain), np.asarray(domain, float), rtol=1e-15)
        assert p.grid == grid, name
        assert p.freq_scale == fs, name
        assert p.boundary_weight == (500.0 if pde == "advection" else 200.0), name
        assert p.linear == (pde != "allencahn"), name


@pytest.mark.parametrize("name", sorted(TABLE))
def test_source_is_the_operator_of_the_exact_solution(name):
    """f = L[u*] (SymPy) on a small grid of the stated domain, g = u* = the exact values; the grid
    spans the domain (uniform, end points included)."""
    pde, u, domain, _, _ = TABLE[name]
    d = len(domain)
    grid = (41,) if d == 1 else (13, 17)
    p = get_problem(name, grid)
    axes = p.axes()
    for a, (lo, hi), n in zip(axes, domain, grid):  # uniform, end points included
        a = np.asarray(a)
        assert a.dtype == np.float64 and a.shape == (n,)
        assert a[0] == lo and a[-1] == pytest.approx(hi, rel=1e-15, abs=0)
        np.testing.assert_allclose(np.diff(a), (hi - lo) / (n - 1), rtol=1e-12)
    f_ref = _on_grid(_apply(pde, u, d), axes)
    u_ref = _on_grid(u, axes)
    scale = max(np.abs(f_ref).max(), 200.0)  # advection: f = 0 from two terms of size 200
    np.testing.assert_allclose(np.asarray(p.source_values(axes)), f_ref, atol=1e-13 * scale)
    np.testing.assert_allclose(np.asarray(p.exact_values(axes)), u_ref, atol=1e-14)
    np.testing.assert_allclose(np.asarray(p.boundary_values(axes)), u_ref, atol=1e-14)


def test_solver_uses_the_data_on_the_whole_boundary():
    """The solver's boundary set is every grid point with some coordinate at lo or hi, and its g
    and f are u* and L[u*] there (2-D, the first-order advection problem)."""
    pde, u, domain, _, _ = TABLE["advection2d"]
    p = get_problem("advection2d", (9, 11))
    solver = GPHMSolver(p)
    xs, ys = (np.asarray(a) for a in p.axes())
    border = np.isin(xs, domain[0])[:, None] | np.isin(ys, domain[1])[None, :]
    np.testing.assert_array_equal(solver.bmask_np, border)
    u_ref = _on_grid(u, p.axes())
    np.testing.assert_allclose(np.asarray(solver.g)[border], u_ref[border], atol=1e-14)
    np.testing.assert_allclose(np.asarray(solver.f), 0.0, atol=1e-10)


def test_problem_data_are_float64_without_global_x64():
    """Outside ``jax.enable_x64`` the problem's public evaluators returned float32 arrays: the exact
    solution of poisson1d-xsin200 (sin(200x) up to x = 2π) was off by 1e-4 relative, 100× the
    published errors the benchmark compares with."""
    p = get_problem("poisson1d-xsin200")
    x = np.linspace(0.0, TWO_PI, 300)
    u_ref = x * np.sin(200 * x)
    f_ref = 400 * np.cos(200 * x) - 40000 * x * np.sin(200 * x)
    with jax.enable_x64(False):  # JAX's default (the test suite turns x64 on globally)
        axes = p.axes((300,))
        got_all = [
            (p.exact_values(axes), u_ref),
            (p.boundary_values(axes), u_ref),
            (p.source_values(axes), f_ref),
            (p.exact_fields(axes)["u_xx"], f_ref),
        ]
    assert np.asarray(axes[0]).dtype == np.float64
    for got, ref in got_all:
        got = np.asarray(got)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, ref, atol=1e-11 * np.abs(ref).max())


def test_manufactured_fields_3d_mixed_derivatives():
    """Manufactured fields of a 3-D user problem (first, second and mixed derivatives; no built-in
    problem has a mixed one) and its source, by autodiff, against SymPy."""
    u = S(2 * X + Y) * sp.exp(R(3, 10) * Z) * C(X * Y) + X**2 * Z
    names = ("u", "u_z", "u_xy", "u_yz", "u_zz")
    p = PDEProblem(
        "mixed3d",
        operator=lambda F, x: F["u_xy"] + F["u_zz"],
        fields=names,
        domain=((0.0, 1.0), (-1.0, 2.0), (0.5, 1.5)),
        grid=(4, 5, 6),
        exact=lambda x: (
            jnp.sin(2 * x[0] + x[1]) * jnp.exp(0.3 * x[2]) * jnp.cos(x[0] * x[1]) + x[0] ** 2 * x[2]
        ),
    )
    axes = p.axes()
    F = p.exact_fields(axes)
    mesh = np.meshgrid(*[np.asarray(a) for a in axes], indexing="ij")
    for name in names:
        e = u
        for ch in name[2:]:
            e = sp.diff(e, {"x": X, "y": Y, "z": Z}[ch])
        ref = np.broadcast_to(sp.lambdify((X, Y, Z), e, "numpy")(*mesh), mesh[0].shape)
        np.testing.assert_allclose(np.asarray(F[name]), ref, atol=1e-13 * max(1, np.abs(ref).max()))
    lap = sp.diff(u, X, Y) + sp.diff(u, Z, 2)
    ref = sp.lambdify((X, Y, Z), lap, "numpy")(*mesh)
    np.testing.assert_allclose(np.asarray(p.source_values(axes)), ref, atol=1e-12)
