"""Data-parallel training (2 processes, gloo on CPU) equals single-process training."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from sciml.train import distributed as D
from sciml.train import read_jsonl
from tests.helpers.torchrun import run_torchrun

from . import _dist_worker as W

WORKER = Path(W.__file__)


def test_helpers_in_a_single_process():
    assert not D.is_distributed()
    assert D.rank() == 0 and D.world_size() == 1 and D.is_main_process()
    D.barrier()
    x = torch.tensor([1.0, 2.0])
    torch.testing.assert_close(D.all_reduce_mean(x), x)
    torch.testing.assert_close(D.all_reduce_sum(x), x)
    assert D.all_reduce_mean(torch.tensor([3])).dtype == torch.get_default_dtype()
    assert D.all_gather_object({"a": 1}) == [{"a": 1}]


def test_init_from_env_without_launcher(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert D.init_from_env(torch.device("cpu")) == (False, torch.device("cpu"))
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.delenv("MASTER_ADDR", raising=False)
    monkeypatch.setenv("RANK", "0")
    with pytest.raises(RuntimeError, match="MASTER_ADDR is not set"):
        D.init_from_env(torch.device("cpu"))


@pytest.mark.dist
def test_two_process_gloo_equals_single_process(tmp_path):
    out = run_torchrun(WORKER, tmp_path, timeout=120)
    assert "epoch 3/3" in out  # rank 0 printed the epoch summaries ...
    assert out.count("epoch 3/3 |") == 1  # ... and rank 1 did not

    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["world"] == r1["world"] == 2
    assert set(r0["seen_world"]) == {2}  # fit really ran in a 2-process group

    # reference: one process, global batch 8 (DDP averages the gradients of 2 x 4)
    train, val, model = W.problem()
    single = W.make_trainer(model, W.GLOBAL_BATCH, tmp_path / "single")
    hist = single.fit(train, val)
    for key, ref in single.model.state_dict().items():
        assert torch.equal(r0["state"][key], r1["state"][key])  # ranks agree bitwise
        torch.testing.assert_close(r0["state"][key], ref, rtol=0, atol=1e-12)
    for a, b, c in zip(r0["history"], r1["history"], hist):
        # all-reduced validation (7 samples over 2 ranks, no padding) equals the single process
        assert a["val_loss"] == b["val_loss"] == pytest.approx(c["val_loss"], rel=1e-12)
        assert a["metrics"]["mae"] == pytest.approx(c["metrics"]["mae"], rel=1e-12)
        assert a["train_loss"] == pytest.approx(c["train_loss"], rel=1e-12)
    final = single.evaluate(val)
    for r in (r0, r1):
        assert r["evaluated"] == pytest.approx(final, rel=1e-12)
    # only rank 0 wrote files: one line per epoch, not two
    logged = read_jsonl(tmp_path / "run" / "metrics.jsonl")
    assert [r["epoch"] for r in logged] == list(range(1, W.EPOCHS + 1))
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "best.pt",
        "checkpoint.pt",
        "metrics.jsonl",
    ]
    assert len(torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["rng"]) == 2
    # a step_fn that calls the DDP model several times per step (autoregressive rollout)
    rollout = W.rollout_run(W.GLOBAL_BATCH).model.state_dict()
    for key, ref in rollout.items():
        torch.testing.assert_close(r0["rollout"][key], ref, rtol=0, atol=1e-12)
        assert torch.equal(r1["rollout"][key], r0["rollout"][key])
    # BatchNorm running statistics: updated from each rank's own shard in the last step, then
    # made one model again (rank 0's, as DDP does) so evaluation and checkpoints agree
    bn0, bn1 = r0["batchnorm"], r1["batchnorm"]
    assert torch.equal(bn0["1.running_mean"], bn1["1.running_mean"])
    assert torch.equal(bn0["1.running_var"], bn1["1.running_var"])
    assert int(bn0["1.num_batches_tracked"]) == 2 * 32 // W.GLOBAL_BATCH  # 2 epochs x 4 steps
    assert bn0["1.running_mean"].abs().max() > 1e-3  # really updated from data
    # DDP resume (each rank's dropout RNG stream restored from the checkpoint) is bitwise
    # exact, and the ranks' parameters stay identical
    for r in (r0, r1):
        for key, ref in r["dropout_full"].items():
            assert torch.equal(r["dropout_resumed"][key], ref)
            assert torch.equal(r0["dropout_full"][key], r1["dropout_full"][key])
    # validation every k optimiser steps with early stopping (the same all-reduced evaluation
    # and stopping decision as at epoch ends): both ranks see the single-process events, stop
    # at the same step inside epoch 2, and rank 0's best.pt is the single process's
    ref = W.step_validation_run(W.GLOBAL_BATCH, tmp_path / "stepval_single")
    events = [(v["step"], v["kind"], v["improved"]) for v in ref.validations]
    assert events == [(3, "step", True), (4, "epoch", False), (6, "step", False)]
    for r in (r0, r1):
        assert r["stepval_step"] == ref.global_step == 6
        got = r["stepval_validations"]
        assert [(v["step"], v["kind"], v["improved"]) for v in got] == events
        for a, b in zip(got, ref.validations):
            assert a["value"] == pytest.approx(b["value"], rel=1e-12)
        for key, val in ref.model.state_dict().items():
            torch.testing.assert_close(r["stepval_state"][key], val, rtol=0, atol=1e-12)
    best = torch.load(tmp_path / "stepval" / "best.pt", weights_only=True)
    best_ref = torch.load(tmp_path / "stepval_single" / "best.pt", weights_only=True)
    assert best["step"] == best_ref["step"] == 3
    for key, val in best_ref["model"].items():
        torch.testing.assert_close(best["model"][key], val, rtol=0, atol=1e-12)
