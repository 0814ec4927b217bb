"""Scenes: box domains, sphere/box obstacles, random obstacle layouts, smoke-like right-hand sides."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sciml.linalg.system import AIR, FLUID, SOLID, PoissonSystem


def box_mask(shape: Sequence[int], air_faces: Sequence[tuple[int, int]] = ()) -> np.ndarray:
    """All-fluid grid of ``shape``; ``air_faces`` lists (axis, side) with side 0/1 whose outer
    cell layer becomes AIR (a Dirichlet face inside the array)."""
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 3) or min(shape) < 2:
        raise ValueError(f"shape: expected 2 or 3 sizes >= 2, got {shape}")
    mask = np.full(shape, FLUID, dtype=np.int8)
    for ax, side in air_faces:
        sl = [slice(None)] * len(shape)
        sl[ax] = -1 if side else 0
        mask[tuple(sl)] = AIR
    return mask


def _grid(shape):
    return np.meshgrid(*[np.arange(s) + 0.5 for s in shape], indexing="ij")


def add_sphere(mask: np.ndarray, center: Sequence[float], radius: float, value: int = SOLID):
    """Set cells whose centre lies within ``radius`` of ``center`` (cell units) to ``value``."""
    if len(center) != mask.ndim:
        raise ValueError(f"center: expected {mask.ndim} coordinates, got {len(center)}")
    X = _grid(mask.shape)
    d2 = sum((x - c) ** 2 for x, c in zip(X, center))
    mask[d2 <= radius**2] = value
    return mask


def add_box(mask: np.ndarray, lo: Sequence[int], hi: Sequence[int], value: int = SOLID):
    """Set the cells ``lo <= index < hi`` to ``value``."""
    if len(lo) != mask.ndim or len(hi) != mask.ndim:
        raise ValueError(f"lo/hi: expected {mask.ndim} indices each, got {lo}, {hi}")
    mask[tuple(slice(int(a), int(b)) for a, b in zip(lo, hi))] = value
    return mask


def random_obstacles(
    shape: Sequence[int],
    n_obstacles: int = 4,
    seed: int = 0,
    radius: tuple[float, float] = (0.06, 0.15),
    air_faces: Sequence[tuple[int, int]] = ((1, 1),),
) -> np.ndarray:
    """Box with ``n_obstacles`` random solid spheres and boxes; sizes are fractions of the
    smallest side. Default: Neumann walls with an air (Dirichlet) top face along axis 1."""
    rng = np.random.default_rng(seed)
    mask = box_mask(shape, air_faces)
    shape = mask.shape
    m = min(shape)
    for _ in range(n_obstacles):
        r = rng.uniform(*radius) * m
        c = [rng.uniform(r + 1, s - r - 1) for s in shape]
        if rng.random() < 0.5:
            add_sphere(mask, c, r)
        else:
            half = [rng.uniform(0.5, 1.0) * r for _ in shape]
            add_box(
                mask,
                [int(ci - hi) for ci, hi in zip(c, half)],
                [int(ci + hi) for ci, hi in zip(c, half)],
            )
    if not (mask == FLUID).any():  # pragma: no cover - radius bounds make this impossible
        raise ValueError("random_obstacles: obstacles filled the whole domain")
    return mask


def smoke_rhs(
    system: PoissonSystem, seed: int = 0, smoothness: float = 3.0, plume: bool = True
) -> np.ndarray:
    """Smoke-like right-hand side (n,): divergence of a smooth random velocity field (plus an
    optional buoyant plume jet), sampled on fluid cells with solid faces closed, as in a pressure
    projection ``A p = -div u*``. Projected onto range(A) and scaled to unit 2-norm."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    shape = system.shape
    nd = len(shape)
    fluid = system.fluid
    X = _grid(shape)
    div = np.zeros(shape)
    for ax in range(nd):
        u = gaussian_filter(rng.standard_normal(shape), smoothness, mode="wrap")
        if plume and ax == 1:
            c = [rng.uniform(0.3, 0.7) * s for s in shape]
            r2 = sum((X[a] - c[a]) ** 2 for a in range(nd) if a != 1) / (0.1 * min(shape)) ** 2
            u = u + 3.0 * u.std() * np.exp(-r2) * (X[1] < 0.5 * shape[1])
        u = u * fluid
        # face velocities (average of neighbours), zero through solid faces
        a = [slice(None)] * nd
        b = [slice(None)] * nd
        a[ax] = slice(0, -1)
        b[ax] = slice(1, None)
        face = 0.5 * (u[tuple(a)] + u[tuple(b)]) * (fluid[tuple(a)] & fluid[tuple(b)])
        pad = [(0, 0)] * nd
        pad[ax] = (1, 1)
        face = np.pad(face, pad)
        hi = [slice(None)] * nd
        lo = [slice(None)] * nd
        hi[ax] = slice(1, None)
        lo[ax] = slice(0, -1)
        div += (face[tuple(hi)] - face[tuple(lo)]) / system.spacing[ax]
    b = -system.to_vec(div)
    b = system.project(b)
    nrm = np.linalg.norm(b)
    if nrm == 0:  # pragma: no cover
        raise ValueError("smoke_rhs: zero right-hand side (no fluid faces)")
    return b / nrm
