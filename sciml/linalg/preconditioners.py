"""Preconditioners for PCG: Jacobi, incomplete Cholesky IC(0), pyamg (SA / Ruge–Stüben).

Each factory returns a callable ``r -> M⁻¹ r`` on 1-D float64 torch tensors.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch

from sciml.linalg.system import PoissonSystem


def _csr(A) -> sp.csr_matrix:
    if isinstance(A, PoissonSystem):
        return A.A
    if sp.issparse(A):
        return A.tocsr()
    raise TypeError(f"A: expected a PoissonSystem or scipy sparse matrix, got {type(A).__name__}")


def jacobi(A):
    """Diagonal preconditioner ``M = diag(A)`` (works for any device via torch)."""
    d = torch.from_numpy(_csr(A).diagonal().copy())
    if (d <= 0).any():
        raise ValueError("A: Jacobi needs a positive diagonal")
    inv = 1.0 / d
    cache = {}

    def apply(r: torch.Tensor) -> torch.Tensor:
        key = r.device
        if key not in cache:
            cache[key] = inv.to(r.device)
        return cache[key] * r

    return apply


class IC0:
    """Zero fill-in incomplete Cholesky ``A ≈ (D + L) D⁻¹ (D + L)ᵀ``, L = strict lower part of A.

    For 5-/7-point stencil matrices (graphs without triangles) this is exactly IC(0): only the
    pivots change, ``d_i = a_ii − Σ_{j<i} a_ij² / d_j``. Pivots and both triangular solves run
    level by level (wavefronts), vectorised over each level. ``levels`` defaults to the grid
    wavefront of a PoissonSystem; for other matrices a row-by-row level schedule is computed.
    """

    def __init__(self, A, levels: np.ndarray | None = None):
        M = _csr(A)
        if levels is None:
            levels = A.levels() if isinstance(A, PoissonSystem) else _level_schedule(M)
        levels = np.asarray(levels)
        # permute so that every level is a contiguous block (slices instead of gathers)
        perm = np.argsort(levels, kind="stable")
        self.perm = perm
        Mp = M[perm][:, perm].tocsr()
        lev = levels[perm]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(lev)) + 1, [lev.size]])
        self._blocks = [(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:])]
        L = sp.tril(Mp, -1, format="csr")
        U = sp.triu(Mp, 1, format="csr")
        L2 = L.multiply(L).tocsr()
        diag = Mp.diagonal()
        n = Mp.shape[0]
        d = np.empty(n)
        inv = np.zeros(n)
        self._L = [L[a:b] for a, b in self._blocks]
        self._U = [U[a:b] for a, b in self._blocks]
        for a, b in self._blocks:
            d[a:b] = diag[a:b] - L2[a:b] @ inv
            if (d[a:b] <= 0).any():
                i = int(perm[a + int(np.flatnonzero(d[a:b] <= 0)[0])])
                raise ValueError(
                    f"A: IC(0) breakdown, pivot {float(d[a:b].min()):.3g} <= 0 at row {i}: A is not "
                    "a non-singular M-matrix (a singular one, e.g. a pure-Neumann Laplacian, ends "
                    "with a zero pivot: fix one unknown first)"
                )
            inv[a:b] = 1.0 / d[a:b]
        self.d = np.empty(n)
        self.d[perm] = d
        self._inv = inv

    def solve(self, r: np.ndarray) -> np.ndarray:
        """M⁻¹ r for r (n,) (numpy)."""
        rp = r[self.perm]
        inv = self._inv
        y = np.zeros_like(rp)
        for (a, b), La in zip(self._blocks, self._L):
            y[a:b] = (rp[a:b] - La @ y) * inv[a:b]
        z = np.zeros_like(rp)
        for (a, b), Ua in zip(reversed(self._blocks), reversed(self._U)):
            z[a:b] = y[a:b] - (Ua @ z) * inv[a:b]
        out = np.empty_like(z)
        out[self.perm] = z
        return out

    def __call__(self, r: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.solve(r.detach().cpu().numpy())).to(r.device)


def _level_schedule(M: sp.csr_matrix) -> np.ndarray:
    n = M.shape[0]
    lev = np.zeros(n, dtype=np.int64)
    ip, ix = M.indptr, M.indices
    for i in range(n):
        cols = ix[ip[i] : ip[i + 1]]
        cols = cols[cols < i]
        if cols.size:
            lev[i] = lev[cols].max() + 1
    return lev


def ichol0(A, levels: np.ndarray | None = None) -> IC0:
    """Incomplete Cholesky preconditioner (see :class:`IC0`): exactly IC(0) for 5-/7-point stencil
    matrices (graphs without triangles); for other sparsity patterns (e.g. 9-point stencils) only
    the pivots are updated, i.e. a diagonal-modified IC, not textbook IC(0)."""
    return IC0(A, levels)


def amg(A, kind: str = "sa"):
    """pyamg V-cycle preconditioner: ``kind="sa"`` smoothed aggregation, ``"rs"`` Ruge–Stüben.

    Raises ImportError with an install hint when pyamg (optional dependency) is absent.
    """
    try:
        import pyamg
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("amg: pyamg is not installed (pip install 'sciml[bench]')") from e
    M = _csr(A)
    if kind == "sa":
        ml = pyamg.smoothed_aggregation_solver(M)
    elif kind == "rs":
        ml = pyamg.ruge_stuben_solver(M)
    else:
        raise ValueError(f"kind: expected 'sa' or 'rs', got {kind!r}")
    P = ml.aspreconditioner(cycle="V")

    def apply(r: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(P @ r.detach().cpu().numpy())).to(r.device)

    apply.hierarchy = ml
    return apply
