"""RED-PSM (Iskender, Klasky, Bresler, ICCV 2023 / IEEE TCI 2024): partially separable model
with a regularisation-by-denoising prior, solved by scaled-form ADMM.

    min_{Λ, z, f}  w ||R f_psm - g||² + λ/2 fᵀ(f - D(f)) + ξ ||Ψ||_F² + χ ||Λ||_F²
    s.t. f = f_psm(Λ, z)

Each outer iteration:
  1. PSM step: ``inner_iters`` Adam steps on ``(Λ, z)`` for
     ``w ||R f_psm - g||² + β/2 ||f_psm - f + γ||² + ξ ||Ψ||_F² + χ ||Λ||_F²``;
  2. RED step (fixed point): ``f ← (λ D(f) + β (f_psm + γ)) / (λ + β)``, ``D`` frame by frame;
  3. dual step: ``γ ← γ + f_psm - f``.
All norms are sums over pixels/measurements (the public code uses means and an unsquared split
norm). ``w`` (``data_weight``) is ``1/n²`` for the Radon operator (projections of an object of
unit width), which makes the paper's λ, β effective. The PSM is
initialised by a projection-domain fit (PSM alone, ``init_iters`` Adam steps); ``f`` and ``γ``
start at zero as in the paper. Differences from the public code: the split term is the squared
norm of the augmented Lagrangian (the code uses the unsquared norm); the reported result is the
final iterate (the code reports the best PSNR over iterations against the ground truth).
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from sciml.imaging.linop import Linop

from .psm import PSM


@dataclass(frozen=True)
class REDPSMConfig:
    """Defaults: the paper's tomography setting for ``P = 256`` (``K = 10``, ``d = 11``, 101 outer
    iterations, 25 inner Adam steps at lr 5e-3, ``λ = 5e-5``, ``β = 1e-4``, ``ξ = χ = 1e-6``),
    with sum-of-squares norms and images in [0, 1]; see notes/redpsm.md.

    Attributes:
        rank: ``K + 1``. knots: ``d``. outer_iters, inner_iters, lr: ADMM and Adam.
        lam: RED weight λ (0 gives PSM with a proximal term). beta: ADMM penalty β.
        xi, chi: ℓ2 penalties on ``Ψ`` and ``Λ``.
        init_iters, init_lr: projection-domain PSM fit before ADMM (0 disables it).
        nonneg: clamp ``f_psm`` at 0 (as the public code). use_fov_mask: FOV disc on ``Λ``.
        data_weight: factor ``w`` of the data term ``w ||R f_psm - g||²``; ``None`` takes the
            operator's ``data_weight`` attribute if it has one, else 1. :class:`Radon` sets
            ``1/n²``: line integrals of an object of unit width (pixel size ``1/n``), the
            scaling under which the paper's λ, β work (notes/redpsm.md).
        seed: initialisation. dtype: solver dtype.
    """

    rank: int = 11
    knots: int = 11
    outer_iters: int = 101
    inner_iters: int = 25
    lr: float = 5e-3
    lam: float = 5e-5
    beta: float = 1e-4
    xi: float = 1e-6
    chi: float = 1e-6
    init_iters: int = 500
    init_lr: float = 1e-2
    nonneg: bool = True
    use_fov_mask: bool = True
    data_weight: float | None = None
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self):
        for name in ("rank", "knots", "outer_iters", "inner_iters"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"REDPSMConfig.{name} must be a positive int, got {v!r}")
        if self.rank > self.knots:
            raise ValueError(
                f"REDPSMConfig.rank (K+1) = {self.rank} is larger than knots = {self.knots}: "
                "the temporal basis would be rank deficient"
            )
        if not isinstance(self.init_iters, int) or self.init_iters < 0:
            raise ValueError(
                f"REDPSMConfig.init_iters must be an int >= 0, got {self.init_iters!r}"
            )
        for name in ("lr", "lam", "beta", "xi", "chi", "init_lr"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"REDPSMConfig.{name} must be a finite number >= 0, got {v!r}")
        if self.beta <= 0:
            raise ValueError(f"REDPSMConfig.beta must be > 0, got {self.beta!r}")
        if self.data_weight is not None and (
            not isinstance(self.data_weight, (int, float))
            or not math.isfinite(self.data_weight)
            or self.data_weight <= 0
        ):
            raise ValueError(
                f"REDPSMConfig.data_weight must be None or a finite number > 0, "
                f"got {self.data_weight!r}"
            )
        if self.dtype not in ("float64", "float32"):
            raise ValueError(
                f"REDPSMConfig.dtype must be 'float64' or 'float32', got {self.dtype!r}"
            )

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class REDPSMResult:
    """``x``: final PSM reconstruction ``f_psm`` ``(P, n, n)``; ``f``: the RED variable;
    ``spatial`` ``(R, n, n)`` (masked), ``temporal`` ``(R, P)``, ``z`` ``(R, d)``;
    ``history``: per outer iteration ``data``, ``split`` (``||f_psm - f|| / ||f_psm||``),
    ``time`` and, when ``x_true`` was given, ``psnr_psm``/``psnr_f`` (monitoring only)."""

    x: torch.Tensor
    f: torch.Tensor
    spatial: torch.Tensor
    temporal: torch.Tensor
    z: torch.Tensor
    history: dict
    seconds: float


def check_sinogram(g, op: Linop, name: str = "g") -> torch.Tensor:
    """``g`` must be a finite tensor of shape ``op.oshape`` and ``op`` map ``(P, n, n)``."""
    if not isinstance(op, Linop):
        raise TypeError(f"op must be a sciml.imaging.Linop, got {type(op).__name__}")
    if len(op.ishape) != 3 or isinstance(op.ishape[0], tuple) or op.ishape[1] != op.ishape[2]:
        raise ValueError(f"op must map square image sequences (P, n, n), got ishape {op.ishape}")
    if not isinstance(g, torch.Tensor):
        try:
            # via NumPy: a Python list of floats becomes float64 (torch's default would be float32)
            g = torch.as_tensor(np.asarray(g))
        except Exception as exc:
            raise TypeError(f"{name} must be a tensor or array, got {type(g).__name__}") from exc
    if tuple(g.shape) != tuple(op.oshape):
        if g.dim() >= 1 and g.shape[0] != op.oshape[0]:
            raise ValueError(
                f"{name} has {g.shape[0]} instants but the operator has {op.oshape[0]} "
                f"(angle/instant count mismatch): {name} shape {tuple(g.shape)}, expected "
                f"{op.oshape}"
            )
        raise ValueError(f"{name} has shape {tuple(g.shape)}, expected {op.oshape}")
    if not bool(torch.isfinite(g).all()):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return g


def _check_x_true(x_true, op: Linop) -> torch.Tensor:
    """The monitoring reference: checked before the (long) fit, not after it."""
    if not isinstance(x_true, torch.Tensor):
        try:
            x_true = torch.as_tensor(np.asarray(x_true))
        except Exception as exc:
            raise TypeError(
                f"x_true must be a tensor or array, got {type(x_true).__name__}"
            ) from exc
    if tuple(x_true.shape) != tuple(op.ishape):
        raise ValueError(
            f"x_true has shape {tuple(x_true.shape)}, expected the operator's image sequence "
            f"shape {op.ishape}"
        )
    if not bool(torch.isfinite(x_true).all()):
        raise ValueError("x_true contains non-finite values (nan or inf)")
    return x_true


def red_step(
    f: torch.Tensor, v: torch.Tensor, denoiser: Callable, lam: float, beta: float
) -> torch.Tensor:
    """One fixed-point RED update ``(λ D(f) + β v) / (λ + β)`` with ``v = f_psm + γ``."""
    return (lam * denoiser(f) + beta * v) / (lam + beta)


def _identity(f: torch.Tensor) -> torch.Tensor:
    return f


def _to_solver_dtype(g: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Measurements in the solver precision: real ``dtype``, or its complex counterpart for
    complex ``g`` (the closed-form gradient mixes ``Re Rᴴ r`` with the real PSM factors)."""
    if g.is_complex():
        return g.to(torch.complex128 if dtype == torch.float64 else torch.complex64)
    return g.to(dtype)


class REDPSM:
    """``REDPSM(config, denoiser).reconstruct(g, op)``.

    Args:
        config: :class:`REDPSMConfig`.
        denoiser: callable on sequences ``(P, n, n) → (P, n, n)`` (e.g.
            :class:`~sciml.imaging.tomo.dncnn.FrameDenoiser`); ``None`` means the identity, which
            with ``lam > 0`` reduces RED-PSM to a proximal PSM fit.
    """

    def __init__(self, config: REDPSMConfig | None = None, denoiser: Callable | None = None):
        self.config = config or REDPSMConfig()
        self.denoiser = denoiser if denoiser is not None else _identity

    def _loss_parts(self, model: PSM, op: Linop, g: torch.Tensor):
        c = self.config
        fp = model()
        if c.nonneg:
            fp = fp.clamp(min=0)
        pred = op(fp.to(g.dtype) if g.is_complex() else fp)
        data = self._weight(op) * (pred - g).abs().pow(2).sum()
        reg = c.xi * model.temporal().pow(2).sum() + c.chi * model.spatial.pow(2).sum()
        return fp, data, reg

    def _weight(self, op: Linop) -> float:
        c = self.config
        return c.data_weight if c.data_weight is not None else getattr(op, "data_weight", 1.0)

    def psm_grad(
        self, model: PSM, op: Linop, g: torch.Tensor, target: torch.Tensor | None = None
    ) -> float:
        """Set ``.grad`` of ``(Λ, z)`` to the closed-form gradient of
        ``w ||R f_psm - g||² + ξ ||Ψ||² + χ ||Λ||² [+ β/2 ||f_psm - target||²]`` and return the
        data term. With ``f_psm = relu(Ψᵀ Λ_m)`` (``nonneg``) and the residual gradient
        ``G = (2w Re Rᴴ(R f_psm - g) + β (f_psm - target)) ⊙ 1[Ψᵀ Λ_m ≥ 0]`` (``P × n²``):
        ``∂Λ = mask ⊙ Ψ G + 2χ Λ``, ``∂z = (Λ_m Gᵀ + 2ξ Ψ) B``. One forward and one adjoint
        application, no autograd graph (equal to autograd to round-off, see the tests)."""
        c = self.config
        with torch.no_grad():
            psi = model.temporal()  # (R, P)
            lm = model.spatial_basis().reshape(model.rank, -1)  # (R, n²)
            pre = psi.T @ lm  # (P, n²)
            fp = pre.clamp(min=0) if c.nonneg else pre
            fpi = fp.reshape(op.ishape)
            r = op(fpi.to(g.dtype) if g.is_complex() else fpi) - g  # (op may return a view)
            w = self._weight(op)
            data = w * float(
                (r.real.pow(2).sum() + r.imag.pow(2).sum()) if r.is_complex() else r.pow(2).sum()
            )
            back = op.H(r)
            if back.is_complex():
                grad = (2 * w) * back.real.reshape(fp.shape)
            else:
                grad = back.reshape(fp.shape).mul_(2 * w)
            if target is not None:  # in place: G += β (f_psm - target)
                grad.add_(fp, alpha=c.beta).sub_(target.reshape(fp.shape), alpha=c.beta)
            if c.nonneg:
                grad.mul_(pre >= 0)  # relu derivative (torch.clamp convention at 0)
            model.spatial.grad = (psi @ grad).reshape(model.spatial.shape) * model.mask
            model.spatial.grad += (2 * c.chi) * model.spatial
            model.z.grad = (lm @ grad.T + (2 * c.xi) * psi) @ model.bmat
        return data

    def fit_psm(self, g, op: Linop, steps: int, lr: float, model: PSM | None = None) -> PSM:
        """Projection-domain PSM fit (no RED): ``steps`` Adam steps on data fit + penalties."""
        g = check_sinogram(g, op)
        model = model or self.build_model(op, g.device)
        g = _to_solver_dtype(g, model.spatial.dtype)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            self.psm_grad(model, op, g)
            opt.step()
        return model

    def build_model(self, op: Linop, device) -> PSM:
        c = self.config
        p, n = op.ishape[0], op.ishape[1]
        return PSM(
            p,
            n,
            c.rank,
            c.knots,
            use_fov_mask=c.use_fov_mask,
            seed=c.seed,
            dtype=getattr(torch, c.dtype),
            device=device,
        )

    def reconstruct(self, g, op: Linop, x_true: torch.Tensor | None = None) -> REDPSMResult:
        """Run ADMM on measurements ``g`` (``op.oshape``); returns the final iterate."""
        c = self.config
        g = check_sinogram(g, op)
        g = _to_solver_dtype(g, getattr(torch, c.dtype))
        if x_true is not None:
            x_true = _check_x_true(x_true, op)
        t0 = time.perf_counter()
        model = self.build_model(op, g.device)
        if c.init_iters > 0:
            self.fit_psm(g, op, c.init_iters, c.init_lr, model)
        with torch.no_grad():
            fp = model()
            f = torch.zeros_like(fp)
            gam = torch.zeros_like(fp)
        opt = torch.optim.Adam(model.parameters(), lr=c.lr)
        hist: dict = {"data": [], "split": [], "time": []}
        if x_true is not None:
            from sciml.imaging.metrics import psnr

            hist["psnr_psm"], hist["psnr_f"] = [], []
        for _ in range(c.outer_iters):
            target = f - gam  # β/2 ||f_psm - f + γ||²
            for _ in range(c.inner_iters):  # 1. PSM step (closed-form gradient, Adam)
                self.psm_grad(model, op, g, target)
                opt.step()
            with torch.no_grad():
                fp, data, _ = self._loss_parts(model, op, g)
                f = red_step(f, fp + gam, self.denoiser, c.lam, c.beta)  # 2. RED step
                gam = gam + fp - f  # 3. dual step
                hist["data"].append(float(data))
                hist["split"].append(float((fp - f).norm() / fp.norm().clamp(min=1e-300)))
                hist["time"].append(time.perf_counter() - t0)
                if x_true is not None:
                    hist["psnr_psm"].append(psnr(fp, x_true.to(fp)))
                    hist["psnr_f"].append(psnr(f, x_true.to(f)))
        with torch.no_grad():
            fp = model()
            if c.nonneg:
                fp = fp.clamp(min=0)
            return REDPSMResult(
                x=fp.detach(),
                f=f.detach(),
                spatial=model.spatial_basis().detach(),
                temporal=model.temporal().detach(),
                z=model.z.detach().clone(),
                history=hist,
                seconds=time.perf_counter() - t0,
            )


def psm_only(g, op: Linop, config: REDPSMConfig | None = None, steps: int | None = None):
    """Baseline: PSM alone (no RED), fitted to the measurements by Adam.

    ``steps`` (total Adam steps) defaults to ``init_iters + outer_iters · inner_iters`` (the
    same number of Adam steps RED-PSM takes); the first ``min(steps, init_iters)`` use
    ``init_lr``, the rest ``lr``. Returns ``(x (P, n, n), seconds)``.
    """
    c = config or REDPSMConfig()
    steps = c.init_iters + c.outer_iters * c.inner_iters if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be None or an int >= 0, got {steps!r}")
    steps = int(steps)
    t0 = time.perf_counter()
    solver = REDPSM(c)
    g = _to_solver_dtype(check_sinogram(g, op), getattr(torch, c.dtype))
    model = solver.build_model(op, g.device)
    n_init = min(c.init_iters, steps)
    solver.fit_psm(g, op, n_init, c.init_lr, model)
    solver.fit_psm(g, op, steps - n_init, c.lr, model)
    with torch.no_grad():
        x = model()
        x = x.clamp(min=0) if c.nonneg else x
    return x.detach(), time.perf_counter() - t0
