"""``first_floating_tensor``: the first floating (or complex) parameter, else buffer, of a module."""

from __future__ import annotations

import torch
from torch import nn

from sciml.train import first_floating_tensor


class _Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("steps", torch.zeros(3, dtype=torch.int64))
        self.register_buffer("scale", torch.ones(2, dtype=torch.float64))
        self.w = nn.Parameter(torch.zeros(2, dtype=torch.complex64))


def test_parameters_come_before_buffers_and_complex_is_optional() -> None:
    m = _Mixed()
    assert first_floating_tensor(m) is m.w  # the complex parameter, before any buffer
    assert first_floating_tensor(m, complex_ok=False) is m.scale  # skips it and the int buffer
    lin = nn.Linear(2, 3).double()
    assert first_floating_tensor(lin) is lin.weight


def test_modules_without_floating_tensors_and_non_modules_give_none() -> None:
    only_int = nn.Module()
    only_int.register_buffer("k", torch.arange(3))
    assert first_floating_tensor(only_int) is None
    assert first_floating_tensor(nn.Identity()) is None
    assert first_floating_tensor(lambda x: x) is None
