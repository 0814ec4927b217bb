"""WeightAverage against the closed form of a bias-corrected EMA on a straight-line trajectory."""

from __future__ import annotations

import pytest
import torch

from sciml.train import WeightAverage


def test_weight_average_matches_closed_form():
    beta = 0.8
    lin = torch.nn.Linear(3, 1).double()
    avg = WeightAverage(lin, beta)
    theta0 = torch.cat([p.detach().flatten() for p in lin.parameters()]).clone()
    a = torch.tensor([0.3, -1.0, 2.0, 0.5], dtype=torch.float64)
    for n in range(1, 31):
        with torch.no_grad():  # θ_n = θ_0 + n a (a straight-line trajectory)
            lin.weight.copy_((theta0 + n * a)[:3].view(1, 3))
            lin.bias.copy_((theta0 + n * a)[3:])
        avg.update()
        # Σ_{i≤n} β^(n-i) θ_i / Σ β^(n-i) = θ_0 + a S_n / W_n with the geometric sums in closed form
        w_n = (1 - beta**n) / (1 - beta)
        s_n = n / (1 - beta) - beta * (1 - beta**n) / (1 - beta) ** 2
        got = torch.cat([p.flatten() for p in avg.average.parameters()])
        assert torch.allclose(got, theta0 + a * s_n / w_n, rtol=0, atol=1e-12)
    x = torch.randn(5, 3, dtype=torch.float64)
    avg.train()
    assert torch.equal(avg(x), lin(x))
    avg.eval()
    assert torch.equal(avg(x), avg.average(x)) and not torch.allclose(avg(x), lin(x))
    for bad in (0.0, 1.0, -0.5, True):
        with pytest.raises(ValueError, match="ema"):
            WeightAverage(lin, bad)
