"""Kronecker kernels against dense NumPy/SciPy references, across torch, JAX and NumPy."""

from __future__ import annotations

import math
from functools import reduce

import numpy as np
import pytest
import scipy.linalg as sla

from sciml.kernels import (
    KronEigh,
    kron_logdet,
    kron_matvec,
    kron_slogdet,
    kron_solve,
    mode_product,
    multi_mode_product,
)
from tests.helpers.arrays import LIBS, random_array, rel_err, spd, to_lib, to_numpy

TOL = 1e-10
SHAPE_CASES = [
    [(3, 4)],
    [(3, 4), (5, 2)],
    [(1, 3), (4, 1), (2, 2)],
    [(2, 3), (3, 3), (1, 1), (4, 2)],
]
BATCHES = [(), (3,), (2, 1)]


def dense(factors):
    return reduce(np.kron, factors)


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("shapes", SHAPE_CASES)
@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("complex_", [False, True])
def test_kron_matvec_matches_dense(lib, shapes, batch, complex_):
    rng = np.random.default_rng(len(shapes) * 31 + len(batch))
    factors = [random_array(rng, s, complex_) for s in shapes]
    n_in = math.prod(s[1] for s in shapes)
    x = random_array(rng, batch + (n_in,), complex_)
    ref = x @ dense(factors).T
    out = kron_matvec([to_lib(a, lib) for a in factors], to_lib(x, lib), layout="flat")
    assert type(out).__module__.split(".")[0] == type(to_lib(x, lib)).__module__.split(".")[0]
    assert rel_err(out, ref) <= TOL
    grid_in = batch + tuple(s[1] for s in shapes)
    out_grid = kron_matvec(
        [to_lib(a, lib) for a in factors], to_lib(x.reshape(grid_in), lib), layout="grid"
    )
    assert rel_err(out_grid, ref.reshape(batch + tuple(s[0] for s in shapes))) <= TOL


def test_kron_matvec_mixed_real_factor_complex_vector_and_auto_layout():
    rng = np.random.default_rng(0)
    factors = [rng.standard_normal((4, 3)), rng.standard_normal((2, 5))]
    x = random_array(rng, (6, 3, 5), True)
    out = kron_matvec(factors, x)  # auto -> grid
    assert out.shape == (6, 4, 2)
    assert rel_err(out.reshape(6, -1), x.reshape(6, -1) @ dense(factors).T) <= TOL


@pytest.mark.parametrize("lib", LIBS)
def test_mode_products_match_einsum_and_kron(lib):
    rng = np.random.default_rng(1)
    core = rng.standard_normal((2, 3, 4, 5))  # batch 2, ranks (3, 4, 5)
    mats = [rng.standard_normal((6, 3)), rng.standard_normal((2, 4)), rng.standard_normal((7, 5))]
    ref = np.einsum("bijk,ai,cj,dk->bacd", core, *mats)
    out = multi_mode_product(to_lib(core, lib), [to_lib(m, lib) for m in mats])
    assert rel_err(out, ref) <= TOL
    # Tucker identity: vec(core ×_1 A ×_2 B ×_3 C) = (A ⊗ B ⊗ C) vec(core)
    flat = core.reshape(2, -1) @ dense(mats).T
    assert rel_err(to_numpy(out).reshape(2, -1), flat) <= TOL
    one = mode_product(to_lib(core, lib), to_lib(mats[1], lib), -2)
    assert rel_err(one, np.einsum("bijk,cj->bick", core, mats[1])) <= TOL
    partial = multi_mode_product(to_lib(core, lib), [to_lib(mats[2], lib)], modes=[3])
    assert rel_err(partial, np.einsum("bijk,dk->bijd", core, mats[2])) <= TOL


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("kind", ["spd", "general", "hermitian", "complex_general"])
def test_kron_solve_and_logdet_match_dense(lib, kind):
    rng = np.random.default_rng(2)
    sizes = (3, 1, 4)
    if kind == "spd":
        factors = [spd(rng, n) for n in sizes]
    elif kind == "hermitian":
        factors = [spd(rng, n, complex_=True) for n in sizes]
    else:
        cx = kind == "complex_general"
        factors = [random_array(rng, (n, n), cx) + 2 * np.eye(n) for n in sizes]
    b = random_array(rng, (2, 12), kind in ("hermitian", "complex_general"))
    full = dense(factors)
    ref = sla.solve(full, b.T).T
    out = kron_solve([to_lib(a, lib) for a in factors], to_lib(b, lib))
    assert rel_err(out, ref) <= TOL
    sign, logabs = np.linalg.slogdet(full)
    assert (
        abs(float(to_numpy(kron_logdet([to_lib(a, lib) for a in factors]))) - logabs)
        <= 1e-10 * abs(logabs) + 1e-12
    )
    s, _ = kron_slogdet([to_lib(a, lib) for a in factors])
    assert abs(complex(to_numpy(s)) - complex(sign)) <= 1e-10


def test_kron_solve_indefinite_symmetric_falls_back_to_lu():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 4))
    a = a + a.T  # symmetric, indefinite: Cholesky fails, LU must take over
    b = rng.standard_normal(8)
    factors = [a, spd(rng, 2)]
    assert rel_err(kron_solve(factors, b), sla.solve(dense(factors), b)) <= TOL
    with pytest.raises(ValueError, match="not positive definite"):
        kron_solve(factors, b, assume="spd")


@pytest.mark.parametrize("lib", LIBS)
@pytest.mark.parametrize("complex_", [False, True])
def test_kron_eigh_solve_logdet_match_dense(lib, complex_):
    rng = np.random.default_rng(4)
    factors = [spd(rng, n, complex_) - n * np.eye(n) for n in (3, 4, 2)]  # PSD, some tiny eigs
    shift = 0.3
    full = dense(factors) + shift * np.eye(24)
    b = random_array(rng, (3, 24), complex_)
    ke = KronEigh([to_lib(a, lib) for a in factors])
    assert rel_err(ke.solve(to_lib(b, lib), shift), sla.solve(full, b.T).T) <= TOL
    b_grid = b.reshape(3, 3, 4, 2)
    assert (
        rel_err(ke.solve(to_lib(b_grid, lib), shift), sla.solve(full, b.T).T.reshape(3, 3, 4, 2))
        <= TOL
    )
    assert abs(float(to_numpy(ke.logdet(shift))) - np.linalg.slogdet(full)[1]) <= 1e-10 * 30
    assert rel_err(np.sort(to_numpy(ke.eigenvalues)), np.linalg.eigvalsh(dense(factors))) <= TOL


def test_kron_eigh_does_not_clamp_and_checks_symmetry():
    rng = np.random.default_rng(5)
    k = rng.standard_normal((3, 2))
    singular = k @ k.T  # rank 2: one eigenvalue ~0 (may round slightly negative)
    ke = KronEigh([singular, spd(rng, 2)])
    with pytest.raises(ValueError, match="not positive definite"):
        ke.logdet(-1e-3)
    # A tiny positive shift is used exactly (linear_operator would clamp eigenvalues at 1e-7)
    other = spd(np.random.default_rng(5), 2)
    ke = KronEigh([singular, other])
    full = np.kron(singular, other) + 1e-9 * np.eye(6)
    assert abs(ke.logdet(1e-9) - np.linalg.slogdet(full)[1]) <= 1e-6
    with pytest.raises(ValueError, match="not symmetric"):
        KronEigh([rng.standard_normal((3, 3))])


def test_bad_inputs_name_the_argument_and_shapes():
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((2, 2))
    with pytest.raises(ValueError, match=r"x of shape \(5,\) does not fit factors"):
        kron_matvec([a, b], np.ones(5))
    with pytest.raises(ValueError, match="non-empty sequence"):
        kron_matvec([], np.ones(5))
    with pytest.raises(ValueError, match=r"factors\[0\] must be square"):
        kron_solve([a, b], np.ones(8))
    with pytest.raises(ValueError, match="factors\\[1\\] must be 2-D"):
        kron_matvec([a, np.ones(3)], np.ones(12))
    x = np.ones(8)
    x[3] = np.nan
    with pytest.raises(ValueError, match="x contains 1 non-finite"):
        kron_matvec([a, b], x)
    with pytest.raises(ValueError, match="cannot act on axis"):
        mode_product(np.ones((2, 3)), a, 1)
    with pytest.raises(ValueError, match="singular"):
        kron_logdet([np.zeros((2, 2)), np.eye(2)])
    torch = pytest.importorskip("torch")
    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(TypeError, match="mix array libraries"):
        kron_matvec([torch.ones(2, 2)], jnp.ones(2))


def test_torch_gradients_match_finite_differences():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    fac = [
        torch.tensor(rng.standard_normal((3, 2)), requires_grad=True),
        torch.tensor(rng.standard_normal((2, 4)), requires_grad=True),
    ]
    x = torch.tensor(rng.standard_normal((2, 8)), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b, v: kron_matvec([a, b], v), (*fac, x))
    sq = [
        torch.tensor(spd(rng, 3), requires_grad=True),
        torch.tensor(spd(rng, 2), requires_grad=True),
    ]
    rhs = torch.tensor(rng.standard_normal(6), requires_grad=True)

    # Cholesky differentiates w.r.t. symmetric matrices: symmetrise so finite differences stay SPD
    def sym(a):
        return (a + a.T) / 2

    assert torch.autograd.gradcheck(lambda a, b, v: kron_solve([sym(a), sym(b)], v), (*sq, rhs))
    assert torch.autograd.gradcheck(lambda a, b: kron_logdet([sym(a), sym(b)]), tuple(sq))
    general = [
        torch.tensor(rng.standard_normal((3, 3)) + 3 * np.eye(3), requires_grad=True),
        torch.tensor(rng.standard_normal((2, 2)) + 3 * np.eye(2), requires_grad=True),
    ]
    assert torch.autograd.gradcheck(lambda a, b, v: kron_solve([a, b], v), (*general, rhs))
    shift = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)

    def eig_fn(a, b, s, v):
        ke = KronEigh([sym(a), sym(b)])
        return ke.solve(v, s), ke.logdet(s)

    assert torch.autograd.gradcheck(eig_fn, (*sq, shift, rhs))


def test_jax_gradients_match_finite_differences_and_torch():
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    from jax.test_util import check_grads

    rng = np.random.default_rng(8)
    a, b = spd(rng, 3), spd(rng, 4)
    v = rng.standard_normal(12)

    def loss(a, b, v, s):
        a, b = (a + a.T) / 2, (b + b.T) / 2  # Cholesky/eigh differentiate w.r.t. symmetric input
        ke = KronEigh([a, b], check=False)
        y = ke.solve(v, s) + kron_solve([a, b], v, assume="spd") + kron_matvec([a, b], v)
        return jnp.sum(y**2) + ke.logdet(s)

    args = (jnp.asarray(a), jnp.asarray(b), jnp.asarray(v), 0.5)
    check_grads(loss, args, order=1, modes=["rev"], eps=1e-6, atol=1e-6, rtol=1e-6)
    jitted = jax.jit(loss)(*args)
    torch = pytest.importorskip("torch")
    targs = [torch.tensor(t, requires_grad=True) for t in (a, b, v)]
    sa, sb = (targs[0] + targs[0].T) / 2, (targs[1] + targs[1].T) / 2
    ke = KronEigh([sa, sb])
    y = ke.solve(targs[2], 0.5) + kron_solve([sa, sb], targs[2]) + kron_matvec([sa, sb], targs[2])
    tl = (y**2).sum() + ke.logdet(0.5)
    tl.backward()
    assert abs(float(jitted) - float(tl)) <= 1e-10 * abs(float(tl))
    ga = jax.grad(loss)(*args)
    assert rel_err(ga, targs[0].grad) <= 1e-8


@pytest.mark.gpu
def test_kernels_on_cuda_match_cpu():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(9)
    fac = [torch.tensor(spd(rng, n)) for n in (5, 6, 7)]
    x = torch.tensor(rng.standard_normal((4, 210)))
    dev = torch.device("cuda")
    out = kron_matvec([f.to(dev) for f in fac], x.to(dev))
    assert out.device.type == "cuda"
    assert rel_err(out, kron_matvec(fac, x)) <= TOL
    sol = KronEigh([f.to(dev) for f in fac]).solve(x.to(dev), 0.1)
    assert rel_err(sol, KronEigh(fac).solve(x, 0.1)) <= 1e-9
