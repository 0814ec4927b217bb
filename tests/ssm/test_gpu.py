"""SSM layers on CUDA: conv mode = step mode there, and CUDA = CPU (skipped without a GPU)."""

from __future__ import annotations

import copy

import pytest
import torch

from sciml.ssm import (
    S4,
    S4D,
    ClosedLoopCompanionSSM,
    S4Config,
    S4DConfig,
    SpaceTime,
    SpaceTimeConfig,
)

pytestmark = pytest.mark.gpu
CUDA = torch.device("cuda")


def _max_rel(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.detach().cpu(), b.detach().cpu()
    return float((a - b).abs().max() / max(1.0, float(b.abs().max())))


@pytest.mark.parametrize(
    "make",
    [
        lambda: S4D(3, S4DConfig(d_state=16), seed=0),
        lambda: S4(3, S4Config(d_state=16, l_max=256), seed=0),
    ],
    ids=["s4d", "s4"],
)
def test_conv_equals_step_on_cuda_and_matches_cpu(make):
    cpu = make().double().eval()
    gpu = copy.deepcopy(cpu).to(CUDA)
    u = torch.randn(2, 150, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y_gpu = gpu(u.to(CUDA))
    assert y_gpu.device.type == "cuda"
    y_a, state = gpu.forward_recurrent(u[:, :70].to(CUDA))
    y_b, _ = gpu.forward_recurrent(u[:, 70:].to(CUDA), state)
    assert _max_rel(torch.cat([y_a, y_b], 1), y_gpu) < 1e-10
    assert _max_rel(y_gpu, cpu(u)) < 1e-12


def test_closed_loop_and_spacetime_cuda_match_cpu():
    u = torch.randn(2, 40, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    m = ClosedLoopCompanionSSM(3, 8, init="random", seed=0).double()
    ref = m(u, 11)
    out = m.to(CUDA)(u.to(CUDA), 11)
    for a, b in zip(out, ref):
        assert _max_rel(a, b) < 1e-12
    cfg = SpaceTimeConfig(n_channels=1, d_model=8, d_state=8)
    x = torch.randn(4, 48, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    st = SpaceTime(cfg, seed=0).double().eval()
    ref = st(x, 12)
    out = st.to(CUDA)(x.to(CUDA), 12)
    for a, b in zip(out, ref):
        assert _max_rel(a, b) < 1e-10
    out.forecast.sum().backward()  # gradients flow on the device
    assert all(p.grad is not None and p.grad.device.type == "cuda" for p in st.parameters())


def test_squaring_kernel_method_on_cuda_matches_cpu_fast_kernel():
    """The GPU-friendly ``kernel_method="squaring"`` on CUDA against the fast kernel on CPU."""
    x = torch.randn(3, 64, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    ref = SpaceTime(SpaceTimeConfig(d_model=8, d_state=16), seed=0).double().eval()(x, 10)
    cfg = SpaceTimeConfig(d_model=8, d_state=16, kernel_method="squaring")
    gpu = SpaceTime(cfg, seed=0).double().eval().to(CUDA)
    out = gpu(x.to(CUDA), 10)
    assert out.forecast.device.type == "cuda"
    assert _max_rel(out.forecast, ref.forecast) < 1e-10
