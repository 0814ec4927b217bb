"""sysinfo reports what the interpreter itself says."""

from __future__ import annotations

import json
import os
import platform

from sciml.bench import main
from sciml.bench.sysinfo import collect_sysinfo, format_sysinfo


def test_sysinfo_matches_interpreter(capsys):
    info = collect_sysinfo()
    assert info["python"] == platform.python_version()
    assert info["cpu_count"] == os.cpu_count()
    assert info["memory_gib"] is None or info["memory_gib"] > 0
    import numpy

    assert info["numpy"] == numpy.__version__
    if info["torch"] is not None:
        import torch

        assert info["torch"] == torch.__version__
        assert info["cuda_available"] == torch.cuda.is_available()
    text = format_sysinfo(info)
    assert text.splitlines()[0].split() == ["python", platform.python_version()]
    assert main(["sysinfo", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cpu_count"] == os.cpu_count()
    assert main(["sysinfo"]) == 0
    assert "cpu_count" in capsys.readouterr().out
