"""Kronecker-structured linear algebra without ever forming the dense Kronecker product.

Conventions
-----------
``factors = [A_1, ..., A_d]`` with ``A_i`` of shape ``(m_i, n_i)``. The Kronecker product
``A_1 ⊗ ... ⊗ A_d`` acts on vectors of length ``N = Π n_i`` in row-major (C) order: the index of
``A_1`` varies slowest, exactly as ``np.kron(A_1, np.kron(A_2, ...))`` and ``x.reshape(n_1, ..., n_d)``.

Vectors come in two layouts, both batched over leading dimensions:

* ``"flat"``: ``x`` of shape ``(..., N)``, the result of shape ``(..., M)`` with ``M = Π m_i``;
* ``"grid"``: ``x`` of shape ``(..., n_1, ..., n_d)``, the result of shape ``(..., m_1, ..., m_d)``.

``layout="auto"`` picks ``"grid"`` when the trailing ``d`` dimensions equal ``(n_1, ..., n_d)`` and
``d > 1``, otherwise ``"flat"`` when the last dimension equals ``N``; pass the layout explicitly when a
shape could be read both ways (for example factors of sizes ``(1, 3)`` and ``x`` of shape ``(5, 1, 3)``).

Cost: ``(A_1 ⊗ ... ⊗ A_d) x`` is computed as ``d`` matrix products of size ``m_k × n_k`` by
``n_k × (N/n_k)`` with a transpose between them (the "shuffle" algorithm): ``O(N Σ n_i)`` flops and
``O(N)`` memory, versus ``O(N²)`` for the dense product.

All functions accept torch tensors, JAX arrays (jit/grad/vmap compatible) or NumPy arrays and return
the same kind, on the input's device; torch autograd and ``jax.grad`` differentiate through them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

from ._backend import Array, backend, common_backend, convert_all, is_traced
from ._checks import check_array, check_factors, check_finite

Layout = Literal["auto", "flat", "grid"]


def _resolve_layout(
    shape: tuple[int, ...], sizes: tuple[int, ...], layout: Layout, name: str
) -> tuple[str, tuple[int, ...]]:
    """Return the layout and the batch shape of an operand of ``shape`` for factor sizes ``sizes``."""
    d, n_total = len(sizes), math.prod(sizes)
    grid_ok = len(shape) >= d and tuple(shape[len(shape) - d :]) == tuple(sizes)
    flat_ok = len(shape) >= 1 and shape[-1] == n_total
    if layout == "auto":
        layout = "grid" if grid_ok and d > 1 else ("flat" if flat_ok else "none")
    if layout == "grid" and grid_ok:
        return "grid", tuple(shape[: len(shape) - d])
    if layout == "flat" and flat_ok:
        return "flat", tuple(shape[:-1])
    if layout not in ("grid", "flat", "none"):
        raise ValueError(f"layout must be 'auto', 'flat' or 'grid', got {layout!r}")
    raise ValueError(
        f"{name} of shape {shape} does not fit factors with column sizes {sizes}: expected "
        f"(..., {n_total}) or (..., {', '.join(map(str, sizes))})"
    )


def _kron_apply(
    ops: Sequence[Callable[[Array], Array]],
    in_sizes: tuple[int, ...],
    out_sizes: tuple[int, ...],
    x: Array,
    layout: Layout,
    name: str,
) -> Array:
    """Apply ``op_1 ⊗ ... ⊗ op_d`` where ``op_k`` maps columns ``(n_k, K)`` to ``(m_k, K)``.

    Cyclic "shuffle" algorithm with the batch (right-hand sides) kept last, as in linear_operator:
    each step is one large matrix product on the leading mode followed by a block transpose that
    rotates the new mode behind the others while moving contiguous runs of ``B`` numbers. The batch
    is moved last once at the start and first once at the end (free when ``B = 1``).
    """
    kind, batch = _resolve_layout(tuple(x.shape), in_sizes, layout, name)
    be = backend(x)
    n_batch = math.prod(batch)
    cur = be.swap_last(x.reshape(n_batch, math.prod(in_sizes)))  # (N, B)
    # explicit sizes (no -1): an empty batch (B = 0) must not make a reshape ambiguous
    sizes = list(in_sizes)  # the mode sizes of ``cur`` in cyclic order, leading mode first
    for k, op in enumerate(ops):
        rest = math.prod(sizes[1:])
        cols = op(cur.reshape(in_sizes[k], rest * n_batch))  # (m_k, R·B)
        cur = be.swap_first(cols.reshape(out_sizes[k], rest, n_batch))  # (R, m_k, B)
        sizes = sizes[1:] + [out_sizes[k]]
    out_tail = out_sizes if kind == "grid" else (math.prod(out_sizes),)
    return be.swap_last(cur.reshape(math.prod(out_sizes), n_batch)).reshape(batch + tuple(out_tail))


def _promote(be: Any, arrays: Sequence[Array], inexact: bool = False) -> tuple[list[Array], Any]:
    """Cast ``arrays`` to their common dtype; with ``inexact``, integer/bool ones to float64
    (what solvers need; NumPy, JAX and torch then agree)."""
    dtype = be.result_dtype(*arrays)
    out = [be.astype(a, dtype) for a in arrays]
    if inexact and not be.is_floating(out[0]):
        dtype = be.float64
        out = [be.astype(a, dtype) for a in out]
    return out, dtype


def _inexact(be: Any, a: Array) -> Array:
    """``a`` itself if floating/complex, else cast to float64 (as NumPy's and JAX's linalg do)."""
    return a if be.is_floating(a) else be.astype(a, be.float64)


def kron_matvec(
    factors: Sequence[Array], x: Array, *, layout: Layout = "auto", check: bool = True
) -> Array:
    """``(A_1 ⊗ ... ⊗ A_d) x`` for factors of any (rectangular) shapes, batched over leading dims.

    Args:
        factors: ``d`` matrices, ``A_i`` of shape ``(m_i, n_i)``.
        x: ``(..., Π n_i)`` (flat) or ``(..., n_1, ..., n_d)`` (grid); see the module docstring.
        layout: ``"auto"``, ``"flat"`` or ``"grid"``.
        check: validate finiteness of ``x`` (skipped automatically under JAX tracing).

    Returns:
        ``(..., Π m_i)`` or ``(..., m_1, ..., m_d)``, in ``x``'s layout, dtype promoted over inputs.
    """
    check_factors(factors)
    check_array(x, "x")
    be = common_backend(x, *factors, names=("x", "factors"))
    x, *mats = convert_all(be, x, *factors)
    if check:
        check_finite(x, "x")
    (x, *mats), _ = _promote(be, [x, *mats])
    in_sizes = tuple(int(a.shape[1]) for a in mats)
    out_sizes = tuple(int(a.shape[0]) for a in mats)
    ops = [lambda cols, a=a: a @ cols for a in mats]
    return _kron_apply(ops, in_sizes, out_sizes, x, layout, "x")


def mode_product(x: Array, A: Array, mode: int) -> Array:
    """Tucker ``n``-mode product ``x ×_mode A``: contracts axis ``mode`` of ``x`` with ``A``'s columns.

    Args:
        x: array of any rank ``(..., n_mode, ...)``.
        A: ``(m, n_mode)``.
        mode: the axis of ``x`` to contract (negative values count from the end).

    Returns:
        ``x`` with axis ``mode`` of size ``m``: ``y[..., j, ...] = Σ_i A[j, i] x[..., i, ...]``.
    """
    check_array(x, "x")
    check_array(A, "A")
    be = common_backend(x, A, names=("x", "A"))
    x, A = convert_all(be, x, A)
    ndim = len(x.shape)
    if len(A.shape) != 2:
        raise ValueError(f"A must be 2-D, got shape {tuple(A.shape)}")
    if not -ndim <= mode < ndim:
        raise ValueError(f"mode {mode} out of range for x of shape {tuple(x.shape)}")
    mode %= ndim
    if A.shape[1] != x.shape[mode]:
        raise ValueError(
            f"A of shape {tuple(A.shape)} cannot act on axis {mode} of x with shape "
            f"{tuple(x.shape)}: A.shape[1] must equal {x.shape[mode]}"
        )
    (x, A), _ = _promote(be, [x, A])
    moved = be.moveaxis(x, mode, -1) @ A.T
    return be.moveaxis(moved, -1, mode)


def multi_mode_product(
    x: Array, mats: Sequence[Array], modes: Sequence[int] | None = None
) -> Array:
    """Successive mode products ``x ×_{modes[0]} mats[0] ×_{modes[1]} mats[1] ...``.

    ``modes`` defaults to the trailing ``len(mats)`` axes of ``x`` in order, so leading axes act as a
    batch (``x`` of shape ``(batch, R_1, ..., R_d)`` with ``mats[i]`` of shape ``(n_i, R_i)``).
    """
    check_array(x, "x")
    if len(mats) == 0:
        raise ValueError("mats must hold at least one matrix")
    ndim = len(x.shape)
    if modes is None:
        if len(mats) > ndim:
            raise ValueError(
                f"x of shape {tuple(x.shape)} has {ndim} axes, fewer than the {len(mats)} "
                "matrices in mats (pass modes to choose the axes)"
            )
        modes = list(range(ndim - len(mats), ndim))
    if len(modes) != len(mats):
        raise ValueError(f"got {len(mats)} matrices but {len(modes)} modes")
    for m in modes:
        if not -ndim <= m < ndim:
            raise ValueError(f"mode {m} out of range for x of shape {tuple(x.shape)}")
    if len({m % ndim for m in modes}) != len(modes):
        raise ValueError(f"modes must be distinct axes of x, got {list(modes)}")
    for A, mode in zip(mats, modes):
        x = mode_product(x, A, mode)
    return x


def _sym_tol(a: Array) -> float:
    """Relative tolerance for 'Hermitian to rounding' in ``a``'s precision."""
    low_precision = any(t in str(a.dtype) for t in ("float32", "complex64", "16"))
    return 1e-5 if low_precision else 1e-10


def _factorise(be: Any, a: Array, assume: str, name: str) -> Callable[[Array], Array]:
    """A function ``B -> A^{-1} B`` using Cholesky for SPD/HPD factors, LU otherwise.

    A singular factor (a zero pivot in LU) is a ValueError naming it, outside JAX tracing (under
    tracing the solve gives inf/NaN, as ``kron_logdet`` gives -inf)."""
    use_chol = assume == "spd"
    if assume == "auto" and not is_traced(a):
        use_chol = be.max_abs(a - be.conj_t(a)) <= _sym_tol(a) * max(be.max_abs(a), 1e-300)
    if use_chol:
        l_factor = be.cho_factor(a)
        if is_traced(a) or be.cholesky_succeeded(l_factor):
            return lambda b: be.cho_solve(l_factor, b)
        if assume == "spd":
            raise ValueError(f"{name}, declared SPD (assume='spd'), is not positive definite")
    lu = be.lu_factor(a)
    if not is_traced(a) and be.lu_singular(lu):
        raise ValueError(
            f"{name} (shape {tuple(a.shape)}) is singular: its LU factorisation has a zero pivot, "
            "so the Kronecker product has no inverse"
        )
    return lambda b: be.lu_solve(lu, b)


def kron_solve(
    factors: Sequence[Array],
    b: Array,
    *,
    layout: Layout = "auto",
    assume: Literal["auto", "spd", "general"] = "auto",
    check: bool = True,
) -> Array:
    """``(A_1 ⊗ ... ⊗ A_d)^{-1} b`` for square nonsingular factors, one factorisation per factor.

    ``assume="auto"`` uses Cholesky for factors that are Hermitian to rounding and positive
    definite (falling back to LU if Cholesky fails), and LU otherwise; under JAX tracing, where values
    cannot be inspected, ``"auto"`` means LU. ``b`` has shape ``(..., N)`` or ``(..., n_1, ..., n_d)``.
    Integer inputs are solved in float64 (in every library). A singular factor is a ValueError
    naming it (outside JAX tracing, where the result holds inf/NaN instead). Gradients with
    respect to a factor: the Cholesky path (``"spd"``, or ``"auto"`` on a Hermitian factor) gives
    the symmetrised gradient ½(G + Gᴴ), the right one when the factor is a symmetric function of
    the parameters (kernel matrices); ``assume="general"`` gives the unstructured gradient G.
    """
    check_factors(factors, square=True)
    if assume not in ("auto", "spd", "general"):
        raise ValueError(f"assume must be 'auto', 'spd' or 'general', got {assume!r}")
    check_array(b, "b")
    be = common_backend(b, *factors, names=("b", "factors"))
    b, *mats = convert_all(be, b, *factors)
    if check:
        check_finite(b, "b")
        for i, a in enumerate(mats):
            check_finite(a, f"factors[{i}]")
    (b, *mats), _ = _promote(be, [b, *mats], inexact=True)
    sizes = tuple(int(a.shape[0]) for a in mats)
    ops = [_factorise(be, a, assume, f"factors[{i}]") for i, a in enumerate(mats)]
    return _kron_apply(ops, sizes, sizes, b, layout, "b")


def kron_slogdet(factors: Sequence[Array]) -> tuple[Array, Array]:
    """Sign (or phase) and ``log|det(A_1 ⊗ ... ⊗ A_d)|`` = ``Σ_i (N / n_i) log|det A_i|``."""
    check_factors(factors, square=True)
    be = common_backend(*factors, names=("factors",))
    mats = [_inexact(be, a) for a in convert_all(be, *factors)]
    n_total = math.prod(int(a.shape[0]) for a in mats)
    sign, logabs = 1.0, 0.0
    for a in mats:
        s, la = be.slogdet(a)
        power = n_total // int(a.shape[0])
        sign = sign * s**power
        logabs = logabs + power * la
    return sign, logabs


def kron_logdet(factors: Sequence[Array]) -> Array:
    """``log|det(A_1 ⊗ ... ⊗ A_d)|`` from per-factor log-determinants (the log-det for SPD factors).

    Raises ValueError for a singular factor (outside JAX tracing, where ``-inf`` is returned).
    """
    sign, logabs = kron_slogdet(factors)
    if not is_traced(logabs) and not backend(logabs).all_finite(logabs):  # no float(): grads
        raise ValueError("a factor is singular: log|det| is -inf")
    return logabs


class KronEigh:
    """Eigendecomposition of ``K = K_1 ⊗ ... ⊗ K_d`` for symmetric/Hermitian factors.

    Per factor ``K_i = Q_i diag(λ_i) Q_iᴴ``; the eigenvalues of ``K`` are the ``N = Π n_i`` products
    ``λ_{1,j_1} ··· λ_{d,j_d}``, stored as one vector (``O(N)`` memory), the eigenvectors never formed.

    Near-singular factors: eigenvalues are used exactly as computed and are **never clamped**.
    ``solve``/``logdet`` raise ``ValueError`` when an eigenvalue of ``K + shift·I`` is ``≤ 0``
    (reporting the smallest one); add jitter explicitly through ``shift``. Under JAX tracing the check
    cannot run and a non-positive eigenvalue shows up as NaN in ``logdet``. Gradients through
    ``eigh`` are undefined for repeated eigenvalues within one factor (e.g. an identity factor).

    Args:
        factors: ``d`` square Hermitian matrices ``K_i`` of shape ``(n_i, n_i)``.
        check: validate symmetry and finiteness (skipped under JAX tracing).
    """

    def __init__(self, factors: Sequence[Array], *, check: bool = True) -> None:
        check_factors(factors, square=True)
        be = common_backend(*factors, names=("factors",))
        mats = convert_all(be, *factors)
        if check:
            for i, a in enumerate(mats):
                check_finite(a, f"factors[{i}]")
                if not is_traced(a):
                    err = be.max_abs(a - be.conj_t(a))
                    if err > _sym_tol(a) * max(be.max_abs(a), 1e-300):
                        raise ValueError(
                            f"factors[{i}] (shape {tuple(a.shape)}) is not symmetric/Hermitian: "
                            f"max |K - Kᴴ| = {err:.3e}"
                        )
        mats = [_inexact(be, a) for a in mats]  # torch's eigh rejects integer matrices
        self._be = be
        self.sizes = tuple(int(a.shape[0]) for a in mats)
        decomps = [be.eigh(a) for a in mats]
        self.factor_eigenvalues = [lam for lam, _ in decomps]
        self.factor_eigenvectors = [q for _, q in decomps]
        self._eigs: Array | None = None

    @property
    def eigenvalues(self) -> Array:
        """All ``N`` eigenvalues of ``K`` as a flat vector in Kronecker (row-major) order."""
        if self._eigs is None:
            lam = self.factor_eigenvalues[0]
            for other in self.factor_eigenvalues[1:]:
                lam = self._be.outer_flat(lam, other, "mul")
            self._eigs = lam
        return self._eigs

    def _shifted(self, shift: Any) -> Array:
        if tuple(getattr(shift, "shape", ())) != ():  # an array would act in the eigenbasis
            raise ValueError(
                f"shift: expected a scalar (K + shift·I), got shape {tuple(shift.shape)}"
            )
        lam = self.eigenvalues + shift
        if not is_traced(lam):
            low = float(self._be.min(lam))
            if not low > 0:
                raise ValueError(
                    f"K + shift·I is not positive definite: smallest eigenvalue {low:.3e} "
                    f"(shift={float(shift) if not is_traced(shift) else 'traced'}); eigenvalues are "
                    "not clamped, increase shift"
                )
        return lam

    def _scale(self, z: Array, lam: Array, layout: Layout) -> Array:
        kind, _ = _resolve_layout(tuple(z.shape), self.sizes, layout, "b")
        return z / (lam.reshape(self.sizes) if kind == "grid" else lam)

    def matvec(self, x: Array, *, layout: Layout = "auto") -> Array:
        """``K x`` through the eigendecomposition (mainly for testing; prefer ``kron_matvec``)."""
        qh = [self._be.conj_t(q) for q in self.factor_eigenvectors]
        z = kron_matvec(qh, x, layout=layout)
        z = self._scale(z, 1.0 / self.eigenvalues, layout)
        return kron_matvec(self.factor_eigenvectors, z, layout=layout)

    def solve(self, b: Array, shift: Any = 0.0, *, layout: Layout = "auto") -> Array:
        """``(K + shift·I)^{-1} b`` for ``b`` of shape ``(..., N)`` or ``(..., n_1, ..., n_d)``."""
        if not hasattr(b, "shape"):
            raise TypeError(f"b must be an array (torch, NumPy or JAX), got {type(b).__name__}")
        _resolve_layout(tuple(b.shape), self.sizes, layout, "b")  # errors name ``b``
        check_finite(b, "b")
        lam = self._shifted(shift)
        qh = [self._be.conj_t(q) for q in self.factor_eigenvectors]
        z = kron_matvec(qh, b, layout=layout, check=False)
        z = self._scale(z, lam, layout)
        return kron_matvec(self.factor_eigenvectors, z, layout=layout, check=False)

    def logdet(self, shift: Any = 0.0) -> Array:
        """``log det(K + shift·I)`` = ``Σ log(λ + shift)``."""
        return self._be.sum(self._be.log(self._shifted(shift)))
