"""Poisson system on a 2-D/3-D grid from a cell-type mask (fluid / solid / air).

Fluid cells are the unknowns, numbered in C (row-major) order of the grid. A face between a
fluid cell and a solid cell is a Neumann face (no coupling, no diagonal contribution); a face
between a fluid cell and an air cell is a Dirichlet face (u = 0 there, adds ``1/h²`` to the
diagonal). ``A`` is the negative 5-/7-point Laplacian ``-Δ_h`` restricted to the fluid cells,
so ``A`` is symmetric positive semi-definite (definite when every connected fluid region
touches air).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

FLUID = 0
SOLID = 1
AIR = 2
CELL_TYPES = {"fluid": FLUID, "solid": SOLID, "air": AIR}

Boundary = str | Sequence[tuple[str, str]]


def _check_mask(mask: np.ndarray) -> np.ndarray:
    try:
        import torch

        if isinstance(mask, torch.Tensor):
            mask = mask.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"mask: expected a numpy array of cell types, got {type(mask).__name__}")
    if mask.ndim not in (2, 3):
        raise ValueError(f"mask: expected a 2-D or 3-D grid, got shape {mask.shape}")
    if not np.issubdtype(mask.dtype, np.integer) and mask.dtype != np.bool_:
        raise TypeError(f"mask: expected an integer array of cell types, got dtype {mask.dtype}")
    bad = ~np.isin(mask, (FLUID, SOLID, AIR))
    if bad.any():
        raise ValueError(
            f"mask: cell types must be FLUID={FLUID}, SOLID={SOLID} or AIR={AIR}; "
            f"found {np.unique(mask[bad])[:5].tolist()}"
        )
    if not (mask == FLUID).any():
        raise ValueError("mask: the fluid region is empty (no FLUID cells): nothing to solve")
    return mask.astype(np.int8, copy=False)


def _normalise_boundary(boundary: Boundary, ndim: int) -> list[tuple[int, int]]:
    if isinstance(boundary, str):
        boundary = [(boundary, boundary)] * ndim
    boundary = list(boundary)
    if len(boundary) != ndim:
        raise ValueError(
            f"boundary: expected one (low, high) pair per axis ({ndim}), got {len(boundary)}"
        )
    out = []
    for pair in boundary:
        if len(pair) != 2 or any(p not in ("solid", "air") for p in pair):
            raise ValueError(f"boundary: each face must be 'solid' or 'air', got {pair!r}")
        out.append((CELL_TYPES[pair[0]], CELL_TYPES[pair[1]]))
    return out


def _normalise_spacing(spacing: float | Sequence[float], ndim: int) -> tuple[float, ...]:
    if np.isscalar(spacing):
        spacing = (float(spacing),) * ndim
    spacing = tuple(float(h) for h in spacing)
    if len(spacing) != ndim or any(not np.isfinite(h) or h <= 0 for h in spacing):
        raise ValueError(f"spacing: expected {ndim} positive finite numbers, got {spacing}")
    return spacing


def _padded(mask: np.ndarray, boundary: list[tuple[int, int]]) -> np.ndarray:
    """Mask with one ghost layer per face holding the outside cell type."""
    out = np.pad(mask, 1, constant_values=SOLID)
    for ax, (lo, hi) in enumerate(boundary):
        sl_lo = [slice(1, -1)] * mask.ndim
        sl_hi = [slice(1, -1)] * mask.ndim
        sl_lo[ax] = 0
        sl_hi[ax] = -1
        out[tuple(sl_lo)] = lo
        out[tuple(sl_hi)] = hi
    return out


@dataclass(frozen=True, eq=False)
class PoissonSystem:
    """Assembled Poisson system.

    Attributes:
        mask: (N1, N2[, N3]) int8 cell types (FLUID / SOLID / AIR).
        spacing: grid spacing per axis.
        boundary: outside cell type per face, ``[(low, high), ...]`` as cell-type integers.
        A: (n, n) scipy CSR float64, ``n`` = number of fluid cells.
        index: (n,) flat C-order grid indices of the unknowns.
    """

    mask: np.ndarray
    spacing: tuple[float, ...]
    boundary: list[tuple[int, int]]
    A: sp.csr_matrix
    index: np.ndarray
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.mask.shape)

    @property
    def n(self) -> int:
        return int(self.index.size)

    @property
    def fluid(self) -> np.ndarray:
        """(grid) bool, True on unknowns."""
        return self.mask == FLUID

    # ---- vector <-> grid -------------------------------------------------
    def _torch_index(self, device):
        """``index`` as a torch tensor on ``device``, made once per device (not per call)."""
        import torch

        key = ("index", torch.device(device))
        if key not in self._cache:
            self._cache[key] = torch.as_tensor(self.index, device=device)
        return self._cache[key]

    def to_grid(self, x):
        """(…, n) vector(s) on fluid cells → (…, *shape) grid with zeros elsewhere."""
        if x.shape[-1] != self.n:
            raise ValueError(f"x: expected last dimension {self.n} (fluid cells), got {x.shape}")
        lead = tuple(x.shape[:-1])
        try:
            import torch

            if isinstance(x, torch.Tensor):
                idx = self._torch_index(x.device)
                g = x.new_zeros((*lead, int(np.prod(self.shape))))
                g[..., idx] = x
                return g.reshape(*lead, *self.shape)
        except ImportError:  # pragma: no cover
            pass
        g = np.zeros((*lead, int(np.prod(self.shape))), dtype=x.dtype)
        g[..., self.index] = x
        return g.reshape(*lead, *self.shape)

    def to_vec(self, g):
        """(…, *shape) grid → (…, n) values on fluid cells."""
        if tuple(g.shape[-self.mask.ndim :]) != self.shape:
            raise ValueError(f"g: expected trailing grid shape {self.shape}, got {tuple(g.shape)}")
        lead = tuple(g.shape[: g.ndim - self.mask.ndim])
        flat = g.reshape(*lead, -1)
        try:
            import torch

            if isinstance(g, torch.Tensor):
                return flat[..., self._torch_index(g.device)]
        except ImportError:  # pragma: no cover
            pass
        return flat[..., self.index]

    # ---- other forms of A ------------------------------------------------
    def torch_csr(self, device=None, dtype=None):
        """A as a torch sparse CSR tensor (float64 by default) on ``device``."""
        import torch

        dtype = dtype or torch.float64
        key = ("csr", str(device), dtype)
        if key not in self._cache:
            self._cache[key] = torch_csr(self.A, device, dtype)
        return self._cache[key]

    def stencil(self, device=None, dtype=None):
        """Matrix-free operator (:class:`~sciml.linalg.stencil.StencilOperator`)."""
        from sciml.linalg.stencil import StencilOperator

        key = ("stencil", str(device), dtype)
        if key not in self._cache:
            self._cache[key] = StencilOperator.from_system(self, device=device, dtype=dtype)
        return self._cache[key]

    # ---- null space --------------------------------------------------------
    def nullspace(self) -> np.ndarray:
        """(n, m) orthonormal basis of ker A: one normalised indicator per fluid component
        that touches no air (all-Neumann component); m = 0 for a definite system."""
        if "null" not in self._cache:
            from scipy import ndimage

            labels, ncomp = ndimage.label(self.fluid)
            padded = _padded(self.mask, self.boundary)
            air = padded == AIR
            # cells adjacent to air (including outside air faces)
            near_air = np.zeros(self.shape, dtype=bool)
            for ax in range(self.mask.ndim):
                for s in (0, 2):
                    sl = [slice(1, -1)] * self.mask.ndim
                    sl[ax] = slice(s, s + self.shape[ax])
                    near_air |= air[tuple(sl)]
            touching = set(np.unique(labels[near_air & self.fluid]).tolist())
            lab = labels.ravel()[self.index]
            cols = []
            for c in range(1, ncomp + 1):
                if c not in touching:
                    v = (lab == c).astype(np.float64)
                    cols.append(v / np.sqrt(v.sum()))
            self._cache["null"] = np.stack(cols, 1) if cols else np.zeros((self.n, 0))
        return self._cache["null"]

    def project(self, b):
        """Remove the null-space component of ``b`` (…, n) (makes a Neumann problem consistent)."""
        Z = self.nullspace()
        if Z.shape[1] == 0:
            return b
        try:
            import torch

            if isinstance(b, torch.Tensor):
                Zt = torch.as_tensor(Z, dtype=b.dtype, device=b.device)
                return b - (b @ Zt) @ Zt.T
        except ImportError:  # pragma: no cover
            pass
        return b - (b @ Z) @ Z.T

    def levels(self) -> np.ndarray:
        """(n,) wavefront level (sum of grid coordinates) of each unknown; rows in one level
        do not couple in the lower triangle (used by IC(0))."""
        coords = np.unravel_index(self.index, self.shape)
        return np.sum(coords, axis=0)


def torch_csr(A: sp.spmatrix, device=None, dtype=None):
    """scipy sparse (n, m) → torch sparse CSR tensor on ``device`` (float64 by default)."""
    import warnings

    import torch

    A = sp.csr_matrix(A)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
        return torch.sparse_csr_tensor(
            torch.as_tensor(A.indptr, dtype=torch.int64),
            torch.as_tensor(A.indices, dtype=torch.int64),
            torch.as_tensor(A.data, dtype=dtype or torch.float64),
            size=A.shape,
            check_invariants=False,
        ).to(device)


def build_poisson(
    mask: np.ndarray,
    spacing: float | Sequence[float] = 1.0,
    boundary: Boundary = "solid",
) -> PoissonSystem:
    """Assemble ``A = -Δ_h`` on the fluid cells of ``mask``.

    Args:
        mask: (N1, N2) or (N1, N2, N3) integer cell types FLUID=0 / SOLID=1 / AIR=2.
        spacing: grid spacing ``h`` (scalar or one per axis).
        boundary: type of the cells outside the array: ``"solid"`` (Neumann walls), ``"air"``
            (Dirichlet zero), or one ``(low, high)`` pair per axis.

    Returns:
        :class:`PoissonSystem` with ``A`` (n, n) scipy CSR float64.
    """
    mask = _check_mask(mask)
    ndim = mask.ndim
    h = _normalise_spacing(spacing, ndim)
    bnd = _normalise_boundary(boundary, ndim)
    padded = _padded(mask, bnd)
    fluid = mask == FLUID
    index = np.flatnonzero(fluid.ravel())
    n = index.size
    number = np.full(mask.size, -1, dtype=np.int64)
    number[index] = np.arange(n)
    number = number.reshape(mask.shape)

    diag = np.zeros(mask.shape)
    rows, cols, vals = [], [], []
    inner = tuple(slice(1, -1) for _ in range(ndim))
    for ax in range(ndim):
        w = 1.0 / h[ax] ** 2
        for s in (-1, 1):
            sl = list(inner)
            sl[ax] = slice(1 + s, 1 + s + mask.shape[ax])
            nb = padded[tuple(sl)]
            diag += w * (fluid & (nb != SOLID))
        # fluid-fluid faces along +ax
        a = [slice(None)] * ndim
        b = [slice(None)] * ndim
        a[ax] = slice(0, -1)
        b[ax] = slice(1, None)
        both = fluid[tuple(a)] & fluid[tuple(b)]
        i = number[tuple(a)][both]
        j = number[tuple(b)][both]
        rows += [i, j]
        cols += [j, i]
        vals += [np.full(i.size, -w), np.full(i.size, -w)]
    rows.append(np.arange(n))
    cols.append(np.arange(n))
    vals.append(diag.ravel()[index])
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    A.sort_indices()
    return PoissonSystem(mask=mask, spacing=h, boundary=bnd, A=A, index=index)
