"""Proximal maps and projections (SigPy-style ``prox`` layer), batched and complex-aware.

Conventions: ``prox_{t f}(v) = argmin_x  t f(x) + ½||x - v||²``. Conjugates follow from the
Moreau identity ``v = prox_{t f}(v) + t prox_{f*/t}(v / t)``: the conjugate of ``λ||·||₁`` is the
indicator of the ℓ∞ ball of radius λ, of ``λ||·||_{2,1}`` the indicator of per-group ℓ2 balls,
of ``λ||·||_*`` the indicator of the spectral-norm ball of radius λ.

Low-rank shortcut: singular value decompositions of a tall ``m x n`` matrix (``m >= 2n``, e.g.
the Casorati matrix pixels x frames) go through a thin QR ``X = QR`` and the SVD of the small
``n x n`` factor ``R`` (cost ``O(m n²)``, no squaring of the condition number); wide matrices
are handled by transposition. Both are exact up to round-off.
"""

from __future__ import annotations

import torch

from ._vec import cabs, tnorm


def _check_nonneg(value, name: str) -> None:
    if isinstance(value, torch.Tensor):
        if not bool(torch.all(value >= 0)):
            raise ValueError(f"{name} must be >= 0, got a tensor with negative entries")
    elif not value >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")


def _check_x(x, name: str = "x") -> None:
    """A floating or complex tensor (integer input would fail deep inside ``finfo`` / SVDs)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not (x.is_floating_point() or x.is_complex()):
        raise TypeError(f"{name} must be a floating or complex tensor, got dtype {x.dtype}")


def soft_threshold(x: torch.Tensor, thresh: float | torch.Tensor) -> torch.Tensor:
    """Prox of ``thresh * ||·||₁`` (elementwise; complex entries shrink in modulus)."""
    _check_x(x)
    _check_nonneg(thresh, "thresh")
    mag = cabs(x)
    scale = torch.clamp(1.0 - thresh / torch.clamp(mag, min=torch.finfo(mag.dtype).tiny), min=0.0)
    return x * scale


def group_soft_threshold(x: torch.Tensor, thresh: float, dim: int | tuple = 0) -> torch.Tensor:
    """Prox of ``thresh * Σ_g ||x_g||₂`` with groups along ``dim`` (isotropic-TV shrinkage)."""
    _check_x(x)
    _check_nonneg(thresh, "thresh")
    nrm = tnorm(x, dim=dim, keepdim=True)
    return x * torch.clamp(1.0 - thresh / torch.clamp(nrm, min=torch.finfo(nrm.dtype).tiny), 0.0)


def project_linf_ball(x: torch.Tensor, radius: float | torch.Tensor) -> torch.Tensor:
    """Projection onto ``{z : |z_i| <= radius}`` (complex: radial clipping of each entry)."""
    _check_x(x)
    _check_nonneg(radius, "radius")
    if not isinstance(radius, torch.Tensor) and radius == 0:
        return torch.zeros_like(x)
    # x * min(1, r/|x|): finite for r = 0 and/or x = 0 (x / max(1, |x|/r) gives 0/0 there)
    mag = cabs(x)
    return x * torch.clamp(radius / torch.clamp(mag, min=torch.finfo(mag.dtype).tiny), max=1.0)


def project_l2_ball(x: torch.Tensor, radius: float, dim: int | tuple | None = None) -> torch.Tensor:
    """Projection onto ``{z : ||z_g||₂ <= radius}``, groups along ``dim`` (``None``: whole tensor)."""
    _check_x(x)
    _check_nonneg(radius, "radius")
    nrm = tnorm(x, dim=dim, keepdim=dim is not None)
    if radius == 0:
        return torch.zeros_like(x)
    return x / torch.clamp(nrm / radius, min=1.0)


def svd(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Thin SVD ``x = U diag(s) Vh`` of a batch ``(..., m, n)``, with the QR shortcut for tall
    (``m >= 2n``) and wide (``n >= 2m``) matrices. Returns ``U (..., m, k), s (..., k),
    Vh (..., k, n)`` with ``k = min(m, n)``."""
    if x.dim() < 2:
        raise ValueError(f"svd: x must have shape (..., m, n), got {tuple(x.shape)}")
    m, n = x.shape[-2:]
    if m >= 2 * n:
        q, r = torch.linalg.qr(x, mode="reduced")
        ur, s, vh = torch.linalg.svd(r, full_matrices=False)
        return q @ ur, s, vh
    if n >= 2 * m:
        u, s, vh = svd(x.mH)
        return vh.mH, s, u.mH
    return torch.linalg.svd(x, full_matrices=False)


def _gram_weighted(x: torch.Tensor, weight) -> torch.Tensor:
    """``x V diag(w(s)) Vᴴ`` (or ``U diag(w(s)) Uᴴ x`` for wide ``x``) from the eigen-decomposition
    of the small Gram matrix; ``w`` maps singular values ``s`` (``(..., k)``) to weights."""
    m, n = x.shape[-2:]
    wide = n > m
    g = x @ x.mH if wide else x.mH @ x
    ev, v = torch.linalg.eigh(g)
    s = torch.clamp(ev, min=0.0).sqrt()
    w = weight(s).to(v.dtype)
    proj = (v * w[..., None, :]) @ v.mH
    return proj @ x if wide else x @ proj


def _check_method(method: str) -> None:
    if method not in ("gram", "svd"):
        raise ValueError(f"method must be 'gram' or 'svd', got {method!r}")


def svt(x: torch.Tensor, thresh: float | torch.Tensor, method: str = "svd") -> torch.Tensor:
    """Singular value thresholding: prox of ``thresh * ||·||_*`` on a batch ``(..., m, n)``.

    ``thresh`` may be a tensor broadcasting against the batch shape ``(...)``. ``method="svd"``:
    thin SVD (QR shortcut for tall/wide); ``"gram"``: eigen-decomposition of the ``k x k`` Gram
    matrix, ``k = min(m, n)`` (faster; singular values below ``sqrt(eps) * s_max`` lose relative
    accuracy, harmless here because they are thresholded to zero unless ``thresh`` is tiny).
    """
    _check_x(x)
    _check_nonneg(thresh, "thresh")
    _check_method(method)
    if isinstance(thresh, torch.Tensor):
        thresh = thresh[..., None]
    if method == "gram":
        tiny = torch.finfo(x.real.dtype).tiny
        return _gram_weighted(x, lambda s: torch.clamp(1.0 - thresh / s.clamp_min(tiny), min=0.0))
    u, s, vh = svd(x)
    s_new = torch.clamp(s - thresh, min=0.0)
    return (u * s_new[..., None, :].to(u.dtype)) @ vh


def project_spectral_ball(
    x: torch.Tensor, radius: float | torch.Tensor, method: str = "svd"
) -> torch.Tensor:
    """Projection onto ``{Z : ||Z||₂ <= radius}`` (singular values clipped at ``radius``) on a
    batch ``(..., m, n)``, computed as ``x - U (s - radius)₊ Vᴴ`` so that only the excess is
    rebuilt. ``radius`` may be a tensor broadcasting against the batch shape ``(...)`` (as the
    threshold of :func:`svt`, so that the Moreau identity holds per matrix). ``method`` as in
    :func:`svt`."""
    _check_x(x)
    _check_nonneg(radius, "radius")
    _check_method(method)
    if isinstance(radius, torch.Tensor):
        radius = radius[..., None]
    if method == "gram":
        tiny = torch.finfo(x.real.dtype).tiny
        return x - _gram_weighted(
            x, lambda s: torch.clamp(1.0 - radius / s.clamp_min(tiny), min=0.0)
        )
    u, s, vh = svd(x)
    excess = torch.clamp(s - radius, min=0.0)
    return x - (u * excess[..., None, :].to(u.dtype)) @ vh


def nuclear_norm(x: torch.Tensor, method: str = "svd") -> torch.Tensor:
    """Sum of singular values of a batch ``(..., m, n)`` (``method="gram"``: from the
    eigenvalues of the small Gram matrix, faster, absolute error ``~ sqrt(eps) * s_max``)."""
    _check_x(x)
    _check_method(method)
    if method == "gram":
        m, n = x.shape[-2:]
        g = x @ x.mH if n > m else x.mH @ x
        return torch.clamp(torch.linalg.eigvalsh(g), min=0.0).sqrt().sum(dim=-1)
    return torch.linalg.svdvals(x).sum(dim=-1)


def prox_sq_l2_conj(v: torch.Tensor, sigma: float, y: torch.Tensor) -> torch.Tensor:
    """Prox of ``sigma * f*`` for the data term ``f(z) = ½||z - y||²``: ``(v - sigma y) / (1 + sigma)``."""
    return (v - sigma * y) / (1.0 + sigma)
