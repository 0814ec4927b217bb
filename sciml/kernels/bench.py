"""sciml-bench entries for the shared kernels (loaded by path: nothing heavy at module level)."""

from __future__ import annotations

from typing import Any


def run_kernels(ctx: Any) -> dict[str, float]:
    """Time the kernels against their peers; full results go to ``kernels.json`` in the run dir."""
    import json

    from sciml.kernels._benchmark import format_table, run_all

    tiny = str(ctx.options.get("size", "")) == "tiny"
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
                "source": "target of issue #2: never slower than linear_operator",
            },
        },
        "run": run_kernels,
    }
]
