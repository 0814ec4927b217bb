"""Navier–Stokes stepper against independent references: a hand-written full-FFT NumPy step
(Heun + Crank–Nicolson, integer-wavenumber 2/3 mask), an explicit loop for the de-aliasing mask,
and the closed-form forced solution of a single shear wave."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sciml.operators import grf_periodic, kolmogorov_forcing, navier_stokes_2d
from sciml.operators.navier_stokes import _dealias_mask


def _reference_step(w: np.ndarray, h: float, visc: float, f: np.ndarray) -> np.ndarray:
    """One Heun/Crank–Nicolson step of ∂ω/∂t = −u·∇ω + f + νΔω with NumPy's complex FFT."""
    n = w.shape[-1]
    k = np.fft.fftfreq(n, 1.0 / n).round()
    kx, ky = k[:, None], k[None, :]
    k2 = 4 * math.pi**2 * (kx**2 + ky**2)
    nyq = (n % 2 == 0) & (np.abs(k) == n // 2)  # odd derivatives have no Nyquist mode
    dk = 2j * math.pi * np.where(nyq, 0.0, k)
    dx, dy = dk[:, None], dk[None, :]
    keep = np.zeros((n, n))
    for i in range(n):  # 2/3 rule: |k_x| <= n/3 and |k_y| <= n/3, on integers
        for j in range(n):
            keep[i, j] = 3 * abs(k[i]) <= n and 3 * abs(k[j]) <= n
    f_hat = np.fft.fft2(f)

    def explicit(wh):
        psi = np.where(k2 == 0, 0.0, wh / np.where(k2 == 0, 1.0, k2))  # −Δψ = ω
        u, v = np.fft.ifft2(dy * psi).real, -np.fft.ifft2(dx * psi).real
        wx, wy = np.fft.ifft2(dx * wh).real, np.fft.ifft2(dy * wh).real
        return f_hat - keep * np.fft.fft2(u * wx + v * wy)

    wh = np.fft.fft2(w)
    minus, plus = 1 - 0.5 * h * visc * k2, 1 + 0.5 * h * visc * k2
    e1 = explicit(wh)
    e2 = explicit((minus * wh + h * e1) / plus)
    return np.fft.ifft2((minus * wh + 0.5 * h * (e1 + e2)) / plus).real


@pytest.mark.parametrize("n", [16, 15, 30])
def test_one_step_matches_a_hand_written_spectral_step(n):
    # n = 15 and 30: |k| = n/3 sits on the 2/3-rule boundary (kept, as documented)
    w0 = grf_periodic(2, n, seed=3)
    f = kolmogorov_forcing(n, dtype=torch.float64).numpy()
    h, visc = 0.05, 1e-3
    got = navier_stokes_2d(
        torch.from_numpy(w0), visc=visc, t_final=h, dt=h, record_steps=1, forcing=f
    )[..., 0].numpy()
    ref = np.stack([_reference_step(w, h, visc, f) for w in w0])
    assert np.abs(got - ref).max() < 1e-12 * np.abs(ref).max()


def test_dealias_mask_matches_an_explicit_loop():
    for n in range(4, 40):
        got = _dealias_mask(n, torch.zeros((), dtype=torch.float64)).numpy()
        ref = np.zeros((n, n // 2 + 1))
        for i in range(n):
            kx = i if i <= n // 2 else i - n
            for ky in range(n // 2 + 1):
                ref[i, ky] = abs(kx) <= n / 3 and ky <= n / 3
        np.testing.assert_array_equal(got, ref, err_msg=f"n={n}")


def test_forced_shear_wave_matches_the_closed_form():
    # ω₀ = 0, f = A(sin + cos)(2π(x+y)): every field ∝ f depends on x + y only, so u·∇ω ≡ 0 and
    # ω(t) = f (1 − exp(−ν|K|²t)) / (ν|K|²) with |K|² = 8π² (checks forcing and diffusion)
    n, visc, t = 16, 0.02, 2.0
    f = kolmogorov_forcing(n, 0.1, dtype=torch.float64)
    lam = visc * 8 * math.pi**2
    times = t * torch.arange(1, 5, dtype=torch.float64) / 4
    exact = f[..., None] * (1 - torch.exp(-lam * times)) / lam
    errs = []
    for dt in (0.02, 0.01):
        w = navier_stokes_2d(
            torch.zeros(n, n, dtype=torch.float64),
            visc=visc,
            t_final=t,
            dt=dt,
            record_steps=4,
            forcing=f,
        )
        errs.append(float((w - exact).abs().max() / exact.abs().max()))
    assert errs[1] < 1e-4
    assert 3.6 < errs[0] / errs[1] < 4.4  # Crank–Nicolson: second order in dt
