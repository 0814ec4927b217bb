import math

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from sciml.ssm import HiPPOProjection, hippo_matrices, hippo_nplr, hippo_rank_correction


def _legs_entry(n, k):
    if n > k:
        return -math.sqrt(2 * n + 1) * math.sqrt(2 * k + 1)
    return -(n + 1.0) if n == k else 0.0


def _legt_entry(n, k):
    s = (-1.0) ** (n - k) if n < k else 1.0
    return -0.5 * math.sqrt(2 * n + 1) * math.sqrt(2 * k + 1) * s


@pytest.mark.parametrize("N", [1, 5, 16])
def test_legs_legt_closed_forms(N):
    A, B = hippo_matrices("legs", N)
    ref = np.array([[_legs_entry(n, k) for k in range(N)] for n in range(N)])
    np.testing.assert_allclose(A.numpy(), ref, rtol=1e-14, atol=0)
    np.testing.assert_allclose(B.numpy(), np.sqrt(2 * np.arange(N) + 1), rtol=1e-14)
    A, B = hippo_matrices("legt", N)
    ref = np.array([[_legt_entry(n, k) for k in range(N)] for n in range(N)])
    np.testing.assert_allclose(A.numpy(), ref, rtol=1e-14, atol=0)
    np.testing.assert_allclose(B.numpy(), 0.5 * np.sqrt(2 * np.arange(N) + 1), rtol=1e-14)


def test_fout_closed_form_spectrum():
    N = 12
    A, B = hippo_matrices("fout", N)
    np.testing.assert_allclose(B.numpy(), [1, 0] + [math.sqrt(2), 0] * 5)
    S = (A + torch.outer(B, B)).numpy()
    np.testing.assert_allclose(S, -S.T, atol=1e-14)  # rotation generator
    ev = np.sort(np.abs(np.linalg.eigvals(S).imag))
    expected = np.sort(np.concatenate([[0, 0], np.repeat(math.pi * np.arange(1, N // 2), 2)]))
    np.testing.assert_allclose(ev, expected, atol=1e-12)


@pytest.mark.parametrize("measure", ["legs", "legt", "fout"])
def test_nplr_reconstructs_and_normal(measure):
    N = 64
    A, B = hippo_matrices(measure, N)
    P = hippo_rank_correction(measure, N)
    AP = A + P.T @ P
    np.testing.assert_allclose((AP @ AP.T).numpy(), (AP.T @ AP).numpy(), atol=1e-9 * N * N)
    if measure == "legs":
        np.testing.assert_allclose((AP + AP.T).numpy(), -np.eye(N), atol=1e-12)
    Lam, Pt, Bt, V = hippo_nplr(measure, N)
    eye = torch.eye(N, dtype=V.dtype)
    assert torch.allclose(V.conj().T @ V, eye, atol=1e-10)
    rebuilt = V @ (torch.diag(Lam) - Pt.T @ Pt.conj()) @ V.conj().T
    assert torch.allclose(rebuilt, A.to(V.dtype), atol=1e-9 * N)
    assert torch.allclose(V @ Bt, B.to(V.dtype), atol=1e-10 * N)
    assert (Lam.imag[: N // 2] <= 1e-9).all()


def _smooth(t):
    return np.sin(5 * t) + 0.5 * np.cos(11 * t) * t


def test_legs_projection_reconstructs_history_error_falls_with_N():
    L = 2000
    t = np.arange(1, L + 1) / L
    u = torch.as_tensor(_smooth(t))
    s = torch.linspace(0.05, 1.0, 200, dtype=torch.float64)
    errs = []
    for N in (4, 8, 16):
        proj = HiPPOProjection(N, "legs")
        c = proj(u)[-1]
        rec = proj.reconstruct(c, s)
        errs.append(float(torch.sqrt(((rec - torch.as_tensor(_smooth(s.numpy()))) ** 2).mean())))
    assert all(e2 < 0.5 * e1 for e1, e2 in zip(errs, errs[1:])), errs
    assert errs[-1] < 2e-3


def _ode_gap(L):
    dt = 1.0 / L
    f = lambda t: math.sin(4 * t) + t  # noqa: E731
    proj = HiPPOProjection(8, "legt", dt=dt, theta=0.3)
    u = torch.tensor([f((k + 1) * dt) for k in range(L)], dtype=torch.float64)
    c_disc = proj(u)[-1].numpy()
    sol = solve_ivp(
        lambda t, c: proj.derivative(t, torch.as_tensor(c), torch.tensor(f(t))).numpy(),
        (dt, 1.0),
        proj(u[:1])[0].numpy(),
        rtol=1e-10,
        atol=1e-12,
    )
    return np.abs(c_disc - sol.y[:, -1]).max()


def test_discrete_projection_converges_to_continuous_ode():
    e1, e2 = _ode_gap(200), _ode_gap(400)
    assert e1 < 1e-2
    assert 1.7 < e1 / e2 < 2.3  # first order in dt (the input is sampled at step ends)


def test_bad_inputs():
    with pytest.raises(ValueError, match="measure"):
        hippo_matrices("legx", 4)
    with pytest.raises(ValueError, match="N"):
        hippo_matrices("legs", 0)
    # LegT / FouT reconstruct their window since session 16; a wrong coefficient count is an error
    with pytest.raises(ValueError, match="reconstruct"):
        HiPPOProjection(4, "legt").reconstruct(torch.zeros(3), torch.zeros(3))
