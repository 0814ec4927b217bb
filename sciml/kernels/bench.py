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
                "target": ">=",
            },
        },
        # every ratio: peer time / our time (median of timed calls, same inputs); > 1: ours faster
        "metrics": {
            "kron_matvec_min_ratio_*": {
                "about": "Kronecker matrix-vector product (⊗A_i) x: linear_operator's time divided "
                "by ours, the smallest ratio over the tested (d, n, rhs) cases",
                "better": "higher",
            },
            "kron_matvec_geomean_ratio_*": {
                "about": "Kronecker matrix-vector product: linear_operator's time divided by ours, "
                "geometric mean over the tested (d, n, rhs) cases",
                "better": "higher",
            },
            "kron_matvec_max_fraction_of_copy_bandwidth": {
                "about": "Kronecker matvec effective bandwidth (minimal traffic 2·d·N·rhs float64 "
                "values / time) divided by the measured memory-copy bandwidth, best case",
                "better": "higher",
            },
            "kron_eigh_min_ratio_*": {
                "about": "eigendecomposition + solve of (⊗K_i + s·I) x = b: linear_operator's "
                "time divided by ours, the smallest ratio over the tested (d, n) cases",
                "better": "higher",
            },
            "fft_conv_ratio_conv1d_over_ours_at_max_L": {
                "about": "causal convolution with a full-length kernel at the longest tested "
                "length L: direct torch conv1d time divided by our fft_conv time",
                "better": "higher",
            },
            "poisson_ratio_scipy_over_ours_torch": {
                "about": "3-D Dirichlet Poisson solve on an n³ box: scipy.fft dstn/idstn time "
                "divided by our poisson_dst (torch backend) time",
                "better": "higher",
            },
        },
        "options": {
            "size": "tiny: every problem size shrunk so the whole run takes seconds (smoke "
            "runs); the only accepted value (default: the quick / full sizes)",
        },
        "run": run_kernels,
    }
]
