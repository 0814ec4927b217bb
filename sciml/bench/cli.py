"""``sciml-bench``: list, describe, generate data for, run and report benchmarks.

Exit codes: 0 success; 1 a benchmark or generator failed (or nothing to report); 2 usage error
(unknown name, bad option, CUDA requested but unavailable, inconsistent registry).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import registry as _registry
from ._format import fmt_num, text_table
from .report import write_report
from .runner import RunResult, run_benchmark
from .sysinfo import collect_sysinfo, format_sysinfo

__all__ = ["build_parser", "main", "parse_options"]

PROG = "sciml-bench"
_DEVICE_RE = re.compile(r"^(cpu|cuda(:\d+)?)$")


class UsageError(Exception):
    """A user error reported as ``sciml-bench: error: ...`` with exit code 2."""


def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def _device(value: str) -> str:
    if not _DEVICE_RE.match(value):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {value!r}")
    return value


def parse_options(items: Sequence[str] | None) -> dict[str, Any]:
    """Parse ``key=value`` strings; values are JSON when they parse as JSON, else strings.

    >>> parse_options(["lr=1e-3", "path=/data/x.csv", "layers=[1, 2]", "flag=true"])
    {'lr': 0.001, 'path': '/data/x.csv', 'layers': [1, 2], 'flag': True}
    """
    options: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"-o expects key=value, got {item!r}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        options[key] = value
    return options


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for all sub-commands."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Benchmarks for sciml: list, inspect, generate data, run, report.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("list", help="list registered benchmarks and datasets")

    pi = sub.add_parser("info", help="describe a benchmark or dataset")
    pi.add_argument("name", metavar="NAME")

    pd = sub.add_parser("data", help="dataset commands")
    dsub = pd.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True
    pg = dsub.add_parser("generate", help="generate (or reuse) a registered dataset")
    pg.add_argument("name", metavar="NAME")
    pg.add_argument(
        "--size", default="quick", help="any size the dataset registers (quick, full, ...)"
    )
    pg.add_argument("--out", type=Path, default=None, help="data root (default $SCIML_DATA)")
    pg.add_argument("--seed", type=int, default=0)

    pr = sub.add_parser("run", help="run benchmarks (NAME ... or all)")
    pr.add_argument("names", nargs="+", metavar="NAME|all")
    pr.add_argument("--quick", action="store_true", help="small configuration")
    pr.add_argument("--device", type=_device, default="cpu", help="cpu, cuda or cuda:N")
    pr.add_argument("--seed", type=int, default=0)
    pr.add_argument("--out", type=Path, default=Path("runs"), help="output root (default runs/)")
    pr.add_argument(
        "-o",
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra option for the benchmark (value parsed as JSON when possible)",
    )

    pp = sub.add_parser("report", help="Markdown table over the runs found under DIR")
    pp.add_argument("dir", type=Path, metavar="DIR")

    ps = sub.add_parser("sysinfo", help="software and hardware information")
    ps.add_argument("--json", action="store_true", help="print JSON")
    return p


def _discover() -> _registry.Registry:
    reg = _registry.discover()
    for w in reg.warnings:
        print(f"warning: {w}", file=sys.stderr, flush=True)
    return reg


def _unknown(kind: str, name: str, known: Sequence[str]) -> UsageError:
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; see '{PROG} list'"
    return UsageError(f"unknown {kind} {name!r}{hint}")


def _clip(text: str, width: int = 72) -> str:
    """First line of ``text``, shortened to ``width`` characters (``info`` shows it whole)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 3].rstrip() + "..."


def _cmd_list(args: argparse.Namespace) -> int:
    reg = _discover()
    if not reg.benchmarks and not reg.datasets:
        roots = ", ".join(str(r) for r in _registry.default_roots())
        print(f"no benchmarks found (scanned {roots})")
        return 0
    rows = [
        [b.name, b.package, ", ".join(b.datasets) or "-", _clip(b.description)]
        for b in reg.benchmarks.values()
    ]
    print(f"Benchmarks ({len(rows)}):")
    print(text_table(["name", "package", "datasets", "description"], rows))
    if reg.datasets:
        drows = [
            [d.name, d.package, d.kind or "-", "/".join(d.sizes) or "-", _clip(d.description)]
            for d in reg.datasets.values()
        ]
        print(f"\nDatasets ({len(drows)}):")
        print(text_table(["name", "package", "kind", "sizes", "description"], drows))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    reg = _discover()
    name = args.name
    if name in reg.benchmarks:
        b = reg.benchmarks[name]
        print(f"benchmark  {b.name}")
        print(f"package    {b.source.parent.parent.name}.{b.package}")
        print(f"file       {b.source}")
        print(f"about      {b.description or '-'}")
        shown = [
            d if d in reg.datasets else f"{d} (not declared in any DATASETS)" for d in b.datasets
        ]
        print(f"datasets   {', '.join(shown) or '-'}")
        if b.references:
            print("references:")
            rows = [[k, fmt_num(r.value), r.source] for k, r in b.references.items()]
            print(text_table(["metric", "value", "source"], rows))
        else:
            print("references: none")
        return 0
    if name in reg.datasets:
        d = reg.datasets[name]
        print(f"dataset    {d.name}")
        print(f"package    {d.source.parent.parent.name}.{d.package}")
        print(f"file       {d.source}")
        print(f"about      {d.description or '-'}")
        print(f"kind       {d.kind or '-'}")
        print(f"generator  {d.generator}")
        for size, params in d.sizes.items():
            print(f"size {size:<6} {json.dumps(params, sort_keys=True)}")
        users = [b.name for b in reg.benchmarks.values() if d.name in b.datasets]
        print(f"used by    {', '.join(users) or '-'}")
        return 0
    raise _unknown("benchmark or dataset", name, [*reg.benchmarks, *reg.datasets])


def _register_datasets(specs: Sequence[_registry.DatasetSpec]) -> Any:
    """Register ``specs`` with ``sciml.data`` (re-registering the same entry is harmless)."""
    sdata = importlib.import_module("sciml.data")
    for spec in specs:
        try:
            sdata.register_dataset(
                spec.name,
                spec.generator,
                sizes=dict(spec.sizes),
                kind=spec.kind,
                description=spec.description,
                version=spec.version,
            )
        except (ValueError, KeyError) as exc:
            if "already" not in str(exc).lower():
                raise
    return sdata


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _cmd_data(args: argparse.Namespace) -> int:
    reg = _discover()
    if args.name not in reg.datasets:
        raise _unknown("dataset", args.name, list(reg.datasets))
    spec = reg.datasets[args.name]
    if spec.sizes and args.size not in spec.sizes:
        raise UsageError(
            f"dataset {spec.name!r} has no size {args.size!r}; available: {', '.join(spec.sizes)}"
        )
    try:
        sdata = _register_datasets([spec])
        path = Path(sdata.get_dataset(spec.name, args.size, seed=args.seed, root=args.out))
    except Exception as exc:
        traceback.print_exc()
        _err(f"generating {spec.name!r} failed: {_one_line(exc)}")
        return 1
    nbytes = path.stat().st_size if path.exists() else 0
    print(f"{path}  ({_human_size(nbytes)})")
    return 0


def _one_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _check_device(device: str) -> None:
    if device == "cpu":
        return
    try:
        import torch
    except ImportError as exc:
        raise UsageError(f"--device {device} needs torch, which is not installed") from exc
    if not torch.cuda.is_available():
        raise UsageError(f"--device {device} requested but CUDA is not available on this machine")
    if ":" in device:
        idx = int(device.split(":")[1])
        if idx >= torch.cuda.device_count():
            raise UsageError(
                f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) visible"
            )


def _check_out(out: Path) -> None:
    """Create the output root up front: a path that cannot hold run directories (a file, a
    folder below a file, no write permission) is a usage error, not a traceback mid-run."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise UsageError(f"--out {out}: cannot create the output directory ({why})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: the output directory is not writable")


def _cmd_run(args: argparse.Namespace, argv: Sequence[str]) -> int:
    options = parse_options(args.options)
    reg = _discover()
    if "all" in args.names:
        if len(args.names) > 1:
            raise UsageError("'all' cannot be combined with benchmark names")
        benches = list(reg.benchmarks.values())
        if not benches:
            _err("no benchmarks registered")
            return 1
    else:
        benches = []
        for name in args.names:
            if name not in reg.benchmarks:
                raise _unknown("benchmark", name, list(reg.benchmarks))
            benches.append(reg.benchmarks[name])
    _check_device(args.device)
    _check_out(args.out)
    for spec in reg.datasets.values():  # so that run(ctx) can call sciml.data.get_dataset
        try:
            _register_datasets([spec])
        except Exception as exc:
            print(
                f"warning: could not register dataset {spec.name!r} ({spec.source}) with "
                f"sciml.data: {_one_line(exc)}",
                file=sys.stderr,
            )

    results: list[RunResult] = []
    for bench in benches:
        res = run_benchmark(
            bench,
            out_root=args.out,
            quick=args.quick,
            device=args.device,
            seed=args.seed,
            options=options,
            argv=[PROG, *argv],
        )
        results.append(res)
        if res.status == "failed":
            _err(f"{res.name} failed: {res.reason} (traceback in {res.out_dir / 'log.txt'})")
    if len(results) > 1:
        print("\nSummary:")
        rows = [
            [r.name, r.status, f"{r.wall_time_s:.1f}", r.reason or "-", str(r.out_dir)]
            for r in results
        ]
        print(text_table(["benchmark", "status", "wall (s)", "reason", "output"], rows))
    n_failed = sum(r.status == "failed" for r in results)
    if n_failed and len(results) > 1:
        _err(f"{n_failed} of {len(results)} benchmarks failed")
    return 1 if n_failed else 0


def _cmd_report(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        raise UsageError(f"report: {args.dir} is not a directory")
    text, path, records, warnings = write_report(args.dir)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(text, end="")
    print(f"\nwrote {path}")
    if not records:
        _err(f"no runs (metrics.json files) found under {args.dir}")
        return 1
    return 0


def _cmd_sysinfo(args: argparse.Namespace) -> int:
    info = collect_sysinfo()
    print(json.dumps(info, indent=2) if args.json else format_sysinfo(info))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sciml-bench`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        if args.command == "list":
            return _cmd_list(args)
        if args.command == "info":
            return _cmd_info(args)
        if args.command == "data":
            return _cmd_data(args)
        if args.command == "run":
            return _cmd_run(args, argv)
        if args.command == "report":
            return _cmd_report(args)
        if args.command == "sysinfo":
            return _cmd_sysinfo(args)
    except (UsageError, _registry.RegistryError) as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover
    return 2  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
