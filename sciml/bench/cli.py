"""``sciml-bench``: list, describe, generate data for, run and report benchmarks.

Exit codes: 0 success; 1 a benchmark or generator failed (or nothing to report, or the reader of
the output closed the pipe early); 2 usage error (unknown name, an ``-o`` key the benchmark does
not declare, CUDA requested but unavailable, inconsistent registry).
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import json
import logging
import math
import os
import re
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import registry as _registry
from ._atomic import atomic_write_text
from ._format import arrow, fmt_num, text_table
from .report import collect_runs, filters_note, render_report, select_runs
from .runner import RunResult, run_benchmark
from .sysinfo import collect_sysinfo, format_sysinfo

__all__ = ["build_parser", "main", "parse_options"]

PROG = "sciml-bench"
_DEVICE_RE = re.compile(r"^(cpu|cuda(:\d+)?)$")
_LOG_HANDLER = "sciml-bench-stderr"
_WIDTH = 100  # console tables wrap their last column to fit this many characters


class UsageError(Exception):
    """A user error reported as ``sciml-bench: error: ...`` with exit code 2."""


def _err(msg: str) -> None:
    print(f"{PROG}: {msg}", file=sys.stderr, flush=True)


def _device(value: str) -> str:
    if not _DEVICE_RE.match(value):
        raise argparse.ArgumentTypeError(f"expected cpu, cuda or cuda:N, got {value!r}")
    return value


def _seed(value: str) -> int:
    """``--seed``: an int in [0, 2**63) (what torch's seeding and a dataset file's int64
    ``seed`` attribute hold); a larger one is a usage error, not a failed run."""
    try:
        seed = int(value)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {value!r}")
    if seed >= 2**63:
        raise argparse.ArgumentTypeError(f"expected an int below 2**63 (64-bit), got {value!r}")
    return seed


def _version() -> str:
    """``sciml <version> (<package folder>)``: tells this tool from STFC SciMLBench's."""
    import sciml

    return f"sciml {sciml.__version__} ({Path(sciml.__file__).resolve().parent})"


def _looks_like_path(item: str) -> bool:
    return "/" in item or item.startswith((".", "~"))


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
            hint = " (did you mean --out PATH?)" if not sep and _looks_like_path(item) else ""
            raise UsageError(f"-o expects key=value, got {item!r}{hint}")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        # NaN / Infinity are JSON to Python's parser but not a setting (config.json records null)
        if not _all_finite(value):
            raise UsageError(f"-o {key}: expected a finite value, got {raw!r}")
        options[key] = value
    return options


def _all_finite(value: Any) -> bool:
    """No NaN or infinite float anywhere in a parsed JSON value."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_all_finite(v) for v in value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    return True


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for all sub-commands."""
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Benchmarks for sciml: list, inspect, generate data, run, report.",
    )
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    pl = sub.add_parser("list", help="list registered benchmarks and datasets")

    pi = sub.add_parser("info", help="describe a benchmark or dataset (options, references)")
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
    pg.add_argument("--seed", type=_seed, default=0, help="int >= 0 (default 0)")

    pr = sub.add_parser("run", help="run benchmarks (NAME ... or all)")
    pr.add_argument("names", nargs="+", metavar="NAME|all")
    pr.add_argument("--quick", action="store_true", help="small configuration")
    pr.add_argument("--device", type=_device, default="cpu", help="cpu, cuda or cuda:N")
    pr.add_argument("--seed", type=_seed, default=0, help="int >= 0 (default 0)")
    pr.add_argument("--out", type=Path, default=Path("runs"), help="output root (default runs/)")
    pr.add_argument(
        "-o",
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="benchmark option (value parsed as JSON when possible; see 'info NAME')",
    )

    pp = sub.add_parser(
        "report",
        help="Markdown report over the runs found under DIR (also written to DIR/report.md)",
        description="One section per benchmark: the runs' settings, then a table with the "
        "metrics as rows and the runs as columns (oldest first), the reference checked against "
        "the latest run. Written to DIR/report.md as well.",
    )
    pp.add_argument("dir", type=Path, metavar="DIR")
    pp.add_argument(
        "--benchmark",
        dest="benchmarks",
        action="append",
        default=[],
        metavar="NAME",
        help="only this benchmark's runs (repeatable)",
    )
    pp.add_argument("--latest", action="store_true", help="only the newest run of each benchmark")

    ps = sub.add_parser("sysinfo", help="software and hardware information")
    ps.add_argument("--json", action="store_true", help="print JSON")
    for cmd in (pl, pi, pd, pg, pr, pp, ps):
        cmd.set_defaults(_parser=cmd)  # the innermost sub-command's parser reports its errors
    return p


def _discover() -> _registry.Registry:
    reg = _registry.discover()
    for w in reg.warnings:
        print(f"warning: {w}", file=sys.stderr, flush=True)
    return reg


def _suggest(name: str, known: Sequence[str], n: int = 6) -> list[str]:
    """Close (``difflib``) matches, then names starting with, then containing, ``name``."""
    close = difflib.get_close_matches(name, known, n=3)
    low = name.lower()
    prefix = [k for k in known if k.startswith(low)]
    inner = [k for k in known if low in k] if len(low) >= 2 else []
    return list(dict.fromkeys([*close, *prefix, *inner]))[:n]


def _unknown(kind: str, name: str, known: Sequence[str]) -> UsageError:
    close = _suggest(name, known)
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


def _print_options(b: _registry.Benchmark) -> None:
    if b.options is None:
        print("options    not declared (-o KEY=VALUE is passed on unchecked)")
    elif not b.options:
        print("options    none")
    else:
        print("options (-o KEY=VALUE):")
        rows = [[k, h or "-"] for k, h in b.options.items()]
        print(text_table(["option", "help"], rows, width=_WIDTH))


def _info_benchmark(reg: _registry.Registry, b: _registry.Benchmark) -> None:
    print(f"benchmark  {b.name}")
    print(f"package    {b.source.parent.parent.name}.{b.package}")
    print(f"file       {b.source}")
    print(f"about      {b.description or '-'}")
    shown = [d if d in reg.datasets else f"{d} (not declared in any DATASETS)" for d in b.datasets]
    print(f"datasets   {', '.join(shown) or '-'}")
    _print_options(b)
    _print_glossary(b)
    if b.references:
        print("references:")
        rows = [
            [k, f"{r.target} {fmt_num(r.value)}" if r.target else fmt_num(r.value), r.source]
            for k, r in b.references.items()
        ]
        print(text_table(["metric", "value", "source"], rows, width=_WIDTH))
        if any(r.target for r in b.references.values()):
            print("(>= / <=: a target the metric must meet, not a published figure)")
    else:
        print("references: none")


def _print_glossary(b: _registry.Benchmark) -> None:
    if b.metrics is None:
        print("metrics    not described (no glossary declared)")
    elif not b.metrics:
        print("metrics    none described")
    else:
        enc = getattr(sys.stdout, "encoding", None)
        print("metrics (name pattern, whether lower or higher is better, meaning):")
        rows = [[p, arrow(d.better, enc), d.about or "-"] for p, d in b.metrics.items()]
        print(text_table(["metric", "better", "about"], rows, width=_WIDTH))


def _info_dataset(reg: _registry.Registry, d: _registry.DatasetSpec) -> None:
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


def _cmd_info(args: argparse.Namespace) -> int:
    reg = _discover()
    name = args.name
    if name not in reg.benchmarks and name not in reg.datasets:
        raise _unknown("benchmark or dataset", name, [*reg.benchmarks, *reg.datasets])
    if name in reg.benchmarks:
        _info_benchmark(reg, reg.benchmarks[name])
    if name in reg.benchmarks and name in reg.datasets:
        print()
    if name in reg.datasets:
        _info_dataset(reg, reg.datasets[name])
    return 0


def _register_datasets(specs: Sequence[_registry.DatasetSpec]) -> Any:
    """Register ``specs`` with ``sciml.data`` (re-registering the same entry is harmless)."""
    sdata = importlib.import_module("sciml.data")
    sdata.register_declared(
        {
            "name": spec.name,
            "generator": spec.generator,
            "sizes": dict(spec.sizes),
            "kind": spec.kind,
            "description": spec.description,
            "version": spec.version,
        }
        for spec in specs
    )
    return sdata


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _file_id(path: Path) -> tuple[int, int, int] | None:
    """Identity of the file at ``path`` (inode, size, mtime), ``None`` if there is none."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _data_target(
    sdata: Any, spec: _registry.DatasetSpec, args: argparse.Namespace
) -> tuple[Path, Path]:
    """The data root and the file ``get_dataset`` will cache; argument problems are usage errors."""
    root = Path(sdata.data_root(args.out))
    where = f"--out {root}" if args.out is not None else f"data root {root}"
    _check_out(root, where)
    try:
        path = Path(sdata.dataset_path(spec.name, args.size, seed=args.seed, root=root))
    except ValueError as exc:
        raise UsageError(f"data generate {spec.name}: {exc}") from exc
    _check_out(path.parent, f"{where}: {path.parent}")
    return root, path


def _dataset_spec(name: str, size: str) -> _registry.DatasetSpec:
    reg = _discover()
    if name not in reg.datasets:
        raise _unknown("dataset", name, list(reg.datasets))
    spec = reg.datasets[name]
    if spec.sizes and size not in spec.sizes:
        raise UsageError(
            f"dataset {spec.name!r} has no size {size!r}; available: {', '.join(spec.sizes)}"
        )
    return spec


def _cmd_data(args: argparse.Namespace) -> int:
    spec = _dataset_spec(args.name, args.size)
    try:
        sdata = _register_datasets([spec])
    except Exception as exc:
        traceback.print_exc()
        _err(f"registering {spec.name!r} ({spec.source}) failed: {_one_line(exc)}")
        return 1
    root, target = _data_target(sdata, spec, args)
    before = _file_id(target)
    try:  # past the argument checks, an exception is a generator (or writer) problem
        path = Path(sdata.get_dataset(spec.name, args.size, seed=args.seed, root=root))
    except Exception as exc:
        traceback.print_exc()
        _err(f"generating {spec.name!r} failed: {_one_line(exc)}")
        return 1
    after = _file_id(path)
    how = "reused from cache" if before is not None and before == after else "generated"
    print(f"{path}  ({_human_size(after[1] if after else 0)}, {how})")
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


def _check_out(out: Path, what: str | None = None) -> None:
    """Create the output root up front: a path that cannot hold run directories (a file, a
    folder below a file, no write permission) is a usage error, not a traceback mid-run.
    ``what`` names the path in the message (default ``--out <out>``)."""
    what = what or f"--out {out}"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise UsageError(f"{what}: cannot create the output directory ({why})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"{what}: the output directory is not writable")


def _bad_option(key: str, benches: Sequence[_registry.Benchmark], valid: Sequence[str]) -> str:
    """One-line message for an ``-o`` key that no selected benchmark declares."""
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    if len(benches) == 1:
        who = f"benchmark {benches[0].name!r}"
        if not valid:
            return f"{who} takes no options (got -o {key}=...)"
        return f"{who} has no option {key!r}{hint}; valid options: {', '.join(valid)}"
    who = f"none of the {len(benches)} selected benchmarks has option {key!r}{hint}"
    return f"{who}; valid options: {', '.join(valid) or '(they take no options)'}"


def _check_options(benches: Sequence[_registry.Benchmark], options: Mapping[str, Any]) -> None:
    """Reject ``-o`` keys that no selected benchmark declares; note benchmarks ignoring a key.

    Benchmarks whose entry declares no ``options`` (``None``) accept any key unchecked.
    """
    declared = [b for b in benches if b.options is not None]
    valid = sorted({k for b in declared for k in b.options or {}})
    for key in options:
        ignoring = [b.name for b in declared if key not in (b.options or {})]
        if len(ignoring) == len(benches):
            raise UsageError(_bad_option(key, benches, valid))
        if ignoring:
            _err(f"note: option {key!r} is not used by {', '.join(ignoring)}")


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
    _check_options(benches, options)
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
    records, warnings = collect_runs(args.dir)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not records:
        _err(f"error: no runs (metrics.json files) found under {args.dir}; report.md not written")
        return 1
    found = list(dict.fromkeys(r.name for r in records))
    for name in args.benchmarks:
        if name not in found:
            close = _suggest(name, found)
            hint = (
                f"did you mean {', '.join(close)}?" if close else f"runs found: {', '.join(found)}"
            )
            raise UsageError(f"report: no runs of benchmark {name!r} under {args.dir}; {hint}")
    selected = select_runs(records, args.benchmarks, args.latest)
    text = render_report(
        selected,
        filters=filters_note(args.benchmarks, args.latest),
        encoding=getattr(sys.stdout, "encoding", None),
    )
    path = atomic_write_text(args.dir / "report.md", text)
    print(text, end="")
    print(f"\nwrote {path}")
    return 0


def _cmd_sysinfo(args: argparse.Namespace) -> int:
    info = collect_sysinfo()
    print(json.dumps(info, indent=2) if args.json else format_sysinfo(info))
    return 0


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted (tests swap it)."""

    @property
    def stream(self) -> Any:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


@contextlib.contextmanager
def _sciml_logging() -> Iterator[None]:
    """Show ``sciml`` log messages of level INFO and above on stderr while a command runs."""
    logger = logging.getLogger("sciml")
    if any(h.get_name() == _LOG_HANDLER for h in logger.handlers):  # main() inside main()
        yield
        return
    handler = _StderrHandler()
    handler.set_name(_LOG_HANDLER)
    handler.setFormatter(logging.Formatter("%(message)s"))
    level = logger.level
    logger.addHandler(handler)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; unrecognised arguments are reported by the sub-command's own parser."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        sub = getattr(args, "_parser", parser)
        sub.error(f"unrecognized arguments: {' '.join(extra)}{_mixup_hint(args, extra)}")
    return args


def _mixup_hint(args: argparse.Namespace, extra: Sequence[str]) -> str:
    if args.command == "run" and any(a == "--size" or a.startswith("--size=") for a in extra):
        return " (run takes --quick for the small configuration, not --size)"
    if args.command == "data" and "--quick" in extra:
        return " (data generate takes --size quick, not --quick)"
    return ""


def _dispatch(args: argparse.Namespace, argv: Sequence[str]) -> int:
    commands = {
        "list": _cmd_list,
        "info": _cmd_info,
        "data": _cmd_data,
        "report": _cmd_report,
        "sysinfo": _cmd_sysinfo,
    }
    if args.command == "run":
        return _cmd_run(args, argv)
    return commands[args.command](args)


def _main(argv: list[str]) -> int:
    try:
        args = _parse(build_parser(), argv)
    except SystemExit as exc:  # --help/--version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        return _dispatch(args, argv)
    except (UsageError, _registry.RegistryError) as exc:
        _err(f"error: {exc}")
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sciml-bench`` console script; returns the exit code.

    Output piped into a reader that stops early (``sciml-bench list | head -1``) ends quietly
    with exit code 1, as the Python documentation recommends for ``BrokenPipeError``.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with _sciml_logging():
            rc = _main(argv)
            sys.stdout.flush()  # a broken pipe shows up here, not at interpreter exit
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # no real file descriptor: nothing to do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return rc


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
