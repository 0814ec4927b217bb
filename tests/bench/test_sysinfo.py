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


def test_device_name_and_script_provenance(monkeypatch):
    import torch

    from sciml.bench import device_name, script_provenance

    assert device_name("cpu") == (platform.processor() or platform.machine())
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    prov = script_provenance("benchmarks/x.py", ["--repeats", "2"])
    assert prov == {
        "command": "python benchmarks/x.py --repeats 2",
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": "3",
    }
    monkeypatch.setattr("sys.argv", ["x.py", "--device", "cpu"])
    assert script_provenance("benchmarks/x.py")["command"] == "python benchmarks/x.py --device cpu"
