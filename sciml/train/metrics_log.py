"""JSON-lines metrics log: one JSON object per line, appended and flushed as it happens."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sciml.data import atomic_path

__all__ = ["JsonlLogger", "read_jsonl"]


def _plain(value: Any) -> Any:
    """Numbers from tensors/numpy scalars to Python floats/ints; non-finite floats to strings."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "nan", "inf", "-inf": keeps every line strict JSON
    return value


class JsonlLogger:
    """Append records to a ``.jsonl`` file, one strict-JSON object per line.

    Each line is written with a single ``write`` followed by flush + fsync, so a crash leaves at
    most one incomplete last line. ``rewrite(records)`` replaces the whole file atomically (used
    on resume to drop lines written after the last checkpoint).
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record."""
        line = json.dumps(_plain(record), allow_nan=False) + "\n"
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())

    def rewrite(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Replace the file's content by ``records`` (atomically: temp file + ``os.replace``)."""
        with atomic_path(self.path) as tmp, open(tmp, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(_plain(r), allow_nan=False) + "\n")


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Records of a ``.jsonl`` file; an incomplete last line (a crash mid-write) is skipped."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as err:
            if i == len(lines) - 1:
                break
            raise ValueError(f"{path}: line {i + 1} is not valid JSON: {err}") from err
    return out
