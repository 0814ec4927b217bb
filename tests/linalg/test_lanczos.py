import numpy as np
import pytest
import scipy.sparse.linalg as spla

from sciml.linalg import box_mask, build_poisson, lanczos, random_obstacles
from sciml.linalg.ritz import ritz_rhs, ritz_vectors


def test_full_lanczos_recovers_spectrum():
    s = build_poisson(random_obstacles((10, 9), 2, seed=0))
    theta, Z = lanczos(s, s.n, seed=1)
    np.testing.assert_allclose(theta, np.linalg.eigvalsh(s.A.toarray()), atol=1e-10)
    np.testing.assert_allclose(Z.T @ Z, np.eye(s.n), atol=1e-10)
    np.testing.assert_allclose(s.A @ Z, Z * theta, atol=1e-8)


def test_extreme_ritz_values_match_eigsh():
    s = build_poisson(random_obstacles((20, 20), 3, seed=1))
    theta, Z = lanczos(s, 120, seed=0)
    top = spla.eigsh(s.A, 4, which="LA")[0]
    low = spla.eigsh(s.A, 3, sigma=0, which="LM")[0]
    np.testing.assert_allclose(theta[-4:], np.sort(top), rtol=1e-8)
    np.testing.assert_allclose(theta[:3], np.sort(low), rtol=1e-6)
    # Ritz vectors of converged pairs are eigenvectors
    assert np.linalg.norm(s.A @ Z[:, -1] - theta[-1] * Z[:, -1]) < 1e-6


def test_neumann_nullspace_dropped():
    s = build_poisson(box_mask((8, 7)))  # closed box, singular
    theta, Z = ritz_vectors(s, s.n - 1)
    ev = np.linalg.eigvalsh(s.A.toarray())
    assert theta.min() > 1e-8 and abs(ev[0]) < 1e-10
    # every Ritz value is an eigenvalue of A (Lanczos stops at the invariant subspace)
    assert np.abs(theta[:, None] - ev[None, 1:]).min(1).max() < 1e-10
    np.testing.assert_allclose(s.A @ Z, Z * theta, atol=1e-8)
    np.testing.assert_allclose(Z.sum(0), 0, atol=1e-9)  # orthogonal to constants


def test_ritz_rhs_weighting():
    s = build_poisson(random_obstacles((12, 12), 2, seed=2))
    theta, Z = ritz_vectors(s, 60)
    B = ritz_rhs(Z, 4000, seed=0, margin=0)
    np.testing.assert_allclose(np.linalg.norm(B, axis=1), 1.0)
    c = B @ Z  # coefficients (normalised), low half was scaled by 9 → energy ratio 81
    ratio = (c[:, :30] ** 2).mean() / (c[:, 30:] ** 2).mean()
    assert 70 < ratio < 93


@pytest.mark.parametrize("scale", [1e-13, 1e-11, 1e-6, 1e3])
def test_lanczos_is_scale_covariant(scale):
    """Lanczos on c·A gives c × the Ritz pairs of A (full run: c × the spectrum, dense eigvalsh).
    The invariant-subspace test compared β with an absolute floor 1e-12·max(1, |α|): for
    ‖A‖ ~ 1e-11 the run stopped after 28 of 30 steps, for ‖A‖ ~ 1e-13 after one step."""
    s = build_poisson(box_mask((6, 6), air_faces=((1, 1),)))
    A = scale * s.A
    theta, Z = lanczos(A, s.n, seed=0)
    ev = np.linalg.eigvalsh(A.toarray())
    assert theta.shape == (s.n,)
    np.testing.assert_allclose(theta, ev, rtol=0, atol=1e-12 * ev.max())
    np.testing.assert_allclose(Z.T @ Z, np.eye(s.n), atol=1e-10)
    np.testing.assert_allclose(A @ Z, Z * theta, atol=1e-9 * ev.max())
