"""Parallel prefix scan over the leading axis of a tuple of tensors (log-depth, no Python loop
over elements), as in ``jax.lax.associative_scan``."""

from __future__ import annotations

from collections.abc import Callable

import torch

Elems = tuple[torch.Tensor, ...]


def _interleave(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Interleave along axis 0: a0, b0, a1, b1, ... (len(a) == len(b) or len(b) + 1)."""
    n = a.shape[0] + b.shape[0]
    out = a.new_empty((n, *a.shape[1:]))
    out[0::2] = a
    out[1::2] = b
    return out


def associative_scan(fn: Callable[[Elems, Elems], Elems], elems: Elems) -> Elems:
    """Inclusive scan ``r_i = e_0 ∘ e_1 ∘ … ∘ e_i`` for an associative ``fn(earlier, later)``."""
    n = elems[0].shape[0]
    if n < 2:
        return elems
    reduced = fn(tuple(e[0:-1:2] for e in elems), tuple(e[1::2] for e in elems))
    odd = associative_scan(fn, reduced)
    if n % 2 == 0:
        even = fn(tuple(o[:-1] for o in odd), tuple(e[2::2] for e in elems))
    else:
        even = fn(odd, tuple(e[2::2] for e in elems))
    even = tuple(torch.cat([e[0:1], r]) for e, r in zip(elems, even))
    return tuple(_interleave(e, o) for e, o in zip(even, odd))
