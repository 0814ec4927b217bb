"""sciml.data: one HDF5 schema for every method, atomic writer, validating reader, torch Datasets,
train-only normalisation statistics, a registry of dataset generators, and importers.

The torch Datasets are imported lazily (on first attribute access), so ``import sciml.data`` needs
only NumPy and h5py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .atomic import atomic_path
from .errors import DatasetError, MissingKeyError
from .importers import (
    ETT_HOURS,
    PDEBenchData,
    ett_splits,
    read_csv_timeseries,
    read_pdebench,
    split_series,
)
from .reader import ArrayView, DatasetFile, open_dataset
from .registry import (
    DatasetSpec,
    data_root,
    dataset_path,
    get_dataset,
    list_datasets,
    register_dataset,
    register_declared,
    unregister_dataset,
)
from .schema import KINDS, SCHEMA_VERSION, SPLITS
from .stats import compute_stats, denormalize, normalize
from .writer import write_dataset

if TYPE_CHECKING:
    from .torch_datasets import ArrayDataset, FieldDataset, TensorEntryDataset, WindowDataset

_LAZY = {"ArrayDataset", "FieldDataset", "TensorEntryDataset", "WindowDataset"}

__all__ = [
    "ETT_HOURS",
    "KINDS",
    "SCHEMA_VERSION",
    "SPLITS",
    "ArrayDataset",
    "ArrayView",
    "DatasetError",
    "DatasetFile",
    "DatasetSpec",
    "FieldDataset",
    "MissingKeyError",
    "PDEBenchData",
    "TensorEntryDataset",
    "WindowDataset",
    "atomic_path",
    "compute_stats",
    "data_root",
    "dataset_path",
    "denormalize",
    "ett_splits",
    "get_dataset",
    "list_datasets",
    "normalize",
    "open_dataset",
    "read_csv_timeseries",
    "read_pdebench",
    "register_dataset",
    "register_declared",
    "split_series",
    "unregister_dataset",
    "write_dataset",
]


def __getattr__(name: str) -> Any:  # PEP 562: torch is imported on first use only
    if name in _LAZY:
        from . import torch_datasets

        return getattr(torch_datasets, name)
    raise AttributeError(f"module 'sciml.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
