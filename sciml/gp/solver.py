"""GP-HM solver: a spectral-mixture GP prior on the solution over a Kronecker grid, fitted to the
boundary data and the PDE residual (Fang et al., ICLR 2024), in JAX float64.

Loss (minimised over the grid values ``U``, the kernel parameters θ and the precisions τ):

    ½ log|C| + ½ vec(U)ᵀ C⁻¹ vec(U)
    − λ_b [½ N_b log τ_1 − ½ τ_1 ‖U_∂ − g‖²] − [½ N_c log τ_2 − ½ τ_2 ‖H(U)‖²]

(``value_field="predictor"``: ``U_∂`` and the field ``u`` in ``H`` are the GP mean at the nodes,
``⊗(I − jitter·K_i⁻¹) U``, instead of ``U``; see :class:`GPHMConfig`.)

with ``C = ⊗ K_i``, ``H`` the PDE residual at the collocation points, evaluated with the derivative
operators ``K_i^(a) K_i⁻¹`` (mode products), and ``U_∂`` the values on the boundary of the grid
(``N_b`` points). ``collocation="all"`` (default, the reference code) puts the residual on every grid
point (``N_c = N``); ``"interior"`` only on interior points (``N_c = N − N_b``).

Two paths, same model and loss:

* ``path="faithful"``: Adam (lr 0.01) on ``U``, θ and ``log τ`` jointly, as published.
* ``path="fast"``: block coordinate descent. For fixed θ and τ the loss is quadratic in ``U`` for a
  linear PDE: its minimiser solves ``(C⁻¹ + λ_b τ_1 S + τ_2 JᵀJ) U = λ_b τ_1 S g + τ_2 Jᵀ(f − H(0))``
  (``S`` the boundary selector, ``J`` the residual's Jacobian, obtained with ``jax.linearize``). It
  is solved exactly in 1-D (QR least squares on the stacked square-root system, all matrices n × n)
  and by preconditioned CG with Kronecker/mode-product matvecs for d ≥ 2. For a nonlinear PDE
  (Allen–Cahn) the same solve is a Gauss–Newton step (``gn_iters`` per round). Then
  ``log τ`` moves towards its closed-form optimum ``τ = N / ‖r‖²`` by at most ``tau_step``
  (``tau_update="closed"``; or Adam steps with θ, ``"adam"``), then θ takes ``theta_steps`` Adam
  steps on the loss with ``U`` and τ fixed (at the ``U``-optimum this is the gradient of the
  profile loss), or (``theta_update="profiled"``) every θ step re-solves ``U`` first (dense in 1-D;
  warm-started PCG for d ≥ 2) and follows the envelope gradient of the profiled loss. The final
  iterate is returned, or (``select="holdout"``) the round with the smallest PDE residual on
  held-out collocation points; never selected on test data.

PCG preconditioner (``precond``): ``P = E diag(p) Eᵀ`` with ``E = ⊗ E_i`` orthogonal per-factor bases
and ``p`` the exact diagonal of ``Eᵀ M E`` for the Kronecker part of ``M`` (prior term
``⊗ diag(E_iᵀK_i⁻¹E_i)``, boundary term ``1 − ⊗ (m_iᵀ E_i²)``, residual term from the per-field
constant coefficients (grid means, probed with ``jax.jvp``) as a sum of Kronecker products of
column inner products). ``"slice"`` (default): ``E_i`` diagonalises the 1-D normal matrix along
dimension ``i``; ``"operator"``: right singular vectors of the highest derivative operator;
``"spectral"``: eigenvectors of ``K_i``; ``"jacobi"``: ``E_i = I``. Applying ``P⁻¹`` costs two
multi-mode products; building it O(Σ n_i³).
``"geig"``: block preconditioner — boundary points by the exact diagonal of ``M``; the interior
block ``M_II = ⊗(K_i⁻¹)_II + τ₂ L_IIᵀL_II`` (a Kronecker structure again on the interior grid) by
``W diag(Wᵀ M_II W)⁻¹ Wᵀ`` with ``W = ⊗ W_i`` non-orthogonal: ``W_i`` are the generalised
eigenvectors of the 1-D pencil (``X_iᵀX_i``, ``(K_i⁻¹)_II``), ``X_i`` the highest derivative
operator of dimension ``i`` restricted to the collocation rows and interior columns, so the prior
block is whitened exactly (``W_iᵀ(K_i⁻¹)_II W_i = I``) and ``X_iᵀX_i`` is diagonal; the cross
terms of the operator enter through their diagonal only.
``cg_norm="preconditioned"`` stops PCG on ``‖r‖_{P⁻¹} ≤ tol ‖b‖_{P⁻¹}``: the plain residual rule
(default ``"residual"``) is dominated by the boundary rows once ``λ_b τ_1`` is ~1e18 and can stop
with the interior equations unsolved.

Float64: every public entry point runs inside ``jax.enable_x64(True)``; the global JAX config is not
changed. Arrays returned are float64 JAX arrays.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np

from sciml.kernels import multi_mode_product

from ._adam import adam_init, adam_update
from ._pcg import pcg
from .kron_gp import (
    apply_field,
    build_factors,
    field_orders,
    grid_fields,
    predict_grid,
    predict_points,
    prior_logdet,
    prior_quad,
    prior_solve,
)
from .problems import PDEProblem, parse_field
from .spectral import KERNEL_KINDS, SpectralKernel, _check_spec_params, prune_mask

__all__ = ["GPHMConfig", "GPHMSolution", "GPHMSolver"]


def _is_real(v) -> bool:
    """A real number (Python or NumPy scalar), not a bool."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


_PATHS = ("fast", "faithful")
_PRECONDS = ("slice", "geig", "operator", "spectral", "jacobi", "none")


@dataclass(frozen=True)
class GPHMConfig:
    """Configuration (defaults: the paper's / reference code's where they exist).

    Model: ``kernel`` ('gm', 'stm', 'se', 'matern'), ``num_components`` Q = 30, ``nu`` = 5/2 (StM),
    ``jitter`` 1e-6 on each K_i, ``rho_init`` (None: π × initial frequency spacing),
    ``boundary_weight`` (None: the problem's λ_b).
    Faithful path: ``steps`` Adam steps (paper: 1e5 – 3e6), ``lr`` = 0.01, run and recorded in
    chunks of ``log_every`` (the last chunk takes the remainder).
    Fast path: ``outer_iters`` rounds of (U-solve, τ update, ``theta_steps`` Adam steps on θ with
    ``theta_lr``, decaying geometrically to ``theta_lr_final`` over the rounds if that is set);
    ``gn_iters`` Gauss–Newton steps per round for nonlinear PDEs;
    ``linear_solver`` 'auto' (dense in 1-D, PCG otherwise), 'dense' or 'pcg'; ``precond`` for PCG;
    ``cg_tol``, ``cg_maxiter``; ``tau_max`` caps the closed-form τ.
    Both: ``prune_tol`` (components with weight below prune_tol × max weight are switched off;
    0 disables), ``log_every`` (history interval in steps / rounds), ``time_limit`` seconds (None: no
    limit); ``nyquist_frac`` (initial frequencies ≤ nyquist_frac × the Nyquist frequency 1/(2h) of
    each factor grid, learned ones projected into ±Nyquist; None: the paper's init, no projection);
    ``collocation`` ('all': residual on every grid point as the reference code, 'interior').
    Fast-path θ objective: ``theta_objective`` 'joint' (the full loss with U, τ fixed) or
    'marginal' (½log|C| + ½UᵀC⁻¹U, the evidence of the current U); ``theta_warmup`` marginal-
    likelihood Adam steps after the first U-solve. ``theta_update`` 'block' (Adam steps on θ with
    U fixed between U-solves) or 'profiled' (every θ step re-solves U — the exact dense solve in
    1-D, PCG warm-started at the previous U with at most ``profiled_cg_maxiter`` iterations for
    d ≥ 2, ``gn_iters`` Gauss–Newton steps for nonlinear PDEs — and takes the gradient at U*(θ),
    which by the envelope theorem is the gradient of the profiled loss min_U L(U, θ, τ); τ moves to
    its closed form after every step (``profiled_tau='step'``) or only after each round's U-solve
    ('round')). ``tau_damping`` η ∈ (0, 1]: after the first round, every closed-form τ update
    moves log τ only η of the way to its target (1: undamped).
    Selection: ``holdout_points`` m > 0 draws an m-per-dimension random tensor grid of held-out
    collocation points off the training grid (seed ``holdout_seed``) and records the PDE residual
    r of the predictor there, relative to the source f: ``holdout_norm`` 'residual' (RMS(r)/RMS(f))
    or 'inverse_laplacian' (‖Δ_h⁻¹r‖/‖Δ_h⁻¹f‖, Δ_h the finite-difference Dirichlet Laplacian on the
    held-out grid; the points then lie in distinct cells, at most n_i − 1 per dimension; this norm
    weights an error component of wavenumber k like the error itself instead of by k²);
    ``select`` 'final' (report the final iterate) or 'holdout' (the history point with the
    smallest held-out value). Never uses test points or the exact solution;
    ``history['selection']`` / ``['selected_step']`` record the choice.
    Value field: ``value_field`` 'grid' (the paper: the field ``u`` in the residual and the
    boundary term use the grid values ``U``) or 'predictor' (they use the GP mean at the nodes,
    ``⊗(I − jitter·K_i⁻¹) U`` — what :meth:`GPHMSolution.predict` returns there — so the boundary
    data constrain the returned solution and every field of the residual comes from one function;
    the derivative fields are the predictor's in both modes).
    """

    kernel: str = "gm"
    num_components: int = 30
    nu: float = 2.5
    jitter: float = 1e-6
    rho_init: float | None = None
    boundary_weight: float | None = None
    path: str = "fast"
    steps: int = 100_000
    lr: float = 0.01
    outer_iters: int = 30
    theta_steps: int = 20
    theta_lr: float = 0.05
    theta_lr_final: float | None = None
    gn_iters: int = 3
    linear_solver: str = "auto"
    precond: str = "slice"
    cg_tol: float = 1e-12
    cg_maxiter: int = 2000
    cg_norm: str = "residual"
    tau_max: float = 1e16
    prune_tol: float = 1e-8
    log_every: int = 100
    time_limit: float | None = None
    learn_kernel: bool = True
    learn_tau: bool = True
    log_tau_init: tuple[float, float] = (0.0, 0.0)
    tau_update: str = "closed"
    collocation: str = "all"
    tau_step: float = 1000.0
    tau_damping: float = 1.0
    nyquist_frac: float | None = 0.8
    theta_objective: str = "joint"
    theta_update: str = "block"
    profiled_tau: str = "step"
    profiled_cg_maxiter: int = 100
    theta_warmup: int = 0
    holdout_points: int = 0
    holdout_seed: int = 0
    holdout_norm: str = "residual"
    select: str = "final"
    value_field: str = "grid"

    def __post_init__(self) -> None:
        if not isinstance(self.kernel, str) or self.kernel not in KERNEL_KINDS:
            raise ValueError(
                f"kernel: expected one of {KERNEL_KINDS} (the spectral kernel kind), "
                f"got {self.kernel!r}"
            )
        SpectralKernel(self.kernel, self.num_components, self.nu)  # validates
        if self.path not in _PATHS:
            raise ValueError(f"path: expected one of {_PATHS}, got {self.path!r}")
        if self.precond not in _PRECONDS:
            raise ValueError(f"precond: expected one of {_PRECONDS}, got {self.precond!r}")
        if self.collocation not in ("interior", "all"):
            raise ValueError(f"collocation: expected 'interior' or 'all', got {self.collocation!r}")
        if self.theta_objective not in ("joint", "marginal"):
            raise ValueError(
                f"theta_objective: expected 'joint' or 'marginal', got {self.theta_objective!r}"
            )
        if self.cg_norm not in ("residual", "preconditioned"):
            raise ValueError(
                f"cg_norm: expected 'residual' or 'preconditioned', got {self.cg_norm!r}"
            )
        if self.profiled_tau not in ("step", "round"):
            raise ValueError(f"profiled_tau: expected 'step' or 'round', got {self.profiled_tau!r}")
        if self.theta_update not in ("block", "profiled"):
            raise ValueError(
                f"theta_update: expected 'block' or 'profiled', got {self.theta_update!r}"
            )
        if self.nyquist_frac is not None and not (
            isinstance(self.nyquist_frac, (int, float)) and 0 < self.nyquist_frac <= 1
        ):
            raise ValueError(f"nyquist_frac: expected None or a float in (0, 1], got "
                             f"{self.nyquist_frac!r}")  # fmt: skip
        if self.holdout_norm not in ("residual", "inverse_laplacian"):
            raise ValueError(
                f"holdout_norm: expected 'residual' or 'inverse_laplacian', got "
                f"{self.holdout_norm!r}"
            )
        if self.value_field not in ("grid", "predictor"):
            raise ValueError(
                f"value_field: expected 'grid' or 'predictor', got {self.value_field!r}"
            )
        if self.select not in ("final", "holdout"):
            raise ValueError(f"select: expected 'final' or 'holdout', got {self.select!r}")
        if not isinstance(self.holdout_points, int) or self.holdout_points < 0:
            raise ValueError(
                f"holdout_points: expected a non-negative int, got {self.holdout_points!r}"
            )
        if self.select == "holdout" and self.holdout_points < 1:
            raise ValueError("holdout_points: select='holdout' needs holdout_points >= 1")
        if self.tau_update not in ("closed", "adam"):
            raise ValueError(f"tau_update: expected 'closed' or 'adam', got {self.tau_update!r}")
        if self.linear_solver not in ("auto", "dense", "pcg"):
            raise ValueError(
                f"linear_solver: expected 'auto', 'dense' or 'pcg', got {self.linear_solver!r}"
            )
        for name in ("steps", "outer_iters", "theta_steps", "gn_iters", "cg_maxiter", "log_every",
                     "theta_warmup", "profiled_cg_maxiter"):  # fmt: skip
            v = getattr(self, name)
            if not isinstance(v, int) or v < (
                0 if name in ("steps", "theta_steps", "theta_warmup") else 1
            ):
                raise ValueError(f"{name}: expected a positive int, got {v!r}")
        if self.theta_lr_final is not None and not (
            isinstance(self.theta_lr_final, (int, float))
            and math.isfinite(self.theta_lr_final)
            and self.theta_lr_final > 0
        ):
            raise ValueError(
                f"theta_lr_final: expected None or a positive finite float, got "
                f"{self.theta_lr_final!r}"
            )
        if not (isinstance(self.tau_damping, (int, float)) and 0 < self.tau_damping <= 1):
            raise ValueError(f"tau_damping: expected a float in (0, 1], got {self.tau_damping!r}")
        for name in ("jitter", "lr", "theta_lr", "cg_tol", "tau_max"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: expected a positive finite float, got {v!r}")
        # values that otherwise turn into NaN losses / NaN solutions or an opaque trace error
        for name in ("rho_init", "boundary_weight"):
            v = getattr(self, name)
            if v is not None and not (_is_real(v) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: expected None or a positive finite float, got {v!r}")
        lt = self.log_tau_init
        if (
            not isinstance(lt, (tuple, list, np.ndarray))
            or len(lt) != 2
            or not all(_is_real(v) and math.isfinite(v) for v in lt)
        ):
            raise ValueError(
                f"log_tau_init: expected two finite floats (log τ_1, log τ_2), got {lt!r}"
            )
        if not (_is_real(self.tau_step) and self.tau_step > 0):
            raise ValueError(f"tau_step: expected a positive float, got {self.tau_step!r}")
        if not (_is_real(self.prune_tol) and 0 <= self.prune_tol < 1):
            raise ValueError(
                f"prune_tol: expected a float in [0, 1) (0 disables pruning), got "
                f"{self.prune_tol!r}"
            )
        if self.time_limit is not None and not (
            _is_real(self.time_limit) and self.time_limit >= 0 and not math.isnan(self.time_limit)
        ):
            raise ValueError(
                f"time_limit: expected None or a number of seconds >= 0, got {self.time_limit!r}"
            )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))


@dataclass
class GPHMSolution:
    """Result of :meth:`GPHMSolver.solve`.

    Attributes:
        U: grid solution, shape ``(n_1, ..., n_d)``.
        axes: grid coordinates per dimension.
        params: learned kernel parameters per dimension (dicts of (Q,) arrays).
        active: component masks after pruning, per dimension.
        log_tau: ``(log τ_1, log τ_2)``.
        loss: final loss value.
        history: dict of lists (``step``, ``time``, ``loss``, and path-specific entries).
        wall_time: seconds spent in ``solve`` (excluding the monitor callback).
    """

    problem: PDEProblem
    config: GPHMConfig
    spec: SpectralKernel
    U: jax.Array
    axes: list
    params: list
    active: list
    log_tau: jax.Array
    loss: float
    history: dict = field(default_factory=dict)
    wall_time: float = 0.0

    def _ops(self):
        return build_factors(
            self.spec, self.params, self.axes, [[] for _ in self.axes], self.config.jitter,
            self.active,
        )  # fmt: skip

    def _alpha(self):
        return prior_solve(self.U, self._ops())

    def predict(self, x, derivative: str = "u") -> jax.Array:
        """Posterior mean (or a derivative, e.g. ``"u_xx"``) off the grid.

        Args:
            x: a tuple/list of ``d`` 1-D coordinate arrays (tensor grid → shape ``(m_1, ..., m_d)``)
               or an array of points of shape ``(M, d)`` (→ shape ``(M,)``). A tuple/list is
               always read as a grid: pass points as an array (``np.asarray(points)``).
            derivative: field name (see :func:`sciml.gp.problems.parse_field`).
        """
        with jax.enable_x64(True):
            d = len(self.axes)
            orders = parse_field(derivative, d)
            for a in orders:
                if a > self.spec.max_order:
                    raise ValueError(
                        f"derivative: {derivative!r} needs order {a}, kernel supports "
                        f"{self.spec.max_order}"
                    )
            alpha = self._alpha()
            if isinstance(x, (tuple, list)):
                if len(x) != d:
                    raise ValueError(f"x: expected {d} coordinate arrays, got {len(x)}")
                new_axes = [jnp.asarray(a, dtype=jnp.float64).reshape(-1) for a in x]
                return predict_grid(
                    self.spec, self.params, self.axes, None, alpha, new_axes, orders, self.active
                )
            pts = jnp.asarray(x, dtype=jnp.float64)
            if pts.ndim != 2 or pts.shape[1] != d:
                raise ValueError(f"x: expected points of shape (M, {d}), got {tuple(pts.shape)}")
            if pts.shape[0] == 0:
                return jnp.zeros((0,), dtype=jnp.float64)
            return predict_points(
                self.spec, self.params, self.axes, alpha, pts, orders, self.active
            )

    __call__ = predict

    def relative_l2(self, n_test: int = 300) -> float:
        """Relative L2 error against the exact solution on a uniform grid of n_test per dimension."""
        with jax.enable_x64(True):
            axes = self.problem.axes((n_test,) * len(self.axes))
            pred = self.predict(tuple(axes))
            ref = self.problem.exact_values(axes)
            den = float(jnp.linalg.norm(ref))
            if den == 0:
                raise ValueError(
                    "relative_l2: the exact solution is zero on the test grid; compare "
                    "predict(...) with exact_values(...) in an absolute norm instead"
                )
            return float(jnp.linalg.norm(pred - ref)) / den

    def spectrum(self, dim: int, freqs) -> np.ndarray:
        """Learned spectral density of dimension ``dim`` at frequencies ``freqs`` (cycles/unit)."""
        with jax.enable_x64(True):
            return np.asarray(
                spectral_density(self.spec, self.params[dim], freqs, self.active[dim])
            )


def spectral_density(spec: SpectralKernel, params: dict, freqs, active=None) -> jax.Array:
    """Fourier transform of the 1-D kernel (symmetric in frequency), integrating to k(0)."""
    _check_spec_params(spec, params)
    if freqs is None or isinstance(freqs, str):
        raise TypeError(f"freqs: expected a 1-D array of frequencies, got {freqs!r}")
    s = jnp.asarray(freqs, dtype=jnp.float64)
    if s.ndim != 1:
        raise ValueError(f"freqs: expected a 1-D array of frequencies, got shape {s.shape}")
    s = s[:, None]
    w = jnp.exp(params["log_w"])
    if active is not None:
        w = jnp.where(active, w, 0.0)
    rho = jnp.exp(params["log_rho"])
    mu = params["mu"] if spec.has_cosine else jnp.zeros_like(rho)

    def base(t):
        if spec.kind in ("gm", "se"):
            return jnp.sqrt(jnp.pi) / rho * jnp.exp(-((jnp.pi * t / rho) ** 2))
        nu = float(spec.nu)
        z = math.sqrt(2 * nu) * rho
        c = 2 * math.sqrt(math.pi) * math.gamma(nu + 0.5) / math.gamma(nu)
        return c * z ** (2 * nu) * (z**2 + (2 * jnp.pi * t) ** 2) ** (-(nu + 0.5))

    dens = 0.5 * (base(s - mu) + base(s + mu)) if spec.has_cosine else base(s)
    return jnp.sum(w * dens, axis=-1)


def _inverse_laplacian_factors(x: np.ndarray, lo: float, hi: float):
    """Eigen-decomposition ``(V, λ, V⁻¹)`` of the three-point second-difference matrix on the
    sorted interior nodes ``x`` of ``[lo, hi]`` with Dirichlet values at ``lo`` and ``hi``
    (non-uniform spacing; similar to a symmetric negative definite matrix, so λ is real < 0), and
    the weights ``(c_lo, c_hi)`` of the two Dirichlet values in the first and the last row."""
    nodes = np.concatenate([[lo], x, [hi]])
    hm, hp = np.diff(nodes)[:-1], np.diff(nodes)[1:]
    m = x.size
    A = np.zeros((m, m))
    i = np.arange(m)
    A[i, i] = -2.0 / (hm * hp)
    A[i[1:], i[1:] - 1] = (2.0 / (hm * (hm + hp)))[1:]
    A[i[:-1], i[:-1] + 1] = (2.0 / (hp * (hm + hp)))[:-1]
    lam, V = np.linalg.eig(A)
    lam, V = np.real(lam), np.real(V)
    # weights of the Dirichlet values at lo (in the first row) and at hi (in the last row)
    c = (2.0 / (hm[0] * (hm[0] + hp[0])), 2.0 / (hp[-1] * (hm[-1] + hp[-1])))
    return jnp.asarray(V), jnp.asarray(lam), jnp.asarray(np.linalg.inv(V)), c


class GPHMSolver:
    """``GPHMSolver(problem, config).solve()`` → :class:`GPHMSolution`.

    ``problem`` and ``config`` are fixed at construction (the kernel, the grids and the jitted
    functions are built from them); for other settings build a new solver.
    """

    @property
    def problem(self) -> PDEProblem:
        return self._problem

    @property
    def config(self) -> GPHMConfig:
        return self._config

    def __init__(self, problem: PDEProblem, config: GPHMConfig | None = None) -> None:
        if not isinstance(problem, PDEProblem):
            raise TypeError(f"problem: expected a PDEProblem, got {type(problem).__name__}")
        config = GPHMConfig() if config is None else config
        if not isinstance(config, GPHMConfig):
            raise TypeError(f"config: expected a GPHMConfig, got {type(config).__name__}")
        self._problem = problem
        self._config = config
        self.spec = SpectralKernel(config.kernel, config.num_components, config.nu)
        d = problem.ndim
        self.orders = field_orders(problem.fields, d)
        if config.value_field == "predictor":  # value operator D^(0) on every factor
            self.orders = [sorted({0, *o}) for o in self.orders]
        for i, o in enumerate(self.orders):
            if o and max(o) > self.spec.max_order:
                raise ValueError(
                    f"config: kernel {config.kernel} (nu={config.nu}) has derivatives up to order "
                    f"{self.spec.max_order}, the problem needs order {max(o)} in dimension {i}"
                )
        with jax.enable_x64(True):
            self._setup()

    # ------------------------------------------------------------------ setup and checks
    def _setup(self) -> None:
        p, cfg = self.problem, self.config
        self.axes = p.axes()
        self.x = p.mesh(self.axes)
        shape = p.grid
        zeros = {name: jnp.zeros(shape) for name in p.fields}
        out = jax.eval_shape(lambda F: p.operator(F, self.x), zeros)
        if not hasattr(out, "shape") or tuple(out.shape) != tuple(shape):
            got = getattr(out, "shape", type(out).__name__)
            raise ValueError(
                f"operator: expected the residual on the grid with shape {tuple(shape)}, got {got}"
            )
        try:
            self.f = p.source_values(self.axes)
            self.g = p.boundary_values(self.axes)
        except (TypeError, ValueError) as e:
            raise ValueError(f"source/boundary: could not evaluate on grid {shape}: {e}") from e
        mask = np.zeros(shape, dtype=bool)
        for i, n in enumerate(shape):
            idx = [slice(None)] * len(shape)
            idx[i] = 0
            mask[tuple(idx)] = True
            idx[i] = n - 1
            mask[tuple(idx)] = True
        self.bmask_np = mask
        self.bmask = jnp.asarray(mask, dtype=jnp.float64)
        self.Nb = int(mask.sum())
        if cfg.collocation == "all":
            self.cmask = jnp.ones(shape)
            self.Nc = int(np.prod(shape))
        else:
            self.cmask = 1.0 - self.bmask
            self.Nc = int(np.prod(shape)) - self.Nb
        g_b = np.asarray(self.g)[mask]
        if not np.all(np.isfinite(g_b)):
            raise ValueError(
                f"boundary: boundary data must be finite; {int((~np.isfinite(g_b)).sum())} of "
                f"{g_b.size} boundary values are NaN/inf"
            )
        if not bool(jnp.all(jnp.isfinite(self.f))):
            raise ValueError("source: the source term has non-finite values on the grid")
        self.lam = float(p.boundary_weight if cfg.boundary_weight is None else cfg.boundary_weight)
        # Nyquist frequency 1/(2h) of each factor grid (cycles per unit length)
        self.nyquist = [0.5 * (n - 1) / (hi - lo) for (lo, hi), n in zip(p.domain, shape)]
        frac = cfg.nyquist_frac
        self.theta0 = [
            self.spec.init_params(p.freq_scale, cfg.rho_init, None if frac is None else frac * nq)
            for nq in self.nyquist
        ]
        self.active0 = [jnp.ones((cfg.num_components,), dtype=bool) for _ in range(p.ndim)]
        # held-out collocation points (validation only): a random tensor grid strictly inside the
        # domain, off the training grid; the PDE residual of the predictor is measured there.
        self.val_axes = None
        if cfg.holdout_points > 0:
            rng = np.random.default_rng(cfg.holdout_seed)
            self.val_axes = []
            for (lo, hi), n in zip(p.domain, shape):
                h = (hi - lo) / (n - 1)
                # uniform inside a random cell, at least 5% of a cell away from every grid node
                if cfg.holdout_norm == "residual":
                    cells = rng.integers(0, n - 1, size=cfg.holdout_points)
                else:  # distinct cells (the finite-difference Laplacian needs distinct points)
                    m = min(cfg.holdout_points, n - 1)
                    cells = rng.choice(n - 1, size=m, replace=False)
                frac = rng.uniform(0.05, 0.95, size=cells.size)
                self.val_axes.append(jnp.asarray(np.sort(lo + (cells + frac) * h)))
            self.val_f = p.source_values(self.val_axes)
            self.val_fnorm = float(jnp.sqrt(jnp.mean(self.val_f**2))) or 1.0
            if cfg.holdout_norm == "inverse_laplacian":
                self._val_lap = [_inverse_laplacian_factors(np.asarray(a), lo, hi)
                                 for a, (lo, hi) in zip(self.val_axes, p.domain)]  # fmt: skip
                # boundary data on the faces of the held-out grid (x_i = lo_i, hi_i)
                self._val_faces = [self._face_axes(i) for i in range(p.ndim)]
                g_faces = [p.boundary_values(ax) for ax in self._val_faces]
                u_ref = self._apply_inv_lap(self.val_f, g_faces)  # the FD solution of the data
                self.val_fnorm = float(jnp.linalg.norm(u_ref)) or 1.0
                self._val_gfaces = g_faces

    # ------------------------------------------------------------------ model pieces
    def _ops(self, theta, active, explicit=False):
        return build_factors(
            self.spec, theta, self.axes, self.orders, self.config.jitter, active, explicit
        )

    def _residual(self, U, ops):
        """PDE residual at the collocation points (zero elsewhere), grid shape."""
        F = grid_fields(U, ops, self.problem.fields)
        return (self.problem.operator(F, self.x) - self.f) * self.cmask

    def _node_values(self, U, ops):
        """The solution at the grid nodes: ``U`` ('grid') or the GP mean there ('predictor')."""
        return apply_field(U, ops, (0,) * U.ndim)

    def _node_values_t(self, V, ops):
        """Transpose of :meth:`_node_values` (explicit factor operators only)."""
        if 0 not in ops[0]["D"]:
            return V
        assert ops[0]["explicit"], "transpose of the value operator needs explicit factors"
        return multi_mode_product(V, [o["D"][0].T for o in ops], list(range(V.ndim)))

    def _boundary_residual(self, U, ops):
        return (self._node_values(U, ops) - self.g) * self.bmask

    def _loss(self, U, theta, log_tau, active):
        ops = self._ops(theta, active)
        H = self._residual(U, ops)
        rb = self._boundary_residual(U, ops)
        t1, t2 = jnp.exp(log_tau[0]), jnp.exp(log_tau[1])
        return (
            0.5 * prior_logdet(ops)
            + 0.5 * prior_quad(U, ops)
            - self.lam * (0.5 * self.Nb * log_tau[0] - 0.5 * t1 * jnp.sum(rb**2))
            - (0.5 * self.Nc * log_tau[1] - 0.5 * t2 * jnp.sum(H**2))
        )

    def _marginal(self, U, theta, active):
        """θ-dependent prior part of the loss: ½ log|C| + ½ vec(U)ᵀC⁻¹vec(U) (the negative log
        marginal likelihood of the current grid values, up to a constant)."""
        ops = build_factors(
            self.spec, theta, self.axes, [[] for _ in self.axes], self.config.jitter, active
        )
        return 0.5 * prior_logdet(ops) + 0.5 * prior_quad(U, ops)

    def _holdout_residual(self, U, theta, active):
        """RMS PDE residual of the predictor at the held-out points, relative to RMS(f) there;
        with ``holdout_norm='inverse_laplacian'``: ``‖Δ_h⁻¹ r‖ / ‖Δ_h⁻¹ f‖``, ``Δ_h`` the
        finite-difference Dirichlet Laplacian on the held-out tensor grid."""
        d = self.problem.ndim
        ops = build_factors(
            self.spec, theta, self.axes, [[] for _ in self.axes], self.config.jitter, active
        )
        alpha = prior_solve(U, ops)
        F = {
            name: predict_grid(
                self.spec,
                theta,
                self.axes,
                None,
                alpha,
                self.val_axes,
                parse_field(name, d),
                active,
            )  # fmt: skip
            for name in self.problem.fields
        }
        r = self.problem.operator(F, self.problem.mesh(self.val_axes)) - self.val_f
        if self.config.holdout_norm == "inverse_laplacian":
            # error estimate e: Δ_h e = r inside, e = (predictor − g) on the held-out faces
            faces = [
                predict_grid(self.spec, theta, self.axes, None, alpha, ax, None, active) - gf
                for ax, gf in zip(self._val_faces, self._val_gfaces)
            ]
            return jnp.linalg.norm(self._apply_inv_lap(r, faces)) / self.val_fnorm
        return jnp.sqrt(jnp.mean(r**2)) / self.val_fnorm

    def _face_axes(self, i):
        """The held-out axes with axis ``i`` replaced by its two domain end points."""
        lo, hi = self.problem.domain[i]
        ax = list(self.val_axes)
        ax[i] = jnp.asarray([lo, hi], dtype=jnp.float64)
        return ax

    def _apply_inv_lap(self, r, faces=None):
        """``Δ_h⁻¹ r`` on the held-out grid (``Δ_h = Σ_i A_i ×_i``, ``A_i = V_i Λ_i V_i⁻¹``),
        with zero Dirichlet values or, if given, ``faces[i]`` (shape of the held-out grid with
        axis i of length 2: values at lo_i, hi_i) moved to the right-hand side."""
        if faces is not None:
            for i, (b, f) in enumerate(zip(faces, self._val_lap)):
                c_lo, c_hi = f[3]
                lo_v = jnp.take(b, 0, axis=i)
                hi_v = jnp.take(b, 1, axis=i)
                idx_lo = [slice(None)] * r.ndim
                idx_hi = [slice(None)] * r.ndim
                idx_lo[i], idx_hi[i] = 0, -1
                r = r.at[tuple(idx_lo)].add(-c_lo * lo_v).at[tuple(idx_hi)].add(-c_hi * hi_v)
        modes = list(range(r.ndim))
        z = multi_mode_product(r, [f[2] for f in self._val_lap], modes)
        lam = 0.0
        for i, f in enumerate(self._val_lap):
            shape = [1] * r.ndim
            shape[i] = -1
            lam = lam + f[1].reshape(shape)
        return multi_mode_product(z / lam, [f[0] for f in self._val_lap], modes)

    def _project(self, theta):
        """Keep the mixture frequencies within ± the Nyquist frequency of each factor grid."""
        if self.config.nyquist_frac is None or not self.spec.has_cosine:
            return theta
        return [{**th, "mu": jnp.clip(th["mu"], -nq, nq)} for th, nq in zip(theta, self.nyquist)]

    def loss(self, U, theta, log_tau, active=None) -> float:
        """The GP-HM loss at the given state (for checks and comparisons)."""
        with jax.enable_x64(True):
            active = self.active0 if active is None else active
            return float(self._loss(jnp.asarray(U), theta, jnp.asarray(log_tau), active))

    # ------------------------------------------------------------------ public
    def solve(self, monitor: Callable[[dict], None] | None = None) -> GPHMSolution:
        """Run the configured path. ``monitor(state)`` is called at every history point with
        ``step``, ``time``, ``loss``, ``U``, ``params``, ``active``, ``log_tau``; its own run time is
        excluded from the reported times. The jitted functions are kept on the solver, so a second
        ``solve`` of the same solver does not compile again (see :meth:`warmup`)."""
        with jax.enable_x64(True):
            if self.config.path == "faithful":
                return self._solve_faithful(monitor)
            return self._solve_fast(monitor)

    def warmup(self) -> float:
        """Compile the jitted functions of the configured path by running its first iterations
        (one chunk of Adam steps / the first rounds of the fast path); returns its wall time in seconds (compilation plus one
        iteration). Used to measure steady-state times without compilation."""
        t0 = time.perf_counter()
        cfg = self.config
        # faithful: one chunk; fast: rounds until every θ-step function has run once
        self._stop_after = 1 if cfg.path == "faithful" else 2 + int(cfg.theta_warmup > 0)
        try:
            self.solve()
        finally:
            self._stop_after = None
        return time.perf_counter() - t0

    def _solution(self, U, theta, log_tau, active, loss, hist, wall):
        return GPHMSolution(
            problem=self.problem, config=self.config, spec=self.spec, U=U, axes=self.axes,
            params=theta, active=active, log_tau=log_tau, loss=float(loss), history=hist,
            wall_time=wall,
        )  # fmt: skip

    # ------------------------------------------------------------------ faithful path
    def _solve_faithful(self, monitor):
        cfg = self.config
        U = jnp.zeros(self.problem.grid)
        theta = self.theta0
        log_tau = jnp.asarray(cfg.log_tau_init, dtype=jnp.float64)
        active = self.active0
        params = {"U": U, "theta": theta, "log_tau": log_tau}
        state = adam_init(params)
        learn = cfg.learn_kernel

        def step(carry, _):
            params, state, active = carry
            val, g = jax.value_and_grad(
                lambda pr: self._loss(pr["U"], pr["theta"], pr["log_tau"], active)
            )(params)
            if not learn:
                g = {**g, "theta": jax.tree_util.tree_map(jnp.zeros_like, g["theta"])}
            if not cfg.learn_tau:
                g = {**g, "log_tau": jnp.zeros_like(g["log_tau"])}
            params, state = adam_update(g, state, params, cfg.lr)
            params = {**params, "theta": self._project(params["theta"])}
            return (params, state, active), val

        def make_chunk(length):
            """Jitted ``length`` Adam steps (``log_every``, or the remainder of ``steps``)."""

            def chunk_fn(params, state, active):
                (params, state, active), vals = jax.lax.scan(
                    step, (params, state, active), None, length=length
                )
                return params, state, vals[-1]

            return self._jitted(f"faithful_chunk_{length}", lambda: jax.jit(chunk_fn))

        hist = {"step": [], "time": [], "loss": []}
        sel = self._selector()
        t_run, done = 0.0, 0
        while done < cfg.steps:
            t0 = time.perf_counter()
            length = min(cfg.log_every, cfg.steps - done)  # exactly `steps` Adam steps in all
            params, state, val = make_chunk(length)(params, state, active)
            jax.block_until_ready(params["U"])
            done += length
            if cfg.prune_tol > 0:
                active = [
                    prune_mask(th, a, cfg.prune_tol) for th, a in zip(params["theta"], active)
                ]
            extra = sel(done, params["U"], params["theta"], params["log_tau"], active, float(val))
            t_run += time.perf_counter() - t0
            self._record(hist, monitor, done, t_run, float(val), params["U"], params["theta"],
                         active, params["log_tau"], **extra)  # fmt: skip
            if not math.isfinite(float(val)):
                break
            if cfg.time_limit is not None and t_run > cfg.time_limit:
                break
            if self._stop_after is not None and len(hist["step"]) >= self._stop_after:
                break
        final = float(self._loss(params["U"], params["theta"], params["log_tau"], active))
        return self._finish(
            sel, params["U"], params["theta"], params["log_tau"], active, final, hist, t_run
        )

    def _record(self, hist, monitor, step, t, loss, U, theta, active, log_tau, **extra):
        hist["step"].append(int(step))
        hist["time"].append(float(t))
        hist["loss"].append(float(loss))
        for k, v in extra.items():
            hist.setdefault(k, []).append(v)
        if monitor is not None:
            monitor({"step": step, "time": t, "loss": loss, "U": U, "params": theta,
                     "active": active, "log_tau": log_tau, "spec": self.spec, "axes": self.axes,
                     "jitter": self.config.jitter})  # fmt: skip

    # ------------------------------------------------------------------ fast path
    def _use_dense(self) -> bool:
        ls = self.config.linear_solver
        if ls == "dense" and self.problem.ndim > 1:
            raise ValueError(
                "linear_solver: 'dense' is only for 1-D problems (no dense covariance over a "
                f"{self.problem.ndim}-D grid); use 'pcg' or 'auto'"
            )
        return ls == "dense" or (ls == "auto" and self.problem.ndim == 1)

    def _u_step_dense(self, U0, theta, log_tau, active):
        """Exact minimiser of the (linearised) quadratic in U: dense stacked least squares (1-D)."""
        ops = self._ops(theta, active, explicit=True)
        n = U0.size
        beta = self.lam * jnp.exp(log_tau[0])
        t2 = jnp.exp(log_tau[1])
        H0, jf = jax.linearize(lambda U: self._residual(U, ops), U0)
        eye = jnp.eye(n)
        J = jax.vmap(lambda e: jf(e.reshape(U0.shape)).ravel(), in_axes=1, out_axes=1)(eye)
        Linv = jsl.solve_triangular(ops[0]["chol"], eye, lower=True)
        bidx = np.flatnonzero(self.bmask_np.ravel())
        S = eye[bidx]
        if 0 in ops[0]["D"]:  # boundary term on the GP mean at the nodes
            S = S @ ops[0]["D"][0]
        A = jnp.concatenate([Linv, jnp.sqrt(beta) * S, jnp.sqrt(t2) * J])
        b = jnp.concatenate(
            [jnp.zeros(n), jnp.sqrt(beta) * self.g.ravel()[bidx],
             jnp.sqrt(t2) * (J @ U0.ravel() - H0.ravel())]
        )  # fmt: skip
        # QR least squares on the stacked square-root system (condition number not squared)
        q, r = jnp.linalg.qr(A)
        u = jsl.solve_triangular(r, q.T @ b, lower=False)
        return u.reshape(U0.shape), jnp.asarray(0), jnp.asarray(0.0)

    def _precond(self, ops, U0, log_tau):
        """Kronecker 'diagonal in a per-factor orthogonal basis' preconditioner (see module doc)."""
        cfg = self.config
        p = self.problem
        d = p.ndim
        beta = self.lam * jnp.exp(log_tau[0])
        t2 = jnp.exp(log_tau[1])
        if cfg.precond == "none":
            return lambda r: r
        # constant coefficients of the linearised operator per field (mean over the grid)
        F0 = grid_fields(U0, ops, p.fields)
        coefs = {}
        for name in p.fields:
            tan = {k: (jnp.ones_like(v) if k == name else jnp.zeros_like(v)) for k, v in F0.items()}
            _, c = jax.jvp(lambda F: p.operator(F, self.x), (F0,), (tan,))
            coefs[name] = jnp.mean(jnp.broadcast_to(c, U0.shape))
        if cfg.precond == "geig":
            return self._precond_geig(ops, coefs, beta, t2)
        # per-dimension orthogonal basis E_i
        kinv = [jsl.cho_solve((o["chol"], True), jnp.eye(o["K"].shape[0])) for o in ops]
        Es = []
        for i, o in enumerate(ops):
            n = o["K"].shape[0]
            if cfg.precond == "jacobi":
                E = jnp.eye(n)
            elif cfg.precond == "spectral" or (cfg.precond == "operator" and not o["D"]):
                E = jnp.linalg.eigh(o["K"])[1]
            elif cfg.precond == "operator":
                Dm = o["D"][max(o["D"])]
                E = jnp.linalg.eigh(Dm.T @ Dm)[1]
            else:  # "slice": the 1-D normal matrix along dimension i, other dimensions averaged
                other = 1.0
                for j in range(d):
                    if j != i:
                        other = other * jnp.mean(jnp.diagonal(kinv[j]))
                Mi = other * kinv[i]
                ends = jnp.zeros(n).at[0].set(1.0).at[-1].set(1.0)
                Mi = Mi + beta * jnp.diag(ends)
                lin = jnp.zeros((n, n))
                for name in p.fields:
                    a = parse_field(name, d)[i]
                    Mt = o["D"][a] if a else jnp.eye(n)
                    lin = lin + coefs[name] * Mt
                Mi = Mi + t2 * lin.T @ lin
                E = jnp.linalg.eigh(0.5 * (Mi + Mi.T))[1]
            Es.append(E)

        # diagonal of Eᵀ M E, assembled from per-factor diagonals
        def outer(vecs):
            out = vecs[0]
            for v in vecs[1:]:
                out = out[..., None] * v
            return out

        kinv_diag = []
        for o, E in zip(ops, Es):
            KiE = jsl.cho_solve((o["chol"], True), E)
            kinv_diag.append(jnp.sum(E * KiE, axis=0))
        diag = outer(kinv_diag)
        interior = []
        for E in Es:
            m = jnp.ones(E.shape[0]).at[0].set(0.0).at[-1].set(0.0)
            interior.append(m @ (E**2))
        diag = diag + beta * (1.0 - outer(interior))
        cols = {}
        for name in p.fields:
            orders = parse_field(name, d)
            cols[name] = [(ops[i]["D"][a] @ Es[i]) if a else Es[i] for i, a in enumerate(orders)]
        names = list(p.fields)
        for a in names:
            for b in names:
                vecs = [jnp.sum(ca * cb, axis=0) for ca, cb in zip(cols[a], cols[b])]
                diag = diag + t2 * coefs[a] * coefs[b] * outer(vecs)
        diag = jnp.maximum(diag, 1e-300)
        EsT = [E.T for E in Es]
        modes = list(range(d))

        def apply(r):
            z = multi_mode_product(r, EsT, modes) / diag
            return multi_mode_product(z, Es, modes)

        return apply

    def _precond_geig(self, ops, coefs, beta, t2):
        """Block preconditioner: interior block by a generalised-eigenbasis diagonal, boundary
        block by the diagonal of M (see the module doc)."""
        p, d = self.problem, self.problem.ndim
        names = list(p.fields)
        interior_rows = self.config.collocation == "interior"
        Ws, mats, jac = [], {}, []
        for i, o in enumerate(ops):
            n = o["K"].shape[0]
            kinv = jsl.cho_solve((o["chol"], True), jnp.eye(n))
            rows = slice(1, n - 1) if interior_rows else slice(0, n)
            # per-field 1-D factors restricted to (collocation rows, interior columns)
            for name in names:
                a = parse_field(name, d)[i]
                X = o["D"][a] if a else jnp.eye(n)
                mats[name, i] = X
            top = max((parse_field(nm, d)[i] for nm in names), default=0)
            Xt = (o["D"][top] if top else jnp.eye(n))[rows, 1 : n - 1]
            A = kinv[1 : n - 1, 1 : n - 1]  # interior block of K_i⁻¹ (SPD)
            La = jnp.linalg.cholesky(A)
            G = jsl.solve_triangular(La, Xt.T @ Xt, lower=True)
            G = jsl.solve_triangular(La, G.T, lower=True)
            Q = jnp.linalg.eigh(0.5 * (G + G.T))[1]
            Ws.append(jsl.solve_triangular(La.T, Q, lower=False))  # WᵀAW = I, WᵀXᵀXW diagonal
            jac.append((kinv, rows))

        def outer(vecs):
            out = vecs[0]
            for v in vecs[1:]:
                out = out[..., None] * v
            return out

        # interior: diag(Wᵀ M_II W), exact for the Kronecker (constant-coefficient) part
        diag_i = outer([jnp.sum(W * (k[1:-1, 1:-1] @ W), axis=0) for W, (k, _) in zip(Ws, jac)])
        # full grid: diag(M) (for the boundary block)
        diag_f = outer([jnp.diagonal(k) for k, _ in jac]) + beta * self.bmask
        for fa in names:
            for fb in names:
                ci, cf = [], []
                for i, (W, (_, rows)) in enumerate(zip(Ws, jac)):
                    n = W.shape[0] + 2
                    Xa, Xb = mats[fa, i][rows], mats[fb, i][rows]
                    ci.append(jnp.sum((Xa[:, 1 : n - 1] @ W) * (Xb[:, 1 : n - 1] @ W), axis=0))
                    cf.append(jnp.sum(Xa * Xb, axis=0))
                diag_i = diag_i + t2 * coefs[fa] * coefs[fb] * outer(ci)
                diag_f = diag_f + t2 * coefs[fa] * coefs[fb] * outer(cf)
        diag_i = jnp.maximum(diag_i, 1e-300)
        diag_f = jnp.maximum(diag_f, 1e-300)
        inner = (slice(1, -1),) * d
        WsT = [W.T for W in Ws]
        modes = list(range(d))

        def apply(r):
            z = multi_mode_product(r[inner], WsT, modes) / diag_i
            return (r / diag_f).at[inner].set(multi_mode_product(z, Ws, modes))

        return apply

    def _u_step_pcg(self, U0, theta, log_tau, active, maxiter=None):
        ops = self._ops(theta, active, explicit=True)
        beta = self.lam * jnp.exp(log_tau[0])
        t2 = jnp.exp(log_tau[1])
        H0, jf = jax.linearize(lambda U: self._residual(U, ops), U0)
        jt = jax.linear_transpose(jf, U0)

        # explicit K_i⁻¹ once per solve: the prior term of every matvec is then d GEMM mode
        # products instead of d Cholesky factorisations and triangular solves
        kinv = [jsl.cho_solve((o["chol"], True), jnp.eye(o["K"].shape[0])) for o in ops]
        modes = list(range(U0.ndim))

        def boundary(v):  # Sᵀ S v with S = (boundary selector) ∘ (node values)
            return self._node_values_t(self.bmask * self._node_values(v, ops), ops)

        def mv(v):
            prior = multi_mode_product(v, kinv, modes)
            return prior + beta * boundary(v) + t2 * jt(jf(v))[0]

        rhs = beta * self._node_values_t(self.bmask * self.g, ops) + t2 * jt(jf(U0) - H0)[0]
        P = self._precond(ops, U0, log_tau)
        cfg = self.config
        maxiter = cfg.cg_maxiter if maxiter is None else maxiter
        U, it, rr = pcg(mv, rhs, U0, P, cfg.cg_tol, maxiter, cfg.cg_norm)
        return U, it, rr

    def _profiled_value_and_grad(self, U0, theta, log_tau, active, n_inner=1, maxiter=None):
        """Profiled loss P(θ) = min_U L(U, θ, τ) and its gradient in θ (τ fixed).

        ``U*`` comes from ``n_inner`` U-steps started at ``U0``: the exact dense solve in 1-D, PCG
        warm-started at ``U0`` with at most ``maxiter`` iterations (default ``cg_maxiter``) for
        d ≥ 2 (one step for a linear PDE; Gauss–Newton steps otherwise). At a minimiser
        ∂L/∂U = 0, so by the envelope theorem ∇P(θ) = ∂L/∂θ (U*, θ): no differentiation through
        the solve (with an inexact PCG solve the error of the gradient is first order in
        ‖U − U*‖). Returns ``(P, ∇P, U*, PCG iterations)``."""
        U = U0
        its = jnp.asarray(0)
        for _ in range(n_inner):
            if self._use_dense():
                U, k, _ = self._u_step_dense(U, theta, log_tau, active)
            else:
                U, k, _ = self._u_step_pcg(U, theta, log_tau, active, maxiter)
            its = its + k
        U = jax.lax.stop_gradient(U)
        val, g = jax.value_and_grad(lambda th: self._loss(U, th, log_tau, active))(theta)
        return val, g, U, its

    def _tau_grad(self, U, theta, log_tau, active):
        """``∂L/∂log τ`` at fixed ``U`` and θ (the Adam direction of ``tau_update='adam'``)."""
        return jax.grad(lambda lt: self._loss(U, theta, lt, active))(log_tau)

    def _tau_update(self, U, theta, active):
        ops = self._ops(theta, active)
        H = self._residual(U, ops)
        rb = self._boundary_residual(U, ops)
        tmax = math.log(self.config.tau_max)
        lt1 = jnp.minimum(jnp.log(self.Nb) - jnp.log(jnp.sum(rb**2) + 1e-300), tmax)
        lt2 = jnp.minimum(jnp.log(self.Nc) - jnp.log(jnp.sum(H**2) + 1e-300), tmax)
        return jnp.stack([lt1, lt2])

    def _solve_fast(self, monitor):
        cfg = self.config
        u_step = self._jitted(
            "u_step", lambda: jax.jit(self._u_step_dense if self._use_dense() else self._u_step_pcg)
        )
        tau_update = self._jitted("tau", lambda: jax.jit(self._tau_update))
        loss_fn = self._jitted("loss", lambda: jax.jit(self._loss))
        n_inner = 1 if self.problem.linear else cfg.gn_iters

        learn = cfg.learn_kernel
        tau_adam = cfg.tau_update == "adam" and cfg.learn_tau

        def make_profiled_chunk(length):
            def theta_step(carry, _):
                theta, log_tau, state, U, active, lr = carry
                val, g, U, its = self._profiled_value_and_grad(
                    U, theta, log_tau, active, n_inner, cfg.profiled_cg_maxiter
                )
                if not learn:
                    g = jax.tree_util.tree_map(jnp.zeros_like, g)
                # tau_update='adam': log τ takes the Adam step too, with the envelope gradient
                # ∂L/∂log τ at the same U*(θ) (before, it stayed at log_tau_init)
                g_tau = self._tau_grad(U, theta, log_tau, active) if tau_adam else None
                g_tau = jnp.zeros_like(log_tau) if g_tau is None else g_tau
                (theta, log_tau), state = adam_update((g, g_tau), state, (theta, log_tau), lr)
                theta = self._project(theta)
                if cfg.learn_tau and cfg.tau_update == "closed" and cfg.profiled_tau == "step":
                    target = self._tau_update(U, theta, active)
                    log_tau = log_tau + cfg.tau_damping * jnp.clip(
                        target - log_tau, -cfg.tau_step, cfg.tau_step
                    )
                return (theta, log_tau, state, U, active, lr), its

            def chunk(theta, log_tau, state, U, active, lr):
                (theta, log_tau, state, U, *_), its = jax.lax.scan(
                    theta_step, (theta, log_tau, state, U, active, lr), None, length=length
                )
                return theta, log_tau, state, U, jnp.sum(its)

            return self._jitted(f"theta_profiled_{length}", lambda: jax.jit(chunk))

        def make_chunk(objective, length, with_tau=tau_adam):
            if objective == "profiled":
                return make_profiled_chunk(length)

            def theta_step(carry, _):
                (theta, log_tau), state, U, active, lr = carry
                if objective == "marginal":
                    val, gt = jax.value_and_grad(lambda th: self._marginal(U, th, active))(theta)
                    # the marginal objective has no τ: log τ follows the joint loss's gradient
                    # (tau_update='adam'; before, it stayed at log_tau_init)
                    gl = self._tau_grad(U, theta, log_tau, active) if with_tau else None
                    g = (gt, jnp.zeros_like(log_tau) if gl is None else gl)
                else:
                    val, g = jax.value_and_grad(lambda tt: self._loss(U, tt[0], tt[1], active))(
                        (theta, log_tau)
                    )
                zero = jax.tree_util.tree_map(jnp.zeros_like, g)
                g = (g[0] if learn else zero[0], g[1] if with_tau else zero[1])
                (theta, log_tau), state = adam_update(g, state, (theta, log_tau), lr)
                return ((self._project(theta), log_tau), state, U, active, lr), val

            def chunk(theta, log_tau, state, U, active, lr):
                ((theta, log_tau), state, *_), vals = jax.lax.scan(
                    theta_step, ((theta, log_tau), state, U, active, lr), None, length=length
                )
                return theta, log_tau, state

            key = f"theta_{objective}_{length}_{'tau' if with_tau else 'notau'}"
            return self._jitted(key, lambda: jax.jit(chunk))

        def lr_at(it):
            """θ learning rate of round ``it`` (geometric decay to theta_lr_final, if set)."""
            if cfg.theta_lr_final is None or cfg.outer_iters <= 1:
                return jnp.asarray(cfg.theta_lr, dtype=jnp.float64)
            frac = it / (cfg.outer_iters - 1)
            return jnp.asarray(cfg.theta_lr * (cfg.theta_lr_final / cfg.theta_lr) ** frac,
                               dtype=jnp.float64)  # fmt: skip

        kind = "profiled" if cfg.theta_update == "profiled" else cfg.theta_objective
        theta_chunk = make_chunk(kind, cfg.theta_steps)
        U = jnp.zeros(self.problem.grid)
        theta = self.theta0
        active = self.active0
        log_tau = jnp.asarray(cfg.log_tau_init, dtype=jnp.float64)
        state = adam_init((theta, log_tau))
        hist = {"step": [], "time": [], "loss": [], "cg_iters": [], "cg_relres": []}
        sel = self._selector()
        t_run = 0.0
        prof_its = 0  # PCG iterations of the profiled θ steps before this round's solve
        for it in range(cfg.outer_iters + 1):
            t0 = time.perf_counter()
            cg_its, cg_rr = 0, 0.0
            for _ in range(n_inner):
                U, k, rr = u_step(U, theta, log_tau, active)
                if cfg.tau_update == "closed" and cfg.learn_tau:
                    target = tau_update(U, theta, active)
                    # damped after the first round's solve (which sets the scale of τ)
                    eta = 1.0 if it == 0 else cfg.tau_damping
                    log_tau = log_tau + eta * jnp.clip(target - log_tau, -cfg.tau_step,
                                                       cfg.tau_step)  # fmt: skip
                cg_its += int(k)
                cg_rr = max(cg_rr, float(rr))
            val = float(loss_fn(U, theta, log_tau, active))
            extra = sel(it, U, theta, log_tau, active, val)
            # record the consistent pair (U, θ that produced it) at the time U was available;
            # the θ steps that follow are charged to the next round
            t_run += time.perf_counter() - t0
            self._record(hist, monitor, it, t_run, val, U, theta, active, log_tau,
                         cg_iters=cg_its, cg_relres=cg_rr, profiled_cg_iters=prof_its,
                         **extra)  # fmt: skip
            t0 = time.perf_counter()
            last = (
                it == cfg.outer_iters
                or (cfg.time_limit is not None and t_run > cfg.time_limit)
                or (self._stop_after is not None and it + 1 >= self._stop_after)
                or not math.isfinite(val)
            )
            # the θ chunk also carries the Adam steps of log τ (tau_update='adam'): it runs when
            # either is learned (before, learn_kernel=False froze τ at log_tau_init)
            if not last and (learn or tau_adam):
                if learn and it == 0 and cfg.theta_warmup > 0:
                    # fit the spectrum to the first solution by marginal likelihood
                    warm = make_chunk("marginal", cfg.theta_warmup, with_tau=False)
                    theta, log_tau, _ = warm(theta, log_tau, adam_init((theta, log_tau)), U,
                                             active, lr_at(it))  # fmt: skip
                elif cfg.theta_steps > 0 and cfg.theta_update == "profiled":
                    # the chunk's last U* warm-starts the next round's solve (PCG)
                    theta, log_tau, state, U_warm, its = theta_chunk(
                        theta, log_tau, state, U, active, lr_at(it)
                    )
                    prof_its = int(its)
                    if not self._use_dense():
                        U = U_warm
                elif cfg.theta_steps > 0:
                    theta, log_tau, state = theta_chunk(theta, log_tau, state, U, active, lr_at(it))
                if learn and cfg.prune_tol > 0:
                    active = [prune_mask(th, a, cfg.prune_tol) for th, a in zip(theta, active)]
                jax.block_until_ready(theta)
            t_run += time.perf_counter() - t0
            if last:
                break
        return self._finish(sel, U, theta, log_tau, active, val, hist, t_run)

    _stop_after: int | None = None

    def _jitted(self, key, build):
        """Per-solver cache of jitted functions (their closures depend only on the solver)."""
        cache = self.__dict__.setdefault("_jit_cache", {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    def _selector(self):
        """Held-out tracking: returns ``track(step, U, θ, τ, active, loss) -> extra history``;
        keeps the best state by held-out residual when ``select='holdout'``."""
        cfg = self.config
        self._best = None
        if self.val_axes is None:
            return lambda *a: {}
        fn = self._jitted("holdout", lambda: jax.jit(self._holdout_residual))

        def track(step, U, theta, log_tau, active, loss):
            r = float(fn(U, theta, active))
            if cfg.select == "holdout" and math.isfinite(r):
                if self._best is None or r < self._best["holdout_residual"]:
                    self._best = {"step": int(step), "U": U, "theta": theta, "log_tau": log_tau,
                                  "active": active, "loss": loss, "holdout_residual": r}  # fmt: skip
            return {"holdout_residual": r}

        return track

    def _finish(self, sel, U, theta, log_tau, active, loss, hist, t_run):
        """Final iterate, or the held-out-selected one; the choice is recorded in ``history``."""
        hist["final_step"] = hist["step"][-1] if hist["step"] else 0
        best = self._best
        if self.config.select == "holdout" and best is not None:
            hist["selection"] = "holdout"
            hist["selected_step"] = best["step"]
            U, theta, log_tau, active, loss = (best[k] for k in ("U", "theta", "log_tau", "active",
                                                                 "loss"))  # fmt: skip
        else:
            hist["selection"] = "final"
            hist["selected_step"] = hist["final_step"]
        return self._solution(U, theta, log_tau, active, loss, hist, t_run)
