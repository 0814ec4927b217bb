import numpy as np
import pytest
import torch

from sciml.linalg import DCDMLoss, build_poisson, dcdm_loss, random_obstacles


@pytest.fixture(scope="module")
def system():
    return build_poisson(random_obstacles((10, 12), 2, seed=5))


def test_loss_zero_for_exact_inverse_and_closed_form(system):
    s = system
    A = s.A.toarray()
    rng = np.random.default_rng(0)
    b = rng.standard_normal((3, s.n))
    q_exact = np.linalg.solve(A, b.T).T * np.array([[1.0], [-2.5], [1e3]])  # any scale
    t = torch.from_numpy
    At = t(A)
    loss0 = dcdm_loss(t(q_exact), t(b), t(q_exact) @ At.T)
    assert abs(loss0.item()) < 1e-20 * (b * b).sum(1).mean()
    q = rng.standard_normal((3, s.n))
    Aq = q @ A.T
    c = (q * b).sum(1) / (q * Aq).sum(1)
    closed = np.mean((b * b).sum(1) - 2 * c * (b * Aq).sum(1) + c**2 * (Aq * Aq).sum(1))
    got = dcdm_loss(t(q), t(b), t(Aq)).item()
    assert np.isclose(got, closed, rtol=1e-12)
    # scale invariance in q
    assert np.isclose(dcdm_loss(t(7 * q), t(b), t(7 * Aq)).item(), got, rtol=1e-12)


def test_module_loss_on_grids_matches_dense(system):
    s = system
    rng = np.random.default_rng(1)
    b = rng.standard_normal((2, s.n))
    q = rng.standard_normal((2, s.n))
    ref = dcdm_loss(torch.from_numpy(q), torch.from_numpy(b), torch.from_numpy(q @ s.A.T.toarray()))
    qg = torch.from_numpy(s.to_grid(q))[:, None]
    qg = qg + torch.from_numpy(~s.fluid)[None, None] * 5.0  # junk outside fluid is masked away
    bg = torch.from_numpy(s.to_grid(b))[:, None]
    got = DCDMLoss(s.stencil())(qg, bg)
    assert torch.isclose(got, ref, rtol=1e-12)


def test_loss_shape_error():
    with pytest.raises(ValueError, match="equal shapes"):
        dcdm_loss(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2, 3))


@pytest.mark.parametrize("shape", [(9, 7), (6, 7, 5)])
def test_per_sample_operator_equals_assembled_matrices(shape):
    """apply_cells (mixed-layout training) = each layout's scipy CSR matrix, zero off fluid."""
    from sciml.linalg.loss import apply_cells
    from sciml.linalg.scenes import box_mask

    masks = [random_obstacles(shape, 2, seed=s) for s in range(3)] + [box_mask(shape, ((0, 0),))]
    masks[0][0, 0] = 2  # an air cell in a corner
    cells = torch.as_tensor(np.stack(masks)[:, None])
    u = torch.as_tensor(np.random.default_rng(1).standard_normal(cells.shape))
    y = apply_cells(u, cells)
    for i, m in enumerate(masks):
        s = build_poisson(m)
        got = y[i, 0].numpy().ravel()
        np.testing.assert_allclose(got[s.index], s.A @ u[i, 0].numpy().ravel()[s.index], atol=1e-12)
        assert np.all(np.delete(got, s.index) == 0)
    # the loss module with (b, cells) targets equals the per-sample dense formula
    b = u * (cells == 0)
    q = torch.flip(u, dims=[-1])
    got = DCDMLoss()(q, (b, cells)).item()
    ref = []
    for i, m in enumerate(masks):
        s = build_poisson(m)
        qi, bi = q[i, 0].numpy().ravel()[s.index], b[i, 0].numpy().ravel()[s.index]
        Aq = s.A @ qi
        ref.append(np.sum((bi - (qi @ bi) / (qi @ Aq) * Aq) ** 2))
    assert np.isclose(got, np.mean(ref), rtol=1e-10)
    with pytest.raises(ValueError, match="target"):
        DCDMLoss()(q, b)


def test_fluid_cells_without_open_neighbours_stay_unknowns_in_the_loss():
    """A fluid cell walled in on every face is still an unknown (zero row of A): the stencil's
    fluid indicator and the grid loss keep it, as the dense formula with build_poisson's A."""
    from sciml.linalg import AIR, FLUID, SOLID

    m = np.full((7, 7), SOLID, dtype=np.int8)
    m[1, 1] = m[2, 2] = m[4, 5] = FLUID  # walled-in single cells (diagonal contacts only)
    m[1:3, 4:6] = FLUID
    m[0, 6] = AIR  # touches the room at a corner only: no coupling
    m[4:6, 1:4] = FLUID
    m[6, 2] = AIR
    s = build_poisson(m)
    op = s.stencil()
    np.testing.assert_array_equal(op.fluid.numpy(), m == FLUID)
    rng = np.random.default_rng(0)
    b, q = rng.standard_normal((2, 1, s.n))
    ref = dcdm_loss(*(torch.from_numpy(v) for v in (q, b, q @ s.A.T.toarray())))
    got = DCDMLoss(op)(
        torch.from_numpy(s.to_grid(q))[:, None], torch.from_numpy(s.to_grid(b))[:, None]
    )
    assert torch.isclose(got, ref, rtol=1e-12)
