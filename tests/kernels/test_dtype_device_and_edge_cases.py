"""Kernels on the inputs the main tests do not use: integer and float32 dtypes, empty batches,
NumPy operands mixed with tensors on another device, repeated FFT axes, NumPy scalar spacings.

Every number is checked against an independent reference (dense ``np.kron`` algebra, explicit
DFT matrices, ``np.convolve``, an assembled finite-difference Laplacian, closed forms).
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest
import scipy.linalg as sla

from sciml.kernels import (
    KronEigh,
    fft_conv,
    fftc,
    fourier_mode_mix,
    ifftc,
    kron_logdet,
    kron_matvec,
    kron_solve,
    mode_product,
    poisson_dst,
    spectral_derivative,
)
from tests.helpers.arrays import LIBS, rel_err, spd, to_lib, to_numpy


def _dtype_name(x) -> str:
    return str(x.dtype).replace("torch.", "")


def _centred_dft(n: int) -> np.ndarray:
    idx = np.arange(n) - n // 2
    return np.exp(-2j * np.pi * np.outer(idx, idx) / n) / np.sqrt(n)


def _derivative_matrix(n: int, length: float) -> np.ndarray:
    """First derivative of the periodic trigonometric interpolant, by explicit DFT sums."""
    j = np.arange(n)
    k = np.where(j > n // 2, j - n, j).astype(float)
    if n % 2 == 0:
        k[n // 2] = 0.0  # the Nyquist mode has no real derivative
    f = np.exp(-2j * np.pi * np.outer(j, j) / n)
    return np.real(f.conj().T @ np.diag(1j * 2 * np.pi / length * k) @ f / n)


@pytest.mark.parametrize("lib", ["numpy", "torch"])  # (JAX agrees with NumPy; slow to compile)
def test_integer_factors_are_solved_in_float64(lib):
    """torch used to reject integer factors (Cholesky/eigh/slogdet); NumPy and JAX gave float64."""
    a = np.array([[4, 1], [1, 3]])  # SPD, integer
    c = np.array([[2, 0, 1], [0, 3, 0], [1, 0, 5]])
    b = np.arange(6) - 2
    dense = np.kron(a, c).astype(float)
    fac = [to_lib(a, lib), to_lib(c, lib)]
    sol = kron_solve(fac, to_lib(b, lib))
    assert _dtype_name(sol) == "float64"
    assert rel_err(sol, np.linalg.solve(dense, b)) <= 1e-12
    eig = KronEigh(fac).solve(to_lib(b, lib), 0.5)
    assert rel_err(eig, np.linalg.solve(dense + 0.5 * np.eye(6), b)) <= 1e-12
    assert abs(float(to_numpy(kron_logdet(fac))) - np.linalg.slogdet(dense)[1]) <= 1e-12


@pytest.mark.parametrize("lib", LIBS)
def test_integer_signals_are_transformed_in_float64(lib):
    """torch computed integer FFT inputs in float32 (NumPy/JAX: float64); spectral_derivative
    rejected integer samples with an error about an argument ``like`` the caller never passed."""
    u, k = np.array([3, -1, 4, 1, -5, 9, 2]), np.array([2, 7, -1])
    y = fft_conv(to_lib(u, lib), to_lib(k, lib), causal=False)
    assert _dtype_name(y) == "float64"
    assert rel_err(y, np.convolve(u, k)) <= 1e-13
    img = np.arange(15).reshape(3, 5) % 4
    z = fftc(to_lib(img, lib))
    assert _dtype_name(z) == "complex128"
    assert rel_err(z, _centred_dft(3) @ img @ _centred_dft(5).T) <= 1e-13
    assert (
        rel_err(ifftc(to_lib(img, lib)), _centred_dft(3).conj() @ img @ _centred_dft(5).conj().T)
        <= 1e-13
    )
    d = spectral_derivative(to_lib(u, lib), 2.0)
    assert _dtype_name(d) == "float64"
    assert rel_err(d, _derivative_matrix(7, 2.0) @ u) <= 1e-12


@pytest.mark.parametrize("lib", ["numpy", "torch"])  # jax.numpy keeps dtypes by construction
def test_float32_inputs_stay_float32_and_match_float64_references(lib):
    rng = np.random.default_rng(11)
    a, c = spd(rng, 3), spd(rng, 4)
    x = rng.standard_normal((2, 12))
    dense = np.kron(a, c)
    f32 = [to_lib(m.astype(np.float32), lib) for m in (a, c)]
    x32 = to_lib(x.astype(np.float32), lib)
    cases = {
        "kron_matvec": (kron_matvec(f32, x32), x @ dense.T),
        "kron_solve": (kron_solve(f32, x32), np.linalg.solve(dense, x.T).T),
        "KronEigh.solve": (
            KronEigh(f32).solve(x32, 0.25),
            np.linalg.solve(dense + 0.25 * np.eye(12), x.T).T,
        ),
        "fft_conv": (
            fft_conv(x32, to_lib(x[0, :5].astype(np.float32), lib)),
            np.stack([np.convolve(r, x[0, :5])[:12] for r in x]),
        ),
        "poisson_dst": (poisson_dst(to_lib(x.astype(np.float32), lib), (0.5, 0.25)), None),
    }
    for name, (got, ref) in cases.items():
        assert _dtype_name(got) == "float32", name
        if ref is not None:
            assert rel_err(got, ref) <= 2e-5, name
    z = fftc(to_lib(x.astype(np.complex64), lib))
    assert _dtype_name(z) == "complex64"
    assert rel_err(z, _centred_dft(2) @ x @ _centred_dft(12).T) <= 2e-6


@pytest.mark.parametrize("lib", LIBS)
def test_empty_batches_give_empty_results(lib):
    """A batch with no rows used to fail in a reshape (-1 is ambiguous for zero elements; JAX
    raised ZeroDivisionError), and torch's FFT rejected an empty batch."""
    rng = np.random.default_rng(12)
    a, c = spd(rng, 2), spd(rng, 3)
    empty = np.zeros((0, 6))
    for got in (
        kron_matvec([to_lib(a, lib), to_lib(c, lib)], to_lib(empty, lib)),
        kron_solve([to_lib(a, lib), to_lib(c, lib)], to_lib(empty, lib)),
        KronEigh([to_lib(a, lib), to_lib(c, lib)]).solve(to_lib(empty, lib), 0.1),
    ):
        assert rel_err(got, empty @ np.kron(a, c).T) == 0.0
    grid = kron_matvec([to_lib(a[:, :1], lib), to_lib(c, lib)], to_lib(np.zeros((0, 4, 1, 3)), lib))
    assert tuple(grid.shape) == (0, 4, 2, 3)
    y = fft_conv(to_lib(np.zeros((0, 5)), lib), to_lib(np.ones(3), lib), causal=False)
    assert tuple(y.shape) == (0, 7)
    yc = fft_conv(to_lib(np.ones((2, 0, 5)) + 0j, lib), to_lib(np.ones((3,)), lib))
    assert tuple(yc.shape) == (2, 0, 5) and _dtype_name(yc) == "complex128"


def test_numpy_operand_joins_the_tensor_device():
    """A NumPy operand used to be converted onto the NumPy array's own device ('cpu'), so a
    CUDA computation silently moved to the CPU (or mixed devices). torch's 'meta' device shows
    where each result lives without a GPU."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(13)

    def meta(*shape, dtype=torch.float64):
        return torch.empty(*shape, dtype=dtype, device="meta")

    outs = {
        "kron_matvec": kron_matvec([meta(3, 3), meta(2, 2)], rng.standard_normal(6), check=False),
        "kron_solve": kron_solve(
            [meta(3, 3), meta(2, 2)], rng.standard_normal(6), assume="general", check=False
        ),
        "mode_product": mode_product(rng.standard_normal((2, 3)), meta(4, 3), 1),
        "fft_conv": fft_conv(np.ones(8), meta(3), check=False),
        "fourier_mode_mix(x tensor)": fourier_mode_mix(
            meta(1, 2, 8, 7), rng.standard_normal((2, 2, 6, 3)) + 0j, check=False
        ),
        "fourier_mode_mix(weight tensor)": fourier_mode_mix(
            rng.standard_normal((1, 2, 8, 7)), meta(2, 2, 6, 3, dtype=torch.complex128), check=False
        ),
    }
    for name, out in outs.items():
        assert out.device.type == "meta", name


@pytest.mark.gpu
def test_numpy_operands_with_cuda_tensors_match_dense_references():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(14)
    a, c = spd(rng, 3), spd(rng, 4)
    b = rng.standard_normal((2, 12))
    dev = torch.device("cuda")
    dense = np.kron(a, c)
    cuda = [torch.as_tensor(a, device=dev), torch.as_tensor(c, device=dev)]
    for got, ref in (
        (kron_matvec(cuda, b), b @ dense.T),
        (kron_solve(cuda, b), sla.solve(dense, b.T).T),
        (
            KronEigh([a, torch.as_tensor(c, device=dev)]).solve(b, 0.1),
            sla.solve(dense + 0.1 * np.eye(12), b.T).T,
        ),
        (
            mode_product(b.reshape(2, 3, 4), cuda[1], 2),
            np.einsum("bij,kj->bik", b.reshape(2, 3, 4), c),
        ),
    ):
        assert got.device.type == "cuda"
        assert rel_err(got, ref) <= 1e-10
    w = rng.standard_normal((2, 2, 4, 2)) + 1j * rng.standard_normal((2, 2, 4, 2))
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64, device=dev)
    out = fourier_mode_mix(x, w)
    assert out.device.type == "cuda"
    assert rel_err(out, fourier_mode_mix(x.cpu(), w)) <= 1e-12


@pytest.mark.parametrize("lib", LIBS)
def test_fftc_rejects_a_repeated_axis(lib):
    """NumPy used to transform the axis twice (no longer the centred unitary DFT), torch and JAX
    raised their own unrelated errors."""
    x = to_lib(np.ones((4, 4)) + 0j, lib)
    for fn in (fftc, ifftc):
        with pytest.raises(ValueError, match="same axis twice"):
            fn(x, axes=(1, -1))


def test_poisson_accepts_numpy_scalar_spacing():
    """np.float32 / np.int64 spacings are not Python floats: they used to raise 'not iterable'."""
    rng = np.random.default_rng(15)
    f = rng.standard_normal((5, 4))
    for h in (np.float32(0.25), np.int64(2)):
        hh = float(h)
        lap = [
            (2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)) / hh**2 for n in f.shape
        ]  # Dirichlet -d²/dx² on the interior nodes
        dense = np.kron(lap[0], np.eye(4)) + np.kron(np.eye(5), lap[1])
        u = poisson_dst(f, h)
        assert rel_err(u.ravel(), np.linalg.solve(dense, f.ravel())) <= 1e-12


@pytest.mark.parametrize("lib", LIBS)
def test_spectral_derivative_odd_length_and_nyquist_closed_forms(lib):
    """Odd n (no Nyquist mode) against the exact derivative; even n: the Nyquist cosine
    (-1)^j has zero first derivative and second derivative -(πn/L)² (-1)^j at the samples."""
    n, length = 15, 2.5
    x = np.arange(n) * length / n
    w = 2 * np.pi / length
    u = np.sin(7 * w * x) + np.cos(2 * w * x)  # 7 = (n - 1) / 2, the highest mode
    du = 7 * w * np.cos(7 * w * x) - 2 * w * np.sin(2 * w * x)
    assert rel_err(spectral_derivative(to_lib(u, lib), length), du) <= 1e-12
    n = 12
    alt = (-1.0) ** np.arange(n)
    assert np.abs(to_numpy(spectral_derivative(to_lib(alt, lib), length, 1))).max() <= 1e-12
    d2 = spectral_derivative(to_lib(alt, lib), length, 2)
    assert rel_err(d2, -((np.pi * n / length) ** 2) * alt) <= 1e-12


def test_kron_algebra_with_size_one_and_odd_factors_against_dense():
    """Size-1 and odd factors mixed with complex vectors and a grid layout, all vs np.kron."""
    rng = np.random.default_rng(16)
    mats = [spd(rng, 1), spd(rng, 5, complex_=True), spd(rng, 3)]
    dense = reduce(np.kron, mats)
    b = rng.standard_normal((2, 15)) + 1j * rng.standard_normal((2, 15))
    grid = b.reshape(2, 1, 5, 3)
    assert rel_err(kron_matvec(mats, grid), (b @ dense.T).reshape(2, 1, 5, 3)) <= 1e-12
    assert rel_err(kron_solve(mats, grid), sla.solve(dense, b.T).T.reshape(2, 1, 5, 3)) <= 1e-12
    ke = KronEigh(mats)
    assert rel_err(ke.solve(b, 0.3), sla.solve(dense + 0.3 * np.eye(15), b.T).T) <= 1e-12
    assert abs(float(ke.logdet(0.3)) - np.linalg.slogdet(dense + 0.3 * np.eye(15))[1]) <= 1e-10
