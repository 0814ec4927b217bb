"""Masked centred Fourier operators for Cartesian dynamic MRI (single- and multi-coil)."""

from __future__ import annotations

import torch

from sciml.kernels import DeviceCache, fftc, ifftc

from .linop import Linop


def _as_mask(mask, name: str = "mask") -> torch.Tensor:
    if not isinstance(mask, torch.Tensor):
        try:
            mask = torch.as_tensor(mask)
        except Exception as exc:  # pragma: no cover - message only
            raise TypeError(f"{name} must be a tensor or array, got {type(mask).__name__}") from exc
    if mask.is_complex():
        raise TypeError(f"{name} must be real or boolean (0/1 sampling pattern), got {mask.dtype}")
    if mask.dim() != 3:
        raise ValueError(
            f"{name} must have shape (frames, ny, nx) (nx may be 1 for line masks), "
            f"got {tuple(mask.shape)}"
        )
    if not torch.isfinite(mask.double()).all():
        raise ValueError(f"{name} must be finite")
    return mask


class MaskedFourier(Linop):
    """``A x = M ⊙ F x`` per frame: centred orthonormal 2-D FFT then a sampling mask.

    Args:
        mask: ``(T, ny, nx)`` 0/1 (bool or real) sampling pattern; ``(T, ny, 1)`` broadcasts over
            the readout direction.
        shape: image shape ``(T, ny, nx)``; defaults to the mask shape.

    Input ``(T, ny, nx)`` complex images; output ``(T, ny, nx)`` k-space, zero off the mask.
    With a full mask ``A`` is unitary.
    """

    def __init__(self, mask: torch.Tensor, shape: tuple[int, int, int] | None = None):
        mask = _as_mask(mask)
        if shape is None:
            shape = tuple(mask.shape)
        shape = tuple(int(s) for s in shape)
        try:
            torch.broadcast_shapes(tuple(mask.shape), shape)
        except RuntimeError as exc:
            raise ValueError(
                f"mask shape {tuple(mask.shape)} does not broadcast to image shape {shape}"
            ) from exc
        if torch.broadcast_shapes(tuple(mask.shape), shape) != torch.Size(shape):
            raise ValueError(f"mask shape {tuple(mask.shape)} is larger than image shape {shape}")
        self.mask = mask.to(torch.float64) if mask.dtype == torch.bool else mask
        self._mask_on = DeviceCache()  # no host-to-device copy of a CPU mask per apply
        super().__init__(shape, shape, "MaskedFourier")

    def _m(self, x: torch.Tensor) -> torch.Tensor:
        return self._mask_on.get(self.mask, x.device, x.real.dtype)

    def _apply(self, x):
        return self._m(x) * fftc(x, axes=(-2, -1))

    def _adjoint_linop(self):
        return _MaskedFourierAdjoint(self)

    def _normal_linop(self):
        return _MaskedFourierNormal(self)


class _MaskedFourierAdjoint(Linop):
    def __init__(self, fwd: MaskedFourier):
        self.fwd = fwd
        super().__init__(fwd.oshape, fwd.ishape, "MaskedFourier.H")

    def _apply(self, y):
        return ifftc(self.fwd._m(y) * y, axes=(-2, -1))

    def _adjoint_linop(self):
        return self.fwd


class _MaskedFourierNormal(Linop):
    def __init__(self, fwd: MaskedFourier):
        self.fwd = fwd
        super().__init__(fwd.ishape, fwd.ishape, "MaskedFourier.N")

    def _apply(self, x):
        m = self.fwd._m(x)
        return ifftc(m * m * fftc(x, axes=(-2, -1)), axes=(-2, -1))

    def _adjoint_linop(self):
        return self


class MultiCoilFourier(Linop):
    """``A x = M ⊙ F (S_c x)``: coil sensitivities, centred 2-D FFT per coil and frame, mask.

    Args:
        mask: ``(T, ny, nx)`` (or ``(T, ny, 1)``) sampling pattern shared by all coils.
        maps: ``(C, ny, nx)`` complex coil sensitivity maps (e.g. :func:`birdcage_maps`).

    Input ``(T, ny, nx)``; output ``(T, C, ny, nx)``.
    """

    def __init__(self, mask: torch.Tensor, maps: torch.Tensor):
        mask = _as_mask(mask)
        if not isinstance(maps, torch.Tensor) or maps.dim() != 3:
            got = tuple(maps.shape) if isinstance(maps, torch.Tensor) else type(maps).__name__
            raise ValueError(f"maps must be a (coils, ny, nx) tensor, got {got}")
        t = mask.shape[0]
        c, ny, nx = maps.shape
        if mask.shape[1] != ny or mask.shape[2] not in (1, nx):
            raise ValueError(
                f"mask shape {tuple(mask.shape)} does not match maps shape {tuple(maps.shape)} "
                f"(expected (T, {ny}, {nx}) or (T, {ny}, 1))"
            )
        self.mask = mask.to(torch.float64) if mask.dtype == torch.bool else mask
        self.maps = maps
        self._mask_on, self._maps_on = DeviceCache(), DeviceCache()
        super().__init__((t, ny, nx), (t, c, ny, nx), "MultiCoilFourier")

    def _m(self, x):
        return self._mask_on.get(self.mask, x.device, x.real.dtype)[:, None]

    def _s(self, x):
        # the complex dtype of the input's precision (float32 -> complex64, as fftc does)
        real_to_complex = {torch.float32: torch.complex64}
        dtype = x.dtype if x.is_complex() else real_to_complex.get(x.dtype, torch.complex128)
        return self._maps_on.get(self.maps, x.device, dtype)

    def _apply(self, x):
        return self._m(x) * fftc(self._s(x)[None] * x[:, None], axes=(-2, -1))

    def _adjoint_linop(self):
        return _MultiCoilAdjoint(self)


class _MultiCoilAdjoint(Linop):
    def __init__(self, fwd: MultiCoilFourier):
        self.fwd = fwd
        super().__init__(fwd.oshape, fwd.ishape, "MultiCoilFourier.H")

    def _apply(self, y):
        img = ifftc(self.fwd._m(y) * y, axes=(-2, -1))
        return torch.sum(self.fwd._s(y).conj()[None] * img, dim=1)

    def _adjoint_linop(self):
        return self.fwd
