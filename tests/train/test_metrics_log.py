"""JSON-lines logger."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from sciml.train import JsonlLogger, read_jsonl


def test_lines_are_strict_json_and_roundtrip(tmp_path):
    log = JsonlLogger(tmp_path / "sub" / "m.jsonl")
    records = [
        {"epoch": 1, "loss": 0.1 + 0.2, "metrics": {"a": 1e-300}},
        {"epoch": 2, "loss": None, "metrics": {}},
    ]
    for r in records:
        log.write(r)
    lines = (tmp_path / "sub" / "m.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == records  # floats survive exactly
    assert read_jsonl(log.path) == records


def test_tensors_numpy_and_non_finite_values(tmp_path):
    log = JsonlLogger(tmp_path / "m.jsonl")
    log.write(
        {"t": torch.tensor(2.5), "n": np.float32(0.25), "bad": float("nan"), "i": np.int64(3)}
    )
    line = (tmp_path / "m.jsonl").read_text()
    # strict JSON (no bare NaN token); non-finite numbers are spelled as strings
    assert json.loads(line, parse_constant=lambda c: pytest.fail(c)) == {
        "t": 2.5,
        "n": 0.25,
        "bad": "nan",
        "i": 3,
    }


def test_rewrite_and_truncated_last_line(tmp_path):
    log = JsonlLogger(tmp_path / "m.jsonl")
    for e in range(4):
        log.write({"epoch": e})
    log.rewrite([{"epoch": 0}, {"epoch": 1}])
    assert read_jsonl(log.path) == [{"epoch": 0}, {"epoch": 1}]
    with open(log.path, "a") as f:
        f.write('{"epoch": 2, "lo')  # a crash in the middle of the last line
    assert read_jsonl(log.path) == [{"epoch": 0}, {"epoch": 1}]
    log.path.write_text('{"epoch": 0}\n{broken\n{"epoch": 2}\n')
    with pytest.raises(ValueError, match="line 2 is not valid JSON"):
        read_jsonl(log.path)
