"""Configuration of FunBaT / FunBaT-CP (defaults follow the paper's reference settings)."""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass

__all__ = ["FunBaTConfig"]


def _positive_tuple(name: str, v, integer: bool = False):
    """Validate a positive number or tuple of numbers; NumPy scalars become Python ``int`` /
    ``float`` (so the config stays JSON-serialisable). Returns the normalised value."""
    vals = v if isinstance(v, tuple) else (v,)
    if isinstance(v, list):
        raise TypeError(f"{name}: expected a number or a tuple of numbers, got a list {v!r}")
    if len(vals) == 0:
        raise ValueError(f"{name}: expected a non-empty tuple, got {v!r}")
    out = []
    for x in vals:
        if integer:
            if isinstance(x, bool) or not isinstance(x, numbers.Integral):
                raise TypeError(f"{name}: expected int(s), got {x!r} ({type(x).__name__})")
            if x <= 0:
                raise ValueError(f"{name}: expected integer(s) >= 1, got {v!r}")
            out.append(int(x))
        else:
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                raise TypeError(f"{name}: expected number(s), got {x!r} ({type(x).__name__})")
            if not math.isfinite(x) or x <= 0:
                raise ValueError(f"{name}: expected finite value(s) > 0, got {v!r}")
            out.append(float(x))
    return tuple(out) if isinstance(v, tuple) else out[0]


@dataclass(frozen=True)
class FunBaTConfig:
    """Hyper-parameters of FunBaT (Tucker) and FunBaT-CP.

    Attributes:
        rank: R per mode (int for all modes, or a tuple of length K; CP needs one R).
        nu: Matérn smoothness, one of 0.5, 1.5, 2.5 (the paper uses 1/2 for Tucker).
        lengthscale, variance: per-mode Matérn hyper-parameters (float or tuple of length K);
            the default lengthscale assumes indices scaled to [0, 1] (see ``read_table``).
        epochs: CEP sweeps.
        rho_u, rho_w, rho_tau: damping, ``new = ρ·old + (1−ρ)·proposed``.
        a0, b0: Gamma prior of the noise precision τ.
        core_prior_var: prior variance of each Tucker core entry.
        init_scale: amplitude of the random smooth initial posterior means of the factors.
        init_var: initial posterior variance of the factors, as a fraction of the prior variance
            (small: the first sweep then acts like ALS instead of shrinking everything to zero).
        init_noise_ratio: initial noise variance 1/E[τ] as a fraction of var(y) (for constant
            data, var(y) ≤ 1e-6·mean(y²), E[τ] starts at (a0 + N/2)/b0 instead).
        seed: seed of the random initialisation.
        chunk_size: entries processed at once (bounds the temporary memory).
    """

    rank: int | tuple[int, ...] = 2
    nu: float = 0.5
    lengthscale: float | tuple[float, ...] = 0.3
    variance: float | tuple[float, ...] = 1.0
    epochs: int = 100
    rho_u: float = 0.5
    rho_w: float = 0.8
    rho_tau: float = 0.7
    a0: float = 1.0
    b0: float = 1.0
    core_prior_var: float = 1.0
    init_scale: float = 1.0
    init_var: float = 0.01
    init_noise_ratio: float = 0.1
    seed: int = 0
    chunk_size: int = 4096

    def __post_init__(self):
        for name in ("rank", "lengthscale", "variance"):
            object.__setattr__(
                self, name, _positive_tuple(name, getattr(self, name), name == "rank")
            )
        if self.nu not in (0.5, 1.5, 2.5):
            raise ValueError(f"nu: expected one of (0.5, 1.5, 2.5), got {self.nu!r}")
        for name in ("epochs", "chunk_size", "seed"):  # NumPy integers -> int
            v = getattr(self, name)
            if isinstance(v, numbers.Integral) and not isinstance(v, bool):
                object.__setattr__(self, name, int(v))
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs: expected an integer >= 1, got {self.epochs!r}")
        for name in (
            "rho_u", "rho_w", "rho_tau", "a0", "b0", "core_prior_var", "init_scale", "init_var",
            "init_noise_ratio",
        ):  # fmt: skip
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real):
                raise TypeError(f"{name}: expected a float, got {v!r}")
            object.__setattr__(self, name, float(v))
        for name in ("rho_u", "rho_w", "rho_tau"):
            v = getattr(self, name)
            if not (0.0 <= v < 1.0):
                raise ValueError(f"{name}: expected a damping factor in [0, 1), got {v!r}")
        for name in ("a0", "b0", "core_prior_var", "init_scale", "init_var", "init_noise_ratio"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise ValueError(f"{name}: expected a finite value > 0, got {v!r}")
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, numbers.Integral)
            or self.seed < 0
        ):
            raise ValueError(f"seed: expected an integer >= 0, got {self.seed!r}")
        if not isinstance(self.chunk_size, int) or self.chunk_size < 1:
            raise ValueError(f"chunk_size: expected an integer >= 1, got {self.chunk_size!r}")

    def per_mode(self, name: str, K: int) -> tuple:
        """``rank``/``lengthscale``/``variance`` expanded to K modes (ValueError on length)."""
        v = getattr(self, name)
        if isinstance(v, tuple):
            if len(v) != K:
                raise ValueError(f"{name}: expected {K} values (one per mode), got {len(v)}: {v!r}")
            return v
        return (v,) * K

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FunBaTConfig:
        d = json.loads(text)
        for k in ("rank", "lengthscale", "variance"):
            if isinstance(d.get(k), list):
                d[k] = tuple(d[k])
        return cls(**d)
