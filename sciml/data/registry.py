"""Registry of dataset generators: name -> function that produces the arrays of a dataset file.

Methods register their generators (usually with a lazy ``"package.module:function"`` string, so
nothing heavy is imported until a file is generated)::

    register_dataset(
        "darcy", "sciml.operators.data:generate_darcy",
        sizes={"quick": {"n_train": 64, "res": 32}, "full": {"n_train": 1000, "res": 85}},
        kind="field", description="Darcy flow, piecewise-constant permeability -> pressure",
    )
    path = get_dataset("darcy", "quick", seed=0)   # generated once, then reused

A generator is called as ``fn(seed, **params)`` and returns a dict with ``"splits"`` (required,
as for :func:`write_dataset`) and optionally ``"kind"``, ``"coords"`` and ``"stats"``.
Files are cached as ``<root>/<name>/<name>-<size>-<hash>.h5`` where ``<hash>`` is the first 12 hex
digits of the SHA-256 of the canonical JSON of the parameters and the seed (and the generator's
``version`` when it is not 0), and ``<root>`` is the
``root`` argument, else ``$SCIML_DATA``, else ``~/.cache/sciml``.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DatasetError
from .reader import open_dataset
from .schema import KINDS
from .writer import params_json, write_dataset

__all__ = [
    "DatasetSpec",
    "data_root",
    "dataset_path",
    "get_dataset",
    "list_datasets",
    "register_dataset",
    "unregister_dataset",
]

_log = logging.getLogger(__name__)

_NAME = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")
_TARGET = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_RESULT_KEYS = frozenset({"splits", "kind", "coords", "stats"})

Generator = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class DatasetSpec:
    """One registered dataset.

    Attributes:
        name: registry name (lower case, digits, ``-``, ``_``, ``.``).
        generator: ``"package.module:function"`` (recorded in every generated file).
        sizes: size name -> parameters passed to the generator.
        kind: default schema kind (the generator's result may override it).
        description: one line for ``sciml-bench data list``.
        target: the callable, or the lazy import string.
        version: generator version, raised when a fix changes the data for the same parameters
            (it enters the cache file name, so files made by the old code are not reused).
    """

    name: str
    generator: str
    sizes: Mapping[str, Mapping[str, Any]]
    kind: str | None
    description: str
    target: Generator | str = field(repr=False)
    version: int = 0

    def load(self) -> Generator:
        """The generator function (imports its module if registered as a string)."""
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attr = self.target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as err:
            raise ImportError(
                f"dataset {self.name!r}: cannot load its generator {self.target!r} ({err})"
            ) from err
        if not callable(obj):
            raise TypeError(f"dataset {self.name!r}: generator {self.target!r} is not callable")
        return obj


_REGISTRY: dict[str, DatasetSpec] = {}
"""The registry: a plain module-level dict, name -> spec."""


def register_dataset(
    name: str,
    fn: Generator | str,
    sizes: Mapping[str, Mapping[str, Any]],
    kind: str | None = None,
    description: str = "",
    *,
    replace: bool = False,
    version: int = 0,
) -> DatasetSpec:
    """Register a dataset generator under ``name``.

    Args:
        name: registry name, e.g. ``"darcy"`` (lower case; used in file names).
        fn: ``fn(seed: int, **params) -> {"splits": ..., "kind"?, "coords"?, "stats"?}``, or a
            lazy import string ``"package.module:function"`` (imported on first generation).
        sizes: size name -> JSON-serialisable parameters, e.g. ``{"quick": {...}, "full": {...}}``.
        kind: default kind (one of :data:`sciml.data.schema.KINDS`).
        description: one line describing the data.
        replace: allow replacing a registration with a different generator (registering the same
            generator again, e.g. on a module reload, is always allowed).
        version: generator version (int >= 0). Raise it when a fix changes what the generator
            returns for the same parameters and seed: it enters the cache hash, so files written
            by the old code are regenerated instead of reused. 0 leaves the hash as before.

    Returns:
        The stored :class:`DatasetSpec`.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"name: expected lower-case letters, digits, '-', '_' or '.', starting with a letter "
            f"or digit, got {name!r}"
        )
    if isinstance(fn, str):
        if not _TARGET.match(fn):
            raise ValueError(f"fn: expected a callable or 'package.module:function', got {fn!r}")
        generator = fn
    elif callable(fn):
        generator = f"{getattr(fn, '__module__', '?')}:{getattr(fn, '__qualname__', repr(fn))}"
    else:
        raise TypeError(
            f"fn: expected a callable or 'package.module:function' str, got {type(fn).__name__}"
        )
    if not isinstance(sizes, Mapping) or not sizes:
        raise ValueError(
            f"sizes: expected a non-empty mapping like {{'quick': {{...}}, 'full': {{...}}}}, got {sizes!r}"
        )
    for size, params in sizes.items():
        if not isinstance(size, str) or not _NAME.match(size):
            raise ValueError(
                f"sizes: size names must be lower-case words like 'quick', got {size!r}"
            )
        if not isinstance(params, Mapping):
            raise TypeError(
                f"sizes[{size!r}]: expected a mapping of parameters, got {type(params).__name__}"
            )
        params_json(params)  # raises TypeError if not JSON-serialisable
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"version: expected an int >= 0, got {version!r}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind: expected None or one of {list(KINDS)}, got {kind!r}")
    if not isinstance(description, str):
        raise TypeError(f"description: expected a str, got {type(description).__name__}")
    old = _REGISTRY.get(name)
    if old is not None and old.generator != generator and not replace:
        raise ValueError(
            f"name: dataset {name!r} is already registered with generator {old.generator!r}; "
            f"pass replace=True to replace it with {generator!r}"
        )
    spec = DatasetSpec(
        name=name,
        generator=generator,
        sizes=copy.deepcopy({k: dict(v) for k, v in sizes.items()}),
        kind=kind,
        description=description,
        target=fn,
        version=version,
    )
    _REGISTRY[name] = spec
    return spec


def register_declared(entries: Iterable[Mapping[str, Any]]) -> None:
    """Register datasets declared as ``bench.py`` ``DATASETS`` entries (dicts with ``name``,
    ``generator``, ``sizes`` and optionally ``kind``, ``description``, ``version``).

    Idempotent: registering an entry again replaces it with itself. A name already registered
    with a *different* generator (by the user, say) is left as it is.
    """
    for entry in entries:
        old = _REGISTRY.get(entry["name"])
        if old is not None and old.generator != entry["generator"]:
            continue
        register_dataset(
            entry["name"],
            entry["generator"],
            sizes=entry["sizes"],
            kind=entry.get("kind"),
            description=str(entry.get("description", "")),
            version=entry.get("version", 0),
        )


def unregister_dataset(name: str) -> None:
    """Remove ``name`` from the registry (no error if absent)."""
    _REGISTRY.pop(name, None)


def list_datasets() -> dict[str, DatasetSpec]:
    """Registered datasets by name (sorted), each with its sizes, kind and description."""
    return {k: _REGISTRY[k] for k in sorted(_REGISTRY)}


def _spec(name: str) -> DatasetSpec:
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        known = sorted(_REGISTRY) or "none (import the method package that registers it)"
        raise ValueError(f"name: no dataset {name!r} is registered; registered: {known}") from None


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Cache directory: ``root`` if given, else ``$SCIML_DATA``, else ``~/.cache/sciml``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("SCIML_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "sciml"


def _resolve(
    name: str, size: str, overrides: Mapping[str, Any]
) -> tuple[DatasetSpec, dict[str, Any]]:
    spec = _spec(name)
    if size not in spec.sizes:
        raise ValueError(f"size: dataset {name!r} has sizes {sorted(spec.sizes)}, got {size!r}")
    params = {**copy.deepcopy(dict(spec.sizes[size])), **overrides}
    return spec, params


def _check_seed(seed: Any) -> int:
    """``seed`` itself when it can be recorded in a file (an int in [0, 2**63), the writer's
    int64 attribute); checked before the generator runs, not after."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed: expected an int >= 0, got {seed!r}")
    if seed >= 2**63:
        raise ValueError(f"seed: expected an int below 2**63 (stored as int64), got {seed!r}")
    return seed


def _params_hash(params: Mapping[str, Any], seed: int, version: int = 0) -> str:
    key: dict[str, Any] = {"params": dict(params), "seed": seed}
    if version:  # version 0 keeps the hashes (and cached files) of unversioned generators
        key["version"] = version
    text = params_json(key)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def dataset_path(
    name: str,
    size: str = "quick",
    *,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
    **overrides: Any,
) -> Path:
    """Where :func:`get_dataset` caches this dataset (nothing is generated or checked)."""
    spec, params = _resolve(name, size, overrides)
    digest = _params_hash(params, _check_seed(seed), spec.version)
    return data_root(root) / spec.name / f"{spec.name}-{size}-{digest}.h5"


def _cached_ok(
    path: Path, name: str, params: Mapping[str, Any], seed: int, generator: str | None = None
) -> bool:
    """Whether the file at ``path`` can be reused: it opens, validates and records the same
    name, parameters, seed and (when given) generator. The cache hash does not contain the
    generator, so a dataset re-registered with another generator (``replace=True``) must not
    be served the old generator's file."""
    if not path.exists():
        return False
    try:
        with open_dataset(path) as f:
            attrs = f.attrs
            same = (
                attrs["name"] == name
                and attrs["seed"] == seed
                and attrs["params"] == json.loads(params_json(params))
                and (generator is None or attrs["generator"] == generator)
            )
    except DatasetError as err:
        _log.warning("regenerating %s: cached file is invalid (%s)", path, err)
        return False
    if not same:
        _log.warning("regenerating %s: cached file records other name/params/seed/generator", path)
    return same


def get_dataset(
    name: str,
    size: str = "quick",
    *,
    seed: int = 0,
    root: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    **overrides: Any,
) -> Path:
    """Path of the dataset file ``name`` at ``size``, generating it first if needed.

    The parameters are ``sizes[size]`` updated with ``overrides``. A cached file is reused when it
    opens, validates and records the same name, parameters, seed and generator; otherwise (or with
    ``overwrite=True``) the generator is called as ``fn(seed, **params)`` and its result written
    atomically with :func:`write_dataset`, recording the generator, parameters and seed.

    Returns:
        ``<root>/<name>/<name>-<size>-<hash>.h5`` (see :func:`dataset_path`).
    """
    spec, params = _resolve(name, size, overrides)
    seed = _check_seed(seed)
    path = dataset_path(name, size, seed=seed, root=root, **overrides)
    if not overwrite and _cached_ok(path, spec.name, params, seed, spec.generator):
        return path
    fn = spec.load()
    _log.info("generating dataset %s (%s, seed %d) -> %s", name, size, seed, path)
    result = fn(seed, **copy.deepcopy(params))
    if not isinstance(result, Mapping) or "splits" not in result:
        raise TypeError(
            f"dataset {name!r}: generator {spec.generator} must return a dict with 'splits' "
            f"(and optionally 'kind', 'coords', 'stats'), got {type(result).__name__}"
        )
    extra = sorted(set(result) - _RESULT_KEYS)
    if extra:
        raise TypeError(
            f"dataset {name!r}: generator {spec.generator} returned unknown keys {extra}; "
            f"allowed: {sorted(_RESULT_KEYS)}"
        )
    kind = result.get("kind") or spec.kind
    if kind is None:
        raise ValueError(
            f"dataset {name!r}: no kind; pass kind= to register_dataset or return 'kind' from "
            f"the generator (one of {list(KINDS)})"
        )
    return write_dataset(
        path,
        result["splits"],
        name=spec.name,
        kind=kind,
        params=params,
        coords=result.get("coords"),
        stats=result.get("stats", "auto"),
        seed=seed,
        generator=spec.generator,
    )
