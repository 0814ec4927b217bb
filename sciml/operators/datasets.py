"""Registration of the operator datasets (``darcy``, ``navier-stokes``) with :mod:`sciml.data`.

The entries (generator, sizes, kind, description, version) are declared once, in ``bench.py``'s
``DATASETS`` (import-light, read by ``sciml-bench``); this module registers the same entries, on
``import sciml.operators``.
"""

from __future__ import annotations

from typing import Any

from . import bench as _bench

__all__ = ["DARCY_SIZES", "NS_SIZES", "register_datasets"]

_ENTRIES: dict[str, dict[str, Any]] = {d["name"]: d for d in _bench.DATASETS}

#: size name -> parameters of :func:`sciml.operators.darcy.generate_darcy` (from ``bench.py``)
DARCY_SIZES: dict[str, dict[str, Any]] = _ENTRIES["darcy"]["sizes"]
#: size name -> parameters of :func:`sciml.operators.navier_stokes.generate_navier_stokes`
NS_SIZES: dict[str, dict[str, Any]] = _ENTRIES["navier-stokes"]["sizes"]


def register_datasets() -> None:
    """Register ``darcy`` and ``navier-stokes`` with :mod:`sciml.data` exactly as ``bench.py``
    declares them. Runs on ``import sciml.operators``; idempotent: a name already registered
    (by an earlier call, by ``sciml-bench``, or by the user with another generator) is left as
    it is — call it again after :func:`sciml.data.unregister_dataset` to restore an entry."""
    from sciml.data import register_declared

    register_declared(_bench.DATASETS)
