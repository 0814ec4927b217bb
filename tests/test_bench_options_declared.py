"""Every ``-o key=value`` option a benchmark reads is declared in its ``BENCHMARKS`` entry's
``"options"`` (``{name: one-line help}``), and every declared option is read.

``sciml-bench run`` rejects undeclared keys, so an option read but not declared could never be
used, and one declared but not read would be a lie in ``sciml-bench info``. The options read are
found by a static scan of the source: the benchmark's ``run`` function and every module-level
function of the same file that it reaches (calls or names), searched with the regexes below. Any
other use of ``ctx`` or ``ctx.options`` (passed to a function of another module, iterated, ...)
fails the scan, since its keys could not be seen.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import re
from pathlib import Path

import pytest

from sciml.bench.registry import discover, load_bench_file

EXPECTED = {
    "kernels", "gphm", "mri-rdledm", "ct-redpsm", "mri-redpsm", "dcdm-2d", "dcdm-3d",
    "lsm-darcy", "lsm-ns", "ssm-ar", "ssm-etth1", "funbat-synthetic", "funbat-scaling",
}  # fmt: skip

_KEY = r"""\(\s*["'](\w+)["']"""
# the ways the bench files read an option with a literal key
READ_PATTERNS = [
    re.compile(r"\bctx\.options\.get" + _KEY),  # ctx.options.get("key", default)
    re.compile(r"""\bctx\.options\[\s*["'](\w+)["']\s*\]"""),  # ctx.options["key"]
    re.compile(r"""["'](\w+)["']\s+(?:not\s+)?in\s+ctx\.options\b"""),  # "key" in ctx.options
    # helpers taking ctx or the options dict: _opt(ctx, "key", ...), _opt_int(o, "key", ...)
    re.compile(r"""\b_opt\w*\(\s*(?:ctx|ctx\.options|options|o)\s*,\s*["'](\w+)["']"""),
    # the options dict under a local name (ssm's *_settings): o.get("key"), options["key"]
    re.compile(r"\b(?:o|options)\.get" + _KEY),
    re.compile(r"""\b(?:o|options)\[\s*["'](\w+)["']\s*\]"""),
]


def _module_functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def _is_ctx_options(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "options"
        and isinstance(node.value, ast.Name)
        and node.value.id == "ctx"
    )


def _opaque_uses(fn: ast.FunctionDef, funcs: dict[str, ast.FunctionDef]) -> list[str]:
    """Uses of ``ctx.options`` the regexes cannot see through: anything but ``.get("key"``,
    ``["key"]``, ``"key" in`` or an argument to a function of the same file; and ``ctx`` passed
    to a function of another module."""
    parent = {c: p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
    bad = []

    def local_call(call: ast.AST) -> bool:
        return (
            isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in funcs
        )

    def literal(node: ast.AST) -> bool:
        return isinstance(node, ast.Constant) and isinstance(node.value, str)

    params = {a.arg for a in fn.args.args}

    def key_arg(node: ast.AST) -> bool:
        """A literal key, or (in a helper ``_opt*(ctx, key, ...)`` whose call sites the regexes
        read) the key parameter."""
        return literal(node) or (
            fn.name.startswith("_opt") and isinstance(node, ast.Name) and node.id in params
        )

    for node in ast.walk(fn):
        if _is_ctx_options(node):
            up = parent.get(node)
            ok = (
                (  # ctx.options.get("key", ...)
                    isinstance(up, ast.Attribute)
                    and up.attr == "get"
                    and isinstance(parent.get(up), ast.Call)
                    and parent[up].args
                    and key_arg(parent[up].args[0])
                )
                or (isinstance(up, ast.Subscript) and literal(up.slice))  # ctx.options["key"]
                or (isinstance(up, ast.Compare) and literal(up.left))  # "key" in ctx.options
                or (local_call(up) and node is not up.func)  # same-file helper(ctx.options, ...)
                or (isinstance(up, ast.keyword) and local_call(parent.get(up)))
            )
            if not ok:
                bad.append(f"{fn.name}:{node.lineno}: {ast.unparse(up)}")
        elif isinstance(node, ast.Name) and node.id == "ctx" and isinstance(node.ctx, ast.Load):
            up = parent.get(node)
            if isinstance(up, ast.keyword):
                up = parent.get(up)
            if isinstance(up, ast.Call) and node is not up.func and not local_call(up):
                bad.append(f"{fn.name}:{node.lineno}: ctx passed to {ast.unparse(up.func)}")
    return bad


def scan_run(run) -> tuple[set[str], list[str]]:
    """Option keys read by ``run`` and the same-file functions it reaches; opaque uses."""
    path = inspect.getsourcefile(run)
    assert path, f"no source file for {run!r}"
    src = Path(path).read_text()
    funcs = _module_functions(ast.parse(src))
    assert run.__name__ in funcs, f"{run.__name__} is not a module-level function of {path}"
    todo, seen = [run.__name__], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(funcs[name]):
            if isinstance(node, ast.Name) and node.id in funcs and node.id not in seen:
                todo.append(node.id)
    keys: set[str] = set()
    opaque: list[str] = []
    for name in sorted(seen):
        text = ast.get_source_segment(src, funcs[name])
        for pat in READ_PATTERNS:
            keys.update(pat.findall(text))
        opaque += _opaque_uses(funcs[name], funcs)
    return keys, opaque


def _bench_entries() -> list[tuple[Path, dict]]:
    """Raw ``BENCHMARKS`` entries of every bench file the registry discovers."""
    reg = discover()
    out = []
    for i, path in enumerate(reg.files):
        module = load_bench_file(path, f"_test_bench_options_{i}_{path.parent.name}")
        out += [(path, entry) for entry in module.BENCHMARKS]
    names = [e["name"] for _, e in out]
    assert len(names) == len(set(names))
    assert EXPECTED <= set(names), sorted(EXPECTED - set(names))
    assert set(names) == set(reg.benchmarks)
    return out


ENTRIES = _bench_entries()


@pytest.mark.parametrize("path,entry", ENTRIES, ids=[e["name"] for _, e in ENTRIES])
def test_options_declared_and_read(path, entry):
    name = entry["name"]
    assert "options" in entry, f"{name} ({path}): no 'options' entry"
    declared = entry["options"]
    assert isinstance(declared, dict), f"{name}: 'options' must be a dict"
    for key, help_ in declared.items():
        assert isinstance(key, str) and re.fullmatch(r"\w+", key), (name, key)
        assert isinstance(help_, str) and help_.strip(), (name, key)
        assert "\n" not in help_ and "default" in help_, f"{name} -o {key}: {help_!r}"
    read, opaque = scan_run(entry["run"])
    assert not opaque, f"{name}: option uses the scan cannot follow: {opaque}"
    assert not read - set(declared), (
        f"{name}: reads undeclared options {sorted(read - set(declared))}"
    )
    assert not set(declared) - read, (
        f"{name}: declares unread options {sorted(set(declared) - read)}"
    )


def test_ssm_options_are_the_constants_their_parsers_check():
    """``ssm-etth1`` declares exactly the keys ``etth1_settings`` accepts, ``ssm-ar`` those
    ``ar_settings`` accepts (one constant each); any other key is an error naming them."""
    entries = {e["name"]: e for _, e in ENTRIES}
    for name, const, parse in (
        ("ssm-etth1", "ETTH1_OPTIONS", "etth1_settings"),
        ("ssm-ar", "AR_OPTIONS", "ar_settings"),
    ):
        entry = entries[name]
        mod = entry["run"].__globals__
        assert entry["options"] is mod[const]
        read, _ = scan_run(entry["run"])
        assert read == set(mod[const])
        with pytest.raises(ValueError, match="unknown") as exc:
            mod[parse]({"not_an_option": 1})
        assert all(repr(k) in str(exc.value) for k in mod[const])


def test_no_issue_tracker_references_in_sources():
    for _, entry in ENTRIES:
        for metric, ref in entry.get("references", {}).items():
            assert "issue #" not in ref["source"].lower(), (entry["name"], metric, ref["source"])


def test_scan_sees_every_pattern(tmp_path):
    """The scanner finds each read form, follows same-file helpers and flags opaque uses."""
    src = """
def _opt(ctx, key, default):
    return ctx.options.get(key, default)


def _settings(options):
    o = dict(options)
    return o.get("e"), _opt_int(o, "f", 1), options["g"]


def helper(ctx):
    return _opt(ctx, "d", 1)


def run(ctx):
    a = ctx.options.get("a", 1)
    b = ctx.options["b"]
    if "c" in ctx.options:
        pass
    helper(ctx)
    _settings(ctx.options)
    return a, b


def run_opaque(ctx):
    from elsewhere import f

    f(ctx)
    return dict(ctx.options)
"""
    path = tmp_path / "fake_bench.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("_fake_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    keys, opaque = scan_run(mod.run)
    assert keys == set("abcdefg") and opaque == []
    keys, opaque = scan_run(mod.run_opaque)
    assert keys == set() and len(opaque) == 2
