"""Where a module's weights live: the first floating (or complex) parameter or buffer."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["first_floating_tensor"]


def first_floating_tensor(module: object, *, complex_ok: bool = True) -> torch.Tensor | None:
    """The first floating-point (and, if ``complex_ok``, complex) parameter, else buffer, of a
    torch module; ``None`` for a module without one or for anything that is not a module.

    Its ``device`` and ``dtype`` are where and in which precision the module computes (used to
    build inputs for it and to keep its precision when training).
    """
    if not isinstance(module, nn.Module):
        return None
    for group in (module.parameters(), module.buffers()):
        for t in group:
            if t.is_floating_point() or (complex_ok and t.is_complex()):
                return t
    return None
