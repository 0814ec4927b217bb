"""DnCNN architecture, training through the shared Trainer reduces validation MSE, the shipped
checkpoint denoises held-out phantom frames."""

import pytest
import torch

from sciml.imaging.metrics import psnr
from sciml.imaging.phantoms import deforming_phantom
from sciml.imaging.tomo.dncnn import SMALL_CHECKPOINT, DnCNN, FrameDenoiser, load_denoiser
from sciml.imaging.tomo.train_denoiser import (
    DenoiserTrainConfig,
    main,
    make_patches,
    train_denoiser,
)


def test_architecture_reference_and_residual():
    m = DnCNN()  # reference: 64 channels, 6 hidden 64->64 convolutions, no batch-norm
    convs = [c for c in m.net if isinstance(c, torch.nn.Conv2d)]
    assert len(convs) == 8 and convs[0].in_channels == 1 and convs[-1].out_channels == 1
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert not any(isinstance(c, torch.nn.BatchNorm2d) for c in m.net)
    torch.nn.init.zeros_(convs[-1].weight)
    torch.nn.init.zeros_(convs[-1].bias)
    x = torch.rand(2, 1, 9, 9)
    assert torch.equal(m(x), x)  # residual output x - net(x)
    with pytest.raises(ValueError, match="shape"):
        m(torch.rand(9, 9))


def test_training_reduces_validation_mse(tmp_path):
    cfg = DenoiserTrainConfig(
        channels=8,
        depth=1,
        sizes=(32,),
        frames=4,
        n_phantoms=2,
        n_train=256,
        n_val=64,
        patch=16,
        epochs=5,
        batch_size=16,
        lr=3e-3,
    )
    val = make_patches(cfg, cfg.n_val, 100 + cfg.n_phantoms, cfg.seed + 1)
    noisy, clean = val.tensors
    torch.manual_seed(cfg.seed)
    mse = torch.nn.functional.mse_loss
    with torch.no_grad():
        before = float(mse(DnCNN(8, 1)(noisy), clean))  # same seed: the initial network
        identity = float(mse(noisy, clean))
    model, hist = train_denoiser(cfg, progress=False)
    with torch.no_grad():
        after = float(mse(model(noisy), clean))
    assert after < 0.7 * before and after < 0.7 * identity
    assert abs(hist[-1]["val_loss"] - after) < 1e-6 * max(after, 1e-12) + 1e-9
    assert hist[-1]["val_loss"] < hist[0]["val_loss"]
    # the CLI writes a loadable checkpoint
    out = tmp_path / "dn.pt"
    main(
        [
            "--out",
            str(out),
            "--channels",
            "4",
            "--depth",
            "1",
            "--sizes",
            "32",
            "--frames",
            "2",
            "--n-phantoms",
            "1",
            "--n-train",
            "16",
            "--n-val",
            "8",
            "--patch",
            "16",
            "--epochs",
            "1",
            "--no-progress",
        ]
    )
    m2 = load_denoiser(out)
    assert m2.channels == 4 and not m2.training


@pytest.mark.skipif(not SMALL_CHECKPOINT.is_file(), reason="shipped checkpoint missing")
def test_shipped_checkpoint_denoises_held_out_frames():
    assert SMALL_CHECKPOINT.stat().st_size < 2 * 2**20
    den = FrameDenoiser(load_denoiser())
    x = deforming_phantom(64, 4, seed=0)  # benchmark seed, never seen in training
    gen = torch.Generator().manual_seed(3)
    noisy = x + 0.05 * torch.randn(x.shape, generator=gen, dtype=torch.float64)
    assert psnr(den(noisy), x) > psnr(noisy, x) + 5.0
    with pytest.raises(FileNotFoundError):
        load_denoiser("/nonexistent/dn.pt")


def test_train_config_rejects_patch_larger_than_frames():
    with pytest.raises(ValueError, match="patch"):
        DenoiserTrainConfig(sizes=(16,), patch=32)
    with pytest.raises(ValueError, match="sizes"):
        DenoiserTrainConfig(sizes=())


@pytest.mark.parametrize("default", [torch.float32, torch.float64])
def test_shipped_denoiser_loads_in_float32_whatever_the_default_dtype(default):
    """``load_denoiser`` promises float32 (the checkpoint's precision): under a float64 torch
    default it returned a float64 network (weights widened, 2-3x slower, output != float32's)."""
    ck = torch.load(SMALL_CHECKPOINT, map_location="cpu", weights_only=True)
    old = torch.get_default_dtype()
    try:
        torch.set_default_dtype(default)
        model = load_denoiser()
    finally:
        torch.set_default_dtype(old)
    state = model.state_dict()
    assert {v.dtype for v in state.values()} == {torch.float32}
    for k, v in ck["state_dict"].items():  # the stored float32 values, bit for bit
        assert torch.equal(state[k], v), k


def test_make_patches_are_float32_and_independent_of_the_default_dtype():
    """Documented as float32 pairs; the noise was drawn in torch's default dtype, so a float64
    default gave float64 pairs from a different random stream."""
    cfg = DenoiserTrainConfig(sizes=(16,), frames=2, n_phantoms=1, patch=8)
    ref = make_patches(cfg, 5, 100, 0).tensors  # float32 default: the shipped recipe
    old = torch.get_default_dtype()
    try:
        torch.set_default_dtype(torch.float64)
        got = make_patches(cfg, 5, 100, 0).tensors
    finally:
        torch.set_default_dtype(old)
    for r, g in zip(ref, got):
        assert g.dtype == torch.float32
        assert torch.equal(g, r)
