"""Test-suite configuration shared by every test module."""

from __future__ import annotations

import os

# JAX solvers and the kernel tests need float64; set before JAX initialises anywhere in the run.
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One BLAS/OpenMP thread per xdist worker: the workers already fill the cores, and oversubscribed
    # OpenMP spin-waiting makes torch orders of magnitude slower on a loaded machine.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")

import pytest


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover
        return False
    return torch.cuda.is_available()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`gpu` tests skip cleanly where CUDA is absent."""
    if any(item.get_closest_marker("gpu") for item in items) and not _cuda_available():
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in items:
            if item.get_closest_marker("gpu"):
                item.add_marker(skip)


@pytest.fixture(autouse=True)
def _data_cache_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Generated datasets go to a per-session temporary cache, never the user's ~/.cache."""
    if os.environ.get("SCIML_TEST_KEEP_DATA") != "1":
        monkeypatch.setenv("SCIML_DATA", str(tmp_path_factory.getbasetemp() / "sciml-data"))
    yield
