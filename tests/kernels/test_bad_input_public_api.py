"""Bad input at the public kernel entry points: a ValueError/TypeError that names the argument."""

import math

import numpy as np
import pytest
import torch

from sciml.kernels import KronEigh, rfftn_derivative_symbol, spectral_derivative


def _spd(n: int) -> torch.Tensor:
    a = torch.randn(n, n, dtype=torch.float64, generator=torch.Generator().manual_seed(n))
    return a @ a.T + n * torch.eye(n, dtype=torch.float64)


@pytest.mark.parametrize("length", [math.nan, math.inf, 0.0, -1.0, "1.0"])
def test_spectral_derivative_length(length):
    with pytest.raises(ValueError, match="length"):
        spectral_derivative(torch.randn(2, 8, dtype=torch.float64), length)


@pytest.mark.parametrize("length", [math.nan, math.inf])
def test_derivative_symbol_length(length):
    with pytest.raises(ValueError, match="length"):
        rfftn_derivative_symbol((8,), length, 0, like=torch.zeros(1, dtype=torch.float64))


@pytest.mark.parametrize(
    "b, exc",
    [
        (torch.randn(5, dtype=torch.float64), ValueError),  # wrong size
        (torch.randn(0, dtype=torch.float64), ValueError),  # empty
        (torch.tensor([math.nan] * 12, dtype=torch.float64), ValueError),
        ([1.0] * 12, TypeError),
        (None, TypeError),
    ],
    ids=["shape", "empty", "nan", "list", "none"],
)
def test_kron_eigh_solve_names_b(b, exc):
    ke = KronEigh([_spd(3), _spd(4)])
    with pytest.raises(exc, match=r"\bb\b"):
        ke.solve(b, 0.1)


@pytest.mark.parametrize("bad", [None, "abc", [1.0, 2.0], 3.0])
def test_non_arrays_are_type_errors_naming_the_argument(bad):
    from sciml.kernels import fft_conv, fftc, ifftc, kron_matvec, kron_solve, mode_product

    k = np.ones(3)
    for call, name in (
        (lambda: fft_conv(bad, k), "u"),
        (lambda: fft_conv(k, bad), "k"),
        (lambda: fftc(bad), "x"),
        (lambda: ifftc(bad), "x"),
        (lambda: kron_matvec([np.eye(2)], bad), "x"),
        (lambda: kron_solve([np.eye(2)], bad), "b"),
        (lambda: mode_product(bad, np.eye(2), 0), "x"),
    ):
        with pytest.raises(TypeError, match=f"^{name}: expected a NumPy, torch or JAX array"):
            call()
