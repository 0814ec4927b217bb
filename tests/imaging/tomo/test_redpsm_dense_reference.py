"""RED-PSM against dense references and explicit counts: the ADMM fixed point equals the dense
solution of the RED-regularised least squares; measurements of any precision; the step count of
``psm_only``; the frame denoiser is a deterministic function (eval mode)."""

import pytest
import torch

from sciml.imaging.fourier import MaskedFourier
from sciml.imaging.tomo.dncnn import FrameDenoiser
from sciml.imaging.tomo.radon import Radon, acquisition_angles
from sciml.imaging.tomo.redpsm import REDPSM, REDPSMConfig, psm_only
from tests.imaging._checks import dense_matrix
from tests.imaging.tomo.test_redpsm import _blur_matrix


def test_admm_converges_to_dense_red_least_squares_solution():
    """With a full-rank PSM (R = P, knots = P, no mask, no clamp, ξ = χ = 0) and a linear
    symmetric denoiser W, the ADMM fixed point (f_psm = f, PSM step and RED step stationary)
    solves (2w AᵀA + λ (I - W)) f = 2w Aᵀ g, assembled here from the dense matrix of A."""
    p, n, lam, beta, w = 4, 5, 2.0, 2.0, 1.0
    op = Radon(acquisition_angles(p, 3), n)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(p, n, n, generator=gen, dtype=torch.float64)
    g = op(x) + 0.1 * torch.randn(op.oshape, generator=gen, dtype=torch.float64)
    wb = _blur_matrix(n)

    def denoise(f):
        return (f.reshape(p, -1) @ wb.T).reshape(f.shape)

    a = dense_matrix(op).real
    m = 2 * w * a.T @ a + lam * torch.block_diag(*[torch.eye(n * n, dtype=torch.float64) - wb] * p)
    ref = torch.linalg.solve(m, 2 * w * a.T @ g.reshape(-1)).reshape(p, n, n)
    cfg = REDPSMConfig(
        rank=p,
        knots=p,
        outer_iters=100,
        inner_iters=10,
        lr=5e-3,
        lam=lam,
        beta=beta,
        xi=0.0,
        chi=0.0,
        init_iters=200,
        init_lr=1e-2,
        nonneg=False,
        use_fov_mask=False,
        data_weight=w,
    )
    res = REDPSM(cfg, denoise).reconstruct(g, op)
    assert float((res.x - ref).norm() / ref.norm()) < 1e-4
    assert float((res.f - ref).norm() / ref.norm()) < 1e-4


@pytest.mark.parametrize(
    "cfg_dtype,y_dtype", [("float64", torch.complex64), ("float32", torch.complex128)]
)
def test_complex_measurements_of_other_precision(cfg_dtype, y_dtype):
    """Measurements are cast to the solver precision: ``psm_only`` and ``fit_psm`` on complex
    data of the other precision equal the runs on explicitly cast data (``reconstruct`` did
    this already)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(6, 8, 8, dtype=torch.float64, generator=gen)
    op = MaskedFourier(torch.rand(x.shape, generator=gen) < 0.5)
    y = op(x.to(torch.complex128)).to(y_dtype)
    solver_c = torch.complex128 if cfg_dtype == "float64" else torch.complex64
    cfg = REDPSMConfig(rank=2, knots=4, outer_iters=1, inner_iters=2, init_iters=2, dtype=cfg_dtype)
    xp, _ = psm_only(y, op, cfg)
    ref, _ = psm_only(y.to(solver_c), op, cfg)
    assert xp.dtype == getattr(torch, cfg_dtype) and torch.equal(xp, ref)
    solver = REDPSM(cfg)
    m1 = solver.fit_psm(y, op, 3, 1e-2)
    m2 = solver.fit_psm(y.to(solver_c), op, 3, 1e-2)
    assert torch.equal(m1.spatial, m2.spatial) and torch.equal(m1.z, m2.z)


@pytest.mark.parametrize("steps,expected", [(None, 56), (60, 60), (10, 10), (0, 0)])
def test_psm_only_takes_the_requested_number_of_adam_steps(monkeypatch, steps, expected):
    op = Radon(acquisition_angles(6), 8)
    g = op(torch.rand(6, 8, 8, dtype=torch.float64))
    calls = []
    orig = REDPSM.psm_grad

    def counting(self, *args, **kwargs):
        calls.append(1)
        return orig(self, *args, **kwargs)

    monkeypatch.setattr(REDPSM, "psm_grad", counting)
    cfg = REDPSMConfig(rank=2, knots=4, outer_iters=2, inner_iters=3, init_iters=50)
    psm_only(g, op, cfg, steps=steps)  # default: 50 + 2·3 (as RED-PSM)
    assert len(calls) == expected


def test_psm_only_rejects_negative_steps():
    op = Radon(acquisition_angles(6), 8)
    g = torch.zeros(op.oshape, dtype=torch.float64)
    with pytest.raises(ValueError, match="steps"):
        psm_only(g, op, REDPSMConfig(rank=2, knots=4, init_iters=5), steps=-1)


def test_frame_denoiser_runs_the_model_in_eval_mode():
    """A model left in training mode (batch-norm, dropout) is applied as in eval mode: the RED
    denoiser is a deterministic function that does not update batch-norm statistics; the
    model's mode is restored."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.BatchNorm2d(4),
        torch.nn.Dropout(0.5),
        torch.nn.Conv2d(4, 1, 3, padding=1),
    ).double()
    with torch.no_grad():
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
    stats = model[1].running_mean.clone()
    x = torch.rand(5, 7, 7, dtype=torch.float64)
    den = FrameDenoiser(model, batch=2)
    a, b = den(x), den(x)
    assert model.training  # restored
    assert torch.equal(a, b) and torch.equal(model[1].running_mean, stats)
    # reference: the eval-mode network by hand (affine batch-norm with running statistics)
    conv1, bn, conv2 = model[0], model[1], model[3]
    with torch.no_grad():
        h = conv1(x[:, None])
        h = (h - bn.running_mean[:, None, None]) / torch.sqrt(bn.running_var + bn.eps)[
            :, None, None
        ] * bn.weight[:, None, None] + bn.bias[:, None, None]
        ref = conv2(h)[:, 0]
    assert torch.allclose(a, ref, atol=1e-12)
