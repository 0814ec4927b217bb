"""Registration of the operator datasets (``darcy``, ``navier-stokes``) with :mod:`sciml.data`."""

from __future__ import annotations

from typing import Any

__all__ = ["DARCY_SIZES", "NS_SIZES", "register_datasets"]

DARCY_SIZES: dict[str, dict[str, Any]] = {
    "quick": {"resolution": 32, "n_train": 256, "n_test": 64},
    "full": {"resolution": 64, "n_train": 1000, "n_test": 200},
    "paper": {"resolution": 85, "n_train": 1000, "n_test": 200},
}
NS_SIZES: dict[str, dict[str, Any]] = {
    "quick": {"resolution": 32, "visc": 1e-5, "n_train": 64, "n_test": 16},
    "full": {"resolution": 64, "visc": 1e-5, "n_train": 1000, "n_test": 200},
}


def register_datasets() -> None:
    """Register ``darcy`` and ``navier-stokes`` (idempotent; also declared in ``bench.py``)."""
    from sciml import data

    for name, gen, sizes, desc in (
        (
            "darcy",
            "sciml.operators.darcy:generate_darcy",
            DARCY_SIZES,
            "Darcy flow: thresholded GRF permeability -> pressure (card: datasets/darcy.md)",
        ),
        (
            "navier-stokes",
            "sciml.operators.navier_stokes:generate_navier_stokes",
            NS_SIZES,
            "2-D Navier-Stokes vorticity on the torus, 10 -> 10 frames (card: datasets/navier-stokes.md)",
        ),
    ):
        if name in data.list_datasets():
            continue
        data.register_dataset(name, gen, sizes=sizes, kind="field", description=desc)
