"""LSM trained through the shared Trainer under ``torchrun --nproc_per_node 2`` (gloo, CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.helpers.torchrun import run_torchrun

WORKER = Path(__file__).with_name("_dist_lsm_worker.py")


@pytest.mark.dist
def test_lsm_ddp_two_ranks_agree_and_learn(tmp_path):
    run_torchrun(WORKER, tmp_path, timeout=300)

    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["world"] == r1["world"] == 2
    assert set(r0["seen_world"]) == set(r1["seen_world"]) == {2}  # evaluated in the group
    for name in ("field", "rollout"):
        a, b = r0["results"][name], r1["results"][name]
        # DDP all-reduces the gradients: both ranks hold bitwise identical parameters
        assert a["params"].keys() == b["params"].keys() and len(a["params"]) > 0
        for key, value in a["params"].items():
            assert torch.equal(value, b["params"][key]), key
        # the training loss (each rank's shard, averaged over ranks by the Trainer) fell
        loss = a["train_loss"]
        assert all(map(torch.isfinite, map(torch.tensor, loss)))
        assert loss[-1] < 0.5 * loss[0], loss
        # all-reduced validation metrics are the same on both ranks
        assert a["final"]["rel_l2"] == pytest.approx(b["final"]["rel_l2"], rel=1e-6)
        assert a["val_rel_l2"][-1] < a["val_rel_l2"][0]
