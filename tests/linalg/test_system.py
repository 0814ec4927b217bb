import numpy as np
import pytest
import torch

from sciml.linalg import AIR, FLUID, SOLID, build_poisson
from sciml.linalg.scenes import add_box, add_sphere, box_mask, random_obstacles, smoke_rhs


def _dense_laplacian(mask, h, boundary):
    """Independent dense assembly by looping over cells (ghost cells hold the outside type)."""
    nd = mask.ndim
    cells = [tuple(c) for c in np.argwhere(mask == FLUID)]
    num = {c: i for i, c in enumerate(cells)}
    A = np.zeros((len(cells), len(cells)))
    for c, i in num.items():
        for ax in range(nd):
            for s in (-1, 1):
                nb = list(c)
                nb[ax] += s
                if 0 <= nb[ax] < mask.shape[ax]:
                    t = mask[tuple(nb)]
                else:
                    t = {"solid": SOLID, "air": AIR}[boundary[ax][0 if s < 0 else 1]]
                if t == SOLID:
                    continue
                A[i, i] += 1 / h[ax] ** 2
                if t == FLUID:
                    A[i, num[tuple(nb)]] -= 1 / h[ax] ** 2
    return A


@pytest.mark.parametrize("dim", [2, 3])
def test_matches_dense_assembly_and_is_spd(dim):
    shape = (9, 7) if dim == 2 else (6, 5, 7)
    mask = random_obstacles(shape, 2, seed=3, radius=(0.15, 0.3))
    mask[(0,) * dim] = AIR
    h = (0.5, 1.0, 2.0)[:dim]
    bnd = [("solid", "air")] + [("solid", "solid")] * (dim - 1)
    s = build_poisson(mask, spacing=h, boundary=bnd)
    A = s.A.toarray()
    np.testing.assert_allclose(A, _dense_laplacian(mask, h, bnd), atol=1e-14)
    np.testing.assert_array_equal(A, A.T)
    ev = np.linalg.eigvalsh(A)
    assert ev.min() > 1e-10  # every component touches air here → definite


@pytest.mark.parametrize("dim", [2, 3])
def test_matrix_free_and_torch_csr_equal_scipy(dim):
    shape = (12, 10) if dim == 2 else (8, 7, 6)
    mask = random_obstacles(shape, 3, seed=1)
    s = build_poisson(mask, spacing=0.3)
    x = np.random.default_rng(0).standard_normal((2, s.n))
    ref = (s.A @ x.T).T
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(s.stencil().matvec(xt).numpy(), ref, atol=1e-12)
    np.testing.assert_allclose((s.torch_csr() @ xt[0]).numpy(), ref[0], atol=1e-12)
    # grid apply is zero on non-fluid cells and agrees with to_grid/to_vec
    g = s.stencil().apply(s.to_grid(xt))
    assert torch.all(g[:, ~torch.from_numpy(s.fluid)] == 0)
    np.testing.assert_allclose(s.to_vec(g).numpy(), ref, atol=1e-12)


def test_neumann_nullspace_and_projection():
    mask = box_mask((8, 9))
    add_box(mask, (0, 4), (8, 5))  # wall splits the box into two closed (all-Neumann) rooms
    mask[0, 8] = AIR  # ... except that the upper room touches air
    s = build_poisson(mask)
    Z = s.nullspace()
    assert Z.shape[1] == 1
    np.testing.assert_allclose(s.A @ Z, 0, atol=1e-13)
    ev = np.linalg.eigvalsh(s.A.toarray())
    assert np.sum(np.abs(ev) < 1e-10) == 1 and ev.min() > -1e-12
    b = np.random.default_rng(0).standard_normal(s.n)
    pb = s.project(b)
    x = np.linalg.lstsq(s.A.toarray(), pb, rcond=None)[0]
    np.testing.assert_allclose(s.A @ x, pb, atol=1e-9)  # projected rhs is consistent


def test_obstacles_and_smoke_rhs():
    mask = box_mask((20, 20), air_faces=((1, 1),))
    add_sphere(mask, (10, 10), 3.0)
    assert (mask == SOLID).sum() == sum(
        (i + 0.5 - 10) ** 2 + (j + 0.5 - 10) ** 2 <= 9 for i in range(20) for j in range(20)
    )
    assert (mask[:, -1] == AIR).all()
    s = build_poisson(mask)
    b = smoke_rhs(s, seed=0)
    assert b.shape == (s.n,) and np.isclose(np.linalg.norm(b), 1.0)
    # divergence of a field with closed solid faces sums to zero over each closed component;
    # here the domain touches air so only finiteness/normalisation is checked, plus determinism
    np.testing.assert_array_equal(b, smoke_rhs(s, seed=0))
    # all-Neumann box: rhs must be compatible (orthogonal to constants) up to round-off
    s2 = build_poisson(box_mask((16, 16)))
    assert abs(smoke_rhs(s2, seed=1).sum()) < 1e-12


def test_bad_input():
    with pytest.raises(ValueError, match="fluid region is empty"):
        build_poisson(np.full((4, 4), SOLID))
    with pytest.raises(ValueError, match="mask"):
        build_poisson(np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="cell types"):
        build_poisson(np.full((3, 3), 7))
    with pytest.raises(TypeError, match="mask"):
        build_poisson(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="spacing"):
        build_poisson(np.zeros((3, 3), dtype=int), spacing=-1.0)
    with pytest.raises(ValueError, match="boundary"):
        build_poisson(np.zeros((3, 3), dtype=int), boundary="wet")
    s = build_poisson(np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match="x: expected last dimension 9"):
        s.to_grid(np.zeros(4))


def test_grid_vector_maps_copy_the_index_to_the_device_once():
    """``to_grid`` / ``to_vec`` on GPU data (``meta`` stands in) move the NumPy index of the
    unknowns to the device once, not on every call; round trip is the identity on CPU."""
    from tests.helpers.devices import device_copies

    mask = np.zeros((6, 5), dtype=np.int8)
    mask[2, 1:3] = SOLID
    s = build_poisson(mask)
    x = torch.arange(2.0 * s.n, dtype=torch.float64).reshape(2, s.n)
    assert torch.equal(s.to_vec(s.to_grid(x)), x)
    xm = torch.zeros(2, s.n, device="meta")
    with device_copies() as log:
        for _ in range(3):
            s.to_vec(s.to_grid(xm))
    assert log == [("cpu", "meta", (s.n,))]
