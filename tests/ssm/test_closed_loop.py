import pytest
import torch

from sciml.ssm import ClosedLoopCompanionSSM, normalize_companion


@pytest.mark.parametrize("init", ["shift", "random"])
@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
def test_conv_equals_step(init, dtype, tol):
    m = ClosedLoopCompanionSSM(3, 8, init=init, seed=0).to(dtype)
    u = torch.randn(2, 40, 3, dtype=dtype, generator=torch.Generator().manual_seed(0))
    out = m(u, 11)
    s = m.default_state(2)
    one, nxt = [], []
    for t in range(40):
        a, b, s = m.step_open(u[:, t], s)
        one.append(a)
        nxt.append(b)
    ys = []
    for _ in range(11):
        y, s = m.step_closed(s)
        ys.append(y)
    scale = max(1.0, float(out.horizon.detach().abs().max()))
    assert float((torch.stack(one, 1) - out.one_step).detach().abs().max()) < tol * scale
    assert float((torch.stack(nxt, 1) - out.next_input).detach().abs().max()) < tol * scale
    assert float((torch.stack(ys, 1) - out.horizon).detach().abs().max()) < tol * scale


def test_horizon_against_dense_matrix_powers():
    m = ClosedLoopCompanionSSM(2, 6, init="random", seed=1).double()
    u = torch.randn(1, 25, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    out = m(u, 9)
    a = normalize_companion(m.a, m.norm)
    A = torch.diag(torch.ones(5, dtype=torch.float64), -1).expand(2, 6, 6).clone()
    A[..., :, -1] += a
    x = torch.zeros(2, 6, dtype=torch.float64)
    for t in range(25):
        x = (A @ x[..., None])[..., 0] + m.b * u[0, t][:, None]
    Acl = m.closed_loop_matrix()
    for j in range(1, 10):
        y = (m.c * (torch.linalg.matrix_power(Acl, j) @ x[..., None])[..., 0]).sum(-1)
        assert torch.allclose(out.horizon[0, j - 1], y, atol=1e-11)


def test_bad_inputs():
    m = ClosedLoopCompanionSSM(2, 4)
    with pytest.raises(ValueError, match="horizon"):
        m(torch.zeros(1, 5, 2), 0)
    with pytest.raises(ValueError, match="init"):
        ClosedLoopCompanionSSM(2, 4, init="zeros")
