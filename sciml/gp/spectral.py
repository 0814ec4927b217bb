"""Spectral-mixture kernels on 1-D factors with closed-form derivative kernels (JAX).

Kinds (``d = x - x'``, each component q with weight ``w_q = exp(log_w_q)``):

* ``"gm"``  Gaussian-mixture spectrum: ``Σ_q w_q exp(-ρ_q² d²) cos(2π μ_q d)``.
* ``"stm"`` Student-t mixture spectrum: ``Σ_q w_q Matérn_ν(d; ρ_q) cos(2π μ_q d)``.
* ``"se"``  squared-exponential baseline: ``Σ_q w_q exp(-ρ_q² d²)``.
* ``"matern"`` Matérn baseline: ``Σ_q w_q Matérn_ν(d; ρ_q)``.

``Matérn_ν(d; ρ)`` uses ``z = sqrt(2ν) ρ`` (ρ an inverse length-scale):
ν=1/2: ``exp(-z|d|)``, ν=3/2: ``(1 + z|d|) exp(-z|d|)``, ν=5/2: ``(1 + z|d| + z²d²/3) exp(-z|d|)``.

Derivatives with respect to the *first* argument (orders 0, 1, 2) are written in closed form as
smooth functions of ``d`` (odd derivatives carry an explicit factor ``d``), so nothing is
differentiated through ``|d|`` at ``d = 0`` (JAX and PyTorch disagree there). A derivative with
respect to the second argument is ``(-1)^b`` times the derivative in ``d`` of total order ``a + b``.

Mixture weights live in the log domain; with no extra prior term this is the Jeffreys prior
``p(w) ∝ 1/w`` of the paper, which drives unneeded components towards zero; components whose weight
falls below ``prune_tol · max_q w_q`` are switched off through the ``active`` mask.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "KERNEL_KINDS",
    "SpectralKernel",
    "kernel_1d",
    "kernel_matrix",
    "kernel_toeplitz",
    "prune_mask",
]

KERNEL_KINDS = ("gm", "stm", "se", "matern")
_NUS = (0.5, 1.5, 2.5)


@dataclass(frozen=True)
class SpectralKernel:
    """Static description of a 1-D mixture kernel.

    Args:
        kind: one of ``"gm"``, ``"stm"``, ``"se"``, ``"matern"``.
        num_components: Q, number of mixture components.
        nu: Matérn smoothness for ``"stm"``/``"matern"`` (1/2, 3/2 or 5/2; paper code: 5/2).
    """

    kind: str = "gm"
    num_components: int = 30
    nu: float = 2.5

    def __post_init__(self) -> None:
        if self.kind not in KERNEL_KINDS:
            raise ValueError(f"kind: expected one of {KERNEL_KINDS}, got {self.kind!r}")
        if not isinstance(self.num_components, int) or self.num_components < 1:
            raise ValueError(
                f"num_components: expected a positive int, got {self.num_components!r}"
            )
        if self.kind in ("stm", "matern") and float(self.nu) not in _NUS:
            raise ValueError(f"nu: expected one of {_NUS}, got {self.nu!r}")

    @property
    def has_cosine(self) -> bool:
        return self.kind in ("gm", "stm")

    @property
    def max_order(self) -> int:
        """Highest derivative order (first argument) available in closed form at d = 0."""
        if self.kind in ("stm", "matern") and self.nu == 0.5:
            return 0
        return 2

    def init_params(
        self, freq_scale: float, rho: float | None = None, max_freq: float | None = None
    ) -> dict:
        """Initial parameters: log w = log(1/Q), μ = linspace(0, 1, Q)·freq_scale, ρ per component.

        ``max_freq`` (cycles per unit, e.g. a fraction of the grid's Nyquist frequency ``1/(2h)``)
        caps the frequency range: ``μ = linspace(0, 1, Q)·min(freq_scale, max_freq)``. Components
        above the Nyquist frequency alias on the grid and make ``K`` nearly white.
        ``rho`` defaults to ``π · Δμ`` (spectral bump width comparable with the spacing of the
        initial frequencies), or ``π · freq_scale`` for the cosine-free baselines.
        Returns a dict of float64 arrays ``log_w``, ``mu``, ``log_rho``, each of shape (Q,).
        """
        q = self.num_components
        if not (math.isfinite(freq_scale) and freq_scale > 0):
            raise ValueError(f"freq_scale: expected a positive finite float, got {freq_scale!r}")
        if max_freq is not None:
            if not (math.isfinite(max_freq) and max_freq > 0):
                raise ValueError(f"max_freq: expected a positive finite float, got {max_freq!r}")
            freq_scale = min(freq_scale, max_freq)
        if rho is not None and not (math.isfinite(rho) and rho > 0):
            raise ValueError(f"rho: expected None or a positive finite float, got {rho!r}")
        if rho is None:
            spacing = freq_scale / max(q - 1, 1)
            rho = math.pi * spacing if self.has_cosine else math.pi * freq_scale / q
        mu = np.linspace(0.0, 1.0, q) * freq_scale if self.has_cosine else np.zeros(q)
        if not self.has_cosine:
            rho = rho * np.linspace(1.0 / q, 1.0, q) * q  # spread length-scales instead
        return {
            "log_w": jnp.full((q,), math.log(1.0 / q), dtype=jnp.float64),
            "mu": jnp.asarray(mu, dtype=jnp.float64),
            "log_rho": jnp.log(jnp.broadcast_to(jnp.asarray(rho, dtype=jnp.float64), (q,))),
        }


def _gauss_env(d, rho, order):
    a = rho**2
    e = jnp.exp(-a * d**2)
    if order == 0:
        return e
    if order == 1:
        return -2.0 * a * d * e
    return (4.0 * a**2 * d**2 - 2.0 * a) * e


def _matern_env(d, rho, nu, order):
    r = jnp.abs(d)
    z = math.sqrt(2.0 * nu) * rho
    e = jnp.exp(-z * r)
    if nu == 0.5:
        if order == 0:
            return e
        raise ValueError("order: Matérn-1/2 is not differentiable at d = 0 (need order 0)")
    if nu == 1.5:
        if order == 0:
            return (1.0 + z * r) * e
        if order == 1:
            return -(z**2) * d * e
        return -(z**2) * (1.0 - z * r) * e
    if order == 0:
        return (1.0 + z * r + (z * r) ** 2 / 3.0) * e
    if order == 1:
        return -(z**2 / 3.0) * d * (1.0 + z * r) * e
    return -(z**2 / 3.0) * (1.0 + z * r - (z * r) ** 2) * e


def _cos_deriv(d, b, order):
    if order == 0:
        return jnp.cos(b * d)
    if order == 1:
        return -b * jnp.sin(b * d)
    return -(b**2) * jnp.cos(b * d)


_BINOM = {0: (1,), 1: (1, 1), 2: (1, 2, 1)}


def _check_spec_params(spec, params, need_spec: bool = True) -> None:
    """Python-level checks (safe under ``jax.jit``): the static kernel and the parameter dict."""
    if need_spec and not isinstance(spec, SpectralKernel):
        raise TypeError(f"spec: expected a SpectralKernel, got {type(spec).__name__}")
    if not isinstance(params, Mapping) or not {"log_w", "log_rho"} <= set(params):
        got = sorted(params) if isinstance(params, Mapping) else type(params).__name__
        raise TypeError(f"params: expected a dict with 'log_w', 'mu', 'log_rho', got {got}")


def _as_points(x, name: str):
    if x is None or isinstance(x, str):
        raise TypeError(f"{name}: expected a 1-D array of points, got {x!r}")
    if isinstance(x, np.ndarray) and x.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a real numeric array, got dtype {x.dtype}")
    return jnp.asarray(x)


def kernel_matrix(
    spec: SpectralKernel,
    params: dict,
    x1,
    x2,
    order: int = 0,
    active=None,
):
    """Kernel matrix or its derivative in the first argument.

    Args:
        spec: the static kernel description.
        params: dict with ``log_w``, ``mu``, ``log_rho`` of shape (Q,).
        x1: points, shape (n1,).  x2: points, shape (n2,).
        order: 0 (k), 1 (∂k/∂x1) or 2 (∂²k/∂x1²).
        active: optional boolean mask (Q,) of components kept after pruning.

    Returns: (n1, n2) array ``∂^order k(x1_i, x2_j) / ∂x1^order``.
    """
    _check_spec_params(spec, params)
    if order not in (0, 1, 2):
        raise ValueError(f"order: expected 0, 1 or 2, got {order!r}")
    if order > spec.max_order:
        raise ValueError(
            f"order: kernel {spec.kind} with nu={spec.nu} supports derivative order "
            f"<= {spec.max_order}, got {order}"
        )
    x1 = _as_points(x1, "x1")
    x2 = _as_points(x2, "x2")
    if x1.ndim != 1 or x2.ndim != 1:
        raise ValueError(f"x1, x2: expected 1-D arrays, got shapes {x1.shape} and {x2.shape}")
    return kernel_1d(spec, params, x1[:, None] - x2[None, :], order, active)


def kernel_toeplitz(spec: SpectralKernel, params: dict, x, order: int = 0, active=None):
    """``kernel_matrix(spec, params, x, x, order)`` for a *uniform* grid ``x`` (n,).

    The kernel is stationary, so the matrix is Toeplitz: it is evaluated at the 2n − 1 distinct
    differences only (O(nQ) transcendental evaluations instead of O(n²Q)) and gathered.
    """
    x = jnp.asarray(x)
    n = x.shape[0]
    if n < 2:  # one point: the only lag is 0 (the spacing (x[-1] − x[0]) / 0 would be NaN)
        return kernel_1d(spec, params, jnp.zeros((n, n), dtype=x.dtype), order, active)
    h = (x[-1] - x[0]) / (n - 1)
    if not isinstance(x, jax.core.Tracer):  # concrete grid: check it (under jit it cannot be)
        xs = np.asarray(x)
        step = np.diff(xs.astype(np.float64))
        # rounding of the stored points: a few ulps of the largest |x| in x's own precision
        tol = 64 * np.finfo(xs.dtype if xs.dtype.kind == "f" else np.float64).eps
        h0 = (float(xs[-1]) - float(xs[0])) / (n - 1)  # h itself may be staged out under jit
        if not np.all(np.abs(step - h0) <= tol * float(np.abs(xs).max())):
            raise ValueError(
                f"x: kernel_toeplitz needs a uniform grid, got spacings in [{step.min():.6g}, "
                f"{step.max():.6g}]; use kernel_matrix for other points"
            )
    lags = jnp.arange(-(n - 1), n)
    vals = kernel_1d(spec, params, lags * h, order, active)
    idx = jnp.arange(n)[:, None] - jnp.arange(n)[None, :] + (n - 1)
    return vals[idx]


# Above this many (difference × component) entries the mixture is summed one component at a time
# (memory O(size of d) instead of O(Q × size of d): XLA does not fuse the component reduction, and
# a 3000 × 3000 second-derivative matrix with Q = 30 took 6.3 GB when vectorised).
VECTORISED_MAX_ENTRIES = 1 << 22


def kernel_1d(
    spec: SpectralKernel,
    params: dict,
    d,
    order: int = 0,
    active=None,
    max_entries: int | None = None,
):
    """``∂^order k / ∂x^order`` as a function of the difference ``d = x − x'`` (any shape).

    ``max_entries`` (default :data:`VECTORISED_MAX_ENTRIES`): when ``d.size × Q`` exceeds it, the
    components are accumulated by a ``lax.scan`` with a rematerialised body (same values and
    gradients, memory of a few arrays of ``d``'s shape, also in reverse mode).
    """
    _check_spec_params(spec, params)
    if order not in (0, 1, 2):
        raise ValueError(f"order: expected 0, 1 or 2, got {order!r}")
    if order > spec.max_order:
        raise ValueError(
            f"order: kernel {spec.kind} with nu={spec.nu} supports derivative order "
            f"<= {spec.max_order}, got {order}"
        )
    d = jnp.asarray(d)
    w = jnp.exp(params["log_w"])
    if active is not None:
        w = jnp.where(active, w, 0.0)
    rho = jnp.exp(params["log_rho"])
    b = 2.0 * math.pi * params["mu"] if spec.has_cosine else jnp.zeros_like(rho)

    def terms(d, rho, b):
        if spec.kind in ("gm", "se"):

            def env(j):
                return _gauss_env(d, rho, j)
        else:

            def env(j):
                return _matern_env(d, rho, float(spec.nu), j)

        if spec.has_cosine:
            return sum(
                c * env(j) * _cos_deriv(d, b, order - j) for j, c in enumerate(_BINOM[order])
            )
        return env(order)

    limit = VECTORISED_MAX_ENTRIES if max_entries is None else max_entries
    if d.size * w.shape[0] <= limit:
        return jnp.sum(w * terms(d[..., None], rho, b), axis=-1)

    @jax.checkpoint
    def one(w_q, rho_q, b_q):
        return w_q * terms(d, rho_q, b_q)

    def step(acc, comp):
        return acc + one(*comp), None

    zero = jnp.zeros(d.shape, dtype=jnp.result_type(d, w))
    acc, _ = jax.lax.scan(step, zero, (w, rho, b))
    return acc


def prune_mask(params: dict, active, tol: float = 1e-6):
    """Switch off components whose weight is below ``tol`` times the largest active weight."""
    _check_spec_params(None, params, need_spec=False)
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating)):
        if not isinstance(tol, jax.Array):  # a traced tolerance is fine
            raise TypeError(f"tol: expected a float >= 0, got {tol!r}")
    elif not (tol >= 0 and math.isfinite(tol)):
        raise ValueError(f"tol: expected a finite float >= 0, got {tol!r}")
    w = jnp.where(active, jnp.exp(params["log_w"]), 0.0)
    return jnp.logical_and(active, w >= tol * jnp.max(w))
