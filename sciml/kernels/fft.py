"""FFT kernels: long causal convolution, centred orthonormal FFTs, spectral derivatives
(and their Fourier symbols on rfftn half-spectra).

torch, JAX and NumPy arrays in, the same kind out (on the input's device); differentiable.
Floating inputs keep their precision; integer inputs are transformed in float64 in every library.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from ._backend import Array, backend, common_backend, convert_all
from ._checks import check_array, check_finite


def next_fast_len(n: int) -> int:
    """Smallest 5-smooth integer (2^a 3^b 5^c) ``≥ n``: fast for pocketfft, cuFFT and XLA."""
    if n <= 1:
        return 1
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def fft_conv(u: Array, k: Array, causal: bool = True, *, check: bool = True) -> Array:
    """Linear convolution of ``u`` with ``k`` along the last axis by FFT (no circular wrap-around).

    Args:
        u: signal ``(..., L)``, real or complex.
        k: kernel ``(..., K)``, broadcastable with ``u`` over the leading dimensions.
        causal: ``True`` returns ``y[..., t] = Σ_{s=0}^{t} k[..., s] u[..., t-s]`` for ``t < L``
            (shape ``(..., L)``, the SSM convolution); ``False`` returns the full linear convolution
            of length ``L + K - 1`` (as ``np.convolve(u, k, mode="full")``).
        check: validate finiteness (skipped under JAX tracing).

    The FFT length is the smallest 5-smooth integer ``≥ L + K - 1`` (``≥ 2L - 1`` when ``K = L``);
    real inputs use the real FFT.
    """
    check_array(u, "u")
    check_array(k, "k")
    be = common_backend(u, k, names=("u", "k"))
    u, k = convert_all(be, u, k)
    if len(u.shape) == 0 or len(k.shape) == 0:
        raise ValueError(
            f"u and k need a last (time) axis, got shapes {tuple(u.shape)}, {tuple(k.shape)}"
        )
    if check:
        check_finite(u, "u")
        check_finite(k, "k")
    n_u, n_k = int(u.shape[-1]), int(k.shape[-1])
    if n_u == 0 or n_k == 0:
        raise ValueError(f"u and k must be non-empty along the last axis, got {n_u} and {n_k}")
    if causal and n_k > n_u:  # taps beyond L never reach the first L outputs: skip their work
        k, n_k = k[..., :n_u], n_u
    n_out = n_u if causal else n_u + n_k - 1
    n_fft = next_fast_len(n_u + n_k - 1)
    dtype = be.result_dtype(u, k)
    u, k = be.astype(u, dtype), be.astype(k, dtype)
    if not be.is_floating(u):  # integer signals: float64 everywhere (torch would pick float32)
        u, k = be.astype(u, be.float64), be.astype(k, be.float64)
    batch = _broadcast_batch(u, k)
    if math.prod(batch) == 0:  # nothing to transform (torch's FFT rejects empty batches)
        return be.zeros((*batch, n_out), u.dtype, like=u)
    if be.is_complex(u):
        y = be.icfft(be.cfft(u, n_fft, -1) * be.cfft(k, n_fft, -1), n_fft, -1)
    else:
        y = be.irfft(be.rfft(u, n_fft, -1) * be.rfft(k, n_fft, -1), n_fft, -1)
    return y[..., :n_out]


def _broadcast_batch(u: Array, k: Array) -> tuple[int, ...]:
    """Broadcast shape of the leading (batch) dimensions of ``u`` and ``k``."""
    lead_u = tuple(int(n) for n in u.shape[:-1])
    lead_k = tuple(int(n) for n in k.shape[:-1])
    try:
        return tuple(np.broadcast_shapes(lead_u, lead_k))
    except ValueError:
        raise ValueError(
            f"the leading dimensions of u {tuple(u.shape)} and k {tuple(k.shape)} do not broadcast"
        ) from None


def _axes(x: Array, axes: int | Sequence[int]) -> tuple[int, ...]:
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    ndim = len(x.shape)
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} out of range for array of shape {tuple(x.shape)}")
    out = tuple(a % ndim for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(
            f"axes {axes} name the same axis twice (array of shape {tuple(x.shape)}); "
            "each axis can be transformed once"
        )
    return out


def _floating(x: Array) -> Array:
    """``x``, with integer/bool arrays cast to float64 (the same result in every library)."""
    be = backend(x)
    return x if be.is_floating(x) else be.astype(x, be.float64)


def fftc(x: Array, axes: int | Sequence[int] = (-2, -1)) -> Array:
    """Centred orthonormal FFT over ``axes``: ``fftshift(fftn(ifftshift(x)))`` with ``norm="ortho"``.

    The MRI k-space convention: the zero frequency sits at index ``n // 2``; unitary, so
    ``ifftc(fftc(x)) == x`` and ``‖fftc(x)‖ == ‖x‖``.
    """
    check_array(x, "x")
    be = backend(x)
    ax = _axes(x, axes)
    x = _floating(x)
    return be.fftshift(be.fftn_ortho(be.ifftshift(x, ax), ax, inverse=False), ax)


def ifftc(x: Array, axes: int | Sequence[int] = (-2, -1)) -> Array:
    """Inverse of :func:`fftc` (and its adjoint)."""
    check_array(x, "x")
    be = backend(x)
    ax = _axes(x, axes)
    x = _floating(x)
    return be.fftshift(be.fftn_ortho(be.ifftshift(x, ax), ax, inverse=True), ax)


def spectral_derivative(u: Array, length: float, order: int = 1, axis: int = -1) -> Array:
    """``d^order u / dx^order`` of a periodic real signal sampled on ``n`` points over ``length``.

    The Nyquist mode of odd-order derivatives is zeroed (it has no real derivative).
    """
    check_array(u, "u")
    be = backend(u)
    if order < 0:
        raise ValueError(f"order must be ≥ 0, got {order}")
    if be.is_complex(u):
        raise ValueError("spectral_derivative expects a real signal")
    (ax,) = _axes(u, axis)
    u = _floating(u)
    n = int(u.shape[ax])
    mult = rfftn_derivative_symbol((n,), length, axis=0, order=order, like=u)
    shape = [1] * len(u.shape)
    shape[ax] = n // 2 + 1
    return be.irfft(be.rfft(u, n, ax) * mult.reshape(tuple(shape)), n, ax)


def rfftn_derivative_symbol(
    shape: Sequence[int], length: float, axis: int, order: int = 1, *, like: Array
) -> Array:
    """Fourier symbol ``(i k)^order`` of ``∂^order/∂x_axis^order`` on an rfftn half-spectrum.

    ``shape``: the physical grid (n_0, …, n_{m−1}) of the transformed (trailing) axes, the real
    transform taken over the last one; ``length``: period of ``axis`` (k = 2π·j/length). Returns a
    complex array of ``len(shape)`` dims broadcastable to the half-spectrum: ``n_axis`` entries
    along ``axis`` (``n//2 + 1`` for the last axis, wavenumbers in FFT order), 1 elsewhere; dtype
    and device follow ``like``. The Nyquist mode of odd orders is zeroed (it has no real
    derivative), as in :func:`spectral_derivative`. Sums of order-2 symbols give the Laplacian.
    """
    be = backend(like)
    dims = len(shape)
    if order < 0:
        raise ValueError(f"order must be ≥ 0, got {order}")
    if not -dims <= axis < dims:
        raise ValueError(f"axis {axis} out of range for a {dims}-D grid")
    if not isinstance(length, numbers.Real) or not (length > 0 and math.isfinite(length)):
        raise ValueError(f"length must be > 0 and finite, got {length!r}")
    ax = axis % dims
    n = int(shape[ax])
    if not be.is_floating(like):
        raise ValueError(f"like must be a floating-point array, got dtype {like.dtype}")
    real = be.real_dtype(like.dtype)
    size = n // 2 + 1 if ax == dims - 1 else n
    j = be.arange(size, real, like=like)
    j = be.where(j > n // 2, j - n, j)  # FFT order: 0, 1, …, −2, −1
    if order % 2 == 1 and n % 2 == 0:
        j = be.where(abs(j) == n // 2, 0.0, j)
    mult = (1j * (2 * math.pi / length) * j) ** order
    out = [1] * dims
    out[ax] = size
    return mult.reshape(tuple(out))
