"""The experiment helpers used by the benchmarks and the tutorial, on a tiny problem."""

import torch

from sciml.imaging.metrics import hfen, psnr, ssim
from sciml.imaging.tomo.experiment import ct_config, make_ct_problem, run_ct
from sciml.imaging.tomo.fbp import fbp, sliding_window_fbp


def test_run_ct_tiny():
    prob = make_ct_problem(16, 8, seed=0)
    assert prob.g.shape == (8, 1, 24)
    clean = prob.op(prob.x)
    noise_std = float((prob.g - clean).std())
    assert 0.5 < noise_std / (0.005 * float(clean.abs().max())) < 1.5
    cfg = ct_config("quick", rank=2, knots=4, outer_iters=2, inner_iters=2, init_iters=3)
    out = run_ct(prob, cfg, denoiser=lambda f: f, window=4)
    assert set(out) == {"redpsm", "psm", "fbp", "swfbp"}
    xf = fbp(prob.g, prob.op, clip=True)
    assert out["fbp"]["psnr"] == psnr(xf, prob.x)
    xs = sliding_window_fbp(prob.g, prob.op, 4, clip=True)
    assert out["swfbp"]["ssim"] == ssim(xs, prob.x)
    assert out["redpsm"]["hfen"] == hfen(out["redpsm"]["x"], prob.x)
    assert torch.isfinite(out["psm"]["x"]).all() and out["redpsm"]["sec_per_outer"] > 0
