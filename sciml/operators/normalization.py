"""Per-pixel unit-Gaussian normalisation of field pairs, as in the FNO/LSM training scripts.

The papers' Darcy protocol (``UnitGaussianNormalizer`` of the FNO code, used by the LSM code)
standardises inputs and outputs pixel by pixel with the train mean and (unbiased) standard
deviation plus ``eps = 1e-5``: ``encode(x) = (x − mean) / (std + eps)``,
``decode(z) = z (std + eps) + mean``. The ``eps`` matters on Darcy: the solution is 0 on the
boundary in every sample (std = 0 there), so ``decode`` scales the model's boundary output by
``eps`` and the boundary drops out of the de-normalised loss. (The shared data layer's
``normalize`` by default treats a zero std as 1, which leaves the raw model output on the boundary
pixels in the de-normalised loss; this class uses its ``eps`` option.)
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset

from sciml.data import denormalize, normalize
from sciml.kernels import DeviceCache

__all__ = [
    "NormalizedPairs",
    "UnitGaussianNormalizer",
    "unit_gaussian_frames",
    "unit_gaussian_pairs",
]


class UnitGaussianNormalizer:
    """Per-feature standardisation with train statistics.

    Args:
        x: training samples ``(N, *shape)``, N ≥ 2 (statistics over dim 0).
        eps: added to the standard deviation (> 0).

    ``encode``/``decode`` accept one sample ``shape`` or a batch ``(B, *shape)`` on any device
    and floating dtype.
    """

    def __init__(self, x: torch.Tensor, eps: float = 1e-5) -> None:
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"x: expected a floating torch.Tensor, got {type(x).__name__}")
        if x.ndim < 2 or x.shape[0] < 2:
            raise ValueError(f"x: expected (N >= 2, *shape) samples, got shape {tuple(x.shape)}")
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f"eps: expected a float > 0, got {eps!r}")
        if not torch.isfinite(x).all():
            raise ValueError("x: contains NaN or Inf values")
        self.mean = x.mean(dim=0)
        self.std = x.std(dim=0)
        self.eps = float(eps)
        # encode/decode run on every batch: copy the statistics to a GPU once, not per call
        self._mean_on, self._std_on = DeviceCache(), DeviceCache()

    def _stats(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # statistics in the input's floating dtype; integer inputs use the statistics' own
        # (an integer cast would truncate them)
        dtype = t.dtype if t.is_floating_point() or t.is_complex() else self.mean.dtype
        return (
            self._mean_on.get(self.mean, t.device, dtype),
            self._std_on.get(self.std, t.device, dtype),
        )

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(x − mean) / (std + eps)``."""
        return normalize(x, *self._stats(x), eps=self.eps)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``z (std + eps) + mean`` (inverse of :meth:`encode`)."""
        return denormalize(z, *self._stats(z), eps=self.eps)


class NormalizedPairs(Dataset):
    """In-memory ``(x_normalizer.encode(x[i]), y_normalizer.encode(y[i]))`` pairs."""

    def __init__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        x_normalizer: UnitGaussianNormalizer,
        y_normalizer: UnitGaussianNormalizer,
    ) -> None:
        if len(x) != len(y):
            raise ValueError(f"x, y: expected the same number of samples, got {len(x)}, {len(y)}")
        self.x = x_normalizer.encode(x)
        self.y = y_normalizer.encode(y)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


def _stack(ds: Any) -> tuple[torch.Tensor, torch.Tensor]:
    if len(ds) == 0:
        raise ValueError("dataset: expected at least one (x, y) pair, got an empty dataset")
    items = (
        ds.__getitems__(list(range(len(ds))))
        if hasattr(ds, "__getitems__")
        else [ds[i] for i in range(len(ds))]
    )
    return torch.stack([it[0] for it in items]), torch.stack([it[1] for it in items])


def unit_gaussian_pairs(
    train: Any, test: Any, eps: float = 1e-5
) -> tuple[NormalizedPairs, NormalizedPairs, UnitGaussianNormalizer]:
    """The papers' Darcy normalisation: per-pixel statistics of the *train* pairs.

    Args:
        train, test: datasets of raw ``(x, y)`` pairs (e.g. ``FieldDataset`` without
            ``normalize``).
        eps: see :class:`UnitGaussianNormalizer`.

    Returns:
        ``(train_ds, test_ds, y_normalizer)``; pass ``y_normalizer.decode`` as ``denormalize`` so
        the loss and metrics are computed on de-normalised fields.
    """
    xtr, ytr = _stack(train)
    xte, yte = _stack(test)
    xn, yn = UnitGaussianNormalizer(xtr, eps), UnitGaussianNormalizer(ytr, eps)
    return NormalizedPairs(xtr, ytr, xn, yn), NormalizedPairs(xte, yte, xn, yn), yn


def unit_gaussian_frames(
    train: Any, test: Any, eps: float = 1e-5
) -> tuple[NormalizedPairs, NormalizedPairs, UnitGaussianNormalizer]:
    """Per-pixel unit-Gaussian statistics for autoregressive frame pairs (Navier–Stokes).

    ``x`` (T_in, *S) and ``y`` (T_out, *S) hold frames of one field, and a rollout feeds predicted
    ``y`` frames back as inputs, so one normaliser must serve every frame: the mean and
    (unbiased) std of each pixel are taken over all train samples *and* all their input and
    output frames (shape ``S``), and the same ``encode`` is applied to ``x`` and ``y``
    (per-frame statistics as in :func:`unit_gaussian_pairs` would give a predicted frame a
    different scale from the input slot it moves into).

    Returns:
        ``(train_ds, test_ds, normalizer)``; pass ``normalizer.decode`` as ``denormalize``.
    """
    xtr, ytr = _stack(train)
    xte, yte = _stack(test)
    if xtr.shape[2:] != ytr.shape[2:] or xtr.ndim < 3:
        raise ValueError(
            "train: expected x (N, T_in, *S) and y (N, T_out, *S) frames of the same field, "
            f"got {tuple(xtr.shape)} and {tuple(ytr.shape)}"
        )
    frames = torch.cat([xtr, ytr], dim=1).flatten(0, 1)  # (N·(T_in+T_out), *S)
    norm = UnitGaussianNormalizer(frames, eps)
    return NormalizedPairs(xtr, ytr, norm, norm), NormalizedPairs(xte, yte, norm, norm), norm
