"""sciml.train: the training loop (epochs, metrics, early stopping, checkpoints, resume, DDP)."""

from . import distributed
from .checkpoint import atomic_save, load_checkpoint, load_model_state
from .config import TrainerConfig
from .metrics_log import JsonlLogger, read_jsonl
from .module_info import first_floating_tensor
from .trainer import Trainer
from .weight_average import WeightAverage

__all__ = [
    "JsonlLogger",
    "Trainer",
    "TrainerConfig",
    "WeightAverage",
    "atomic_save",
    "distributed",
    "first_floating_tensor",
    "load_checkpoint",
    "load_model_state",
    "read_jsonl",
]
