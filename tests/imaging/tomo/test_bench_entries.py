"""bench_entries.py follows the CONTRIBUTING.md format and flattens results correctly."""

import subprocess
import sys

from sciml.imaging.tomo import bench_entries


def test_format_and_lazy_imports():
    names = [b["name"] for b in bench_entries.BENCHMARKS]
    assert names == ["ct-redpsm", "mri-redpsm"]
    for b in bench_entries.BENCHMARKS:
        assert set(b) == {
            "name",
            "description",
            "datasets",
            "references",
            "options",
            "metrics",
            "run",
        }
        assert b["options"] == {}  # neither reads ctx.options
        assert callable(b["run"])
        for ref in b["references"].values():
            assert isinstance(ref["value"], float) and ref["source"]
    code = (
        "import importlib.util, sys\n"
        "s = importlib.util.spec_from_file_location('b', sys.argv[1])\n"
        "m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
        "assert 'torch' not in sys.modules and 'numpy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code, bench_entries.__file__], check=True)


def test_flatten():
    out = {
        "redpsm": {"psnr": 25.0, "ssim": 0.8, "hfen": 0.2, "seconds": 3.0, "x": None},
        "psm": {"psnr": 23.5, "ssim": 0.7, "hfen": 0.3, "seconds": 2.0},
        "fbp": {"psnr": 10.0, "ssim": 0.1, "hfen": 2.0, "seconds": 0.1},
    }
    flat = bench_entries._flat(out, "_p128")
    # a pure dictionary transform (no timing is measured here): keys renamed, values carried over
    carried = {k: flat[k] for k in ("psnr_redpsm_p128", "hfen_fbp_p128", "ssim_psm_p128")}
    assert carried == {"psnr_redpsm_p128": 25.0, "hfen_fbp_p128": 2.0, "ssim_psm_p128": 0.7}
    wall_keys = {f"seconds_{m}_p128" for m in ("redpsm", "psm", "fbp")}
    assert wall_keys <= set(flat)
    assert flat["psnr_gain_vs_psm_p128"] == 1.5 and flat["psnr_gain_vs_fbp_p128"] == 15.0
    assert all(isinstance(v, float) for v in flat.values())
