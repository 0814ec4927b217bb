"""Synthetic continuous-indexed tensors (the FunBaT paper's rank-1 CP case exactly, and a 3-mode
Tucker case with smooth latent functions, non-uniform index sampling and noise), plus
registry-style generators that store them with the shared data layer.

Stored layout (kind ``"tensor"``): each split holds ``indices`` (N, K) int64 positions into the
sorted unique index values of each mode (``coords/mode{k}``, shared by all splits), the continuous
index values ``x`` (N, K) float64 and ``values`` (N,) float64.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = [
    "RANK1_CP_FUNCTIONS",
    "make_rank1_cp",
    "make_tucker3",
    "tucker3_factors",
    "TUCKER3_CORE",
    "generate_rank1_cp",
    "generate_tucker3",
    "entries_to_splits",
    "load_entries",
    "make_shaped_tensor",
]


def _u1(x):
    return np.sin(2 * np.pi * x) ** 2 * np.cos(2 * np.pi * x)


def _u2(x):
    return np.exp(-2 * x) * np.sin(1.5 * np.pi * x)


RANK1_CP_FUNCTIONS = (_u1, _u2)
"""u1(x) = sin²(2πx)·cos(2πx), u2(x') = e^{−2x'}·sin(1.5πx') (the paper's synthetic case)."""


def _check_common(train_frac, noise, seed) -> None:
    for name, v in (("train_frac", train_frac), ("noise", noise)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{name}: expected a float, got {v!r}")
    if not 0 < train_frac < 1:
        raise ValueError(f"train_frac: expected a value in (0, 1), got {train_frac}")
    if not (noise >= 0 and math.isfinite(noise)):
        raise ValueError(f"noise: expected a finite value >= 0, got {noise}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed: expected an integer >= 0, got {seed!r}")


def make_rank1_cp(
    n: int = 1350, train_frac: float = 0.5, noise: float = 0.0, seed: int = 0
) -> dict:
    """The paper's synthetic rank-1 CP tensor: y = u1(x)·u2(x'), x, x' ~ U[0, 1], 50/50 split.

    Returns:
        dict with ``x_train`` (n_tr, 2), ``y_train`` (n_tr,), ``x_test``, ``y_test`` (noise-free
        test targets), float64 NumPy arrays.
    """
    if n < 4:
        raise ValueError(f"n: expected at least 4 points, got {n}")
    _check_common(train_frac, noise, seed)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=(n, 2))
    f = _u1(x[:, 0]) * _u2(x[:, 1])
    y = f + noise * rng.standard_normal(n)
    perm = rng.permutation(n)
    n_tr = int(round(train_frac * n))
    tr, te = perm[:n_tr], perm[n_tr:]
    return {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": f[te]}


TUCKER3_CORE = np.array([[[1.0, -0.6], [0.5, 0.8]], [[-0.4, 0.7], [0.9, 0.3]]], dtype=np.float64)
"""The (2, 2, 2) core of the synthetic Tucker case."""


def tucker3_factors(x: np.ndarray, mode: int) -> np.ndarray:
    """The true latent functions of the synthetic Tucker case: (M,) index values → (M, 2)."""
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"x: expected a numeric array of index values, got {type(x).__name__}"
        ) from e
    if not np.isfinite(x).all():
        raise ValueError("x: expected finite index values, got NaN/inf entries")
    if mode == 0:
        return np.stack([np.sin(2 * np.pi * x), np.cos(np.pi * x)], -1)
    if mode == 1:
        return np.stack([np.exp(-2 * x) * np.cos(3 * x), 1.0 / (1.0 + 4 * x**2)], -1)
    if mode == 2:
        return np.stack([np.sin(3 * np.pi * x) * x, np.cos(2 * x) - 0.5], -1)
    raise ValueError(f"mode: expected 0, 1 or 2, got {mode!r}")


def _distinct_cells(idx: np.ndarray, sizes: list[int], seed: int | None) -> np.ndarray:
    """Redraw every row of ``idx`` (n, K) that repeats an earlier row, until all rows differ."""
    side = np.random.default_rng(None if seed is None else [abs(int(seed)), 1])
    while True:
        _, first = np.unique(idx, axis=0, return_index=True)
        dup = np.setdiff1d(np.arange(len(idx)), first)
        if dup.size == 0:
            return idx
        idx[dup] = np.stack([side.integers(0, s, dup.size) for s in sizes], -1)


def make_tucker3(
    n: int = 2000,
    noise: float = 0.1,
    train_frac: float = 0.8,
    n_unique: tuple[int, int, int] | None = (60, 80, 120),
    seed: int = 0,
) -> dict:
    """3-mode rank-(2,2,2) Tucker tensor with smooth latent functions on [0, 1].

    Index values are sampled non-uniformly (mode 0 ~ Beta(2, 5), mode 1 ~ Beta(0.7, 0.7),
    mode 2 ~ U[0, 1]); with ``n_unique`` each mode draws that many distinct values first and the
    entries pick among them (so states are shared by several entries), each entry a different
    cell (so no test entry repeats a train entry; needs ``n <= Π n_unique``), else every entry
    has its own continuous index values. Test targets are noise-free.

    Returns:
        dict with ``x_train``, ``y_train``, ``x_test``, ``y_test``, ``f_train`` (noise-free) and the
        true ``core``.
    """
    if n < 10:
        raise ValueError(f"n: expected at least 10 entries, got {n}")
    _check_common(train_frac, noise, seed)
    if n_unique is not None and n > math.prod(int(s) for s in n_unique):
        raise ValueError(
            f"n: expected at most {math.prod(int(s) for s in n_unique)} entries (the number of "
            f"cells of n_unique={tuple(n_unique)}), got {n}"
        )
    rng = np.random.default_rng(seed)
    samplers = (
        lambda m: rng.beta(2.0, 5.0, m),
        lambda m: rng.beta(0.7, 0.7, m),
        lambda m: rng.uniform(0.0, 1.0, m),
    )
    if n_unique is None:
        x = np.stack([samplers[k](n) for k in range(3)], -1)
    else:
        vals, idx = [], []
        for k in range(3):
            vals.append(samplers[k](int(n_unique[k])))
            idx.append(rng.integers(0, len(vals[k]), n))
        # redraw repeated cells from a side stream (the main stream, hence the noise and the
        # split, is unchanged; a draw without repeats is unchanged)
        idx = _distinct_cells(np.stack(idx, -1), [len(v) for v in vals], seed)
        x = np.stack([vals[k][idx[:, k]] for k in range(3)], -1)
    U = [tucker3_factors(x[:, k], k) for k in range(3)]
    f = np.einsum("abc,na,nb,nc->n", TUCKER3_CORE, *U)
    y = f + noise * rng.standard_normal(n)
    perm = rng.permutation(n)
    n_tr = int(round(train_frac * n))
    tr, te = perm[:n_tr], perm[n_tr:]
    return {
        "x_train": x[tr],
        "y_train": y[tr],
        "f_train": f[tr],
        "x_test": x[te],
        "y_test": f[te],
        "core": TUCKER3_CORE.copy(),
    }


def entries_to_splits(parts: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[dict, dict]:
    """Continuous entries per split → (splits, coords) in the stored layout (see module doc).

    Args:
        parts: split name → (x (N, K) float, values (N,)).
    """
    K = next(iter(parts.values()))[0].shape[1]
    coords = {}
    for k in range(K):
        coords[f"mode{k}"] = np.unique(
            np.concatenate([np.asarray(x)[:, k] for x, _ in parts.values()])
        )
    splits = {}
    for name, (x, v) in parts.items():
        x = np.asarray(x, dtype=np.float64)
        idx = np.stack([np.searchsorted(coords[f"mode{k}"], x[:, k]) for k in range(K)], -1)
        splits[name] = {
            "indices": idx.astype(np.int64),
            "x": x,
            "values": np.asarray(v, dtype=np.float64),
        }
    return splits, coords


def generate_rank1_cp(seed: int, n: int = 1350, noise: float = 0.0) -> dict:
    """Registry generator (``sciml.data.register_dataset``) for the rank-1 CP case."""
    d = make_rank1_cp(n=n, noise=noise, seed=seed)
    splits, coords = entries_to_splits(
        {"train": (d["x_train"], d["y_train"]), "test": (d["x_test"], d["y_test"])}
    )
    return {"splits": splits, "coords": coords, "kind": "tensor"}


def generate_tucker3(
    seed: int, n: int = 2000, noise: float = 0.1, n_unique: list[int] | None = None
) -> dict:
    """Registry generator for the 3-mode Tucker case (``n_unique`` None: all indices distinct)."""
    d = make_tucker3(
        n=n, noise=noise, n_unique=None if n_unique is None else tuple(n_unique), seed=seed
    )
    splits, coords = entries_to_splits(
        {"train": (d["x_train"], d["y_train"]), "test": (d["x_test"], d["y_test"])}
    )
    return {"splits": splits, "coords": coords, "kind": "tensor"}


def load_entries(path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Read (x (N, K) continuous index values, values (N,)) of ``split`` from a stored file."""
    from sciml.data import open_dataset

    with open_dataset(path) as f:
        sp = f.splits[split]
        idx = np.asarray(sp["indices"][...])
        vals = np.asarray(sp["values"][...], dtype=np.float64).reshape(-1)
        coords = [np.asarray(f.coords[f"mode{k}"][...]) for k in range(idx.shape[1])]
    x = np.stack([coords[k][idx[:, k]] for k in range(idx.shape[1])], -1)
    return x, vals


def make_shaped_tensor(
    n_unique: tuple[int, ...], n_entries: int, rank: int = 3, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Synthetic entries with a given number of unique index values per mode (e.g. the Beijing
    shape 428/501/1461 with 13,572 entries), for timing and memory: every unique value is used at
    least once; values from a random smooth rank-``rank`` Tucker tensor plus noise.

    Returns:
        x (n_entries, K) index values in [0, 1], y (n_entries,).
    """
    K = len(n_unique)
    if K > 8:  # one einsum letter per mode of the Tucker core
        raise ValueError(f"n_unique: make_shaped_tensor supports at most 8 modes, got {K}")
    if n_entries < max(n_unique):
        raise ValueError(f"n_entries: expected >= max(n_unique) = {max(n_unique)}, got {n_entries}")
    rng = np.random.default_rng(seed)
    cols = []
    for S in n_unique:
        vals = np.sort(rng.uniform(0.0, 1.0, S))
        idx = np.concatenate([rng.permutation(S), rng.integers(0, S, n_entries - S)])
        cols.append(vals[rng.permutation(idx)])
    x = np.stack(cols, -1)
    W = rng.standard_normal((rank,) * K)
    U = []
    for k in range(K):
        w = rng.uniform(1.0, 6.0, rank)
        b = rng.uniform(0.0, 2 * np.pi, rank)
        U.append(np.cos(x[:, k, None] * w + b))
    L = "abcdefgh"[:K]
    f = np.einsum(",".join([L] + ["n" + c for c in L]) + "->n", W, *U)
    f = f / (f.std() or 1.0)
    return x, f + noise * rng.standard_normal(n_entries)
