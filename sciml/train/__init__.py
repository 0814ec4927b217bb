"""sciml.train: the training loop (epochs, metrics, early stopping, checkpoints, resume, DDP)."""

from . import distributed
from .checkpoint import atomic_save, load_checkpoint, load_model_state
from .config import TrainerConfig
from .metrics_log import JsonlLogger, read_jsonl
from .trainer import Trainer
from .weight_average import WeightAverage

__all__ = [
    "JsonlLogger",
    "Trainer",
    "TrainerConfig",
    "WeightAverage",
    "atomic_save",
    "distributed",
    "load_checkpoint",
    "load_model_state",
    "read_jsonl",
]
