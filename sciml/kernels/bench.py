"""sciml-bench entries for the shared kernels (loaded by path: nothing heavy at module level)."""

from __future__ import annotations

from typing import Any


def run_kernels(ctx: Any) -> dict[str, float]:
    """Time the kernels against their peers; full results go to ``kernels.json`` in the run dir."""
    import json

    from sciml.kernels._benchmark import format_table, run_all

    size = ctx.options.get("size")
    if size is not None and str(size) not in ("", "tiny"):
        raise ValueError(f"size: expected 'tiny' (or no size option), got {size!r}")
    tiny = str(size) == "tiny"
    result = run_all(ctx.quick, ctx.device, ctx.log, tiny=tiny)
    ctx.log(format_table(result))
    path = ctx.out_dir / "kernels.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(path)
    return {k: float(v) for k, v in result["summary"].items()}


BENCHMARKS = [
    {
        "name": "kernels",
        "description": "Kronecker matvec/eigen-solve vs linear_operator, fft_conv vs conv1d, "
        "poisson_dst vs scipy.fft.dstn (ratios: peer time / our time; -o size=tiny for seconds)",
        "datasets": [],
        "references": {
            "kron_matvec_min_ratio_linear_operator_over_ours": {
                "value": 1.0,
                "source": "project target: our Kronecker matvec never slower than "
                "linear_operator's (time ratio at least 1)",
            },
        },
        "options": {
            "size": "tiny: every problem size shrunk so the whole run takes seconds (smoke "
            "runs); the only accepted value (default: the quick / full sizes)",
        },
        "run": run_kernels,
    }
]
