"""Work and timing reports: DCDM's matvec count against a counting operator (with the CG
fallback), the benchmark's DCDM/AMG time ratios against hand-computed ratios, and the shipped
model's dtype whatever torch's default dtype."""

import numpy as np
import pytest
import torch

from sciml.linalg import build_poisson, dcdm_solve, random_obstacles, smoke_rhs


@pytest.fixture(scope="module")
def problem():
    s = build_poisson(random_obstacles((14, 12), 3, seed=7))
    return s, smoke_rhs(s, seed=0)


class _CountingMatvec:
    def __init__(self, A):
        self.A, self.calls = A, 0

    def __call__(self, x):
        self.calls += 1
        return torch.from_numpy(self.A @ x.numpy())


@pytest.mark.parametrize(
    "net, opts",
    [
        (lambda g: g, {}),  # identity network: no fallback
        (lambda g: torch.ones_like(g), {}),  # constant network: stalls, CG fallback
        (lambda g: torch.ones_like(g), {"residual": "recurrence"}),
        (lambda g: torch.ones_like(g), {"x0": 1.0}),
    ],
)
def test_dcdm_matvec_count_equals_operator_calls(problem, net, opts):
    s, b = problem
    op = _CountingMatvec(s.A)
    opts = dict(opts)
    if "x0" in opts:
        opts["x0"] = np.full(s.n, opts["x0"])
    res = dcdm_solve(op, b, net, tol=1e-8, maxiter=400, mask=s.fluid, **opts)
    assert res.converged
    assert res.info["matvecs"] == op.calls


def test_benchmark_time_ratios_without_setup_exclude_setup_on_both_sides():
    from sciml.linalg.bench import TOLS, flatten

    def rec(t_solve, setup):
        return {
            "iters": {str(t): 5 for t in TOLS},
            "time": {str(t): t_solve[i] + setup for i, t in enumerate(TOLS)},
            "time_nosetup": {str(t): t_solve[i] for i, t in enumerate(TOLS)},
            "setup": setup,
        }

    table = {
        "amg-sa-pcg": rec((0.02, 0.03), 0.05),
        "amg-rs-pcg": rec((0.01, 0.02), 0.07),
        "dcdm-coarse-debias": rec((0.6, 0.9), 0.3),
        "dcdm": rec((1.2, 2.0), 0.0),
    }
    m = flatten("n8_", table)
    for dc, (d_solve, d_setup) in (
        ("dcdm-coarse-debias", ((0.6, 0.9), 0.3)),
        ("dcdm", ((1.2, 2.0), 0.0)),
    ):
        for amg, (a_solve, a_setup) in (
            ("amg-sa-pcg", ((0.02, 0.03), 0.05)),
            ("amg-rs-pcg", ((0.01, 0.02), 0.07)),
        ):
            for i, t in enumerate(TOLS):
                with_setup = (d_solve[i] + d_setup) / (a_solve[i] + a_setup)
                without = d_solve[i] / a_solve[i]
                assert np.isclose(m[f"n8_{dc}_over_{amg}_time_{t:g}"], with_setup, rtol=1e-12)
                assert np.isclose(m[f"n8_{dc}_over_{amg}_time_nosetup_{t:g}"], without, rtol=1e-12)


@pytest.mark.parametrize("default", [torch.float32, torch.float64])
def test_shipped_model_loads_in_float32_whatever_the_default_dtype(default):
    from sciml.linalg.pretrained import MODELS_DIR, SHIPPED, pretrained

    old = torch.get_default_dtype()
    try:
        torch.set_default_dtype(default)
        model = pretrained(2)
    finally:
        torch.set_default_dtype(old)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not model.training
    blob = torch.load(MODELS_DIR / SHIPPED[2], map_location="cpu", weights_only=True)
    for k, v in model.state_dict().items():
        assert torch.equal(v, blob["state_dict"][k])  # stored float32 weights, bit for bit
