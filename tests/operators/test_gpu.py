"""Neural operators and the Navier–Stokes generator on CUDA equal their CPU runs (skipped
without a GPU)."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.operators import FNO, LSM, UNet
from sciml.operators.navier_stokes import navier_stokes_2d

pytestmark = pytest.mark.gpu
CUDA = torch.device("cuda")


@pytest.mark.parametrize(
    "make",
    [
        lambda: LSM(in_channels=2, out_channels=1, width=8),
        lambda: FNO(in_channels=2, out_channels=1, width=8, modes=6),
        lambda: UNet(in_channels=2, out_channels=1, width=8),
    ],
    ids=["lsm", "fno", "unet"],
)
def test_forward_and_gradients_cuda_match_cpu(make):
    torch.manual_seed(0)
    cpu = make().double()
    gpu = make().double()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to(CUDA)
    x = torch.randn(3, 2, 33, 37, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    y_cpu, y_gpu = cpu(x), gpu(x.to(CUDA))
    assert y_gpu.device.type == "cuda" and y_gpu.shape == y_cpu.shape == (3, 1, 33, 37)
    torch.testing.assert_close(y_gpu.cpu(), y_cpu, rtol=1e-9, atol=1e-11)
    y_cpu.square().mean().backward()
    y_gpu.square().mean().backward()
    for (name, p), q in zip(cpu.named_parameters(), gpu.parameters()):
        torch.testing.assert_close(q.grad.cpu(), p.grad, rtol=1e-8, atol=1e-11, msg=name)


def test_navier_stokes_cuda_matches_cpu_and_taylor_green_rate():
    n, visc, t = 32, 1e-2, 0.5
    x = torch.arange(n, dtype=torch.float64) / n
    X, Y = torch.meshgrid(x, x, indexing="ij")
    w0 = 2 * (2 * math.pi) * torch.sin(2 * math.pi * X) * torch.sin(2 * math.pi * Y)
    w_gpu = navier_stokes_2d(w0.to(CUDA), visc=visc, t_final=t, record_steps=2)
    assert w_gpu.device.type == "cuda"
    w_cpu = navier_stokes_2d(w0, visc=visc, t_final=t, record_steps=2)
    torch.testing.assert_close(w_gpu.cpu(), w_cpu, rtol=1e-12, atol=1e-12)
    decay = math.exp(-visc * 2 * (2 * math.pi) ** 2 * t)  # |k|² = 2 (2π)² for this mode
    assert float(w_cpu[..., -1].abs().max() / w0.abs().max()) == pytest.approx(decay, rel=1e-3)
