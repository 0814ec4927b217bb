"""Discovery of benchmarks and datasets declared in ``sciml/<pkg>/bench.py`` files.

Each ``bench.py`` is loaded **by file path** under a private module name
(``_sciml_bench_<pkg>``), so the method package's ``__init__`` (which imports torch or JAX) is
not imported until a benchmark actually runs. A file that fails to load becomes a warning; two
benchmarks (or datasets) with the same name are an error naming both files.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Benchmark",
    "DatasetSpec",
    "MetricDoc",
    "Reference",
    "Registry",
    "RegistryError",
    "default_roots",
    "describe_metric",
    "discover",
    "load_bench_file",
    "match_metric",
]

_NAME_RE = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")
BETTER = ("lower", "higher", "none")  # MetricDoc.better
TARGETS = (">=", "<=")  # Reference.target


class RegistryError(RuntimeError):
    """Raised for an inconsistent registry (e.g. one benchmark name declared in two files)."""


@dataclass(frozen=True)
class Reference:
    """A reference figure for one metric: ``value`` and where it comes from (``source``).

    ``target`` ``None``: a published figure to compare with (the ratio value / reference is
    shown). ``">="`` or ``"<="``: a threshold the metric must meet (a project target).
    """

    value: float
    source: str
    target: str | None = None


@dataclass(frozen=True)
class MetricDoc:
    """Glossary entry of a metric: what it measures (``about``) and whether ``better`` is
    ``"lower"``, ``"higher"`` or ``"none"`` (no direction: a count, an epoch, a setting)."""

    about: str
    better: str


@dataclass(frozen=True)
class Benchmark:
    """One benchmark declared in a ``bench.py`` ``BENCHMARKS`` list."""

    name: str
    description: str
    datasets: tuple[str, ...]
    references: Mapping[str, Reference]
    run: Callable[[Any], Mapping[str, float]]
    source: Path
    package: str
    options: Mapping[str, str] | None = None  # ``-o`` name -> help; None: not declared, unchecked
    metrics: Mapping[str, MetricDoc] | None = None  # fnmatch pattern -> doc; None: not declared


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset declared in a ``bench.py`` ``DATASETS`` list."""

    name: str
    generator: str  # "module:function"
    sizes: Mapping[str, Mapping[str, Any]]
    kind: str | None
    description: str
    source: Path
    package: str
    version: int = 0  # generator version (enters the data cache hash; see sciml.data)


@dataclass
class Registry:
    """Everything discovered: benchmarks and datasets by name (discovery order), load warnings."""

    benchmarks: dict[str, Benchmark] = field(default_factory=dict)
    datasets: dict[str, DatasetSpec] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def default_roots() -> list[Path]:
    """The directories whose ``*/bench.py`` files are scanned: the installed ``sciml`` package."""
    return [Path(__file__).resolve().parent.parent]


def load_bench_file(path: Path, module_name: str) -> Any:
    """Execute ``path`` as a fresh module called ``module_name`` and return it.

    Only the file itself runs; its package's ``__init__`` is not imported.
    """
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot create an import spec for {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses/pickle inside the file look their module up
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def _short(exc: BaseException) -> str:
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0]}" if msg else type(exc).__name__


def _parse_references(raw: Any, where: str, warnings: list[str]) -> dict[str, Reference]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        warnings.append(f"{where}: 'references' must be a dict, got {type(raw).__name__}; ignored")
        return {}
    refs: dict[str, Reference] = {}
    for metric, ref in raw.items():
        try:
            value = float(ref["value"])
            source = str(ref.get("source", ""))
            if isinstance(ref["value"], bool | str) or not math.isfinite(value):
                raise ValueError
            target = ref.get("target")
        except (TypeError, KeyError, ValueError, AttributeError):
            warnings.append(
                f"{where}: reference for metric {metric!r} must be "
                f"{{'value': float, 'source': str}}, got {ref!r}; ignored"
            )
            continue
        if target is not None and target not in TARGETS:
            warnings.append(
                f"{where}: 'target' of the reference for metric {metric!r} must be '>=' or "
                f"'<=', got {target!r}; treated as a published figure"
            )
            target = None
        refs[str(metric)] = Reference(value=value, source=source, target=target)
    return refs


def _parse_metrics(raw: Any, where: str, warnings: list[str]) -> dict[str, MetricDoc] | None:
    """``metrics`` of a benchmark entry: ``{pattern: {"about": str, "better": ...}}``."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        warnings.append(f"{where}: 'metrics' must be a dict, got {type(raw).__name__}; ignored")
        return None
    docs: dict[str, MetricDoc] = {}
    for pattern, doc in raw.items():
        if not isinstance(pattern, str) or not pattern.strip():
            warnings.append(
                f"{where}: metric pattern must be a non-empty string, got {pattern!r}; ignored"
            )
            continue
        if not isinstance(doc, Mapping):
            warnings.append(
                f"{where}: metric {pattern!r} must be {{'about': str, 'better': "
                f"'lower' | 'higher' | 'none'}}, got {doc!r}; ignored"
            )
            continue
        about = doc.get("about", "")
        if not isinstance(about, str):
            warnings.append(f"{where}: 'about' of metric {pattern!r} must be a string")
            about = ""
        better = doc.get("better")
        if better not in BETTER:
            warnings.append(
                f"{where}: 'better' of metric {pattern!r} must be 'lower', 'higher' or 'none', "
                f"got {better!r}; treated as 'none'"
            )
            better = "none"
        docs[pattern] = MetricDoc(about=about.strip(), better=better)
    return docs


def match_metric(
    glossary: Mapping[str, MetricDoc] | None, name: str
) -> tuple[str, MetricDoc] | None:
    """The first ``(pattern, doc)`` of ``glossary`` (dict order) whose ``fnmatch`` pattern
    matches metric ``name`` (case-sensitive), or ``None``."""
    for pattern, doc in (glossary or {}).items():
        if fnmatch.fnmatchcase(name, pattern):
            return pattern, doc
    return None


def describe_metric(benchmark: Benchmark, name: str) -> MetricDoc | None:
    """The glossary entry of metric ``name`` of ``benchmark``: the first matching pattern of
    ``benchmark.metrics``; ``None`` when none matches or the benchmark declares no glossary."""
    found = match_metric(benchmark.metrics, name)
    return found[1] if found else None


def _parse_options(raw: Any, where: str, warnings: list[str]) -> dict[str, str] | None:
    """``options`` of a benchmark entry: ``{name: help}``; ``None`` when absent or malformed."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        warnings.append(f"{where}: 'options' must be a dict, got {type(raw).__name__}; ignored")
        return None
    options: dict[str, str] = {}
    for key, help_text in raw.items():
        if not isinstance(key, str) or not key or "=" in key or key != "".join(key.split()):
            warnings.append(
                f"{where}: option name must be a non-empty string without '=' or spaces, "
                f"got {key!r}; ignored"
            )
            continue
        if not isinstance(help_text, str):
            warnings.append(f"{where}: help of option {key!r} must be a string, got {help_text!r}")
            help_text = ""
        options[key] = help_text
    return options


def _parse_benchmark(entry: Any, path: Path, pkg: str, warnings: list[str]) -> Benchmark | None:
    if not isinstance(entry, Mapping):
        warnings.append(f"{path}: BENCHMARKS entry must be a dict, got {type(entry).__name__}")
        return None
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        warnings.append(
            f"{path}: benchmark name must be a lower-case dash-separated string, got {name!r}; "
            "entry ignored"
        )
        return None
    where = f"{path}: benchmark {name!r}"
    run = entry.get("run")
    if not callable(run):
        warnings.append(f"{where}: 'run' must be callable, got {type(run).__name__}; ignored")
        return None
    datasets = entry.get("datasets") or ()
    if isinstance(datasets, str):
        datasets = (datasets,)
    return Benchmark(
        name=name,
        description=str(entry.get("description", "")),
        datasets=tuple(str(d) for d in datasets),
        references=_parse_references(entry.get("references"), where, warnings),
        run=run,
        options=_parse_options(entry.get("options"), where, warnings),
        metrics=_parse_metrics(entry.get("metrics"), where, warnings),
        source=path,
        package=pkg,
    )


def _parse_dataset(entry: Any, path: Path, pkg: str, warnings: list[str]) -> DatasetSpec | None:
    if not isinstance(entry, Mapping):
        warnings.append(f"{path}: DATASETS entry must be a dict, got {type(entry).__name__}")
        return None
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME_RE.match(name):
        warnings.append(f"{path}: dataset name must be a lower-case string, got {name!r}; ignored")
        return None
    where = f"{path}: dataset {name!r}"
    gen = entry.get("generator")
    if not isinstance(gen, str) or gen.count(":") != 1 or not all(gen.split(":")):
        warnings.append(f"{where}: 'generator' must be a 'module:function' string, got {gen!r}")
        return None
    sizes = entry.get("sizes") or {}
    if not isinstance(sizes, Mapping) or not all(isinstance(v, Mapping) for v in sizes.values()):
        warnings.append(f"{where}: 'sizes' must map size name -> dict of parameters; ignored")
        return None
    version = entry.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        warnings.append(f"{where}: 'version' must be an int >= 0, got {version!r}; ignored")
        return None
    return DatasetSpec(
        name=name,
        generator=gen,
        sizes={str(k): dict(v) for k, v in sizes.items()},
        kind=entry.get("kind"),
        description=str(entry.get("description", "")),
        source=path,
        package=pkg,
        version=version,
    )


def _bench_files(roots: Iterable[Path]) -> list[tuple[Path, str]]:
    own = Path(__file__).resolve().parent
    found: list[tuple[Path, str]] = []
    for root in roots:
        root = Path(root)
        if not root.is_dir():
            continue
        for path in sorted(root.glob("*/bench.py")):
            pkg_dir = path.parent
            if pkg_dir.resolve() == own or pkg_dir.name.startswith((".", "_")):
                continue
            found.append((path, pkg_dir.name))
    return found


def discover(roots: Iterable[str | Path] | None = None) -> Registry:
    """Load every ``<root>/*/bench.py`` and collect ``BENCHMARKS`` and ``DATASETS``.

    Args:
        roots: directories to scan; default :func:`default_roots` (the ``sciml`` package).

    Returns:
        A :class:`Registry`. Files that fail to load, and malformed entries, are reported in
        ``registry.warnings`` instead of raising.

    Raises:
        RegistryError: if a benchmark or dataset name is declared twice (names both files).
    """
    roots = default_roots() if roots is None else [Path(r) for r in roots]
    reg = Registry()
    seen_modules: dict[str, int] = {}
    for path, pkg in _bench_files(roots):
        reg.files.append(path)
        base = f"_sciml_bench_{re.sub(r'[^0-9A-Za-z_]', '_', pkg)}"
        n = seen_modules.get(base, 0)
        seen_modules[base] = n + 1
        module_name = base if n == 0 else f"{base}_{n}"
        try:
            module = load_bench_file(path, module_name)
        except Exception as exc:
            reg.warnings.append(f"could not load {path}: {_short(exc)}")
            continue
        for attr, kind, parse, store in (
            ("BENCHMARKS", "benchmark", _parse_benchmark, reg.benchmarks),
            ("DATASETS", "dataset", _parse_dataset, reg.datasets),
        ):
            entries = getattr(module, attr, [])
            if not isinstance(entries, list | tuple):
                reg.warnings.append(f"{path}: {attr} must be a list, got {type(entries).__name__}")
                continue
            for entry in entries:
                item = parse(entry, path, pkg, reg.warnings)
                if item is None:
                    continue
                if item.name in store:
                    raise RegistryError(
                        f"duplicate {kind} name {item.name!r} declared in "
                        f"{store[item.name].source} and in {path}"
                    )
                store[item.name] = item
    return reg
