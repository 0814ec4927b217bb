"""Launch a test worker script under ``torch.distributed.run`` (gloo on CPU)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_torchrun(worker: Path, out_dir: Path, nproc: int = 2, timeout: float = 300) -> str:
    """Run ``worker out_dir`` in ``nproc`` processes; fail the test on a non-zero exit or a hang.
    Returns the launcher's stdout (rank 0's and the other ranks' output)."""
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", GLOO_SOCKET_IFNAME=env.get("GLOO_SOCKET_IFNAME", "lo"))
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=1",
        f"--nproc_per_node={nproc}",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(worker),
        str(out_dir),
    ]
    # own session, so that a hang can be killed with all of the launcher's workers
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail("torch.distributed.run timed out:\n" + err.decode()[-3000:])
    assert proc.returncode == 0, out.decode()[-3000:] + err.decode()[-3000:]
    return out.decode()
