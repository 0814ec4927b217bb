"""Review pass 3: right-hand sides / initial guesses the solvers accepted wrongly or rejected
wrongly, checked against a sparse direct solve."""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
import torch

from sciml.linalg import box_mask, build_poisson, cg, dcdm_solve, solve_dst


@pytest.fixture(scope="module")
def system():
    return build_poisson(box_mask((9, 7), air_faces=((1, 1),)))


def _identity(g):
    return g


@pytest.mark.parametrize("solver", ["cg", "dcdm"])
@pytest.mark.parametrize("arg", ["b", "x0"])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_complex_vectors_are_rejected_by_name(system, solver, arg, kind):
    # was: the imaginary part was dropped with only torch's casting warning (silently wrong x)
    rng = np.random.default_rng(0)
    b = rng.standard_normal(system.n)
    z = b + 1j * rng.standard_normal(system.n)
    z = torch.from_numpy(z) if kind == "torch" else z
    kwargs = {"b": b, "x0": None, arg: z}
    with pytest.raises(TypeError, match=arg):
        if solver == "cg":
            cg(system, kwargs["b"], x0=kwargs["x0"])
        else:
            dcdm_solve(system, kwargs["b"], _identity, x0=kwargs["x0"])


@pytest.mark.parametrize("solver", ["cg", "dcdm"])
@pytest.mark.parametrize("layout", ["reversed", "big-endian"])
def test_reversed_and_big_endian_numpy_vectors_are_solved(system, solver, layout):
    # was: torch.from_numpy refused negative strides / non-native byte order (torch's own error)
    rng = np.random.default_rng(1)
    b = rng.standard_normal(system.n)
    x_ref = spla.spsolve(system.A.tocsc(), b)
    if layout == "reversed":
        bb = np.ascontiguousarray(b[::-1])[::-1]
        x0 = np.zeros(system.n)[::-1]
    else:
        bb = b.astype(">f8")
        x0 = np.zeros(system.n, dtype=">f8")
    assert np.array_equal(bb, b)
    if solver == "cg":
        res = cg(system, bb, tol=1e-12, maxiter=500, x0=x0)
    else:
        res = dcdm_solve(system, bb, _identity, tol=1e-12, maxiter=500, x0=x0)
    assert res.converged
    np.testing.assert_allclose(res.x.numpy(), x_ref, rtol=0, atol=1e-9 * np.abs(x_ref).max())


def test_pcg_with_a_non_finite_operator_raises_instead_of_running_to_maxiter(system):
    # was: NaN passed the breakdown test (NaN <= 0 is False) and CG ran all maxiter iterations
    calls = []

    def bad(v):
        calls.append(1)
        out = torch.as_tensor(system.A @ v.numpy())
        if len(calls) >= 3:
            out[0] = float("nan")
        return out

    b = np.random.default_rng(2).standard_normal(system.n)
    with pytest.raises(FloatingPointError, match="non-finite"):
        cg(bad, b, tol=1e-14, maxiter=1000)
    assert len(calls) == 3


def test_solve_dst_of_a_zero_right_hand_side_reports_a_zero_residual():
    # was: 0/0 = NaN in the residual history of the exact solution u = 0
    dirichlet = build_poisson(box_mask((6, 5)), boundary="air")
    res = solve_dst(dirichlet, np.zeros(dirichlet.n))
    assert not res.x.any()
    assert res.residuals == [1.0, 0.0]


@pytest.mark.parametrize("spacing", [(1.0, 1e-5), (1e-5, 1.0), (1.0, 1.0)])
def test_coarse_space_keeps_a_weak_dirichlet_face_under_strong_anisotropy(spacing):
    # was: rows summing to 1e-10 of the component's largest diagonal counted as zero, so with
    # spacing (1, 1e-5) and the air face across the weak axis a dof of the non-singular E was
    # pinned and the coarse correction was 17 % off the dense one
    from sciml.linalg.coarse import CoarseSpace

    s = build_poisson(box_mask((12, 10), air_faces=[(0, 0)]), spacing=spacing)
    cs = CoarseSpace(s, s.shape, s.index, block=4)
    assert cs.pinned == []
    Z = np.zeros((cs.agg.size, cs.m))
    Z[np.arange(cs.agg.size), cs.agg] = 1.0
    r = np.random.default_rng(3).standard_normal(s.n)
    ref = Z @ np.linalg.solve(Z.T @ s.A.toarray() @ Z, Z.T @ r)
    got = cs.correction(torch.from_numpy(r)).numpy()
    # cond(E) ≈ 2e11 at spacing (1, 1e-5): both solves agree to ≈ cond · eps ≈ 4e-5
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4 * np.abs(ref).max())
    # the same anisotropic box without an air face is singular: exactly one pinned dof
    s0 = build_poisson(box_mask((12, 10)), spacing=spacing)
    assert len(CoarseSpace(s0, s0.shape, s0.index, block=4).pinned) == 1
