"""RED-PSM: RED step closed form, ADMM recovery of noise-free low-rank objects (identity
denoiser) with the MRI and the Radon operator, bad input."""

import pytest
import torch

from sciml.imaging.fourier import MaskedFourier
from sciml.imaging.tomo.dncnn import DnCNN, FrameDenoiser
from sciml.imaging.tomo.psm import PSM
from sciml.imaging.tomo.radon import Radon, acquisition_angles
from sciml.imaging.tomo.redpsm import REDPSM, REDPSMConfig, psm_only, red_step


def _blur_matrix(n: int) -> torch.Tensor:
    """Dense symmetric matrix of a 3x3 symmetric zero-padded blur on n x n images."""
    k = torch.tensor([[0.05, 0.1, 0.05], [0.1, 0.35, 0.1], [0.05, 0.1, 0.05]], dtype=torch.float64)
    eye = torch.eye(n * n, dtype=torch.float64).reshape(n * n, 1, n, n)
    cols = torch.nn.functional.conv2d(eye, k[None, None], padding=1)
    return cols.reshape(n * n, n * n).T


def test_red_step_fixed_point_equals_closed_form():
    """For a linear symmetric denoiser W, iterating the RED step converges to the minimiser of
    λ/2 fᵀ(f - W f) + β/2 ||f - v||², i.e. f* = β (λ (I - W) + β I)⁻¹ v."""
    n, p, lam, beta = 6, 3, 2.0, 1.0
    w = _blur_matrix(n)
    assert torch.allclose(w, w.T)

    def denoise(f):
        return (f.reshape(p, -1) @ w.T).reshape(f.shape)

    gen = torch.Generator().manual_seed(0)
    v = torch.randn(p, n, n, generator=gen, dtype=torch.float64)
    f = torch.zeros_like(v)
    one = red_step(f + v, v, denoise, lam, beta)
    assert torch.allclose(one, (lam * denoise(f + v) + beta * v) / (lam + beta), atol=1e-15)
    for _ in range(300):
        f = red_step(f, v, denoise, lam, beta)
    a = lam * (torch.eye(n * n, dtype=torch.float64) - w) + beta * torch.eye(
        n * n, dtype=torch.float64
    )
    ref = torch.linalg.solve(a, beta * v.reshape(p, -1).T).T.reshape(p, n, n)
    assert torch.allclose(f, ref, atol=1e-10)


def _low_rank_object(p=12, n=12, rank=2, knots=5):
    true = PSM(p, n, rank, knots, seed=5)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        true.spatial.copy_(torch.rand(rank, n, n, generator=gen, dtype=torch.float64))
        z = 0.5 * torch.randn(rank, knots, generator=gen, dtype=torch.float64)
        z[0] = 1.0
        true.z.copy_(z)
        return true(), gen


# identity denoiser (xi = chi = 0): ADMM must recover a noise-free rank-2 object
_EXACT_CFG = REDPSMConfig(
    rank=2,
    knots=5,
    outer_iters=20,
    inner_iters=20,
    init_iters=200,
    init_lr=5e-2,
    lr=3e-2,
    xi=0.0,
    chi=0.0,
    nonneg=False,
)


def test_admm_recovers_low_rank_object_mri():
    x, gen = _low_rank_object()
    op = MaskedFourier(torch.rand(x.shape, generator=gen) < 0.5)  # k-t sampling, R = 2
    y = op(x.to(torch.complex128))
    cfg = _EXACT_CFG
    res = REDPSM(cfg).reconstruct(y, op)  # identity denoiser
    assert float((res.x - x).norm() / x.norm()) < 1e-4
    assert float((res.f - x).norm() / x.norm()) < 1e-4
    assert res.spatial.shape == (2, 12, 12) and res.temporal.shape == (2, 12)
    assert len(res.history["data"]) == 20
    # the PSM reconstruction is exactly rank 2 in the Casorati sense
    sv = torch.linalg.svdvals(res.x.reshape(12, -1))
    assert float(sv[2] / sv[0]) < 1e-10


def test_admm_recovers_low_rank_object_radon():
    x, _ = _low_rank_object()
    op = Radon(acquisition_angles(12, 6), 12)
    g = op(x)
    cfg = _EXACT_CFG
    res = REDPSM(cfg).reconstruct(g, op, x_true=x)
    err0 = float(x.norm())  # error of the zero image
    err = float((res.x - x).norm())
    assert err < 0.05 * err0  # Radon is ill-conditioned: Adam gets to a few percent here
    assert res.history["psnr_psm"][-1] > res.history["psnr_psm"][0]
    assert res.history["data"][-1] < 1e-3 * float(g.pow(2).sum())


def test_reconstruct_with_frame_denoiser_and_psm_only():
    x, _ = _low_rank_object(p=8, n=10, knots=4)
    op = Radon(acquisition_angles(8, 2), 10)
    g = op(x)
    torch.manual_seed(0)
    den = FrameDenoiser(DnCNN(4, 1).double(), batch=3)
    out = den(x)
    assert out.shape == x.shape and out.dtype == x.dtype
    ref = den.model(x[:, None])[:, 0].detach()
    assert torch.allclose(out, ref, atol=1e-14)
    cfg = REDPSMConfig(rank=2, knots=4, outer_iters=2, inner_iters=3, init_iters=5)
    res = REDPSM(cfg, den).reconstruct(g, op)
    assert torch.isfinite(res.x).all() and (res.x >= 0).all()
    xp, sec = psm_only(g, op, cfg)
    assert xp.shape == x.shape and sec > 0


def test_bad_input():
    op = Radon(acquisition_angles(8), 10)
    g = torch.zeros(op.oshape, dtype=torch.float64)
    solver = REDPSM(REDPSMConfig(rank=2, knots=4, outer_iters=1, inner_iters=1, init_iters=0))
    with pytest.raises(ValueError, match="angle/instant count mismatch"):
        solver.reconstruct(torch.zeros(9, 1, op.n_det), op)
    g[2, 0, 3] = float("nan")
    with pytest.raises(ValueError, match="non-finite"):
        solver.reconstruct(g, op)
    with pytest.raises(ValueError, match="larger than the number of instants"):
        REDPSM(REDPSMConfig(rank=9, knots=9)).reconstruct(torch.zeros(op.oshape), op)
    with pytest.raises(ValueError, match="beta"):
        REDPSMConfig(beta=0.0)
    with pytest.raises(ValueError, match="rank"):
        REDPSMConfig(rank=0)
    with pytest.raises(TypeError, match="Linop"):
        solver.reconstruct(g, "radon")


def test_data_weight_default_and_equivalence():
    """The Radon operator's data weight is 1/n²; scaling the data weight by c equals scaling
    λ, β, ξ, χ by 1/c (the same objective up to a constant factor; Adam is scale-invariant up to
    its ε), so both runs give the same iterates."""
    op = Radon(acquisition_angles(6), 8)
    assert op.data_weight == 1 / 64
    x, _ = _low_rank_object(p=6, n=8, knots=4)
    g = op(x)
    base = dict(rank=2, knots=4, outer_iters=2, inner_iters=3, init_iters=4, nonneg=False)
    a = REDPSM(REDPSMConfig(**base, data_weight=1 / 64, lam=1e-2, beta=2e-2, xi=1e-3, chi=1e-3))
    b = REDPSM(REDPSMConfig(**base, data_weight=1.0, lam=0.64, beta=1.28, xi=0.064, chi=0.064))
    ra, rb = a.reconstruct(g, op), b.reconstruct(g, op)
    assert torch.allclose(ra.x, rb.x, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="data_weight"):
        REDPSMConfig(data_weight=-1.0)


@pytest.mark.parametrize("kind", ["radon", "mri"])
def test_closed_form_psm_gradient_equals_autograd(kind):
    """``psm_grad`` (one forward + one adjoint, no graph) equals autograd of the PSM-step loss
    w||R relu(f_psm) - g||² + β/2||relu(f_psm) - target||² + ξ||Ψ||² + χ||Λ||²."""
    p, n = 6, 8
    model = PSM(p, n, 3, 4, seed=2)
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        model.spatial.normal_(generator=gen)  # about half the pixels of f_psm are clamped
    if kind == "radon":
        op = Radon(acquisition_angles(p, 2), n)
        g = torch.randn(op.oshape, generator=gen, dtype=torch.float64)
    else:
        op = MaskedFourier(torch.rand(p, n, n, generator=gen) < 0.5)
        g = torch.randn(op.oshape, generator=gen, dtype=torch.complex128)
    target = torch.randn(p, n, n, generator=gen, dtype=torch.float64)
    cfg = REDPSMConfig(rank=3, knots=4, beta=0.7, xi=0.3, chi=0.2, data_weight=0.5)
    solver = REDPSM(cfg)
    fp, data, reg = solver._loss_parts(model, op, g)
    assert float((fp == 0).float().mean()) > 0.2
    (data + reg + 0.5 * cfg.beta * (fp - target).pow(2).sum()).backward()
    ref = [model.spatial.grad.clone(), model.z.grad.clone()]
    model.zero_grad()
    d = solver.psm_grad(model, op, g, target)
    assert abs(d - float(data.detach())) < 1e-12 * abs(float(data.detach()))
    for got, want in zip([model.spatial.grad, model.z.grad], ref):
        assert torch.allclose(got, want, rtol=1e-12, atol=1e-12 * float(want.abs().max()))
