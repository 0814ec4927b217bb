"""Two-level coarse space for DCDM (our addition, not in Kaneda et al. 2023).

Piecewise-constant aggregates over blocks of ``block^d`` grid cells: each block's fluid cells,
split into the pieces connected inside the block, form one aggregate (one column of Z, entries
0/1). The Galerkin coarse matrix ``E = Zᵀ A Z`` is small and factorised once (scipy sparse LU;
one dof of every all-Neumann coarse component is pinned, which is exact for consistent
right-hand sides). Restriction/prolongation are index scatters/gathers in torch, so they run on
the vectors' device; only the m-vector of the coarse solve visits the CPU.

Used by :class:`~sciml.linalg.dcdm.DCDMSolver` with ``coarse="deflation"`` (Nicolaides
deflation: start from the coarse solution, keep ``Zᵀ r = 0`` and project every direction with
``P = I − Z E⁻¹ Zᵀ A``) or ``coarse="additive"`` (``q = s f(r) + Z E⁻¹ Zᵀ r`` with the network
output scaled by its own A-optimal step ``s``).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import scipy.sparse.linalg as spla
import torch

from sciml.linalg.stencil import StencilOperator
from sciml.linalg.system import PoissonSystem


def stencil_csr(op: StencilOperator) -> sp.csr_matrix:
    """Assemble the scipy CSR matrix (fluid unknowns) of a matrix-free stencil operator."""
    shape = op.shape
    size = int(np.prod(shape))
    diag = op.diag.detach().cpu().double().numpy().ravel()
    index = op.index.cpu().numpy()
    number = np.full(size, -1, dtype=np.int64)
    number[index] = np.arange(index.size)
    rows, cols, vals = [np.arange(index.size)], [np.arange(index.size)], [diag[index]]
    grid = np.arange(size).reshape(shape)
    for ax, w in enumerate(op.weights):
        w = w.detach().cpu().double().numpy()
        lo = grid.take(np.arange(shape[ax] - 1), axis=ax).ravel()
        hi = grid.take(np.arange(1, shape[ax]), axis=ax).ravel()
        wv = w.ravel()
        keep = wv != 0
        i, j = number[lo[keep]], number[hi[keep]]
        rows += [i, j]
        cols += [j, i]
        vals += [-wv[keep], -wv[keep]]
    n = index.size
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )


def _as_csr(A) -> sp.csr_matrix:
    if isinstance(A, PoissonSystem):
        return A.A.tocsr()
    if isinstance(A, StencilOperator):
        return stencil_csr(A)
    if sp.issparse(A):
        return A.tocsr()
    if isinstance(A, np.ndarray):
        return sp.csr_matrix(A)
    if isinstance(A, torch.Tensor):
        if A.layout == torch.sparse_csr:
            A = A.to_sparse_coo()
        if A.is_sparse:
            A = A.coalesce().cpu()
            i = A.indices().numpy()
            return sp.csr_matrix((A.values().double().numpy(), (i[0], i[1])), shape=A.shape)
        return sp.csr_matrix(A.detach().cpu().double().numpy())
    raise TypeError(
        "A: the coarse space needs an assembled matrix (PoissonSystem, StencilOperator, scipy "
        f"or torch matrix), got {type(A).__name__}"
    )


def aggregates(A: sp.csr_matrix, shape, index, block: int) -> np.ndarray:
    """(n,) aggregate id per unknown: block of ``block^d`` cells ∩ a piece of the fluid
    connected inside that block (through the couplings of A)."""
    coords = np.unravel_index(np.asarray(index), tuple(shape))
    nb = [-(-s // block) for s in shape]
    bid = np.ravel_multi_index(tuple(c // block for c in coords), nb)
    coo = A.tocoo()
    keep = (coo.row != coo.col) & (bid[coo.row] == bid[coo.col]) & (coo.data != 0)
    n = A.shape[0]
    g = sp.csr_matrix((np.ones(int(keep.sum())), (coo.row[keep], coo.col[keep])), shape=(n, n))
    _, lab = csgraph.connected_components(g, directed=False)
    # renumber in order of first appearance (deterministic, blocks roughly contiguous)
    _, first, inv = np.unique(lab, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inv].astype(np.int64)


class CoarseSpace:
    """Aggregation coarse space ``Z`` (n × m, 0/1) with ``E = ZᵀAZ`` factorised.

    Args:
        A: the system (PoissonSystem, StencilOperator, scipy/torch matrix).
        shape, index: grid shape and flat C-order grid indices of the n unknowns.
        block: aggregate edge length in cells (``block^d`` cells per block).
        device: device of the torch vectors it will act on.

    Attributes: ``agg`` (n,) aggregate ids, ``m`` coarse size, ``E`` (m, m) scipy CSR,
    ``setup_time`` seconds (aggregation + Galerkin product + factorisation).
    """

    def __init__(self, A, shape, index, block: int = 4, device=None):
        if int(block) < 1 or int(block) != block:
            raise ValueError(f"coarse_block: expected a positive integer, got {block}")
        t0 = time.perf_counter()
        M = _as_csr(A)
        index = np.asarray(index.cpu() if isinstance(index, torch.Tensor) else index)
        if M.shape != (index.size, index.size):
            raise ValueError(f"A: expected shape ({index.size}, {index.size}), got {M.shape}")
        agg = aggregates(M, shape, index, int(block))
        n, m = index.size, int(agg.max()) + 1
        Z = sp.csr_matrix((np.ones(n), (np.arange(n), agg)), shape=(n, m))
        E = (Z.T @ M @ Z).tocsr()
        E = 0.5 * (E + E.T)
        self.pinned = _singular_components(E, M, agg)
        Ef = E.tolil()
        for i in self.pinned:  # fix one value per all-Neumann coarse component
            Ef[i, :] = 0.0
            Ef[:, i] = 0.0
            Ef[i, i] = 1.0
        self._lu = spla.splu(Ef.tocsc())
        self.E = E
        self.m = m
        self.block = int(block)
        self.agg = agg
        self._agg_t = torch.as_tensor(agg, device=device)
        self.setup_time = time.perf_counter() - t0

    def restrict(self, v: torch.Tensor) -> torch.Tensor:
        """Zᵀ v: sums of v over each aggregate, (m,)."""
        idx = self._agg_t.to(v.device)
        return torch.zeros(self.m, dtype=v.dtype, device=v.device).index_add_(0, idx, v)

    def prolong(self, c: torch.Tensor) -> torch.Tensor:
        """Z c: the aggregate value on each of its cells, (n,)."""
        return c[self._agg_t.to(c.device)]

    def coarse_solve(self, g: torch.Tensor) -> torch.Tensor:
        """E⁻¹ g (g consistent with E's null space when E is singular)."""
        gn = g.detach().cpu().double().numpy().copy()
        gn[self.pinned] = 0.0
        return torch.from_numpy(self._lu.solve(gn)).to(device=g.device, dtype=g.dtype)

    def correction(self, r: torch.Tensor) -> torch.Tensor:
        """Z E⁻¹ Zᵀ r (the two-level coarse correction)."""
        return self.prolong(self.coarse_solve(self.restrict(r)))

    def project(
        self, q: torch.Tensor, Aq: torch.Tensor, matvec
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(P q, A P q) with the A-orthogonal projection P = I − Z E⁻¹ Zᵀ A (so Zᵀ A P q = 0);
        one extra matvec for A Z c."""
        zc = self.prolong(self.coarse_solve(self.restrict(Aq)))
        return q - zc, Aq - matvec(zc)


def _singular_components(E: sp.csr_matrix, M: sp.csr_matrix, agg: np.ndarray) -> list[int]:
    """One coarse dof per connected component of E with no Dirichlet coupling (all its fine rows
    of ``M`` sum to zero: the component's constant is in E's null space).

    Zero row sums are judged per fine row against the rounding of that row's own sum
    (``4 · nnz · eps · Σ_j |M_ij|``), not against the component's largest entry: with strongly
    anisotropic spacing a Dirichlet coupling can be 1e-10 of the diagonal and must still count."""
    ncomp, lab = csgraph.connected_components(E, directed=False)
    rowsum = np.abs(M @ np.ones(M.shape[0]))
    absrow = np.asarray(abs(M).sum(axis=1)).ravel()
    tol = 4 * np.diff(M.indptr) * np.finfo(np.float64).eps * absrow
    coupled = np.zeros(E.shape[0], dtype=bool)  # coarse dofs with a Dirichlet-coupled fine row
    np.logical_or.at(coupled, agg, rowsum > tol)
    out = []
    for c in range(ncomp):
        sel = np.flatnonzero(lab == c)
        if not coupled[sel].any():
            out.append(int(sel[0]))
    return out
