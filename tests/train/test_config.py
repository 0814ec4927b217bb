"""TrainerConfig: defaults, validation and serialisation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sciml.train import TrainerConfig


def test_defaults_match_the_documented_api():
    cfg = TrainerConfig()
    expected = dict(
        epochs=10, batch_size=32, grad_clip=None, val_every=1, val_every_steps=None,
        checkpoint_every=1,
        early_stopping_patience=None, monitor="val_loss", mode="min", out_dir=None,
        resume=False, seed=0, device="cpu", num_workers=0, progress=True, shuffle=True,
        drop_last=False, dtype="float32", log_every=0, scheduler_interval="epoch",
    )  # fmt: skip
    assert dataclasses.asdict(cfg) == expected
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 3


def test_to_dict_is_json():
    cfg = TrainerConfig(out_dir=Path("/tmp/x"), grad_clip=1.5)
    d = json.loads(json.dumps(cfg.to_dict()))
    assert d["out_dir"] == "/tmp/x" and d["grad_clip"] == 1.5
    assert TrainerConfig(**d) == TrainerConfig(out_dir="/tmp/x", grad_clip=1.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs must be >= 1, got 0"),
        ({"epochs": True}, TypeError, "epochs must be an int"),
        ({"val_every": 0}, ValueError, "val_every must be >= 1"),
        ({"checkpoint_every": -1}, ValueError, "checkpoint_every must be >= 0"),
        ({"early_stopping_patience": 0}, ValueError, "early_stopping_patience must be >= 1"),
        ({"grad_clip": -1.0}, ValueError, "grad_clip must be > 0, got -1.0"),
        ({"grad_clip": "1"}, TypeError, "grad_clip must be a positive float"),
        ({"num_workers": -1}, ValueError, "num_workers must be >= 0"),
        ({"log_every": -2}, ValueError, "log_every must be >= 0"),
        ({"monitor": ""}, TypeError, "monitor must be a non-empty str"),
        ({"device": 0}, TypeError, "device must be a str"),
        ({"out_dir": 3}, TypeError, "out_dir must be a path"),
        ({"seed": -1}, ValueError, "seed must be >= 0"),
    ],
)
def test_invalid_values_name_the_field(kwargs, error, match):
    with pytest.raises(error, match=match):
        TrainerConfig(**kwargs)
