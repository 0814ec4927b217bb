import pytest
import torch

from sciml.ssm import S4, S4Config, dplr_dense, dplr_kernel, ssm_kernel_naive


def _naive(layer, L):
    Lam, P, B, Ct, dt = layer.ssm_parameters()
    n = Lam.shape[-1]
    Abar, Bbar = dplr_dense(Lam, P, B, dt)
    ALm = torch.linalg.matrix_power(Abar, layer.config.l_max)
    Ctf = torch.cat([Ct, Ct.conj()], -1)
    eye = torch.eye(2 * n, dtype=Abar.dtype)
    C = torch.linalg.solve((eye - ALm).transpose(-1, -2), Ctf[..., None])[..., 0]
    K = ssm_kernel_naive(Abar, Bbar, C, L).detach()
    assert float(K.imag.abs().max()) < 1e-10 * float(K.real.abs().max())  # a real system
    return K.real


@pytest.mark.parametrize("measure", ["legs", "legt"])
@pytest.mark.parametrize("L", [1024, 1000])
def test_dplr_kernel_equals_explicit_powers(measure, L):
    layer = S4(2, S4Config(d_state=64, l_max=L, measure=measure), seed=0).double()
    K = layer.kernel(L).detach()
    K_ref = _naive(layer, L)
    assert float((K - K_ref).norm() / K_ref.norm()) < 1e-8


def test_chunked_equals_unchunked_and_truncation():
    a = S4(2, S4Config(d_state=16, l_max=512, chunk=37), seed=3).double()
    b = S4(2, S4Config(d_state=16, l_max=512, chunk=10_000), seed=3).double()
    assert torch.allclose(a.kernel(512), b.kernel(512), atol=1e-13)
    assert torch.allclose(a.kernel(100), _naive(a, 100), atol=1e-10)


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize("measure", ["legs", "legt"])
def test_conv_equals_step(dtype, tol, measure):
    layer = S4(3, S4Config(d_state=16, l_max=256, measure=measure), seed=0).to(dtype).eval()
    u = torch.randn(2, 150, 3, dtype=dtype, generator=torch.Generator().manual_seed(0))
    y_conv = layer(u)
    y_a, state = layer.forward_recurrent(u[:, :70])
    y_b, _ = layer.forward_recurrent(u[:, 70:], state)
    y_step = torch.cat([y_a, y_b], dim=1)
    assert float((y_conv - y_step).detach().abs().max()) < tol * max(
        1.0, float(y_conv.detach().abs().max())
    )


def test_kernel_gradients_match_finite_differences():
    layer = S4(2, S4Config(d_state=8, l_max=24), seed=0).double()
    Lam, P, B, Ct, dt = (t.detach() for t in layer.ssm_parameters())
    args = [Lam.real, Lam.imag, P.real, P.imag, B.real, Ct.real, Ct.imag, torch.log(dt)]
    args = [a.clone().requires_grad_() for a in args]

    def f(lr, li, pr, pi, br, cr, ci, ld):
        return dplr_kernel(
            torch.complex(lr, li),
            torch.complex(pr, pi),
            torch.complex(br, B.imag),
            torch.complex(cr, ci),
            torch.exp(ld),
            24,
            chunk=5,
        )

    assert torch.autograd.gradcheck(f, tuple(args), eps=1e-6, atol=1e-6)


def test_bad_inputs():
    layer = S4(2, S4Config(d_state=8, l_max=16))
    with pytest.raises(ValueError, match="l_max"):
        layer(torch.zeros(1, 17, 2))
    with pytest.raises(ValueError, match="measure"):
        S4(2, S4Config(measure="legx"))


def test_step_mode_follows_parameter_and_dtype_changes_mid_stream():
    """A stream continued with its state after an optimiser step (or a ``.double()``) must use
    the new parameters: the step outputs equal conv mode (itself checked against dense powers
    above) of the updated layer from the same state. Before, the O(N) step quantities were
    cached at the first step: 0.5 absolute error after an update, a dtype error after
    ``.double()``."""
    g = torch.Generator().manual_seed(0)
    layer = S4(3, S4Config(d_state=8, l_max=64), seed=0).double().eval()
    u = torch.randn(2, 40, 3, dtype=torch.float64, generator=g)
    _, state = layer.forward_recurrent(u[:, :10])  # builds the step cache
    opt = torch.optim.SGD(layer.parameters(), lr=0.05)
    layer.kernel(64).square().sum().backward()
    opt.step()  # in-place updates of every SSM parameter
    # a zero state made by hand: default_state would refresh the cache and hide the bug
    zero = torch.zeros(2, 3, 4, dtype=torch.complex128)
    y_step, _ = layer.forward_recurrent(u[:, 10:], zero)
    with torch.no_grad():
        y_conv = layer(u[:, 10:])
    assert float((y_step - y_conv).detach().abs().max()) < 1e-10 * float(y_conv.abs().max())

    f32 = S4(3, S4Config(d_state=8, l_max=64), seed=1).eval()
    f32.default_state(2)  # cache in float32
    f32.double()
    with torch.no_grad():
        y_step, _ = f32.forward_recurrent(u, zero)
        assert float((y_step - f32(u)).abs().max()) < 1e-10 * float(f32(u).abs().max())
