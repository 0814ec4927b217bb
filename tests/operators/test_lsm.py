"""LSM: shapes, parameter counts, spectral block vs a naive per-patch reference, gradients,
overfitting a tiny dataset, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.operators import LSM, LSMConfig, NeuralSpectralBlock, count_parameters, relative_l2


@pytest.mark.parametrize(
    ("c_in", "c_out", "shape"), [(1, 1, (17, 17)), (3, 2, (33, 20)), (10, 1, (7, 31))]
)
def test_lsm_shapes_odd_sizes_and_channels(c_in, c_out, shape):
    torch.manual_seed(0)
    m = LSM(in_channels=c_in, out_channels=c_out, width=8)
    y = m(torch.randn(2, c_in, *shape))
    assert y.shape == (2, c_out, *shape) and torch.isfinite(y).all()


def test_lsm_3d_shapes():
    m = LSM(width=8, ndim=3, in_channels=2, out_channels=3)
    assert m(torch.randn(2, 2, 9, 16, 5)).shape == (2, 3, 9, 16, 5)


def test_parameter_counts_match_the_reference():
    # reference page: ≈19.2 M at w=64, ≈4.8 M at w=32, ≈1.2 M at w=16
    for width, ref in ((64, 19.2e6), (32, 4.8e6), (16, 1.2e6)):
        assert abs(count_parameters(LSM(width=width)) - ref) / ref < 0.01


def _naive_block(
    blk: NeuralSpectralBlock, x: torch.Tensor, p: int, pw: int | None = None
) -> torch.Tensor:
    """Per-patch loop written from the paper's equations (independent of the vectorised code)."""
    b, c, hh, ww = x.shape
    kv = blk.encoder_attn(x)
    q = blk.decoder_attn(x)
    h, t = blk.num_heads, blk.num_token
    d = c // h
    nb = blk.weights.shape[1] // 2
    pw = p if pw is None else pw
    out = torch.empty_like(x)
    for bi in range(b):
        for i in range(0, hh, p):
            for j in range(0, ww, pw):
                pix = x[bi, :, i : i + p, j : j + pw].reshape(c, -1)  # (C, L)
                kvp = kv[bi, :, i : i + p, j : j + pw].reshape(2 * c, -1)
                qp = q[bi, :, i : i + p, j : j + pw].reshape(c, -1)
                tokens = torch.empty(c, t)
                for hd in range(h):
                    # channel layout of the 1×1 conv output: (head, C/H, {key, value})
                    keys = torch.stack([kvp[2 * (hd * d + e)] for e in range(d)], 1)  # (L, d)
                    vals = torch.stack([kvp[2 * (hd * d + e) + 1] for e in range(d)], 1)
                    z = blk.latent[hd]  # (T, d)
                    a = torch.softmax(z @ keys.T, dim=-1)
                    tokens[hd * d : (hd + 1) * d] = (a @ vals + z).T
                feats = []
                for k in range(nb):
                    feats.append(torch.sin(math.pi * k * tokens / nb))
                for k in range(nb):
                    feats.append(torch.cos(math.pi * k * tokens / nb))
                phi = torch.stack(feats, -1)  # (C, T, 2nb)
                tokens = tokens + (phi * blk.weights[:, None, :]).sum(-1)
                res = torch.empty(c, p * pw)
                for hd in range(h):
                    tok = tokens[hd * d : (hd + 1) * d].T  # (T, d)
                    qq = qp[hd * d : (hd + 1) * d].T  # (L, d)
                    res[hd * d : (hd + 1) * d] = (torch.softmax(qq @ tok.T, -1) @ tok).T
                out[bi, :, i : i + p, j : j + pw] = (res + pix).reshape(c, p, pw)
    return out


def test_spectral_block_matches_naive_per_patch_reference():
    torch.manual_seed(1)
    blk = NeuralSpectralBlock(16, num_basis=3, num_token=2, num_heads=4)
    with torch.no_grad():
        blk.weights.normal_()
        blk.latent.normal_()
    x = torch.randn(2, 16, 6, 9)
    with torch.no_grad():
        got = blk(x, (3, 3))
        ref = _naive_block(blk, x, 3)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def _naive_block_nd(blk: NeuralSpectralBlock, x: torch.Tensor, patch: tuple[int, ...]):
    """Any-dimensional per-patch loop: gather each patch's pixels (any order — attention is
    invariant to the pixel order inside a patch), apply the 2-D naive block to them as a
    (1, L) image with patch (1, L), scatter back."""
    import itertools

    sizes = x.shape[2:]
    kv_conv = torch.nn.Conv2d(blk.channels, 2 * blk.channels, 1)
    q_conv = torch.nn.Conv2d(blk.channels, blk.channels, 1)
    with torch.no_grad():
        kv_conv.weight.copy_(blk.encoder_attn.weight.reshape(kv_conv.weight.shape))
        kv_conv.bias.copy_(blk.encoder_attn.bias)
        q_conv.weight.copy_(blk.decoder_attn.weight.reshape(q_conv.weight.shape))
        q_conv.bias.copy_(blk.decoder_attn.bias)
    flat = NeuralSpectralBlock(
        blk.channels, blk.weights.shape[1] // 2, blk.num_token, blk.num_heads
    )
    flat.load_state_dict(
        {
            **blk.state_dict(),
            **{
                "encoder_attn.weight": kv_conv.weight,
                "encoder_attn.bias": kv_conv.bias,
                "decoder_attn.weight": q_conv.weight,
                "decoder_attn.bias": q_conv.bias,
            },
        }
    )
    out = torch.empty_like(x)
    for origin in itertools.product(*[range(0, s, p) for s, p in zip(sizes, patch)]):
        idx = (slice(None), slice(None), *[slice(o, o + p) for o, p in zip(origin, patch)])
        pix = x[idx].reshape(x.shape[0], x.shape[1], 1, -1)
        out[idx] = _naive_block(flat, pix, 1, pix.shape[-1]).reshape(x[idx].shape)
    return out


def test_spectral_block_3d_matches_per_patch_reference():
    torch.manual_seed(3)
    blk = NeuralSpectralBlock(8, num_basis=4, num_token=3, num_heads=2, ndim=3)
    with torch.no_grad():
        blk.weights.normal_()
        blk.latent.normal_()
    x = torch.randn(2, 8, 4, 6, 3)
    with torch.no_grad():
        got = blk(x, (2, 3, 3))
        ref = _naive_block_nd(blk, x, (2, 3, 3))
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)


def test_trig_transition_gradients_match_autograd_of_the_formula():
    from sciml.operators.lsm import _TrigTransition

    torch.manual_seed(4)
    x = torch.randn(5, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    k = math.pi * torch.arange(3, dtype=torch.float64) / 3
    g = torch.randn(5, 7, dtype=torch.float64)
    arg = x.unsqueeze(-1) * k
    ref = x + (torch.cat([arg.sin(), arg.cos()], -1) * w[:, None, :]).sum(-1)
    gx_ref, gw_ref = torch.autograd.grad(ref, (x, w), g)
    out = _TrigTransition.apply(x, w, k)
    gx, gw = torch.autograd.grad(out, (x, w), g)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gx, gx_ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(gw, gw_ref, rtol=1e-12, atol=1e-12)


def test_conv1x1_matches_conv2d_and_its_gradients():
    from sciml.operators.lsm import _conv1x1

    torch.manual_seed(5)
    x = torch.randn(3, 4, 5, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True)
    g = torch.randn(3, 6, 5, 7, dtype=torch.float64)
    ref = torch.nn.functional.conv2d(x, w[:, :, None, None], b)
    refs = torch.autograd.grad(ref, (x, w, b), g)
    out = _conv1x1(x, w, b)
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    for got, want in zip(torch.autograd.grad(out, (x, w, b), g), refs):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_gradients_reach_every_parameter_and_match_finite_differences():
    torch.manual_seed(2)
    m = LSM(width=8, in_channels=2).double()
    x = torch.randn(2, 2, 12, 10, dtype=torch.float64)
    loss = m(x).pow(2).mean()
    loss.backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    # directional derivative along a random direction vs central differences (eval mode: BN fixed)
    m.eval()
    params = [p for p in m.parameters()]
    dirs = [torch.randn_like(p) for p in params]
    m.zero_grad()
    m(x).pow(2).mean().backward()
    analytic = sum((p.grad * d).sum() for p, d in zip(params, dirs))
    eps = 1e-8  # small: ReLU/max-pool kinks must not fall inside the stencil
    with torch.no_grad():
        for p, d in zip(params, dirs):
            p.add_(eps * d)
        up = m(x).pow(2).mean()
        for p, d in zip(params, dirs):
            p.sub_(2 * eps * d)
        down = m(x).pow(2).mean()
        for p, d in zip(params, dirs):
            p.add_(eps * d)
    fd = (up - down) / (2 * eps)
    assert abs(fd - analytic) <= 1e-6 * abs(float(analytic))


def test_lsm_overfits_a_tiny_dataset():
    torch.manual_seed(0)
    x = torch.randn(4, 1, 16, 16)
    y = torch.nn.functional.avg_pool2d(x, 3, 1, 1) * 2 + 1
    m = LSM(width=8)
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    first = relative_l2(m(x), y).mean().item()
    last = first
    for _ in range(400):
        opt.zero_grad()
        loss = relative_l2(m(x), y).mean()
        loss.backward()
        opt.step()
        last = loss.item()
        if last < first / 100:
            break
    assert last < first / 100, (first, last)


def test_resolution_independent_weights():
    m = LSM(width=8).eval()
    with torch.no_grad():
        assert m(torch.randn(1, 1, 32, 32)).shape == (1, 1, 32, 32)
        assert m(torch.randn(1, 1, 64, 48)).shape == (1, 1, 64, 48)


def test_lsm_bad_input():
    m = LSM(width=8, in_channels=2)
    with pytest.raises(ValueError, match="2 channels"):
        m(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match=">= 4"):
        m(torch.randn(1, 2, 3, 16))
    with pytest.raises(ValueError, match="NaN or Inf"):
        m(torch.full((1, 2, 8, 8), float("inf")))
    with pytest.raises(ValueError, match="4 dims"):
        m(torch.randn(2, 16, 16))
    with pytest.raises(TypeError, match="floating"):
        m(torch.ones(1, 2, 8, 8, dtype=torch.int64))
    with pytest.raises(TypeError, match="torch.Tensor"):
        m([[1.0]])
    with pytest.raises(ValueError, match="width"):
        LSMConfig(width=12)
    with pytest.raises(ValueError, match="in_channels"):
        LSMConfig(in_channels=0)
    with pytest.raises(ValueError, match="patch_size"):
        LSMConfig(patch_size=(2,))


def test_trig_transition_second_derivatives_match_finite_differences():
    """Double backward (create_graph=True) through the fused transition: gradgradcheck compares
    the second derivatives with finite differences of the first."""
    from sciml.operators.lsm import _TrigTransition

    torch.manual_seed(6)
    x = torch.randn(3, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    k = math.pi * torch.arange(2, dtype=torch.float64) / 2

    def f(x, w):
        return _TrigTransition.apply(x, w, k)

    assert torch.autograd.gradcheck(f, (x, w))
    assert torch.autograd.gradgradcheck(f, (x, w))


def test_gradient_penalty_through_lsm_matches_autograd_of_the_plain_transition(monkeypatch):
    """A loss on the input gradient (create_graph=True) through a whole LSM gives the same
    parameter gradients as with the transition written as plain tensor operations."""
    import sciml.operators.lsm as lsm_mod

    torch.manual_seed(7)
    model = LSM(width=8, num_basis=3).double().eval()
    x = torch.randn(2, 1, 8, 8, dtype=torch.float64, requires_grad=True)

    def penalty_grads():
        (gx,) = torch.autograd.grad(model(x).square().sum(), x, create_graph=True)
        return torch.autograd.grad(gx.square().sum(), list(model.parameters()))

    got = penalty_grads()

    class _Plain:
        @staticmethod
        def apply(t, weight, k):
            arg = k.view(1, -1, 1) * t.unsqueeze(1)
            basis = torch.cat([arg.sin(), arg.cos()], dim=1)
            return t + (weight.unsqueeze(-1) * basis).sum(1)

    monkeypatch.setattr(lsm_mod, "_TrigTransition", _Plain)
    want = penalty_grads()
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
