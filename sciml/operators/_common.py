"""Private helpers shared by the operator models: input checks, coordinate grids, padding."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def check_positive_int(name: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value!r}")


def check_input(
    x: object, *, in_channels: int, ndim: int, min_size: int, model: str
) -> torch.Tensor:
    """Validate a model input ``(B, C_in, *spatial)``; raise naming ``x`` and what was expected."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{model}: x must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{model}: x must be a floating tensor, got dtype {x.dtype}")
    if x.ndim != ndim + 2:
        raise ValueError(
            f"{model}: x must have shape (batch, {in_channels}, {', '.join('S' * ndim)}) "
            f"({ndim + 2} dims), got shape {tuple(x.shape)}"
        )
    if x.shape[1] != in_channels:
        raise ValueError(
            f"{model}: x must have {in_channels} channels (dim 1), got shape {tuple(x.shape)}"
        )
    if min(x.shape[2:]) < min_size:
        raise ValueError(f"{model}: spatial sizes must be >= {min_size}, got {tuple(x.shape[2:])}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{model}: x contains NaN or Inf values")
    return x


def grid_channels(x: torch.Tensor) -> torch.Tensor:
    """Coordinates 0→1 along each spatial axis of ``x`` (B, C, *S) as (B, d, *S) channels."""
    sizes = x.shape[2:]
    axes = [torch.linspace(0.0, 1.0, s, device=x.device, dtype=x.dtype) for s in sizes]
    mesh = torch.meshgrid(*axes, indexing="ij")
    return torch.stack(mesh).unsqueeze(0).expand(x.shape[0], -1, *sizes)


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Zero-pad the spatial axes of ``x`` (B, C, *S) at the end to multiples of ``multiple``."""
    sizes = x.shape[2:]
    padded = tuple(-(-s // multiple) * multiple for s in sizes)
    pads: list[int] = []
    for s, p in zip(reversed(sizes), reversed(padded)):
        pads += [0, p - s]
    if any(pads):
        x = F.pad(x, pads)
    return x, padded


def crop(x: torch.Tensor, sizes: tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`pad_to_multiple`: keep the leading ``sizes`` of the spatial axes."""
    return x[(slice(None), slice(None), *(slice(0, s) for s in sizes))]


def channels_last_linear(layer: torch.nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """Apply a Linear over the channel axis 1 of ``x`` (B, C, *S)."""
    return layer(x.movedim(1, -1)).movedim(-1, 1)


def resolve_config(config: object, cls: type, kwargs: dict) -> object:
    """The model config: ``cls(**kwargs)`` when ``config`` is None, else ``config`` with ``kwargs``
    replaced; a ``TypeError`` names the expected class otherwise."""
    import dataclasses

    if config is None:
        return cls(**kwargs)
    if not isinstance(config, cls):
        raise TypeError(f"config must be a {cls.__name__}, got {type(config).__name__}")
    return dataclasses.replace(config, **kwargs) if kwargs else config
