import importlib.util
import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "sciml" / "ssm" / "bench.py"


def test_bench_top_level_imports_nothing_heavy():
    code = (
        "import importlib.util, sys, json\n"
        f"spec = importlib.util.spec_from_file_location('_b', {str(BENCH)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "print(json.dumps([k for k in ('torch', 'numpy', 'jax', 'sciml.ssm', 'sciml.bench') if k in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip()) == []


def test_bench_entries_are_well_formed():
    spec = importlib.util.spec_from_file_location("_ssm_bench", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = [b["name"] for b in mod.BENCHMARKS]
    assert names == ["ssm-ar", "ssm-etth1"]
    for b in mod.BENCHMARKS:
        assert callable(b["run"])
        for ref in b["references"].values():
            assert isinstance(ref["value"], float) and ref["source"]
    ds = mod.DATASETS[0]
    assert ds["name"] == "ssm-ar" and ds["generator"] == "sciml.ssm.ar:generate_ar_dataset"
    from sciml.ssm.ar import generate_ar_dataset

    out = generate_ar_dataset(
        0, **{**ds["sizes"]["quick"], "n_train": 40, "n_val": 10, "n_test": 10}
    )
    assert set(out["splits"]["train"]) == {f"series_p{p}" for p in ds["sizes"]["quick"]["orders"]}


class _Ctx:
    quick, device, seed, options = True, "cpu", 0, {"etth1_path": "/nonexistent/ETTh1.csv"}

    def skip(self, reason):
        raise RuntimeError("skipped: " + reason)


def test_etth1_skips_when_absent():
    spec = importlib.util.spec_from_file_location("_ssm_bench2", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    try:
        mod.run_etth1(_Ctx())
    except RuntimeError as exc:
        assert "absent" in str(exc) and "/nonexistent/ETTh1.csv" in str(exc)
    else:
        raise AssertionError("run_etth1 did not skip")


def _bench_module():
    spec = importlib.util.spec_from_file_location("_ssm_bench3", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_etth1_options_parse():
    import pytest

    mod = _bench_module()
    st = mod.etth1_settings({})
    # full-mode defaults = the protocol fixed on the validation split (docs/status/ssm.md §3)
    assert st["horizons"] == [24, 48, 168, 336, 720] and st["epochs"] == 1
    assert st["lr"] == 2e-3 and st["weight_decay"] == 1e-4 and st["dropout"] == 0.25
    assert st["schedule"] == "step" and st["s4d_schedule"] == "epoch" and st["s4d_lr"] == 1e-3
    assert st["loss"] == "rmse" and st["loss_weights"] == (1.0, 1.0, 0.0) and st["norm"] == "l1"
    assert st["val_every_steps"] == 5
    assert st["models"] == ["spacetime", "s4d", "linear", "last"] and st["patience"] is None
    quick = mod.etth1_settings({}, quick=True)
    assert quick["horizons"] == [24] and quick["val_every_steps"] is None
    # values as the CLI's parse_options delivers them (JSON numbers, else strings)
    st = mod.etth1_settings(
        {
            "lr": 0.0003,
            "weight_decay": "1e-3",
            "dropout": 0.5,
            "models": "spacetime,linear",
            "horizons": 24,
            "patience": 2,
            "epochs": "3",
            "warmup": "1",
            "loss": "mse",
            "loss_weights": "1,1,1",
            "norm": "clip",
            "train_stride": "2",
            "schedule": "epoch",
            "s4d_schedule": "step",
        }
    )
    assert (st["lr"], st["weight_decay"], st["dropout"]) == (3e-4, 1e-3, 0.5)
    assert st["models"] == ["spacetime", "linear"] and st["horizons"] == [24]
    assert st["patience"] == 2 and st["warmup"] == 1 and st["train_stride"] == 2
    assert st["loss"] == "mse" and st["loss_weights"] == (1.0, 1.0, 1.0) and st["norm"] == "clip"
    assert st["epochs"] == 3
    assert mod.etth1_settings({"patience": 0})["patience"] is None
    assert mod.etth1_settings({"val_every_steps": "none"})["val_every_steps"] is None
    assert mod.etth1_settings({"val_every_steps": 15})["val_every_steps"] == 15
    assert mod.etth1_settings({"val_every_steps": "20"})["val_every_steps"] == 20
    assert mod.etth1_settings({"val_every_steps": "none"})["val_every_steps"] is None
    assert mod.etth1_settings({})["ema"] is None and mod.etth1_settings({"ema": 0})["ema"] is None
    assert mod.etth1_settings({"ema": 0.95})["ema"] == 0.95
    assert mod.etth1_settings({"ema": "0.9"})["ema"] == 0.9
    assert st["kernel_method"] == "fast"
    assert st["schedule"] == "epoch" and st["s4d_schedule"] == "step"
    assert mod.etth1_settings({"kernel_method": "squaring"})["kernel_method"] == "squaring"
    assert st["ci_block"] is None and st["ci_boot"] == 2000  # auto: max(168, h) hours
    assert mod.etth1_settings({"ci_block": "48", "ci_boot": 500})["ci_block"] == 48
    bad = [
        ({"ci_block": 0}, "ci_block"),
        ({"ci_block": "week"}, "ci_block"),
        ({"ci_boot": 10}, "ci_boot"),
        ({"kernel_method": "dense"}, "kernel_method"),
        ({"schedule": "batch"}, "schedule"),
        ({"s4d_schedule": "cosine"}, "s4d_schedule"),
        ({"lr": 0}, "lr"),
        ({"lr": "fast"}, "lr"),
        ({"weight_decay": -1}, "weight_decay"),
        ({"dropout": 1.0}, "dropout"),
        ({"models": "spacetime,arima"}, "models"),
        ({"horizons": "24,x"}, "horizons"),
        ({"horizons": "0"}, "horizons"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"train_stride": True}, "train_stride"),
        ({"patience": -1}, "patience"),
        ({"val_every_steps": -5}, "val_every_steps"),
        ({"val_every_steps": 2.5}, "val_every_steps"),
        ({"val_every_steps": "often"}, "val_every_steps"),
        ({"ema": 1.0}, "ema"),
        ({"ema": -0.1}, "ema"),
        ({"ema": "slow"}, "ema"),
        ({"warmup": 10}, "warmup"),
        ({"loss": "mae"}, "loss"),
        ({"loss_weights": "1,1"}, "loss_weights"),
        ({"norm": "l2"}, "norm"),
        ({"learning_rate": 1e-3}, "unknown"),
    ]
    for opts, name in bad:
        with pytest.raises(ValueError, match=name):
            mod.etth1_settings(opts)


def test_ar_options_checked_before_any_data(monkeypatch):
    """``-o orders=3`` used to fail late with KeyError 'phi_p3'; every ssm-ar option is now
    checked up front with a ValueError naming it and what it accepts."""
    import pytest

    mod = _bench_module()
    assert mod.ar_settings({}) == {
        "epochs": 30,
        "train_windows": 8000,
        "orders": [2, 4, 8, 16],
        "models": ["spacetime", "s4d"],
        "balance_loss": True,
    }
    quick = mod.ar_settings({}, quick=True)
    assert quick["epochs"] == 3 and quick["train_windows"] == 2000
    # values as the CLI's parse_options delivers them (JSON numbers/bools/lists, else strings)
    st = mod.ar_settings(
        {
            "orders": "16,2",
            "models": "s4d",
            "epochs": "5",
            "train_windows": 0,
            "balance_loss": False,
        }
    )
    assert st["orders"] == [16, 2] and st["models"] == ["s4d"] and st["epochs"] == 5
    assert st["train_windows"] == 0 and st["balance_loss"] is False
    assert mod.ar_settings({"orders": 8})["orders"] == [8]
    assert mod.ar_settings({"orders": [2, 4]})["orders"] == [2, 4]
    assert mod.ar_settings({"balance_loss": "no"})["balance_loss"] is False
    bad = [
        ({"orders": 3}, r"orders: .*2, 4, 8, 16"),
        ({"orders": "2,5"}, r"orders: .*2, 4, 8, 16"),
        ({"orders": "two"}, "orders"),
        ({"models": "lstm"}, r"models: .*spacetime, s4d"),
        ({"epochs": 0}, "epochs"),
        ({"epochs": 2.5}, "epochs"),
        ({"train_windows": -1}, "train_windows"),
        ({"balance_loss": "maybe"}, "balance_loss"),
        ({"order": 2}, "unknown"),
    ]
    for opts, match in bad:
        with pytest.raises(ValueError, match=match):
            mod.ar_settings(opts)

    def no_data():
        raise AssertionError("data touched before the options were checked")

    monkeypatch.setattr(mod, "_register_ar", no_data)

    class Ctx:
        quick, device, seed, options = True, "cpu", 0, {"orders": 3}

    with pytest.raises(ValueError, match=r"orders: .*2, 4, 8, 16"):
        mod.run_ar(Ctx())
