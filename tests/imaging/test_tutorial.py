import os
import pathlib
import subprocess
import sys

TUTORIAL = pathlib.Path(__file__).parents[2] / "tutorials" / "05_dynamic_mri.py"


def test_tutorial_runs_in_smoke_mode(tmp_path):
    env = {**os.environ, "SCIML_SMOKE": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, str(TUTORIAL)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    # the tutorial prints one line per method with its PSNR
    assert out.stdout.count("PSNR") == 4
