"""sciml-bench entries of sciml.operators (top level imports nothing heavy).

``lsm-darcy`` and ``lsm-ns`` train LSM, FNO and U-Net for the same time budget each (CPU seconds
on CPU, wall seconds on CUDA) on the generated data and score the test split (relative L2 on
de-normalised fields and more).
Options (``-o key=value``): ``budget_s`` (seconds of training per model), ``width`` (LSM/U-Net
width), ``fno_width``, ``batch_size``, ``lr``, ``rounds_per_epoch`` (budget checks per epoch),
``size`` (dataset size name), ``norm`` (``pixel``, the papers' per-pixel train statistics,
default — on Navier–Stokes one per-pixel transform shared by all frames; Darcy ``scalar``: the
file's statistics; Navier–Stokes ``none``: raw vorticity).
"""

from __future__ import annotations

from typing import Any

DATASETS = [
    {
        "name": "darcy",
        "generator": "sciml.operators.darcy:generate_darcy",
        "kind": "field",
        "description": "Darcy flow: thresholded GRF permeability -> pressure (card: datasets/darcy.md)",
        "sizes": {
            "quick": {"resolution": 32, "n_train": 256, "n_test": 64},
            "full": {"resolution": 64, "n_train": 1000, "n_test": 200},
            "paper": {"resolution": 85, "n_train": 1000, "n_test": 200},
        },
    },
    {
        "name": "navier-stokes",
        "generator": "sciml.operators.navier_stokes:generate_navier_stokes",
        "kind": "field",
        "description": "2-D Navier-Stokes vorticity on the torus, 10 -> 10 frames "
        "(card: datasets/navier-stokes.md)",
        "sizes": {
            "quick": {"resolution": 32, "visc": 1e-5, "n_train": 64, "n_test": 16},
            "full": {"resolution": 64, "visc": 1e-5, "n_train": 1000, "n_test": 200},
        },
    },
]

# quick: (budget per model in s, LSM/U-Net width, FNO width); full: paper widths
_QUICK = {"budget_s": 10.0, "width": 16, "fno_width": 24, "batch_size": 20}
_FULL = {"budget_s": 900.0, "width": 32, "fno_width": 32, "batch_size": 20}


def _q_f(key: str) -> str:
    """``"(default <quick> quick / <full> full)"`` of a training setting."""
    q, f = _QUICK[key], _FULL[key]
    return f"(default {q:g})" if q == f else f"(default {q:g} quick / {f:g} full)"


# -o options read by compare_models (both benchmarks); see the BENCHMARKS entries
_TRAIN_OPTIONS = {
    "budget_s": "training time per model in seconds: CPU seconds of this process on CPU, wall "
    f"seconds on CUDA {_q_f('budget_s')}",
    "width": f"LSM and U-Net width {_q_f('width')}",
    "fno_width": f"FNO width (also the neuraloperator FNO's hidden channels) {_q_f('fno_width')}",
    "batch_size": f"training batch size {_q_f('batch_size')}",
    "lr": "initial learning rate, halved at 20, 40, 60 and 80 % of the budget (default 1e-3)",
    "rounds_per_epoch": "time-budget checks per epoch: each epoch is trained in this many parts "
    "(default 1)",
}


def _size_help(dataset: str) -> str:
    sizes = next(d["sizes"] for d in DATASETS if d["name"] == dataset)
    names = [f"{k} ({v['resolution']}²)" for k, v in sizes.items()]
    return f"{dataset} dataset size: {', '.join(names)} (default quick / full)"


def _opt(ctx: Any, key: str, default: Any) -> Any:
    val = ctx.options.get(key, default)
    return type(default)(val) if val is not None else default


def _models(
    c_in: int, c_out: int, width: int, fno_width: int, padding: int, grid: tuple | None = None
) -> dict:
    from sciml.operators import FNO, LSM, UNet

    models = {
        "lsm": lambda: LSM(in_channels=c_in, out_channels=c_out, width=width),
        "fno": lambda: FNO(in_channels=c_in, out_channels=c_out, width=fno_width, padding=padding),
        "unet": lambda: UNet(in_channels=c_in, out_channels=c_out, width=width),
    }
    try:  # the neuraloperator package's FNO, when installed (benchmark only, not a dependency)
        from neuralop.models import FNO as _NeuralopFNO
    except ImportError:
        return models
    # neuralop counts modes over the whole axis (n_modes=24 keeps kx in [-12, 12) and, on the
    # rfft axis, 24 // 2 + 1 = 13 of ky): the FNO paper's 12 modes per quadrant, as in our FNO.
    models["neuralop_fno"] = lambda: _NeuralopFNO(
        n_modes=(24, 24), hidden_channels=fno_width, in_channels=c_in, out_channels=c_out
    )
    if padding and grid:
        # the package's default has no domain padding; this variant extends each axis by the
        # same total `padding` points as our FNO (split over both ends: a fraction of the grid)
        models["neuralop_fno_padded"] = lambda: _NeuralopFNO(
            n_modes=(24, 24),
            hidden_channels=fno_width,
            in_channels=c_in,
            out_channels=c_out,
            domain_padding=[padding / (2 * n) for n in grid],
        )
    return models


def compare_models(
    ctx: Any,
    train_ds: Any,
    test_ds: Any,
    *,
    c_in: int,
    c_out: int,
    autoregressive: bool,
    denormalize: Any = None,
    padding: int = 8,
    defaults: dict | None = None,
    histories: dict | None = None,
) -> dict[str, float]:
    """Train LSM, FNO and U-Net for the same time each; flat metrics ``<model>_<metric>``.

    Option ``models`` (comma list of ``lsm``, ``fno``, ``unet`` and, when the
    ``neuraloperator`` package is installed, ``neuralop_fno`` and — with ``padding > 0`` —
    ``neuralop_fno_padded``, its FNO with the same total domain padding as ours) restricts the
    comparison.

    The budget is CPU seconds of this process on CPU (fair on a shared machine when single
    threaded) and wall seconds on CUDA; the learning rate follows the paper's StepLR schedule
    compressed to the budget (halved at 20, 40, 60 and 80 % of it). ``histories``, when given,
    receives ``{model: [train loss per epoch]}``.
    """
    import torch

    from sciml.operators import (
        OperatorTrainConfig,
        count_parameters,
        fit_for_time,
        inference_throughput,
        peak_memory_mb,
        reset_peak_memory,
    )

    d = dict(defaults or (_QUICK if ctx.quick else _FULL))
    budget = _opt(ctx, "budget_s", float(d["budget_s"]))
    width = _opt(ctx, "width", int(d["width"]))
    fno_width = _opt(ctx, "fno_width", int(d["fno_width"]))
    batch = _opt(ctx, "batch_size", int(d["batch_size"]))
    lr = _opt(ctx, "lr", 1e-3)
    rounds = _opt(ctx, "rounds_per_epoch", int(d.get("rounds_per_epoch", 1)))
    cfg = OperatorTrainConfig(  # 500 epochs / StepLR 100: 4 halvings, spread over the budget
        epochs=500,
        batch_size=batch,
        lr=lr,
        seed=ctx.seed,
        device=ctx.device,
        progress=False,
        step_size=100,
        gamma=0.5,
    )
    out: dict[str, float] = {
        "budget_s_per_model": budget,
        "width": float(width),
        "lr": lr,
        "rounds_per_epoch": float(rounds),
    }
    x_probe = torch.stack([test_ds[i][0] for i in range(min(8, len(test_ds)))]).to(ctx.device)
    models = _models(c_in, c_out, width, fno_width, padding, tuple(x_probe.shape[2:]))
    chosen = ctx.options.get("models")
    if chosen:  # comma list, e.g. "lsm,unet"
        names = [m.strip() for m in str(chosen).split(",") if m.strip()]
        unknown = sorted(set(names) - set(models))
        if unknown:
            raise ValueError(f"models: unknown {unknown}; choose from {sorted(models)}")
        models = {m: models[m] for m in names}
    for name, make in models.items():
        torch.manual_seed(ctx.seed)
        model = make()
        mem_tracked = reset_peak_memory(ctx.device)
        mem_base = peak_memory_mb(ctx.device) if mem_tracked else None
        ctx.log(f"{name}: {count_parameters(model) / 1e6:.3f} M parameters, budget {budget:.0f} s")
        trainer, hist = fit_for_time(
            model,
            train_ds,
            budget,
            cfg,
            denormalize=denormalize,
            autoregressive=autoregressive,
            clock="wall" if ctx.device.startswith("cuda") else "process",
            budget_schedule=True,
            rounds_per_epoch=rounds,
        )
        mem_peak = peak_memory_mb(ctx.device) if mem_tracked else None
        ev = trainer.evaluate(test_ds)
        model = trainer.model
        if autoregressive:
            steps = test_ds[0][1].shape[0]

            thr = inference_throughput(_rollout_module(model, steps), x_probe)
        else:
            thr = inference_throughput(model, x_probe)
        if histories is not None:
            histories[name] = [h["train_loss"] for h in hist]
        epochs = hist[-1]["epoch"]  # fractional with rounds_per_epoch > 1
        train_s = sum(h["time_s"] for h in hist)
        ep_time = train_s / epochs
        out.update(
            {
                f"{name}_rel_l2": ev["rel_l2"],
                f"{name}_nrmse": ev["nrmse"],
                f"{name}_max_error": ev["max_error"],
                f"{name}_err_low": ev["err_low"],
                f"{name}_err_mid": ev["err_mid"],
                f"{name}_err_high": ev["err_high"],
                f"{name}_params": float(count_parameters(model)),
                f"{name}_epochs": float(epochs),
                f"{name}_train_s": train_s,
                f"{name}_s_per_epoch": ep_time,
                f"{name}_train_samples_per_s": len(train_ds) / ep_time,
                f"{name}_infer_samples_per_s": thr,
                f"{name}_final_train_loss": hist[-1]["train_loss"],
            }
        )
        if mem_peak is not None:  # CUDA: allocated tensors; CPU: process peak RSS in training
            out[f"{name}_peak_mem_mb"] = mem_peak
            out[f"{name}_mem_before_training_mb"] = mem_base
        ctx.log(
            f"{name}: {epochs:.4g} epochs ({ep_time:.2f} s each), test rel L2 {ev['rel_l2']:.4f}, "
            f"{thr:.0f} samples/s inference"
        )
    return out


def _rollout_module(model: Any, steps: int) -> Any:
    import torch

    from sciml.operators import rollout

    class _Roll(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.m = model

        def forward(self, x):
            return rollout(self.m, x, steps)

    return _Roll()


def _register() -> None:
    from sciml.operators import register_datasets

    register_datasets()


def run_darcy(ctx: Any) -> dict[str, float]:
    """Darcy 32² (quick) / 64² (full): LSM vs FNO vs U-Net, same time budget, the papers'
    per-pixel unit-Gaussian normalisation on train statistics (``-o norm=scalar``: the file's
    scalar statistics), de-normalised scoring."""
    from sciml.data import FieldDataset, get_dataset
    from sciml.operators import unit_gaussian_pairs

    _register()
    size = str(ctx.options.get("size", "quick" if ctx.quick else "full"))
    norm = str(ctx.options.get("norm", "pixel"))
    if norm not in ("pixel", "scalar"):
        raise ValueError(f"norm: expected 'pixel' or 'scalar', got {norm!r}")
    path = get_dataset("darcy", size, seed=ctx.seed)
    if norm == "pixel":
        train, test, y_norm = unit_gaussian_pairs(
            FieldDataset(path, "train"), FieldDataset(path, "test")
        )
        denormalize = y_norm.decode
    else:
        train = FieldDataset(path, "train", normalize=True)
        test = FieldDataset(path, "test", normalize=True)
        denormalize = train.denormalize
    res = compare_models(
        ctx, train, test, c_in=1, c_out=1, autoregressive=False, denormalize=denormalize
    )
    res["resolution"] = float(train[0][0].shape[-1])
    res["n_train"] = float(len(train))
    return res


def run_ns(ctx: Any) -> dict[str, float]:
    """Navier–Stokes ν=1e-5, 10 frames in → 10 frames out by autoregressive rollout; per-pixel
    unit-Gaussian statistics over the train samples and frames (``-o norm=none``: raw
    vorticity), de-normalised loss and scoring."""
    from sciml.data import FieldDataset, get_dataset
    from sciml.operators import unit_gaussian_frames

    _register()
    size = str(ctx.options.get("size", "quick" if ctx.quick else "full"))
    norm = str(ctx.options.get("norm", "pixel"))
    if norm not in ("pixel", "none"):
        raise ValueError(f"norm: expected 'pixel' or 'none', got {norm!r}")
    path = get_dataset("navier-stokes", size, seed=ctx.seed)
    train = FieldDataset(path, "train")
    test = FieldDataset(path, "test")
    denormalize = None
    if norm == "pixel":
        train, test, frame_norm = unit_gaussian_frames(train, test)
        denormalize = frame_norm.decode
    res = compare_models(
        ctx,
        train,
        test,
        c_in=10,
        c_out=1,
        autoregressive=True,
        padding=0,
        denormalize=denormalize,
    )
    res["resolution"] = float(train[0][0].shape[-1])
    res["n_train"] = float(len(train))
    return res


_REFS_DARCY = {
    "lsm_rel_l2": {
        "value": 0.0065,
        "source": "LSM paper Table 2, Darcy 85², 1000 train, 500 epochs",
    },
    "fno_rel_l2": {"value": 0.0108, "source": "LSM paper Table 2 (FNO)"},
    "unet_rel_l2": {"value": 0.0080, "source": "LSM paper Table 2 (U-Net)"},
}
_REFS_NS = {
    "lsm_rel_l2": {"value": 0.1535, "source": "LSM paper Table 2, NS ν=1e-5, 64², T 10→10"},
    "fno_rel_l2": {"value": 0.1556, "source": "LSM paper Table 2 (FNO)"},
    "unet_rel_l2": {"value": 0.1982, "source": "LSM paper Table 2 (U-Net)"},
}


def _metric_docs(rollout: bool) -> dict:
    """``metrics`` of ``lsm-darcy`` (``rollout=False``) and ``lsm-ns``: names
    ``<model>_<metric>`` (model lsm, fno, unet, neuralop_fno*) plus the run's settings."""
    field = "all 10 rollout frames" if rollout else "the pressure field"
    per_sample = "per test sample (de-normalised), mean over the test split"
    band = f"RMS of the error in Fourier wavenumbers {{}} (low² + mid² + high² = MSE), {per_sample}"
    return {
        "*_rel_l2": {
            "about": f"relative L2 error ‖pred − true‖₂ / ‖true‖₂ over {field}, {per_sample}",
            "better": "lower",
        },
        "*_nrmse": {
            "about": "PDEBench nRMSE: RMSE / RMS(true) per "
            + ("frame, averaged over frames" if rollout else "field")
            + f", {per_sample}",
            "better": "lower",
        },
        "*_max_error": {
            "about": f"largest absolute pointwise error, {per_sample}",
            "better": "lower",
        },
        "*_err_low": {"about": band.format("|k| < 4"), "better": "lower"},
        "*_err_mid": {"about": band.format("4 ≤ |k| < 12"), "better": "lower"},
        "*_err_high": {"about": band.format("|k| ≥ 12"), "better": "lower"},
        "*_final_train_loss": {
            "about": "mean relative-L2 training loss of the last epoch"
            + (" (summed over the 10 rollout frames)" if rollout else ""),
            "better": "lower",
        },
        "*_params": {
            "about": "trainable parameters (a complex weight counts 2)",
            "better": "none",
        },
        "*_epochs": {
            "about": "training epochs completed within the time budget",
            "better": "none",
        },
        "*_train_s": {
            "about": "seconds of training: the budget, overshot by up to one epoch (CPU seconds "
            "of this process on CPU, wall on CUDA)",
            "better": "none",
        },
        "*_s_per_epoch": {
            "about": "seconds per training epoch (CPU seconds of this process on CPU, wall on "
            "CUDA)",
            "better": "lower",
        },
        "*_train_samples_per_s": {
            "about": "training throughput: training samples / seconds per epoch",
            "better": "higher",
        },
        "*_infer_samples_per_s": {
            "about": "inference throughput on a batch of (up to) 8 test inputs, samples per wall "
            "second " + ("of the whole 10-frame rollout " if rollout else "") + "(median of 3)",
            "better": "higher",
        },
        "*_peak_mem_mb": {
            "about": "peak memory while training, MiB (CPU: process peak resident set incl. "
            "interpreter and data; CUDA: peak allocated)",
            "better": "lower",
        },
        "*_mem_before_training_mb": {
            "about": "memory when training starts, MiB (same measure as *_peak_mem_mb)",
            "better": "none",
        },
        "budget_s_per_model": {
            "about": "training time budget per model, seconds (CPU seconds on CPU, wall on CUDA)",
            "better": "none",
        },
        "width": {"about": "LSM and U-Net channel width (setting)", "better": "none"},
        "lr": {"about": "initial learning rate (setting)", "better": "none"},
        "rounds_per_epoch": {
            "about": "time-budget checks per epoch (setting)",
            "better": "none",
        },
        "resolution": {"about": "grid points per side of the fields", "better": "none"},
        "n_train": {"about": "training samples", "better": "none"},
    }


BENCHMARKS = [
    {
        "name": "lsm-darcy",
        "description": "Darcy flow: LSM vs FNO vs U-Net trained for the same time budget "
        "(quick: 32², 256 train, 10 s per model)",
        "datasets": ["darcy"],
        "references": _REFS_DARCY,
        "metrics": _metric_docs(rollout=False),
        "options": {
            **_TRAIN_OPTIONS,
            "models": "comma list of models to train: lsm, fno, unet and, when the neuraloperator "
            "package is installed, neuralop_fno, neuralop_fno_padded (default all available)",
            "size": _size_help("darcy"),
            "norm": "normalisation: pixel (the papers' per-pixel unit-Gaussian train statistics) "
            "or scalar (the file's scalar statistics) (default pixel)",
        },
        "run": run_darcy,
    },
    {
        "name": "lsm-ns",
        "description": "Navier-Stokes ν=1e-5, 10→10 frames rollout: LSM vs FNO vs U-Net, same "
        "time budget (quick: 32², 64 train, at least 1 epoch or 10 s per model)",
        "datasets": ["navier-stokes"],
        "references": _REFS_NS,
        "metrics": _metric_docs(rollout=True),
        "options": {
            **_TRAIN_OPTIONS,
            "models": "comma list of models to train: lsm, fno, unet and, when the neuraloperator "
            "package is installed, neuralop_fno (default all available)",
            "size": _size_help("navier-stokes"),
            "norm": "normalisation: pixel (one per-pixel unit-Gaussian transform over the train "
            "samples, shared by all frames) or none (raw vorticity) (default pixel)",
        },
        "run": run_ns,
    },
]
