"""Checkpoint I/O: atomic writes, safe loads, model-state matching and RNG states."""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from sciml.data import atomic_path

__all__ = [
    "atomic_save",
    "get_rng_state",
    "load_checkpoint",
    "load_model_state",
    "set_rng_state",
]


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj)`` to ``path`` so that ``path`` is never half-written.

    Written through :func:`sciml.data.atomic_path` (temporary file in the same directory, fsync,
    ``os.replace``): if anything fails, the previous file at ``path`` is untouched and the temporary
    file is removed.
    """
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        torch.save(obj, f)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`atomic_save` (``weights_only=True``: no pickled code)."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint {path} is a directory, expected a checkpoint file")
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        obj = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise ValueError(f"could not read checkpoint {path}: {err}") from err
    if not isinstance(obj, dict):
        raise ValueError(f"checkpoint {path} holds a {type(obj).__name__}, expected a dict")
    return obj


def load_model_state(
    model: torch.nn.Module, state: Mapping[str, torch.Tensor], source: str = "checkpoint"
) -> None:
    """Load ``state`` into ``model`` strictly, with an error that names what does not match.

    A ``"module."`` prefix left by DistributedDataParallel is stripped when the model has none.

    Raises:
        ValueError: missing keys, unexpected keys or shape mismatches (all of them listed).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(state, Mapping):
        raise TypeError(f"state: expected a mapping name -> tensor, got {type(state).__name__}")
    own = model.state_dict()
    state = dict(state)
    if (
        state
        and all(k.startswith("module.") for k in state)
        and not any(k.startswith("module.") for k in own)
    ):
        state = {k[len("module.") :]: v for k, v in state.items()}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state))
        if isinstance(state[k], torch.Tensor) and tuple(state[k].shape) != tuple(own[k].shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys (in the model, not in the {source}): {missing}")
        if unexpected:
            parts.append(f"unexpected keys (in the {source}, not in the model): {unexpected}")
        if shapes:
            parts.append(f"shape mismatches: {shapes}")
        raise ValueError(
            f"the {source} was saved from a different model ({type(model).__name__}): "
            + "; ".join(parts)
        )
    model.load_state_dict(state, strict=True)


def get_rng_state() -> dict[str, Any]:
    """RNG states of python, numpy and torch (CPU and CUDA) as plain, ``weights_only``-safe data."""
    np_state = np.random.get_state(legacy=True)  # noqa: NPY002 (the global RNG user code draws from)
    state: dict[str, Any] = {
        "python": _to_lists(random.getstate()),
        "numpy": {
            "kind": np_state[0],
            "keys": torch.from_numpy(np.asarray(np_state[1], dtype=np.int64)),
            "pos": int(np_state[2]),
            "has_gauss": int(np_state[3]),
            "cached_gaussian": float(np_state[4]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Mapping[str, Any]) -> None:
    """Restore the states captured by :func:`get_rng_state`."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    npst = state["numpy"]
    np.random.set_state(  # noqa: NPY002 (the global RNG user code draws from)
        (
            npst["kind"],
            npst["keys"].numpy().astype(np.uint32),
            int(npst["pos"]),
            int(npst["has_gauss"]),
            float(npst["cached_gaussian"]),
        )
    )
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = list(state["cuda"])
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)


def _to_lists(obj: Any) -> Any:
    """Tuples to lists, recursively (the python RNG state is nested tuples of ints)."""
    if isinstance(obj, tuple):
        return [_to_lists(o) for o in obj]
    return obj
