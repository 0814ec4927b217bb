"""Truncated Fourier mode mixing: the spectral convolution of Fourier neural operators.

torch, JAX and NumPy arrays in, the same kind out (on the input's device); differentiable.
"""

from __future__ import annotations

import itertools

from ._backend import Array, common_backend, convert_all
from ._checks import check_array, check_finite


def fourier_mode_mix(x: Array, weight: Array, *, check: bool = True) -> Array:
    """``irfftn(W · rfftn(x))`` with ``W`` acting on the low wavenumbers only (FNO's spectral conv).

    Args:
        x: real field ``(B, C_in, n_1, …, n_d)``.
        weight: complex ``(C_in, C_out, 2·m_1, …, 2·m_{d−1}, m_d)``, one ``C_in × C_out`` matrix
            per kept wavenumber. Along each of the first ``d − 1`` frequency axes the ``2m``
            entries are ``k = 0, …, m − 1, −m, …, −1`` (FFT order); along the last they are
            ``k = 0, …, m_d − 1`` of the rfftn half-spectrum.
        check: validate finiteness (skipped under JAX tracing).

    Returns:
        real ``(B, C_out, n_1, …, n_d)``: the inverse rfftn of the half-spectrum whose kept modes
        are ``Σ_i x̂[b, i, k] W[i, o, k]`` and whose other modes are zero.

    A grid too small for ``m`` keeps the wavenumbers it has, each with its own matrix:
    ``k = 0, …, min(m, ⌈n/2⌉) − 1`` and ``k = −min(m, ⌊n/2⌋), …, −1`` along a leading axis (no
    wavenumber counted twice), ``k < min(m_d, n_d // 2 + 1)`` along the last. The cost is one
    rfftn, one irfftn and ``B·C_in·C_out·Π(kept)`` complex multiply-adds.
    """
    check_array(x, "x")
    check_array(weight, "weight")
    be = common_backend(x, weight, names=("x", "weight"))
    x, weight = convert_all(be, x, weight)  # a NumPy operand joins the tensor's device
    d = len(weight.shape) - 2
    if d < 1:
        raise ValueError(f"weight must be (C_in, C_out, *modes), got shape {tuple(weight.shape)}")
    if len(x.shape) != d + 2:
        raise ValueError(
            f"x must be (B, C_in, n_1..n_{d}) for a {d}-D weight, got shape {tuple(x.shape)}"
        )
    if int(x.shape[1]) != int(weight.shape[0]):
        raise ValueError(f"x has {x.shape[1]} channels, weight expects C_in = {weight.shape[0]}")
    if be.is_complex(x) or not be.is_complex(weight):
        raise TypeError("fourier_mode_mix expects a real x and a complex weight")
    if any(int(weight.shape[2 + j]) % 2 for j in range(d - 1)):
        raise ValueError(
            f"leading frequency axes of weight hold 2m entries (k ≥ 0 then k < 0), got {tuple(weight.shape)}"
        )
    if check:
        check_finite(x, "x")
        check_finite(weight, "weight")
    grid = tuple(int(n) for n in x.shape[2:])
    axes = tuple(range(2, d + 2))
    xf = be.rfftn(x, axes)
    weight = be.astype(weight, xf.dtype)
    half = grid[-1] // 2 + 1
    r = min(int(weight.shape[-1]), half)
    # one block of wavenumbers per sign pattern of the leading axes (2^(d-1) corners):
    # (slice of the spectrum, slice of the weight) per axis
    ranges = []
    for j in range(d - 1):
        n, m2 = grid[j], int(weight.shape[2 + j])
        p, q = min(m2 // 2, (n + 1) // 2), min(m2 // 2, n // 2)
        ranges.append(
            [(slice(0, p), slice(0, p))] + ([(slice(n - q, n), slice(m2 - q, m2))] if q else [])
        )
    shape = (int(x.shape[0]), int(weight.shape[1]), *grid[:-1], half)
    y = be.zeros(shape, xf.dtype, like=xf)
    for corner in itertools.product(*ranges):
        at = (slice(None), slice(None), *(c[0] for c in corner), slice(0, r))
        w = weight[(slice(None), slice(None), *(c[1] for c in corner), slice(0, r))]
        y = be.set_block(y, at, be.einsum("bi...,io...->bo...", xf[at], w))
    return be.irfftn(y, grid, axes)
