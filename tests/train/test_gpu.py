"""The Trainer on CUDA: same numbers as on the CPU, exact resume (skipped without a GPU)."""

from __future__ import annotations

import pytest
import torch

from sciml.train import Trainer, TrainerConfig

from ._common import dropout_mlp, linear, mse, regression_data

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def _make(model, device, **kw):
    cfg = dict(epochs=3, batch_size=4, seed=2, progress=False, dtype="float64", device=device)
    cfg.update(kw)
    return Trainer(
        model,
        mse,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.05),
        config=TrainerConfig(**cfg),
        metrics={"mae": lambda p, t: (p - t).abs().mean()},
    )


def test_cuda_matches_cpu():
    data, val = regression_data(n=18), regression_data(n=5, seed=1)
    cpu, gpu = _make(linear(), "cpu"), _make(linear(), "cuda")
    h_cpu, h_gpu = cpu.fit(data, val), gpu.fit(data, val)
    assert next(gpu.model.parameters()).device.type == "cuda"
    for a, b in zip(h_cpu, h_gpu):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-10)
        assert a["metrics"]["mae"] == pytest.approx(b["metrics"]["mae"], rel=1e-10)
    for p, q in zip(cpu.model.parameters(), gpu.model.parameters()):
        torch.testing.assert_close(p, q.cpu(), rtol=0, atol=1e-12)
    pred = gpu.predict(data)
    assert pred.device.type == "cpu"  # predictions come back where the inputs live
    torch.testing.assert_close(pred, cpu.predict(data), rtol=0, atol=1e-12)


def test_cuda_resume_is_exact(tmp_path):
    data, val = regression_data(n=18), regression_data(n=5, seed=1)
    full = _make(dropout_mlp(seed=3), "cuda", epochs=4)
    full.fit(data, val)
    _make(dropout_mlp(seed=3), "cuda", epochs=2, out_dir=tmp_path).fit(data, val)
    torch.cuda.manual_seed_all(99)  # must be overwritten by the checkpoint's CUDA RNG state
    resumed = _make(dropout_mlp(seed=3), "cuda", epochs=4, out_dir=tmp_path, resume=True)
    resumed.fit(data, val)
    for p, q in zip(full.model.parameters(), resumed.model.parameters()):
        assert torch.equal(p, q)
