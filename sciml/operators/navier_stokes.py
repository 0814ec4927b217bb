"""2-D incompressible Navier–Stokes in vorticity form on the unit torus, and the dataset generator.

    ∂ω/∂t + u·∇ω = ν Δω + f,   u = (∂ψ/∂y, −∂ψ/∂x),   −Δψ = ω.

Pseudo-spectral in space (ψ, velocities and vorticity gradients multiplied in Fourier space and
brought back with one batched inverse real FFT per evaluation; symbols from the shared
:func:`sciml.kernels.rfftn_derivative_symbol`, tested against
:func:`sciml.kernels.spectral_derivative`), products in
physical space, 2/3-rule de-aliasing), Crank–Nicolson for diffusion and explicit
Heun (2nd-order) for advection and forcing. Vectorised over a batch of fields; float64 by default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from sciml.kernels import rfftn_derivative_symbol

from .grf import grf_periodic

__all__ = ["kolmogorov_forcing", "navier_stokes_2d", "generate_navier_stokes"]


def kolmogorov_forcing(size: int, amplitude: float = 0.1, **like: Any) -> torch.Tensor:
    """``f = amplitude (sin 2π(x+y) + cos 2π(x+y))`` on the grid ``x_i = i / size`` (size, size)."""
    x = torch.arange(size, **like) / size
    s = 2 * math.pi * (x[:, None] + x[None, :])
    return amplitude * (torch.sin(s) + torch.cos(s))


def _derivative_symbols(
    n: int, like: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``∂x``, ``∂y`` (Nyquist zeroed) and ``−Δ⁻¹`` (0 at k = 0) on the rfft2 half-spectrum of an
    (n, n) field on the unit torus, from the shared :func:`rfftn_derivative_symbol`."""
    like = like.real if like.is_complex() else like
    grid = (n, n)
    dx, dy = (rfftn_derivative_symbol(grid, 1.0, a, 1, like=like) for a in (0, 1))
    lap = sum(rfftn_derivative_symbol(grid, 1.0, a, 2, like=like).real for a in (0, 1))
    inv_lap = torch.where(lap == 0, torch.zeros_like(lap), -1.0 / torch.where(lap == 0, 1.0, lap))
    half = (n, n // 2 + 1)
    return dx.expand(half), dy.expand(half), inv_lap


def _dealias_mask(n: int, like: torch.Tensor) -> torch.Tensor:
    """2/3 rule on the rfft2 half-spectrum (n, n//2+1): 1 where ``|k_x| <= n/3`` and
    ``|k_y| <= n/3``, else 0, decided on the integer wavenumbers (``3|k| <= n``) so that the
    boundary mode ``|k| = n/3`` (n divisible by 3) is kept whatever the rounding of the
    derivative symbols."""
    like = like.real if like.is_complex() else like
    k = torch.arange(n, device=like.device)
    kx = torch.where(k > n // 2, k - n, k).abs()  # FFT order along axis −2
    ky = torch.arange(n // 2 + 1, device=like.device)  # rfft half-spectrum along axis −1
    return ((3 * kx[:, None] <= n) & (3 * ky[None, :] <= n)).to(like.dtype)


def _advection(
    w_hat: torch.Tensor,
    symbols: tuple[torch.Tensor, ...],
    n: int,
    work: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> torch.Tensor:
    """``u·∇ω`` in physical space from ω̂ = rfft2(ω) (…, n, n//2+1) (axis −2 = x, axis −1 = y).

    ψ̂ = −Δ⁻¹ω̂, u = ∂ψ/∂y, v = −∂ψ/∂x, ∇ω: the four fields come from one batched irfft2 of
    their spectra (the same derivatives as :func:`sciml.kernels.spectral_derivative`, without
    the round trips through physical space). ``work``: optional preallocated buffers
    ``(spec (…, 4, n, n//2+1) complex, fields (…, 4, n, n) real)`` reused across calls.
    """
    dx, dy, inv_lap = symbols
    if work is None:
        shape = (*w_hat.shape[:-2], 4, n)
        work = (
            w_hat.new_empty((*shape, n // 2 + 1)),
            torch.empty((*shape, n), dtype=w_hat.real.dtype, device=w_hat.device),
        )
    spec, fields = work
    psi_hat = torch.mul(w_hat, inv_lap)
    torch.mul(psi_hat, dy, out=spec[..., 0, :, :])
    torch.mul(psi_hat, dx, out=spec[..., 1, :, :])
    spec[..., 1, :, :].neg_()
    torch.mul(w_hat, dx, out=spec[..., 2, :, :])
    torch.mul(w_hat, dy, out=spec[..., 3, :, :])
    torch.fft.irfft2(spec, s=(n, n), out=fields)
    u, v, w_x, w_y = fields.unbind(-3)
    return torch.addcmul(u * w_x, v, w_y)


def navier_stokes_2d(
    w0: Any,
    *,
    visc: float,
    t_final: float,
    dt: float | None = None,
    record_steps: int = 20,
    forcing: Any = None,
    progress: Callable[..., Any] | None = None,
) -> torch.Tensor:
    """Integrate vorticity ``w0`` (…, n, n) on the unit torus up to ``t_final``.

    Args:
        w0: initial vorticity (n, n) or (batch, n, n); NumPy or torch (float64 recommended;
            results follow its device and dtype).
        visc: viscosity ν > 0.
        t_final: final time; ``record_steps`` frames are recorded at ``t_final·j/record_steps``.
        dt: time step (rounded down so that every record time is hit exactly); ``None``:
            ``0.64 / n`` (0.02 at 32², half the step at which ν = 1e-5 runs blew up at 32²).
        forcing: ``None`` (no forcing) or a field broadcastable to (n, n).
        progress: optional ``progress(iterable, desc=..., total=...)`` wrapper for the frames.

    Returns:
        Vorticity frames (…, n, n, record_steps) at t = t_final·j/record_steps, j = 1..record_steps.
    """
    w = torch.as_tensor(w0)
    if not w.is_floating_point():
        w = w.to(torch.float64)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2] or w.shape[-1] < 4:
        raise ValueError(
            f"w0: expected square fields (..., n, n) with n >= 4, got {tuple(w.shape)}"
        )
    if not torch.isfinite(w).all():
        raise ValueError("w0: contains non-finite values")
    if dt is None:
        dt = 0.64 / w.shape[-1]
    for name, val in (("visc", visc), ("t_final", t_final), ("dt", dt)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val > 0):
            raise ValueError(f"{name}: expected a finite float > 0, got {val!r}")
    if isinstance(record_steps, bool) or not isinstance(record_steps, int) or record_steps < 1:
        raise ValueError(f"record_steps: expected an int >= 1, got {record_steps!r}")
    n = w.shape[-1]
    interval = t_final / record_steps
    sub = max(1, math.ceil(interval / dt - 1e-9))
    h = interval / sub
    d2x, d2y = (rfftn_derivative_symbol((n, n), 1.0, a, 2, like=w).real for a in (0, 1))
    lap = d2x + d2y  # symbol of Δ
    symbols = _derivative_symbols(n, w)
    dealias = _dealias_mask(n, w)
    f_hat = 0.0 if forcing is None else torch.fft.rfft2(torch.as_tensor(forcing).to(w))
    cn_plus = 1.0 - 0.5 * h * visc * lap
    cn_minus = 1.0 + 0.5 * h * visc * lap
    w_hat = torch.fft.rfft2(w)
    shape = (*w_hat.shape[:-2], 4, n)  # buffers reused by every advection evaluation
    work = (w_hat.new_empty((*shape, n // 2 + 1)), w.new_empty((*shape, n)))
    frames = []
    it = range(record_steps)
    if progress is not None:
        it = progress(it, desc=f"navier-stokes {n}²", total=record_steps)
    for _ in it:
        for _ in range(sub):
            # Heun for the explicit part E(ω) = −u·∇ω + f, Crank–Nicolson for νΔω
            e1 = f_hat - dealias * torch.fft.rfft2(_advection(w_hat, symbols, n, work))
            w_pred = (cn_minus * w_hat + h * e1) / cn_plus
            e2 = f_hat - dealias * torch.fft.rfft2(_advection(w_pred, symbols, n, work))
            w_hat = (cn_minus * w_hat + 0.5 * h * (e1 + e2)) / cn_plus
        frames.append(torch.fft.irfft2(w_hat, s=(n, n)))
    return torch.stack(frames, dim=-1)


def generate_navier_stokes(
    seed: int,
    *,
    resolution: int = 64,
    visc: float = 1e-5,
    n_train: int = 1000,
    n_test: int = 200,
    frames: int = 20,
    t_in: int = 10,
    interval: float = 1.0,
    dt: float | None = None,
    alpha: float = 2.5,
    tau: float = 7.0,
    forcing_amplitude: float = 0.1,
    batch: int = 8,
    progress: Callable[..., Any] | None = None,
) -> dict[str, Any]:
    """Navier–Stokes dataset generator (``fn(seed, **params)`` for the data registry).

    ω₀ ~ GRF(α, τ) on the torus, forcing ``0.1(sin 2π(x+y) + cos 2π(x+y))``; ``frames`` frames at
    t = interval, 2·interval, …. ``x`` holds the first ``t_in`` frames, ``y`` the rest
    (float32, (N, frames, resolution, resolution) split along the frame axis, channels = time).
    ``batch`` trajectories are integrated together (small batches keep the FFT work in cache:
    8 at 64² is ≈ 2× faster per trajectory than 200); ``progress`` wraps the batches.
    """
    if progress is None:
        from tqdm.auto import tqdm

        def progress(it, **kw):
            return tqdm(it, **kw)

    if not 0 < t_in < frames:
        raise ValueError(f"t_in: expected 0 < t_in < frames={frames}, got {t_in!r}")
    total = n_train + n_test
    w0 = grf_periodic(total, resolution, alpha=alpha, tau=tau, seed=seed)
    force = kolmogorov_forcing(resolution, forcing_amplitude, dtype=torch.float64)
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch: expected an int >= 1, got {batch!r}")
    out = np.zeros((total, frames, resolution, resolution), dtype=np.float32)
    starts = range(0, total, batch)
    for start in progress(starts, desc=f"navier-stokes {resolution}²", total=len(starts)):
        sl = slice(start, min(total, start + batch))
        traj = navier_stokes_2d(
            torch.from_numpy(w0[sl]),
            visc=visc,
            t_final=interval * frames,
            dt=dt,
            record_steps=frames,
            forcing=force,
        )
        out[sl] = traj.permute(0, 3, 1, 2).numpy().astype(np.float32)
    x, y = out[:, :t_in], out[:, t_in:]
    grid = np.arange(resolution) / resolution
    return {
        "splits": {
            "train": {"x": x[:n_train], "y": y[:n_train]},
            "test": {"x": x[n_train:], "y": y[n_train:]},
        },
        "kind": "field",
        "coords": {"x": grid, "y": grid, "t": interval * np.arange(1, frames + 1)},
    }
