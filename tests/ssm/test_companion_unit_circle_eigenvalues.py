"""Fast companion / shift-plus-low-rank kernels when the state matrix has an eigenvalue on the
unit circle exactly at (or next to) an evaluation point of the twisted transform (λ^L = -1).

Reference: explicit matrix powers in NumPy (float64), independent of ``sciml``.
A pure period-d delay (``a = e_0``: x_t = x_{t-d}, eigenvalues the d-th roots of unity, what
``norm="l1"`` makes of any one-hot ``a``) hits such a point at the ETTh1 lengths (d = 64 and
L = 24, 48, 168, 336, 720); the fast kernel used to return a finite but 30-140 % wrong kernel
there, even in float64.
"""

import numpy as np
import pytest
import torch

from sciml.ssm import (
    ClosedLoopCompanionSSM,
    CompanionConfig,
    CompanionSSM,
    companion_kernel,
    normalize_companion,
    shift_lowrank_kernel,
)


def _np_kernel(A, b, c, L):
    """``K_l = cᵀ Aˡ b`` by explicit powers: ``A (H, d, d)``, ``b, c (H, d)`` -> ``(H, L)``."""
    A, b, c = (np.asarray(t, dtype=np.float64) for t in (A, b, c))
    out = np.empty((A.shape[0], L))
    for h in range(A.shape[0]):
        v = b[h].copy()
        for l in range(L):
            out[h, l] = c[h] @ v
            v = A[h] @ v
    return out


def _np_companion(a):
    a = np.asarray(a, dtype=np.float64)
    d = a.shape[-1]
    A = np.broadcast_to(np.eye(d, k=-1), (*a.shape[:-1], d, d)).copy()
    A[..., :, -1] += a
    return A


def _rel(K, ref):
    return float(np.abs(np.asarray(K, dtype=np.float64) - ref).max() / np.abs(ref).max())


def _one_hot_a(d, delta=0.0, seed=0):
    """Row 0: ``e_0`` (+ delta·noise), l1-normalised; row 1: a generic a (not near-singular)."""
    g = torch.Generator().manual_seed(seed)
    e0 = torch.zeros(d, dtype=torch.float64)
    e0[0] = 1.0
    noise = torch.rand(d, dtype=torch.float64, generator=g)
    generic = torch.randn(d, dtype=torch.float64, generator=g)
    return normalize_companion(torch.stack([e0 + delta * noise, generic]), "l1")


@pytest.mark.parametrize("L", [24, 48, 168, 336, 720, 2, 37])
@pytest.mark.parametrize(
    ("dtype", "tol"), [(torch.float64, 1e-10), (torch.float32, 2e-4)], ids=["f64", "f32"]
)
def test_period_d_delay_kernel_equals_explicit_powers(L, dtype, tol):
    d = 64
    a = _one_hot_a(d)
    ev = np.linalg.eigvals(_np_companion(a[0].numpy()))
    assert np.abs(np.abs(ev) - 1).max() < 1e-12  # all d eigenvalues on the unit circle
    g = torch.Generator().manual_seed(1)
    b = torch.randn(2, d, dtype=torch.float64, generator=g)
    c = torch.randn(2, d, dtype=torch.float64, generator=g)
    ref = _np_kernel(_np_companion(a.numpy()), b.numpy(), c.numpy(), L)
    K = companion_kernel(a.to(dtype), b.to(dtype), c.to(dtype), L)
    assert torch.isfinite(K).all()
    assert _rel(K[0].detach().double(), ref[0]) < tol
    assert _rel(K[1].detach().double(), ref[1]) < tol
    # the squaring path (the public SpaceTime algorithm) agrees
    layer = CompanionSSM(2, CompanionConfig(d_state=d, norm="l1"), seed=0).to(dtype)
    with torch.no_grad():
        layer.a.copy_(a)
        layer.b.copy_(b)
        layer.c.copy_(c)
    assert _rel(layer.kernel(L).detach().double(), ref) < tol


@pytest.mark.parametrize("delta", [1e-12, 1e-9, 1e-7])
def test_near_singular_float32_kernel_stays_accurate(delta):
    """Next to the singular point the float32 error used to grow like eps / delta."""
    d, L = 64, 336
    a = _one_hot_a(d, delta)
    g = torch.Generator().manual_seed(2)
    b = torch.randn(2, d, dtype=torch.float64, generator=g)
    c = torch.randn(2, d, dtype=torch.float64, generator=g)
    ref = _np_kernel(_np_companion(a.numpy()), b.numpy(), c.numpy(), L)
    K = companion_kernel(a.float(), b.float(), c.float(), L).double()
    assert _rel(K, ref) < 2e-4


def test_rank2_closed_loop_with_unit_circle_eigenvalue():
    """Rank-2 path: ``A + b kᵀ`` equal to the period-d cyclic shift (eigenvalues the d-th roots
    of unity) as the closed-loop matrix of the decoder, horizon 168; many inputs (B = I)."""
    d, L = 16, 24  # λ = exp(2πi m/16), m odd: λ^24 = -1
    g = torch.Generator().manual_seed(3)
    a = torch.zeros(1, d, dtype=torch.float64)
    b = torch.zeros(1, d, dtype=torch.float64)
    b[0, 0] = 1.0
    k = torch.zeros(1, d, dtype=torch.float64)
    k[0, -1] = 1.0  # A + b kᵀ = S + e_0 e_{d-1}ᵀ: the cyclic shift
    c = torch.randn(1, d, dtype=torch.float64, generator=g)
    e_d = torch.zeros_like(a)
    e_d[0, -1] = 1.0
    A = _np_companion(a.numpy()) + b.numpy()[..., :, None] * k.numpy()[..., None, :]
    assert np.abs(np.linalg.eigvals(A[0]) ** L + 1).min() < 1e-10  # λ^L = -1 for some λ
    P, Q = torch.stack([a, b], -1), torch.stack([e_d, k], -1)
    B = torch.eye(d, dtype=torch.float64)[None]
    BL = torch.as_tensor(np.linalg.matrix_power(A, L)) @ B
    K = shift_lowrank_kernel(P, Q, B, c[:, None], L, BL)[0, 0]  # (d, L)
    ref = np.stack([_np_kernel(A, np.eye(d)[None, :, i], c.numpy(), L)[0] for i in range(d)])
    assert torch.isfinite(K).all()
    assert _rel(K, ref) < 1e-10


def test_closed_loop_decoder_rolls_out_a_period_d_season():
    """Decoder as a delay line (a = 0, b = c = e_0) with k = e_{d-1}: û_{n+1} = u_{n+1-d}, so the
    closed loop repeats the last d inputs forever (a seasonal-naive forecast); the rollout must
    start with the sample right after the lag. Horizon 24 puts an eigenvalue at a twisted root."""
    d, lag, horizon = 16, 40, 24
    m = ClosedLoopCompanionSSM(1, d, norm="clip", seed=0).double()
    with torch.no_grad():
        m.a.zero_()
        m.b.zero_()[:, 0] = 1.0
        m.c.zero_()[:, 0] = 1.0
        m.k.zero_()[:, -1] = 1.0
    u = np.random.default_rng(0).normal(size=(2, lag, 1))
    out = m(torch.as_tensor(u), horizon)
    season = u[:, lag - d :, 0]  # the last d samples
    ref = np.concatenate([season, season], 1)[:, :horizon]  # y_{lag + j} = u_{lag + j - d}
    assert _rel(out.horizon[..., 0].detach(), ref) < 1e-10


def test_gradients_at_a_singular_point_match_finite_differences():
    """The recomputed (scaled) branch is differentiable: gradcheck in b, c with a = e_0."""
    d, L = 8, 12  # λ = exp(2πi m/8), m odd: λ^12 = -1
    a = _one_hot_a(d)[:1]
    ev = np.linalg.eigvals(_np_companion(a[0].numpy()))
    assert np.abs(ev**L + 1).min() < 1e-12
    g = torch.Generator().manual_seed(4)
    b = torch.randn(1, d, dtype=torch.float64, generator=g, requires_grad=True)
    c = torch.randn(1, d, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradcheck(lambda b, c: companion_kernel(a, b, c, L), (b, c))
    ref = _np_kernel(_np_companion(a.numpy()), b.detach().numpy(), c.detach().numpy(), L)
    assert _rel(companion_kernel(a, b, c, L).detach(), ref) < 1e-12
