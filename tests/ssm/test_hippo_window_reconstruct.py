"""LegT / FouT reconstruction of the last window: exact for the basis' own span (coefficients by
quadrature), and from the online projection of a smooth signal with error falling in N."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from sciml.ssm import HiPPOProjection, fourier_reconstruct

from .test_review_pass2 import _fourier, _legendre, _online, _signal, _window_coefficients


def _coefficients(basis, f, N: int) -> np.ndarray:
    """``c_n = ∫_0^1 f(s) g_n(s) ds`` by adaptive quadrature (orthonormal basis on [0, 1])."""
    return np.array([quad(lambda s, n=n: f(s) * basis(n, s), 0, 1, limit=200)[0] for n in range(N)])


def test_legt_reconstruct_is_exact_for_polynomials_of_degree_below_n():
    N = 7
    f = lambda s: 1.0 - 2.0 * s + 3.0 * s**3 - 0.5 * s**6  # noqa: E731  (degree 6 < N)
    c = torch.tensor(_coefficients(_legendre, f, N))
    s = torch.linspace(0, 1, 23, dtype=torch.float64)
    got = HiPPOProjection(N, "legt", theta=0.7).reconstruct(c, s).numpy()
    np.testing.assert_allclose(got, [f(x) for x in s.tolist()], atol=1e-12)


def test_fout_reconstruct_is_exact_for_trigonometric_polynomials_in_its_span():
    N = 9  # constant, then k = 1..4 (index 1 unused)
    f = lambda s: 0.3 + math.cos(2 * math.pi * s) - 0.7 * math.sin(6 * math.pi * s)  # noqa: E731
    c = torch.tensor(_coefficients(_fourier, f, N))
    s = torch.linspace(0, 1, 23, dtype=torch.float64)
    got = HiPPOProjection(N, "fout", theta=0.7).reconstruct(c, s).numpy()
    np.testing.assert_allclose(got, [f(x) for x in s.tolist()], atol=1e-12)
    np.testing.assert_allclose(fourier_reconstruct(c, s).numpy(), got, rtol=0, atol=0)


@pytest.mark.parametrize(
    "measure, sizes, interior", [("legt", (2, 4, 6), 0.0), ("fout", (16, 64), 0.2)]
)
def test_online_window_reconstruction_error_falls_with_n(measure, sizes, interior):
    """The online coefficients of sin(4t) + 0.3 cos(9t) reconstruct its last θ = 0.5; FouT is
    measured away from the window edges, where the periodic basis has its Gibbs jump."""
    theta, t_end = 0.5, 2.0
    s = torch.linspace(interior, 1 - interior, 41, dtype=torch.float64)
    truth = np.array([_signal(t_end - theta + x * theta) for x in s.tolist()])
    errs = []
    for N in sizes:
        c = torch.tensor(_online(N, measure, theta, t_end, steps=4000))
        got = HiPPOProjection(N, measure, theta=theta).reconstruct(c, s).numpy()
        errs.append(float(np.sqrt(np.mean((got - truth) ** 2))))
    assert all(b < 0.5 * a for a, b in zip(errs, errs[1:])), errs


def test_reconstruct_from_quadrature_coefficients_of_the_window_matches_the_signal():
    """Independent of the online ODE: reconstruction from the window's exact LegT coefficients."""
    theta, t_end, N = 0.5, 2.0, 12
    c = torch.tensor(_window_coefficients(_legendre, N, t_end, theta))
    s = torch.linspace(0, 1, 31, dtype=torch.float64)
    got = HiPPOProjection(N, "legt", theta=theta).reconstruct(c, s).numpy()
    truth = [_signal(t_end - theta + x * theta) for x in s.tolist()]
    np.testing.assert_allclose(got, truth, atol=1e-6)


def test_reconstruct_rejects_a_wrong_number_of_coefficients():
    with pytest.raises(ValueError, match="N=5"):
        HiPPOProjection(5, "legt").reconstruct(torch.zeros(4), torch.zeros(3))
