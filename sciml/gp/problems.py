"""PDE problem descriptions on box grids, and the 11 benchmark problems of GP-HM.

A problem is the PDE operator ``L[u](x)`` written in terms of named *fields* (the solution and its
partial derivatives on the grid), the box domain, the number of grid points per dimension, the
source ``f`` and the boundary data ``g``. The residual minimised by the solver is
``H(u) = L[u] - f`` at every grid point; the boundary term compares ``u`` with ``g`` on the whole
boundary of the grid (the two end points in 1-D).

Field names: ``"u"`` and ``"u_"`` followed by one letter per derivative from ``x``, ``y``, ``z``
(dimension 0, 1, 2), at most second order per dimension, e.g. ``"u_x"``, ``"u_xx"``, ``"u_yy"``,
``"u_xy"``.

User-defined problem (the library entry point for simulation codes)::

    prob = PDEProblem(
        name="my-helmholtz",
        operator=lambda F, x: F["u_xx"] + F["u_yy"] + 4.0 * F["u"],
        fields=("u", "u_xx", "u_yy"),
        domain=((0.0, 1.0), (0.0, 1.0)),
        grid=(64, 64),
        source=lambda x: jnp.zeros_like(x[0]),
        boundary=lambda x: jnp.sin(2 * x[0]),
        linear=True,
    )

or pass ``exact=u*`` (a scalar function of a coordinate tuple, JAX-traceable) and the source and
boundary data are manufactured from it by automatic differentiation.

Float64: :meth:`PDEProblem.axes`, ``exact_fields``, ``source_values``, ``boundary_values`` and
``exact_values`` run inside ``jax.enable_x64(True)`` (as every public entry point of
:mod:`sciml.gp`) and return float64 arrays whatever the global JAX config; the coordinates passed
in are cast to float64 first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["PDEProblem", "PROBLEMS", "get_problem", "list_problems", "parse_field"]

_AXES = "xyz"


def parse_field(name: str, ndim: int) -> tuple[int, ...]:
    """Derivative orders per dimension for a field name, e.g. ``"u_xy"`` → ``(1, 1)``."""
    if not isinstance(name, str) or not (name == "u" or name.startswith("u_")):
        raise ValueError(f"fields: expected 'u' or 'u_<x|y|z>...', got {name!r}")
    if isinstance(ndim, bool) or not isinstance(ndim, (int, np.integer)) or not 1 <= ndim <= 3:
        raise ValueError(f"ndim: expected an int in [1, {len(_AXES)}], got {ndim!r}")
    orders = [0] * ndim
    for ch in name[2:]:
        k = _AXES.find(ch)
        if k < 0 or k >= ndim:
            raise ValueError(
                f"fields: {name!r} names axis {ch!r}, but the problem has {ndim} dimension(s) "
                f"({_AXES[:ndim]!r})"
            )
        orders[k] += 1
    if max(orders) > 2:
        raise ValueError(f"fields: {name!r} asks for more than 2 derivatives in one dimension")
    if name != "u" and sum(orders) == 0:
        raise ValueError(f"fields: {name!r} has no derivative letters")
    return tuple(orders)


@dataclass(frozen=True)
class PDEProblem:
    """A PDE on a box grid.

    Args:
        name: identifier.
        operator: ``operator(fields, x) -> L[u]`` with ``fields`` a mapping name → array of grid shape
            ``(n_1, ..., n_d)`` and ``x`` a tuple of ``d`` coordinate arrays broadcastable to it.
            Must be JAX-traceable; affine in the fields if ``linear=True``.
        fields: the field names the operator reads.
        domain: ``((lo_1, hi_1), ..., (lo_d, hi_d))``, d ∈ {1, 2, 3}.
        grid: points per dimension ``(n_1, ..., n_d)``, each ≥ 3 (uniform, end points included).
        source: ``f(x) -> array`` of grid shape; if None, manufactured from ``exact``.
        boundary: ``g(x) -> array`` evaluated on the grid (only boundary points are used);
            if None, taken from ``exact``.
        exact: optional exact solution ``u*(x)`` of a coordinate tuple (scalar per point).
        linear: True if ``operator`` is affine in the fields (enables the exact quadratic solve).
        freq_scale: upper end of the initial mixture frequencies (cycles per unit length).
        boundary_weight: λ_b of the loss (paper: 200; 500 for advection).
    """

    name: str
    operator: Callable[[Mapping[str, jax.Array], tuple], jax.Array]
    fields: tuple[str, ...]
    domain: tuple[tuple[float, float], ...]
    grid: tuple[int, ...]
    source: Callable | None = None
    boundary: Callable | None = None
    exact: Callable | None = None
    linear: bool = True
    freq_scale: float = 20.0
    boundary_weight: float = 200.0

    def __post_init__(self) -> None:
        dom = np.asarray(self.domain, dtype=float) if _is_seq(self.domain) else None
        if dom is None or dom.ndim != 2 or dom.shape[1] != 2 or not 1 <= dom.shape[0] <= 3:
            raise ValueError(
                f"domain: expected ((lo, hi), ...) for 1 to 3 dimensions, got {self.domain!r}"
            )
        if not np.all(np.isfinite(dom)) or np.any(dom[:, 1] <= dom[:, 0]):
            raise ValueError(f"domain: expected finite lo < hi per dimension, got {self.domain!r}")
        if not _is_seq(self.grid) or len(self.grid) != dom.shape[0]:
            raise ValueError(
                f"grid: expected {dom.shape[0]} point counts (one per domain dimension), "
                f"got {self.grid!r}"
            )
        for n in self.grid:
            if not isinstance(n, (int, np.integer)) or n < 3:
                raise ValueError(f"grid: expected integers >= 3, got {self.grid!r}")
        if not callable(self.operator):
            raise TypeError(f"operator: expected a callable, got {type(self.operator).__name__}")
        if isinstance(self.fields, str) or not _is_seq(self.fields) or len(self.fields) == 0:
            raise ValueError(f"fields: expected a non-empty tuple of names, got {self.fields!r}")
        for f in self.fields:
            parse_field(f, dom.shape[0])
        if self.source is None and self.exact is None:
            raise ValueError("source: give a source f(x) or an exact solution to manufacture it")
        if self.boundary is None and self.exact is None:
            raise ValueError("boundary: give boundary data g(x) or an exact solution")
        for name in ("freq_scale", "boundary_weight"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)):
                raise TypeError(f"{name}: expected a positive float, got {v!r}")
        if not (math.isfinite(self.freq_scale) and self.freq_scale > 0):
            raise ValueError(f"freq_scale: expected a positive float, got {self.freq_scale!r}")
        if not (math.isfinite(self.boundary_weight) and self.boundary_weight > 0):
            raise ValueError(
                f"boundary_weight: expected a positive float, got {self.boundary_weight!r}"
            )
        object.__setattr__(self, "domain", tuple((float(a), float(b)) for a, b in dom))
        object.__setattr__(self, "grid", tuple(int(n) for n in self.grid))
        object.__setattr__(self, "fields", tuple(self.fields))

    @property
    def ndim(self) -> int:
        return len(self.grid)

    def axes(self, grid: tuple[int, ...] | None = None) -> list[jax.Array]:
        """Uniform 1-D coordinate arrays per dimension (end points included), float64."""
        grid = self.grid if grid is None else grid
        with jax.enable_x64(True):
            return [jnp.linspace(lo, hi, n) for (lo, hi), n in zip(self.domain, grid)]

    def mesh(self, axes) -> tuple:
        """Coordinate tuple broadcastable to the grid shape (open mesh, 'ij' indexing)."""
        d = len(axes)
        return tuple(
            jnp.reshape(a, tuple(-1 if i == k else 1 for i in range(d))) for k, a in enumerate(axes)
        )

    def exact_fields(self, axes) -> dict[str, jax.Array]:
        """The exact solution's fields on a grid by automatic differentiation (needs ``exact``)."""
        if self.exact is None:
            raise ValueError("exact: this problem has no exact solution")
        with jax.enable_x64(True):
            return self._exact_fields(_f64(axes))

    def _exact_fields(self, axes) -> dict[str, jax.Array]:
        d = len(axes)
        full = [jnp.broadcast_to(m, tuple(len(a) for a in axes)) for m in self.mesh(axes)]
        pts = jnp.stack([f.ravel() for f in full], axis=-1)  # (N, d)

        def u_of(p):
            return self.exact(tuple(p[i] for i in range(d)))

        out = {}
        for name in set(self.fields) | {"u"}:
            orders = parse_field(name, d)
            fn = u_of
            for k, a in enumerate(orders):
                for _ in range(a):
                    fn = _partial(fn, k)
            out[name] = jax.vmap(fn)(pts).reshape(full[0].shape)
        return out

    def source_values(self, axes) -> jax.Array:
        """f on the grid, shape (n_1, ..., n_d), float64."""
        with jax.enable_x64(True):
            axes = _f64(axes)
            shape = tuple(len(a) for a in axes)
            x = self.mesh(axes)
            if self.source is not None:
                f = jnp.broadcast_to(jnp.asarray(self.source(x), dtype=jnp.float64), shape)
            else:
                f = self.operator(self._exact_fields(axes), x)
                f = jnp.broadcast_to(jnp.asarray(f, dtype=jnp.float64), shape)
            return f

    def boundary_values(self, axes) -> jax.Array:
        """g on the grid, shape (n_1, ..., n_d), float64 (only boundary entries are used)."""
        with jax.enable_x64(True):
            axes = _f64(axes)
            shape = tuple(len(a) for a in axes)
            x = self.mesh(axes)
            fn = self.boundary if self.boundary is not None else self.exact
            return jnp.broadcast_to(jnp.asarray(fn(x), dtype=jnp.float64), shape)

    def exact_values(self, axes) -> jax.Array:
        """u* on the grid, shape (n_1, ..., n_d), float64."""
        if self.exact is None:
            raise ValueError("exact: this problem has no exact solution")
        with jax.enable_x64(True):
            axes = _f64(axes)
            shape = tuple(len(a) for a in axes)
            return jnp.broadcast_to(
                jnp.asarray(self.exact(self.mesh(axes)), dtype=jnp.float64), shape
            )

    def with_grid(self, grid: tuple[int, ...]) -> PDEProblem:
        """The same problem on another grid."""
        import dataclasses

        return dataclasses.replace(self, grid=tuple(grid))


def _f64(axes) -> list[jax.Array]:
    """Coordinate arrays as float64 (call inside ``jax.enable_x64(True)``)."""
    return [jnp.asarray(a, dtype=jnp.float64) for a in axes]


def _is_seq(x) -> bool:
    return isinstance(x, (tuple, list, np.ndarray))


def _partial(fn, k):
    def g(p):
        return jax.grad(fn)(p)[k]

    return g


# --------------------------------------------------------------------------------------------
# The 11 benchmark problems of the reference page
# --------------------------------------------------------------------------------------------
_TWO_PI = 2.0 * math.pi


def _poisson(F, x):
    return sum(F[f"u_{a}{a}"] for a in _AXES[: len(x)])


def _allen_cahn(F, x):
    return _poisson(F, x) + F["u"] * (F["u"] ** 2 - 1.0)


def _advection(F, x):
    return 200.0 * F["u_x"] + F["u_y"]


def _lap_fields(d):
    return tuple(f"u_{a}{a}" for a in _AXES[:d])


def _mix1(t):
    return jnp.sin(t) + 0.1 * jnp.sin(20 * t) + 0.05 * jnp.sin(100 * t)


def _ac2_1(t):
    return jnp.sin(t) + 0.1 * jnp.sin(20 * t) + jnp.cos(100 * t)


def _make_problems() -> dict[str, PDEProblem]:
    s = jnp.sin
    c = jnp.cos
    p1 = {"operator": _poisson, "fields": _lap_fields(1), "linear": True}
    a1 = {"operator": _allen_cahn, "fields": ("u",) + _lap_fields(1), "linear": False}
    p2 = {"operator": _poisson, "fields": _lap_fields(2), "linear": True}
    a2 = {"operator": _allen_cahn, "fields": ("u",) + _lap_fields(2), "linear": False}
    d1 = ((0.0, _TWO_PI),)
    u1 = ((0.0, 1.0),)
    d2 = ((0.0, _TWO_PI), (0.0, _TWO_PI))
    u2 = ((0.0, 1.0), (0.0, 1.0))
    probs = [
        PDEProblem("poisson1d-sin100", **p1, domain=d1, grid=(400,), freq_scale=20,
                   exact=lambda x: s(100 * x[0])),
        PDEProblem("poisson1d-xsin200", **p1, domain=d1, grid=(900,), freq_scale=50,
                   exact=lambda x: x[0] * s(200 * x[0])),
        PDEProblem("poisson1d-sin6cos100", **p1, domain=d1, grid=(400,), freq_scale=20,
                   exact=lambda x: s(6 * x[0]) * c(100 * x[0])),
        PDEProblem("poisson1d-mix", **p1, domain=u1, grid=(900,), freq_scale=30,
                   exact=lambda x: _mix1(x[0])),
        PDEProblem("poisson1d-sin500", **p1, domain=u1, grid=(400,), freq_scale=100,
                   exact=lambda x: s(500 * x[0]) - 2 * (x[0] - 0.5) ** 2),
        PDEProblem("allencahn1d-sin100", **a1, domain=d1, grid=(400,), freq_scale=20,
                   exact=lambda x: s(100 * x[0])),
        PDEProblem("allencahn1d-sin6cos100", **a1, domain=d1, grid=(400,), freq_scale=20,
                   exact=lambda x: s(6 * x[0]) * c(100 * x[0])),
        PDEProblem("poisson2d-sin100", **p2, domain=d2, grid=(400, 400), freq_scale=20,
                   exact=lambda x: s(100 * x[0]) * s(100 * x[1])),
        PDEProblem("poisson2d-sin6cos20", **p2, domain=d2, grid=(200, 200), freq_scale=20,
                   exact=lambda x: s(6 * x[0]) * c(20 * x[0]) + s(6 * x[1]) * c(20 * x[1])),
        PDEProblem("allencahn2d-mix", **a2, domain=u2, grid=(400, 400), freq_scale=30,
                   exact=lambda x: _ac2_1(x[0]) * _ac2_1(x[1])),
        PDEProblem("advection2d", operator=_advection, fields=("u_x", "u_y"), linear=True,
                   domain=u2, grid=(200, 200), freq_scale=40, boundary_weight=500.0,
                   exact=lambda x: s(x[0] - 200 * x[1])),
    ]  # fmt: skip
    return {p.name: p for p in probs}


PROBLEMS: dict[str, PDEProblem] = _make_problems()


def list_problems() -> list[str]:
    """Names of the built-in benchmark problems."""
    return list(PROBLEMS)


def get_problem(name: str, grid: tuple[int, ...] | None = None) -> PDEProblem:
    """A built-in problem by name, optionally on another grid."""
    if name not in PROBLEMS:
        raise ValueError(f"name: expected one of {list(PROBLEMS)}, got {name!r}")
    p = PROBLEMS[name]
    return p if grid is None else p.with_grid(grid)
