"""Dynamic phantoms: cardiac-like (pulsing heart, respiratory shift) and a deforming object.

Ellipses are rendered analytically with ``supersample**2`` sub-pixel samples per pixel
(anti-aliasing), so the phantoms are band-limited enough for Fourier undersampling studies.
Coordinates are in ``[-1, 1]^2``; images have values in ``[0, 1]``.
"""

from __future__ import annotations

import math

import torch


def _grid(n: int, supersample: int, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
    m = n * supersample
    c = (torch.arange(m, dtype=dtype, device=device) + 0.5) / m * 2.0 - 1.0
    yy, xx = torch.meshgrid(c, c, indexing="ij")
    return yy, xx


def _ellipse(yy, xx, cy, cx, ay, ax, angle=0.0):
    """Indicator of an ellipse; ``cy, cx, ay, ax`` broadcast against ``yy, xx``."""
    ca, sa = math.cos(angle), math.sin(angle)
    dx, dy = xx - cx, yy - cy
    u = ca * dx + sa * dy
    v = -sa * dx + ca * dy
    return ((u / ax) ** 2 + (v / ay) ** 2 <= 1.0).to(yy.dtype)


def _downsample(img: torch.Tensor, s: int) -> torch.Tensor:
    if s == 1:
        return img
    *lead, m, _ = img.shape
    n = m // s
    return img.reshape(*lead, n, s, n, s).mean(dim=(-3, -1))


def _check(n: int, frames: int, supersample: int) -> None:
    if not isinstance(n, int) or n < 8:
        raise ValueError(f"n must be an int >= 8, got {n!r}")
    if not isinstance(frames, int) or frames < 1:
        raise ValueError(f"frames must be an int >= 1, got {frames!r}")
    if not isinstance(supersample, int) or supersample < 1:
        raise ValueError(f"supersample must be an int >= 1, got {supersample!r}")


def _smooth_phase(n: int, gen: torch.Generator, dtype, device) -> torch.Tensor:
    yy, xx = _grid(n, 1, dtype, device)
    a = (torch.rand(4, generator=gen, dtype=torch.float64) - 0.5).tolist()
    return math.pi * (a[0] * xx + a[1] * yy + a[2] * xx * yy + a[3] * (xx**2 - yy**2))


class _Canvas:
    """Validated arguments, a seeded uniform sampler and the super-sampled grid of one phantom."""

    def __init__(self, n: int, frames: int, supersample: int, seed: int, dtype, device):
        _check(n, frames, supersample)
        self.n, self.supersample, self.dtype, self.device = n, supersample, dtype, device
        self.gen = torch.Generator().manual_seed(int(seed))
        complex_or_f64 = dtype in (torch.float64, torch.complex128)
        self.real = torch.float64 if complex_or_f64 else torch.float32
        self.yy, self.xx = _grid(n, supersample, self.real, device)
        self.tt = torch.arange(frames, dtype=self.real, device=device)[:, None, None]

    def rnd(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=self.gen, dtype=torch.float64))

    def finish(self, img: torch.Tensor, complex_valued: bool) -> torch.Tensor:
        """Clamp to [0, 1], average the sub-pixels, optionally apply a smooth seeded phase."""
        img = _downsample(img.clamp(0.0, 1.0), self.supersample)
        if complex_valued:
            cdtype = torch.complex128 if self.real == torch.float64 else torch.complex64
            phase = _smooth_phase(self.n, self.gen, self.real, self.device)
            return torch.polar(img, phase[None]).to(cdtype)
        return img.to(self.dtype)


def cardiac_phantom(
    n: int = 64,
    frames: int = 16,
    *,
    seed: int = 0,
    heart_cycles: float = 2.0,
    resp_cycles: float = 0.5,
    complex_valued: bool = False,
    supersample: int = 3,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Cardiac-like cine sequence ``(frames, n, n)`` with values in ``[0, 1]``.

    Static background (body, lungs, spine, a few small structures); a heart (myocardium ring
    around a bright blood pool) whose size pulses ``heart_cycles`` times over the sequence and
    which, together with the liver dome, translates vertically ``resp_cycles`` times (breathing).
    ``seed`` perturbs intensities, positions and motion phases. ``complex_valued=True`` multiplies
    by a smooth seeded phase map (result complex128/complex64).
    """
    cv = _Canvas(n, frames, supersample, seed, dtype, device)
    rnd, yy, xx, tt = cv.rnd, cv.yy, cv.xx, cv.tt
    bg = 0.35 * _ellipse(yy, xx, 0.0, 0.0, 0.72, 0.9)  # body
    bg = bg - 0.25 * _ellipse(yy, xx, -0.05, -0.45, 0.45, 0.28, 0.1)  # lungs
    bg = bg - 0.25 * _ellipse(yy, xx, -0.05, 0.45, 0.45, 0.28, -0.1)
    bg = bg + rnd(0.45, 0.6) * _ellipse(yy, xx, 0.58, 0.0, 0.09, 0.09)  # spine
    for _ in range(4):  # small static structures (vessels, fat)
        cy, cx = rnd(-0.55, 0.5), rnd(-0.7, 0.7)
        bg = bg + rnd(0.1, 0.25) * _ellipse(yy, xx, cy, cx, rnd(0.03, 0.06), rnd(0.03, 0.06))
    hy, hx = rnd(0.0, 0.1), rnd(0.02, 0.12)
    h_phase, r_phase = rnd(0, 2 * math.pi), rnd(0, 2 * math.pi)
    blood, myo = rnd(0.85, 1.0), rnd(0.5, 0.6)
    pulse = 1.0 + 0.2 * torch.sin(2 * math.pi * heart_cycles * tt / frames + h_phase)
    shift = 0.08 * torch.sin(2 * math.pi * resp_cycles * tt / frames + r_phase)
    heart_out = _ellipse(yy, xx, hy + shift, hx, 0.26 * pulse**0.5, 0.22 * pulse**0.5, 0.4)
    heart_in = _ellipse(yy, xx, hy + shift, hx + 0.02, 0.15 * pulse, 0.12 * pulse, 0.4)
    liver = _ellipse(yy, xx, 0.55 + shift, 0.35, 0.3, 0.35)
    body = _ellipse(yy, xx, 0.0, 0.0, 0.72, 0.9)
    img = bg[None] * (1 - heart_out) * (1 - liver * body)
    img = img + heart_out * ((1 - heart_in) * myo + heart_in * blood)
    img = img + 0.45 * liver * body * (1 - heart_out)
    return cv.finish(img, complex_valued)


# modified Shepp-Logan ellipses: (intensity, ay, ax, cy, cx, angle in degrees)
_SHEPP_LOGAN = (
    (1.0, 0.92, 0.69, 0.0, 0.0, 0),
    (-0.8, 0.874, 0.6624, 0.0184, 0.0, 0),
    (-0.2, 0.41, 0.11, 0.0, 0.22, -18),
    (-0.2, 0.31, 0.16, 0.0, -0.22, 18),
    (0.1, 0.25, 0.21, -0.35, 0.0, 0),
    (0.1, 0.046, 0.046, -0.1, 0.0, 0),
    (0.1, 0.046, 0.046, 0.1, 0.0, 0),
    (0.1, 0.023, 0.046, 0.605, -0.08, 0),
    (0.1, 0.023, 0.023, 0.606, 0.0, 0),
    (0.1, 0.046, 0.023, 0.605, 0.06, 0),
)


def deforming_phantom(
    n: int = 64,
    frames: int = 16,
    *,
    seed: int = 0,
    amplitude: float = 0.06,
    cycles: float = 1.0,
    complex_valued: bool = False,
    supersample: int = 3,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Smoothly deforming modified Shepp-Logan ``(frames, n, n)`` in ``[0, 1]``.

    Frame ``t`` samples the static phantom at ``phi_t^{-1}(p) = p + a_t * w(p)`` with a smooth
    sinusoidal displacement field ``w`` (seeded wave numbers and phases) and amplitude
    ``a_t = amplitude * sin(2 pi cycles t / frames + phase)``.
    """
    cv = _Canvas(n, frames, supersample, seed, dtype, device)
    rnd, yy, xx, tt = cv.rnd, cv.yy, cv.xx, cv.tt
    phase = rnd(0, 2 * math.pi)
    at = amplitude * torch.sin(2 * math.pi * cycles * tt / frames + phase)
    k1, k2, p1, p2 = rnd(0.5, 1.5), rnd(0.5, 1.5), rnd(0, 2 * math.pi), rnd(0, 2 * math.pi)
    wy = torch.sin(math.pi * k1 * xx + p1) * torch.cos(0.5 * math.pi * yy)
    wx = torch.sin(math.pi * k2 * yy + p2) * torch.cos(0.5 * math.pi * xx)
    sy, sx = yy[None] + at * wy[None], xx[None] + at * wx[None]
    img = torch.zeros(frames, *yy.shape, dtype=cv.real, device=device)
    for inten, ay, ax, cy, cx, deg in _SHEPP_LOGAN:
        img = img + inten * _ellipse(sy, sx, cy, cx, ay, ax, math.radians(deg))
    return cv.finish(img, complex_valued)
