"""Generator registry: caching (generator called once), hashing of params and seed, lazy import
strings, recorded metadata, regeneration of damaged cache files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sciml.data import (
    data_root,
    dataset_path,
    get_dataset,
    list_datasets,
    open_dataset,
    register_dataset,
    register_declared,
    unregister_dataset,
)
from sciml.data.registry import _REGISTRY

CALLS: list[tuple[int, dict[str, Any]]] = []


def field_generator(seed: int, n: int = 8, res: int = 4, scale: float = 1.0) -> dict[str, Any]:
    """y = scale * cumsum(x) along the last axis, with x ~ N(0, 1)."""
    CALLS.append((seed, {"n": n, "res": res, "scale": scale}))
    rng = np.random.default_rng(seed)
    out = {}
    for split, m in (("train", n), ("val", 2), ("test", 2)):
        x = rng.standard_normal((m, res))
        out[split] = {"x": x, "y": scale * np.cumsum(x, axis=-1)}
    return {"splits": out, "coords": {"grid": np.linspace(0, 1, res)}}


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An isolated registry and cache root; CALLS reset."""
    monkeypatch.setattr("sciml.data.registry._REGISTRY", {})
    monkeypatch.setenv("SCIML_DATA", str(tmp_path / "cache"))
    CALLS.clear()
    yield tmp_path / "cache"


SIZES = {"quick": {"n": 6, "res": 4}, "full": {"n": 20, "res": 8}}


def test_get_dataset_generates_once_then_reuses(registry: Path) -> None:
    register_dataset("toy", field_generator, sizes=SIZES, kind="field", description="cumsum")
    p1 = get_dataset("toy")
    assert len(CALLS) == 1 and CALLS[0] == (0, {"n": 6, "res": 4, "scale": 1.0})
    mtime = p1.stat().st_mtime_ns
    p2 = get_dataset("toy", "quick")
    assert p2 == p1 and len(CALLS) == 1 and p1.stat().st_mtime_ns == mtime
    assert p1.parent == registry / "toy" and p1.name.startswith("toy-quick-") and p1.suffix == ".h5"
    digest = hashlib.sha256(
        json.dumps(
            {"params": {"n": 6, "res": 4}, "seed": 0}, sort_keys=True, separators=(",", ":")
        ).encode()
    ).hexdigest()[:12]
    assert p1.name == f"toy-quick-{digest}.h5"
    with open_dataset(p1) as f:
        assert f.attrs["generator"] == f"{__name__}:field_generator"
        assert f.attrs["params"] == {"n": 6, "res": 4} and f.attrs["seed"] == 0
        assert f.attrs["kind"] == "field" and f.attrs["name"] == "toy"
        x, y = f.splits["train"]["x"][()], f.splits["train"]["y"][()]
        np.testing.assert_allclose(y, np.cumsum(x, axis=-1), rtol=1e-14)
        ref = np.random.default_rng(0).standard_normal((6, 4))
        np.testing.assert_array_equal(x, ref)
        np.testing.assert_allclose(f.stats["x"]["mean"], ref.mean(0), rtol=1e-12)
    get_dataset("toy", overwrite=True)
    assert len(CALLS) == 2


def test_hash_changes_with_params_seed_and_size(registry: Path) -> None:
    register_dataset("toy", field_generator, sizes=SIZES, kind="field")
    base = dataset_path("toy")
    assert dataset_path("toy", seed=1) != base
    assert dataset_path("toy", scale=2.0) != base
    assert dataset_path("toy", res=4) == base  # an override equal to the default is the same data
    assert dataset_path("toy", "full").name.startswith("toy-full-")
    p = get_dataset("toy", scale=2.0, seed=3)
    assert CALLS[-1] == (3, {"n": 6, "res": 4, "scale": 2.0})
    with open_dataset(p) as f:
        assert f.attrs["params"] == {"n": 6, "res": 4, "scale": 2.0} and f.attrs["seed"] == 3
    get_dataset("toy", scale=2.0, seed=3)
    get_dataset("toy")
    assert len(CALLS) == 2


def test_generator_version_enters_the_hash_and_regenerates(registry: Path) -> None:
    """A fixed generator registered with a higher ``version`` does not reuse files made by the old
    code; version 0 keeps the unversioned hash (the canonical JSON written out here)."""

    def digest(key: dict) -> str:
        text = json.dumps(key, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    register_dataset("toy", field_generator, sizes=SIZES, kind="field")
    old = get_dataset("toy")
    assert old.name == f"toy-quick-{digest({'params': {'n': 6, 'res': 4}, 'seed': 0})}.h5"
    register_dataset("toy", field_generator, sizes=SIZES, kind="field", version=2)
    key = {"params": {"n": 6, "res": 4}, "seed": 0, "version": 2}
    assert dataset_path("toy").name == f"toy-quick-{digest(key)}.h5"
    new = get_dataset("toy")
    assert new != old and len(CALLS) == 2 and old.exists()
    get_dataset("toy")
    assert len(CALLS) == 2  # the versioned file is reused in turn
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(ValueError, match="version"):
            register_dataset("toy2", field_generator, sizes=SIZES, kind="field", version=bad)


def ones_generator(seed: int, n: int = 8, res: int = 4) -> dict[str, Any]:
    """A different generator with the same parameters as ``field_generator``: all ones."""
    return {"splits": {"train": {"x": np.ones((n, res)), "y": np.ones((n, res))}}}


def test_replaced_generator_does_not_reuse_the_old_generators_file(registry: Path) -> None:
    """The cache hash holds name, size, parameters and seed but not the generator: a dataset
    re-registered with another generator (``replace=True``) must get that generator's data,
    not the file the old one left under the same name (reference: the new generator itself)."""
    register_dataset("toy", field_generator, sizes=SIZES, kind="field")
    old = get_dataset("toy")
    register_dataset("toy", ones_generator, sizes=SIZES, kind="field", replace=True)
    new = get_dataset("toy")
    ref = ones_generator(0, **SIZES["quick"])["splits"]["train"]
    with open_dataset(new) as f:
        assert f.attrs["generator"] == f"{__name__}:ones_generator"
        for key in ("x", "y"):
            np.testing.assert_array_equal(f.splits["train"][key][()], ref[key])
    assert new == old  # same cache path, regenerated in place
    mtime = new.stat().st_mtime_ns
    assert get_dataset("toy") == new and new.stat().st_mtime_ns == mtime  # then reused


def test_seed_that_a_file_cannot_record_is_rejected_before_generating(registry: Path) -> None:
    """The file records the seed as int64 (the writer's range): 2**63 was accepted by
    ``get_dataset``, the generator ran, and only then did the writer refuse the seed."""
    register_dataset("toy", field_generator, sizes=SIZES, kind="field")
    with pytest.raises(ValueError, match="seed"):
        get_dataset("toy", seed=2**63)
    with pytest.raises(ValueError, match="seed"):
        dataset_path("toy", seed=2**64)
    assert CALLS == []  # the generator never ran
    p = get_dataset("toy", seed=2**63 - 1)
    with open_dataset(p) as f:
        assert f.attrs["seed"] == 2**63 - 1


def test_lazy_import_string_and_root_argument(registry: Path, tmp_path: Path) -> None:
    register_dataset("lazy", f"{__name__}:field_generator", sizes={"quick": {"n": 3}}, kind="field")
    assert list_datasets()["lazy"].generator == f"{__name__}:field_generator"
    p = get_dataset("lazy", root=tmp_path / "elsewhere")
    assert p.parent == tmp_path / "elsewhere" / "lazy" and len(CALLS) == 1
    with open_dataset(p) as f:
        assert len(f.splits["train"]["x"]) == 3
    register_dataset("missing", "no_such_module_xyz:make", sizes={"quick": {}}, kind="field")
    with pytest.raises(ImportError, match="no_such_module_xyz:make"):
        get_dataset("missing")


def test_damaged_cache_file_is_regenerated(registry: Path) -> None:
    register_dataset("toy", field_generator, sizes=SIZES, kind="field")
    p = get_dataset("toy")
    p.write_bytes(p.read_bytes()[:100])
    assert get_dataset("toy") == p and len(CALLS) == 2
    with open_dataset(p) as f:
        assert f.attrs["name"] == "toy"


def test_register_declared_equals_register_dataset_and_keeps_foreign_entries(
    registry: Path,
) -> None:
    gen = f"{__name__}:field_generator"
    entry = {"name": "decl", "generator": gen, "sizes": SIZES, "kind": "field", "version": 2}
    register_declared([entry, dict(entry, name="decl2", description="two")])
    register_declared([entry])  # again: harmless
    spec = list_datasets()["decl"]
    assert (spec.generator, spec.sizes, spec.kind, spec.version) == (gen, SIZES, "field", 2)
    assert list_datasets()["decl2"].description == "two"
    ref = register_dataset("ref", gen, sizes=SIZES, kind="field", version=2)
    assert (
        dataset_path("decl", seed=3).name.split("-")[-1]
        == dataset_path("ref", seed=3).name.split("-")[-1]
    )  # same parameters, seed and version -> same cache hash
    assert ref.generator == spec.generator
    # a name registered by someone else with another generator is left alone
    register_dataset("mine", lambda seed: {}, sizes=SIZES, kind="field")
    before = list_datasets()["mine"]
    register_declared([dict(entry, name="mine")])
    assert list_datasets()["mine"] is before
    with pytest.raises(ValueError, match="sizes"):
        register_declared([dict(entry, name="bad", sizes={})])


def test_list_and_register_validation(registry: Path) -> None:
    register_dataset("b-set", field_generator, sizes=SIZES, kind="field", description="B")
    register_dataset("a-set", "pkg.mod:fn", sizes=SIZES)
    listing = list_datasets()
    assert list(listing) == ["a-set", "b-set"]
    assert listing["b-set"].description == "B" and listing["b-set"].sizes["full"] == {
        "n": 20,
        "res": 8,
    }
    register_dataset("b-set", field_generator, sizes={"quick": {}}, kind="field")  # same generator
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("b-set", "pkg.mod:other", sizes=SIZES)
    register_dataset("b-set", "pkg.mod:other", sizes=SIZES, replace=True)
    unregister_dataset("b-set")
    assert "b-set" not in list_datasets()
    with pytest.raises(ValueError, match="name"):
        register_dataset("Bad Name", field_generator, sizes=SIZES)
    with pytest.raises(ValueError, match="fn"):
        register_dataset("x", "not-a-target", sizes=SIZES)
    with pytest.raises(ValueError, match="sizes"):
        register_dataset("x", field_generator, sizes={})
    with pytest.raises(TypeError, match="JSON"):
        register_dataset("x", field_generator, sizes={"quick": {"f": object()}})
    with pytest.raises(ValueError, match="kind"):
        register_dataset("x", field_generator, sizes=SIZES, kind="nope")
    with pytest.raises(ValueError, match=r"no dataset 'zzz' is registered"):
        get_dataset("zzz")
    with pytest.raises(ValueError, match=r"size: dataset 'a-set' has sizes \['full', 'quick'\]"):
        get_dataset("a-set", "huge")
    with pytest.raises(ValueError, match="seed"):
        get_dataset("a-set", seed=-1)


def test_bad_generator_results(registry: Path) -> None:
    register_dataset("nokind", field_generator, sizes={"quick": {}})
    with pytest.raises(ValueError, match="no kind"):
        get_dataset("nokind")
    register_dataset("notdict", lambda seed: [1], sizes={"quick": {}}, kind="field")
    with pytest.raises(TypeError, match="must return a dict with 'splits'"):
        get_dataset("notdict")
    register_dataset(
        "extra", lambda seed: {"splits": {}, "meta": 1}, sizes={"quick": {}}, kind="field"
    )
    with pytest.raises(TypeError, match=r"unknown keys \['meta'\]"):
        get_dataset("extra")


def test_data_root(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SCIML_DATA", raising=False)
    assert data_root() == Path.home() / ".cache" / "sciml"
    monkeypatch.setenv("SCIML_DATA", str(tmp_path))
    assert data_root() == tmp_path
    assert data_root(tmp_path / "x") == tmp_path / "x"


def test_registry_is_a_plain_dict() -> None:
    assert type(_REGISTRY) is dict
