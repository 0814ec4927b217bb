"""Shared numerical kernels: Kronecker algebra, FFT convolutions, fast Poisson solves.

Pure array functions with no state. Every function accepts torch tensors, JAX arrays or NumPy arrays
and returns the same kind; nothing here imports from the rest of ``sciml``. One small stateful
helper sits beside them: ``DeviceCache``, a memo of a constant tensor's copies on other devices
(operators built from CPU data and applied to GPU data use it instead of copying on every call).
"""

from .device_cache import DeviceCache
from .fft import fft_conv, fftc, ifftc, next_fast_len, rfftn_derivative_symbol, spectral_derivative
from .fourier_mix import fourier_mode_mix
from .kron import (
    KronEigh,
    kron_logdet,
    kron_matvec,
    kron_slogdet,
    kron_solve,
    mode_product,
    multi_mode_product,
)
from .poisson import poisson_dst

__all__ = [
    "DeviceCache",
    "KronEigh",
    "fft_conv",
    "fftc",
    "fourier_mode_mix",
    "ifftc",
    "kron_logdet",
    "kron_matvec",
    "kron_slogdet",
    "kron_solve",
    "mode_product",
    "multi_mode_product",
    "next_fast_len",
    "poisson_dst",
    "rfftn_derivative_symbol",
    "spectral_derivative",
]
