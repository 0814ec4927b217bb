"""DCDM training data: right-hand sides built from Ritz vectors of a fixed training matrix."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from sciml.linalg import bench as _bench
from sciml.linalg.lanczos import lanczos
from sciml.linalg.scenes import box_mask
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
    m = Z.shape[1]
    margin = max(1, m // 50) if margin is None else int(margin)
    rng = np.random.default_rng(seed)
    c = rng.standard_normal((count, m))
    c[:, : min(m, m // 2 + margin)] *= low_weight
    b = c @ Z.T
    return b / np.linalg.norm(b, axis=1, keepdims=True)


def generate_ritz(
    seed: int = 0,
    dim: int = 2,
    grid: int | None = None,
    steps: int = 1000,
    n_train: int = 2000,
    n_val: int = 100,
) -> dict:
    """Registry generator: the DCDM training set as ``{"splits", "kind"}``.

    Splits ``train``/``val`` hold ``x`` = (N, 1, *grid) float32 unit-norm right-hand sides on the
    training grid (the loss is unsupervised: the input is also the target). Validation vectors
    use independent Gaussian coefficients (seed + 2, train seed + 1); both lie in the span of the
    same Ritz vectors (one training matrix, as in the reference).
    """
    system = training_system(dim, grid)
    theta, Z = ritz_vectors(system, min(steps, system.n), seed=seed)
    tr = system.to_grid(ritz_rhs(Z, n_train, seed=seed + 1))[:, None].astype(np.float32)
    va = system.to_grid(ritz_rhs(Z, n_val, seed=seed + 2))[:, None].astype(np.float32)
    return {
        "splits": {"train": {"x": tr}, "val": {"x": va}},
        "kind": "linear_system",
        "stats": None,
    }


def make_ritz_dataset(
    path: str | os.PathLike,
    dim: int = 2,
    grid: int | None = None,
    steps: int = 1000,
    n_train: int = 2000,
    n_val: int = 100,
    seed: int = 0,
) -> Path:
    """Write the DCDM training set (HDF5, sciml schema, kind ``linear_system``) to ``path``
    (see :func:`generate_ritz`); the registry route is ``get_dataset("dcdm-ritz-2d", ...)``."""
    from sciml.data import write_dataset

    out = generate_ritz(seed, dim, grid, steps, n_train, n_val)
    params = {"dim": dim, "grid": grid, "steps": steps, "n_train": n_train, "n_val": n_val}
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
