import pytest
import torch

from sciml.ssm import (
    CompanionConfig,
    CompanionSSM,
    ShiftSSM,
    companion_kernel,
    companion_matrix,
    companion_power_apply,
    normalize_companion,
    shift_kernel,
    shift_lowrank_kernel,
    ssm_kernel_naive,
    ssm_kernel_squaring,
)


def _abc(H, d, seed, scale=0.9):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(H, d, dtype=torch.float64, generator=g)
    a = scale * a / a.abs().sum(-1, keepdim=True)
    b = torch.randn(H, d, dtype=torch.float64, generator=g)
    c = torch.randn(H, d, dtype=torch.float64, generator=g)
    return a, b, c


def _rel(x, y):
    return float((x - y).detach().norm() / y.detach().norm())


def test_companion_matrix_dense():
    a = torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)
    A = torch.tensor([[0, 0, 0.1], [1, 0, 0.2], [0, 1, 0.3]], dtype=torch.float64)
    assert torch.equal(companion_matrix(a), A)


@pytest.mark.parametrize("L", [1024, 1000])
def test_fast_kernel_equals_explicit_powers(L):
    a, b, c = _abc(3, 64, 0)
    K_ref = ssm_kernel_naive(companion_matrix(a), b, c, L)
    assert _rel(companion_kernel(a, b, c, L), K_ref) < 1e-8
    assert _rel(ssm_kernel_squaring(companion_matrix(a), b, c, L), K_ref) < 1e-8


@pytest.mark.parametrize(
    "d,L", [(1, 9), (2, 3), (5, 1), (16, 7), (64, 33), (64, 34), (16, 2), (3, 4), (8, 6)]
)
def test_fast_kernel_edge_sizes(d, L):
    a, b, c = _abc(2, d, 1)
    assert (
        _rel(companion_kernel(a, b, c, L), ssm_kernel_naive(companion_matrix(a), b, c, L)) < 1e-10
    )


def test_unit_root_is_not_singular():
    # a = e_d: eigenvalues are the d-th roots of unity, including λ = 1 (a random walk)
    d, L = 8, 64
    a = torch.zeros(1, d, dtype=torch.float64)
    a[0, -1] = 1.0
    _, b, c = _abc(1, d, 2)
    assert (
        _rel(companion_kernel(a, b, c, L), ssm_kernel_naive(companion_matrix(a), b, c, L)) < 1e-10
    )


@pytest.mark.parametrize("L", [1, 2, 37, 64, 1001])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_eigenvalues_plus_and_minus_one_from_l1_normalisation(L, dtype):
    """`a / ‖a‖₁` puts an eigenvalue at exactly -1 when the signs of a alternate (and at +1 when
    all are positive). Odd L used to evaluate at z = -1 and return NaN (even in float64)."""
    d = 8
    g = torch.Generator().manual_seed(7)
    mag = torch.rand(3, d, dtype=torch.float64, generator=g) + 0.1
    sign = torch.tensor([(-1.0) ** (d - i) for i in range(d)], dtype=torch.float64)
    a = normalize_companion(torch.stack([mag[0] * sign, mag[1], mag[2] * sign]), "l1")
    ev = torch.linalg.eigvals(companion_matrix(a))
    assert float((ev[[0, 2]] + 1).abs().min(-1).values.max()) < 1e-12  # λ = -1 in rows 0, 2
    assert float((ev[1] - 1).abs().min()) < 1e-12  # λ = +1 in row 1
    _, b, c = _abc(3, d, 8)
    ref = ssm_kernel_naive(companion_matrix(a), b, c, L)
    K = companion_kernel(a.to(dtype), b.to(dtype), c.to(dtype), L)
    assert torch.isfinite(K).all()
    assert _rel(K.double(), ref) < (1e-12 if dtype == torch.float64 else 1e-5)
    # rank-2 path (closed-loop decoder form) with the same eigenvalue -1, odd length
    k = torch.zeros_like(a)  # b kᵀ = 0 keeps A, but exercises the rank-2 solve
    e_d = torch.zeros_like(a)
    e_d[:, -1] = 1
    P, Q = torch.stack([a, b], -1), torch.stack([e_d, k], -1)
    B = torch.eye(d, dtype=torch.float64).expand(3, d, d)
    A = companion_matrix(a)
    K2 = shift_lowrank_kernel(P, Q, B, c[:, None], L, torch.linalg.matrix_power(A, L) @ B)
    assert _rel(K2[:, 0, 3], ssm_kernel_naive(A, B[..., 3], c, L)) < 1e-12


@pytest.mark.parametrize("L", [0, 1, 5, 1000])
def test_power_apply_equals_matrix_power(L):
    a, b, _ = _abc(2, 16, 3)
    V = torch.stack([b, 2 * b], dim=-1)
    ref = torch.linalg.matrix_power(companion_matrix(a), L) @ V
    assert torch.allclose(
        companion_power_apply(a, V, L), ref, atol=1e-10 * max(1.0, float(ref.abs().max()))
    )


def test_rank2_shift_lowrank_kernel():
    a, b, c = _abc(2, 12, 4)
    k = 0.1 * torch.randn(2, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    e_d = torch.zeros_like(a)
    e_d[:, -1] = 1
    P, Q = torch.stack([a, b], -1), torch.stack([e_d, k], -1)
    A = companion_matrix(a) + b[..., :, None] * k[..., None, :]
    L = 50
    B = torch.eye(12, dtype=torch.float64).expand(2, 12, 12)
    K = shift_lowrank_kernel(P, Q, B, c[:, None], L, torch.linalg.matrix_power(A, L) @ B)
    for i in (0, 5, 11):
        ref = ssm_kernel_naive(A, B[..., i], c, L)
        assert _rel(K[:, 0, i], ref) < 1e-9


def test_shift_kernel():
    _, b, c = _abc(2, 8, 5)
    ref = ssm_kernel_naive(companion_matrix(torch.zeros_like(b)), b, c, 20)
    assert torch.allclose(shift_kernel(b, c, 20), ref, atol=1e-13)
    assert torch.allclose(shift_kernel(b, c, 5), ref[..., :5], atol=1e-13)


def test_normalisation_keeps_kernel_bounded_for_long_L():
    g = torch.Generator().manual_seed(0)
    d, L = 64, 65536
    a = torch.randn(4, d, dtype=torch.float64, generator=g)
    b, c = torch.randn(2, 4, d, dtype=torch.float64, generator=g)
    for mode in ("l1", "clip"):
        K = companion_kernel(normalize_companion(a, mode), b, c, L)
        assert torch.isfinite(K).all()
        # with ||a||_1 <= 1, K_n = Σ a_i K_{n-d+i} so sup |K| <= max_{n<d} |K_n|
        assert (K.abs().max(-1).values <= K[..., :d].abs().max(-1).values * (1 + 1e-8)).all()
    # without normalisation the same coefficients explode (reference: explicit powers)
    K_raw = ssm_kernel_naive(companion_matrix(a[:1]), b[:1], c[:1], 400)
    assert float(K_raw.abs().max()) > 1e6


def test_fast_kernel_gradients_match_finite_differences():
    a, b, c = _abc(1, 5, 6, scale=0.8)
    args = tuple(t.clone().requires_grad_() for t in (a, b, c))
    for L in (11, 12):  # odd L: real FFT of size 2L; even L: packed complex FFT of size L/2
        assert torch.autograd.gradcheck(
            lambda a, b, c, L=L: companion_kernel(a, b, c, L), args, eps=1e-6, atol=1e-7
        )
    assert torch.autograd.gradcheck(
        lambda a, b, c: companion_kernel(normalize_companion(a, "l1"), b, c, 11),
        args,
        eps=1e-6,
        atol=1e-7,
    )


@pytest.mark.parametrize("cls", [CompanionSSM, ShiftSSM])
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_conv_equals_step(cls, dtype, tol):
    layer = cls(3, CompanionConfig(d_state=16, activation="gelu", output_linear=True), seed=0).to(
        dtype
    )
    u = torch.randn(2, 120, 3, dtype=dtype, generator=torch.Generator().manual_seed(1))
    y_conv = layer(u)
    y_a, state = layer.forward_recurrent(u[:, :50])
    y_b, _ = layer.forward_recurrent(u[:, 50:], state)
    y_step = torch.cat([y_a, y_b], dim=1)
    assert float((y_conv - y_step).detach().abs().max()) < tol * max(
        1.0, float(y_conv.detach().abs().max())
    )


def test_squaring_kernel_method_equals_fast_and_step_mode():
    """``kernel_method="squaring"``: same layer output and gradients as the fast kernel (float64),
    and conv mode still equals step mode (the recurrence does not depend on the kernel method)."""
    u = torch.randn(2, 97, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    outs, grads = [], []
    for method in ("fast", "squaring"):
        cfg = CompanionConfig(d_state=16, kernel_method=method, norm="l1")
        layer = CompanionSSM(3, cfg, seed=0).to(torch.float64)
        y = layer(u)
        (g,) = torch.autograd.grad(y.square().sum(), layer.a)
        outs.append(y.detach())
        grads.append(g)
        y_step, _ = layer.forward_recurrent(u)
        torch.testing.assert_close(y.detach(), y_step.detach(), rtol=0, atol=1e-10)
    torch.testing.assert_close(outs[1], outs[0], rtol=0, atol=1e-11)
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-9, atol=1e-10)


def test_bad_inputs():
    with pytest.raises(ValueError, match="kernel_method"):
        CompanionSSM(2, CompanionConfig(kernel_method="krylov"))
    with pytest.raises(ValueError, match="norm"):
        CompanionSSM(2, CompanionConfig(norm="l3"))
    with pytest.raises(ValueError, match="a, b, c"):
        companion_kernel(torch.zeros(3), torch.zeros(4), torch.zeros(3), 5)
    with pytest.raises(ValueError, match="L"):
        companion_kernel(torch.zeros(3), torch.zeros(3), torch.zeros(3), 0)


@pytest.mark.parametrize("L", [2, 6, 8, 34, 64, 66])
@pytest.mark.parametrize("n", [1, 5, 17, 70, 130])
def test_twisted_evaluation_and_inverse(L, n):
    """Packed evaluation at the twisted roots vs direct Horner sums; the inverse recovers K."""
    from sciml.ssm.companion import _eval_twisted, _inverse_twisted, _z_half

    g = torch.Generator().manual_seed(L * 1000 + n)
    p = torch.randn(3, n, dtype=torch.float64, generator=g)
    z = _z_half(L, torch.float64, "cpu")
    assert torch.allclose(z**L, -torch.ones_like(z), atol=1e-12)  # twisted: z^L = -1
    ref = (p.to(z.dtype)[..., None, :] * z[:, None] ** torch.arange(n)).sum(-1)
    val = _eval_twisted(p, L)
    assert val.shape == ref.shape
    assert torch.allclose(val, ref, atol=1e-10 * max(1.0, float(ref.abs().max())))
    K = torch.randn(3, L, dtype=torch.float64, generator=g)
    assert torch.allclose(_inverse_twisted(_eval_twisted(K, L), L), K, atol=1e-12)
    with pytest.raises(ValueError, match="even length"):  # odd L is done as L + 1 by the callers
        _eval_twisted(p, L + 1)
