"""sciml.bench: the ``sciml-bench`` command line (registry, runner, result files, reports).

Importing this package is light (no torch/JAX/NumPy); heavy libraries load when a benchmark runs.
"""

from ._atomic import atomic_write_json
from .cli import main, parse_options
from .context import BenchmarkSkipped, RunContext
from .registry import (
    Benchmark,
    DatasetSpec,
    MetricDoc,
    Registry,
    RegistryError,
    describe_metric,
    discover,
)
from .report import collect_runs, render_report, write_report
from .runner import RunResult, run_benchmark
from .sysinfo import collect_sysinfo, device_name, script_provenance

__all__ = [
    "Benchmark",
    "BenchmarkSkipped",
    "DatasetSpec",
    "MetricDoc",
    "Registry",
    "RegistryError",
    "RunContext",
    "RunResult",
    "atomic_write_json",
    "collect_runs",
    "collect_sysinfo",
    "describe_metric",
    "device_name",
    "discover",
    "main",
    "parse_options",
    "render_report",
    "run_benchmark",
    "script_provenance",
    "write_report",
]
