"""atomic_path: complete replacement on success, untouched target and no temp on failure."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from sciml.data import atomic_path


def test_replaces_on_success_and_cleans_up_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.npy"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".a.npy.tmp-")
        with open(tmp, "wb") as fh:
            np.save(fh, np.arange(5))
        assert not target.exists()  # nothing visible before the rename
    np.testing.assert_array_equal(np.load(target), np.arange(5))
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, np.zeros(3))
        raise RuntimeError("boom")
    np.testing.assert_array_equal(np.load(target), np.arange(5))
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.npy"]


def test_stale_temp_of_dead_process_is_removed(tmp_path: Path) -> None:
    target = tmp_path / "b.bin"
    with atomic_path(target) as tmp:
        prefix = tmp.name.split(f"-{os.getpid()}-")[0]
        tmp.write_bytes(b"new")
    dead = tmp_path / f"{prefix}-999999999-abcd"  # no such pid
    alive = tmp_path / f"{prefix}-{os.getppid()}-abcd"  # a live process: left alone
    dead.write_bytes(b"x")
    alive.write_bytes(b"x")
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"newer")
    assert target.read_bytes() == b"newer"
    assert not dead.exists() and alive.exists()
