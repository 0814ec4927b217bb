import numpy as np
import pytest
import torch

from sciml.ssm import S4D, S4DConfig, s4d_discretize, s4d_init, s4d_kernel, ssm_kernel_naive


def _rel(a, b):
    return float((a - b).detach().norm() / b.detach().norm())


@pytest.mark.parametrize("init", ["lin", "inv", "real", "legs"])
@pytest.mark.parametrize("disc", ["zoh", "bilinear"])
@pytest.mark.parametrize("L", [1024, 1000])
def test_kernel_equals_explicit_powers(init, disc, L):
    layer = S4D(2, S4DConfig(d_state=64, init=init, discretization=disc), seed=1).double()
    Abar, Bbar, C = layer.discrete()
    K = layer.kernel(L)
    K_ref = 2 * ssm_kernel_naive(torch.diag_embed(Abar), Bbar, C, L).real
    assert _rel(K, K_ref) < 1e-8


def test_init_closed_forms():
    n = torch.arange(4, dtype=torch.float64)
    assert torch.allclose(
        s4d_init("lin", 4), torch.complex(-0.5 * torch.ones(4, dtype=torch.float64), torch.pi * n)
    )
    inv = s4d_init("inv", 4)
    assert torch.allclose(inv.imag, (8 / torch.pi) * (8 / (2 * n + 1) - 1))
    assert torch.allclose(s4d_init("real", 4).real, -(n + 1))
    legs = s4d_init("legs", 32)
    assert torch.allclose(legs.real, -0.5 * torch.ones(32, dtype=torch.float64), atol=1e-10)


def test_discretizations_closed_form():
    A = torch.tensor([[-0.5 + 2j, -1.0 + 0.3j]], dtype=torch.complex128)
    dt = torch.tensor([0.1], dtype=torch.float64)
    Az, Bz = s4d_discretize(A, dt, "zoh")
    # ZOH: B̄ = ∫_0^Δ exp(sA) ds (by quadrature)
    s = torch.linspace(0, 0.1, 20001, dtype=torch.float64)
    quad = torch.trapezoid(torch.exp(s[:, None] * A[0]), s, dim=0)
    assert torch.allclose(Bz[0], quad, atol=1e-10)
    Ab, Bb = s4d_discretize(A, dt, "bilinear")
    assert torch.allclose(Ab, (2 / 0.1 + A) / (2 / 0.1 - A))
    assert torch.allclose(Bb, 2 / (2 / 0.1 - A))


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("disc", ["zoh", "bilinear"])
def test_conv_equals_step(dtype, tol, disc):
    layer = S4D(3, S4DConfig(d_state=16, discretization=disc), seed=0).to(dtype).eval()
    u = torch.randn(2, 200, 3, dtype=dtype, generator=torch.Generator().manual_seed(0))
    y_conv = layer(u)
    y_a, state = layer.forward_recurrent(u[:, :120])  # streamed in two pieces
    y_b, _ = layer.forward_recurrent(u[:, 120:], state)
    y_step = torch.cat([y_a, y_b], dim=1)
    assert float((y_conv - y_step).detach().abs().max()) < tol * max(
        1.0, float(y_conv.detach().abs().max())
    )


def test_kernel_gradients_match_finite_differences():
    g = torch.Generator().manual_seed(0)
    A = torch.complex(
        -torch.rand(2, 3, dtype=torch.float64, generator=g) - 0.1,
        torch.randn(2, 3, dtype=torch.float64, generator=g),
    )
    C = torch.randn(2, 3, dtype=torch.complex128, generator=g)
    log_dt = torch.log(torch.tensor([0.05, 0.1], dtype=torch.float64))
    Ar, Ai = A.real.clone().requires_grad_(), A.imag.clone().requires_grad_()
    Cr, Ci = C.real.clone().requires_grad_(), C.imag.clone().requires_grad_()
    ld = log_dt.clone().requires_grad_()

    def f(Ar, Ai, Cr, Ci, ld):
        Abar, Bbar = s4d_discretize(torch.complex(Ar, Ai), torch.exp(ld), "zoh")
        return s4d_kernel(torch.complex(Cr, Ci), Abar, Bbar, 37, chunk=16)

    assert torch.autograd.gradcheck(f, (Ar, Ai, Cr, Ci, ld), eps=1e-6, atol=1e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match="init"):
        S4D(2, S4DConfig(init="foo"))
    with pytest.raises(ValueError, match="d_state"):
        S4D(2, S4DConfig(d_state=7))
    with pytest.raises(ValueError, match=r"u: expected shape \(B, L, 2\)"):
        S4D(2)(torch.zeros(1, 5, 3))
    with pytest.raises(TypeError, match="u"):
        S4D(2)([[0.0, 1.0]])


def test_zoh_equals_matrix_exponential_and_float32_input_matrix_is_accurate():
    """ZOH against ``scipy.linalg.expm`` of the augmented matrix ``[[ΔA, ΔB], [0, 0]]`` (whose
    exponential holds ``Ā`` and ``B̄``) in float64; in float32 ``B̄`` must keep float32 accuracy
    at small Δ (``exp(ΔA) - 1`` used to cancel: 1e-3 relative error at Δ = 1e-4)."""
    from scipy.linalg import expm

    A = s4d_init("lin", 8).to(torch.complex128)
    A = torch.cat([A, torch.complex(-torch.rand(4, dtype=torch.float64) - 0.01, A.imag[:4])])
    dt = torch.tensor([1e-4, 1e-3, 3e-2, 1e-1], dtype=torch.float64)
    B = torch.complex(
        torch.randn(4, 12, dtype=torch.float64), torch.randn(4, 12, dtype=torch.float64)
    )
    Ab, Bb = s4d_discretize(A.expand(4, 12), dt, "zoh", B)
    for h in range(4):
        for n in range(12):
            d = dt[h].item()
            M = expm(np.array([[d * A[n].item(), d * B[h, n].item()], [0.0, 0.0]]))
            assert abs(Ab[h, n].item() - M[0, 0]) < 1e-14
            assert abs(Bb[h, n].item() - M[0, 1]) < 1e-12 * abs(M[0, 1])
    # float32: the same parameters rounded to float32; reference: expm of those in float64
    A32, dt32, B32 = A.to(torch.complex64), dt.float(), B.to(torch.complex64)
    _, Bb32 = s4d_discretize(A32.expand(4, 12), dt32, "zoh", B32)
    for h in range(4):
        for n in range(12):
            d, a, b = float(dt32[h]), complex(A32[n]), complex(B32[h, n])
            ref = expm(np.array([[d * a, d * b], [0.0, 0.0]]))[0, 1]
            assert abs(complex(Bb32[h, n]) - ref) < 2e-6 * abs(ref)
