"""DCDM training data: right-hand sides built from Ritz vectors of a fixed training matrix."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sciml.linalg import bench as _bench
from sciml.linalg.lanczos import lanczos
from sciml.linalg.scenes import box_mask, random_obstacles
from sciml.linalg.system import PoissonSystem, build_poisson

#: default grids of the training matrices (2-D 64², 3-D 32³), empty box, Neumann walls and an
#: air (Dirichlet) top face along axis 1.
TRAIN_GRID = {2: 64, 3: 32}


def training_system(dim: int, n: int | None = None) -> PoissonSystem:
    """Training matrix: ``n^dim`` empty box, solid walls, top layer along axis 1 is air."""
    if dim not in (2, 3):
        raise ValueError(f"dim: expected 2 or 3, got {dim}")
    n = TRAIN_GRID[dim] if n is None else int(n)
    return build_poisson(box_mask((n,) * dim, air_faces=((1, 1),)))


def ritz_vectors(
    system: PoissonSystem, steps: int, seed: int = 0, min_value: float = 1e-8
) -> tuple[np.ndarray, np.ndarray]:
    """Ritz pairs (θ ascending (m,), Z (n, m)) from ``steps`` Lanczos steps with full
    re-orthogonalisation; Ritz values below ``min_value`` (Neumann null space) are dropped."""
    theta, Z = lanczos(system, steps, seed=seed)
    keep = theta > min_value
    return theta[keep], Z[:, keep]


def ritz_rhs(
    Z: np.ndarray, count: int, seed: int = 0, low_weight: float = 9.0, margin: int | None = None
) -> np.ndarray:
    """``count`` normalised right-hand sides (count, n): ``b = Z c`` with Gaussian c whose first
    ``m/2 + margin`` entries (the low end of the spectrum) are scaled by ``low_weight``."""
    Z = np.asarray(Z)
    if Z.ndim != 2 or Z.shape[1] == 0 or not np.issubdtype(Z.dtype, np.floating):
        raise ValueError(
            f"Z: expected real Ritz vectors (n, m) with m >= 1, got {Z.dtype} {tuple(Z.shape)}"
        )
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
        raise ValueError(f"count: expected an int >= 1, got {count!r}")
    m = Z.shape[1]
    margin = max(1, m // 50) if margin is None else int(margin)
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((count, m))
    c[:, : min(m, m // 2 + margin)] *= low_weight
    b = c @ Z.T
    return b / np.linalg.norm(b, axis=1, keepdims=True)


def training_layouts(dim: int, n: int, layouts: int, seed: int = 0) -> list[np.ndarray]:
    """Cell-type masks of the training matrices: the empty box of :func:`training_system` plus
    ``layouts`` random obstacle layouts (5 spheres/boxes, air top face; layout seeds
    ``100 + 1000·seed + i``, disjoint from the benchmark/test seeds ≥ 1000 + n)."""
    masks = [training_system(dim, n).mask]
    for i in range(layouts):
        masks.append(random_obstacles((n,) * dim, 5, seed=100 + 1000 * seed + i))
    return masks


def generate_ritz(
    seed: int = 0,
    dim: int = 2,
    grid: int | None = None,
    steps: int = 1000,
    n_train: int = 2000,
    n_val: int = 100,
    layouts: int = 0,
) -> dict:
    """Registry generator: the DCDM training set as ``{"splits", "kind"}``.

    Splits ``train``/``val`` hold ``x`` = (N, 1, *grid) float32 unit-norm right-hand sides on the
    training grid (the loss is unsupervised: the input is also the target). Validation vectors
    use independent Gaussian coefficients (seed + 2, train seed + 1); both lie in the span of the
    same Ritz vectors (one training matrix, as in the reference).

    ``layouts`` > 0 (mixed obstacle layouts): the vectors are split evenly between the empty box
    and ``layouts`` random obstacle layouts (:func:`training_layouts`), each with its own
    Lanczos run of ``steps`` steps, and the splits also hold ``cells`` = (N, 1, *grid) int8 cell
    types (the loss then applies each sample's own matrix).
    """
    n = TRAIN_GRID[dim] if grid is None else int(grid)
    masks = training_layouts(dim, n, int(layouts), seed)
    L = len(masks)
    out: dict[str, dict[str, list]] = {
        "train": {"x": [], "cells": []},
        "val": {"x": [], "cells": []},
    }
    for i, mask in enumerate(masks):
        system = build_poisson(mask)
        theta, Z = ritz_vectors(system, min(steps, system.n), seed=seed + 10 * i)
        for split, count, s in (("train", n_train, seed + 1), ("val", n_val, seed + 2)):
            c = count // L + (i < count % L)
            x = system.to_grid(ritz_rhs(Z, c, seed=s + 10 * i))[:, None].astype(np.float32)
            out[split]["x"].append(x)
            out[split]["cells"].append(np.broadcast_to(mask, x.shape).astype(np.int8))
    splits = {}
    for split, d in out.items():
        splits[split] = {"x": np.concatenate(d["x"])}
        if layouts:
            splits[split]["cells"] = np.concatenate(d["cells"])
    return {"splits": splits, "kind": "linear_system", "stats": None}


def make_ritz_dataset(
    path: str | os.PathLike,
    dim: int = 2,
    grid: int | None = None,
    steps: int = 1000,
    n_train: int = 2000,
    n_val: int = 100,
    seed: int = 0,
    layouts: int = 0,
) -> Path:
    """Write the DCDM training set (HDF5, sciml schema, kind ``linear_system``) to ``path``
    (see :func:`generate_ritz`); the registry route is ``get_dataset("dcdm-ritz-2d", ...)``."""
    from sciml.data import write_dataset

    out = generate_ritz(seed, dim, grid, steps, n_train, n_val, layouts)
    params = {"dim": dim, "grid": grid, "steps": steps, "n_train": n_train, "n_val": n_val}
    params["layouts"] = layouts
    return write_dataset(
        path,
        out["splits"],
        name=f"dcdm-ritz-{dim}d",
        kind="linear_system",
        params=params,
        stats=None,
        seed=seed,
        generator="sciml.linalg.ritz:generate_ritz",
    )


#: registry sizes ("quick" for tests/smoke runs, "full" reproduces the shipped models); declared
#: in ``bench.py`` (which must stay import-light) and reused here
RITZ_SIZES = {2: _bench.RITZ_SIZES_2D, 3: _bench.RITZ_SIZES_3D}


def _register() -> None:
    from sciml.data import register_dataset

    for dim, sizes in RITZ_SIZES.items():
        register_dataset(
            f"dcdm-ritz-{dim}d",
            "sciml.linalg.ritz:generate_ritz",
            sizes=sizes,
            kind="linear_system",
            description=f"DCDM {dim}-D training right-hand sides from Lanczos Ritz vectors",
        )


_register()
