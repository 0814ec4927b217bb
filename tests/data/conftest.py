"""Shared fixtures for the sciml.data tests: small splits and a file written from them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sciml.data import write_dataset


def make_splits(
    seed: int = 0, n: tuple[int, int, int] = (40, 12, 10)
) -> dict[str, dict[str, np.ndarray]]:
    """Field-like splits: x (N, 2, 6, 5) float32 and y (N, 6, 5) float64 with non-zero means."""
    rng = np.random.default_rng(seed)
    out = {}
    for split, m in zip(("train", "val", "test"), n):
        out[split] = {
            "x": (3.0 + 2.0 * rng.standard_normal((m, 2, 6, 5))).astype(np.float32),
            "y": -1.5 + 0.5 * rng.standard_normal((m, 6, 5)),
        }
    return out


@pytest.fixture
def splits() -> dict[str, dict[str, np.ndarray]]:
    return make_splits()


@pytest.fixture
def field_file(tmp_path: Path, splits: dict[str, dict[str, np.ndarray]]) -> Path:
    return write_dataset(
        tmp_path / "field.h5",
        splits,
        name="field-test",
        kind="field",
        params={"n": 40, "res": [6, 5]},
        coords={"x": np.linspace(0.0, 1.0, 6), "y": np.linspace(0.0, 1.0, 5)},
        seed=7,
        generator="tests.data.conftest:make_splits",
    )
