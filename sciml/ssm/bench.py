"""sciml-bench entries of sciml.ssm (top level imports nothing heavy)."""

from __future__ import annotations

AR_ORDERS = (2, 4, 8, 16)
ETT_HORIZONS = (24, 48, 168, 336, 720)
DEFAULT_ETTH1 = "/work/shared/data/ett/ETTh1.csv"

ETT_MODELS = ("spacetime", "s4d", "linear", "last")
AR_MODELS = ("spacetime", "s4d")

#: ``ssm-ar`` options (``-o key=value``) and their help.
AR_OPTIONS = {
    "epochs": "training epochs per model; each keeps its lowest-validation-loss epoch "
    "(default 3 quick / 30 full)",
    "train_windows": "training windows drawn at random per AR order; 0: all of them "
    "(default 2000 quick / 8000 full)",
    "orders": "comma list of AR orders p to run, from 2, 4, 8, 16 (default all four)",
    "models": "comma list of networks to train, from spacetime, s4d (default both)",
    "balance_loss": "SpaceTime loss on log-MSE terms (1) or the paper's plain MSE terms "
    "(0/false/no) (default 1)",
}

#: ``ssm-etth1`` options (``-o key=value``) and their help: the keys :func:`etth1_settings`
#: accepts (any other is an error) and the benchmark's declared options.
ETTH1_OPTIONS = {
    "etth1_path": f"path of the ETTh1 CSV file; the benchmark is skipped when it is absent "
    f"(default {DEFAULT_ETTH1})",
    "horizons": "comma list of forecast horizons in hours (default 24 quick / "
    f"{','.join(map(str, ETT_HORIZONS))} full)",
    "models": f"comma list of models from {', '.join(ETT_MODELS)} (default all four)",
    "epochs": "training epochs per network (default 1)",
    "train_stride": "train on every n-th training window (default 8 quick / 1 full)",
    "val_stride": "validate on every n-th validation window (default 8)",
    "test_stride": "score every n-th test window (default 4 quick / 1 full)",
    "patience": "early stopping after this many validation events without improvement of "
    "the validation forecast MSE; 0/none: off (default off)",
    "val_every_steps": "also validate every n optimiser steps; 0/none: at epoch ends only "
    "(default none quick / 5 full)",
    "ema": "decay in [0, 1) of a bias-corrected moving average of the SpaceTime and S4D weights, "
    "validated and returned instead of the raw weights; 0/none: off (default off)",
    "batch_size": "training batch size of SpaceTime and S4D (default 50)",
    "lr": "SpaceTime learning rate, > 0 (default 2e-3)",
    "weight_decay": "SpaceTime weight decay, >= 0 (default 1e-4)",
    "dropout": "SpaceTime dropout in [0, 1) (default 0.25)",
    "warmup": "SpaceTime epochs of linear learning-rate warm-up, fewer than epochs (default 0)",
    "loss": "SpaceTime loss criterion: mse or rmse (default rmse)",
    "loss_weights": "SpaceTime loss weights w0,w1,w2 of the forecast, one-step and next-input "
    "terms, three non-negative numbers (default 1,1,0)",
    "norm": "SpaceTime companion-matrix normalisation: clip, l1 or none (default l1)",
    "kernel_method": "SpaceTime encoder companion kernel: fast or squaring (squaring is faster "
    "on GPUs) (default fast)",
    "schedule": "SpaceTime warm-up + cosine schedule counted in epochs or optimiser steps: "
    "epoch or step (default step)",
    "s4d_lr": "S4D learning rate, > 0 (default 1e-3)",
    "s4d_weight_decay": "S4D weight decay, >= 0 (default 1e-4)",
    "s4d_dropout": "S4D dropout in [0, 1) (default 0.1)",
    "s4d_schedule": "S4D learning-rate schedule counted in epochs or optimiser steps: epoch or "
    "step (default epoch)",
    "ci_block": "test windows per block of the block-bootstrap MSE-ratio intervals; auto: "
    "max(168, horizon) hours of window starts (default auto)",
    "ci_boot": "bootstrap resamples of the MSE-ratio intervals, >= 100 (default 2000)",
}


def _opt_float(options, key, default, *, low=None, high=None, strict_low=False):
    """Float option ``key`` (default if absent); a clear ValueError naming it otherwise."""
    raw = options.get(key, default)
    try:
        if isinstance(raw, bool):
            raise TypeError
        value = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected a number, got {raw!r}") from None
    if value != value or (low is not None and (value <= low if strict_low else value < low)):
        raise ValueError(f"{key}: expected {'>' if strict_low else '>='} {low}, got {raw!r}")
    if high is not None and value >= high:
        raise ValueError(f"{key}: expected < {high}, got {raw!r}")
    return value


def _opt_int(options, key, default, *, low=1, allow_none=False):
    raw = options.get(key, default)
    if allow_none and (raw is None or str(raw).lower() in ("none", "0", "")):
        return None
    if isinstance(raw, bool) or not (
        isinstance(raw, int) or (isinstance(raw, str) and raw.strip().lstrip("-").isdigit())
    ):
        raise ValueError(f"{key}: expected an int >= {low}, got {raw!r}")
    value = int(raw)
    if value < low:
        raise ValueError(f"{key}: expected an int >= {low}, got {raw!r}")
    return value


def _opt_list(options, key, default, cast, allowed=None):
    raw = options.get(key, default)
    items = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
    try:
        values = [cast(str(v).strip()) for v in items if str(v).strip()]
    except ValueError:
        raise ValueError(f"{key}: expected a comma list, got {raw!r}") from None
    if not values:
        raise ValueError(f"{key}: expected a non-empty comma list, got {raw!r}")
    if allowed is not None and any(v not in allowed for v in values):
        raise ValueError(f"{key}: expected items of {', '.join(map(str, allowed))}, got {raw!r}")
    return values


def etth1_settings(options: dict, quick: bool = False) -> dict:
    """Parse and check the ``ssm-etth1`` options (``-o key=value``); returns the settings.

    ``horizons`` (comma list), ``models`` (subset of spacetime,s4d,linear,last), ``epochs``,
    ``train_stride``, ``val_stride``, ``test_stride``, ``patience`` (early stopping on the
    validation forecast MSE, counted in validation events; 0/none: off), ``val_every_steps``
    (also validate every this many optimiser steps; 0/none: epoch ends only), ``ema`` (decay of
    a bias-corrected moving average of the weights, validated and returned instead of the raw
    weights, for SpaceTime and S4D; 0/none: off), ``batch_size``; SpaceTime: ``lr``, ``weight_decay``,
    ``dropout``, ``warmup`` (epochs of linear lr warm-up), ``loss`` (mse/rmse),
    ``loss_weights`` (w0,w1,w2), ``norm`` (clip/l1), ``kernel_method`` (fast/squaring: the
    encoder's companion kernel; squaring is faster on GPUs), ``schedule`` (epoch/step: the
    warm-up + cosine counted in epochs or in optimiser steps); S4D: ``s4d_lr``,
    ``s4d_weight_decay``, ``s4d_dropout``, ``s4d_schedule``; ``ci_block`` (test windows per
    bootstrap block of the MSE-ratio intervals; ``auto``: max(168, horizon) hours of window
    starts — a week, and at least the horizon over which window errors overlap), ``ci_boot``
    (resamples, 2000). Bad values raise ValueError naming the option. Defaults (the protocol
    fixed on the validation split, docs/status/ssm.md §3):
    epochs 1, val_every_steps 5 (quick: epoch ends only), loss rmse, loss_weights 1,1,0, norm
    l1, lr 2e-3 with a cosine over the optimiser steps (``schedule=step``); S4D lr 1e-3,
    ``s4d_schedule=epoch`` (constant within the single epoch).
    """
    o = dict(options)
    known = set(ETTH1_OPTIONS)
    unknown = sorted(set(o) - known)
    if unknown:
        raise ValueError(f"options: unknown ssm-etth1 option(s) {unknown}; known: {sorted(known)}")
    st = {
        "horizons": _opt_list(
            o, "horizons", "24" if quick else ",".join(map(str, ETT_HORIZONS)), int
        ),
        "models": _opt_list(o, "models", ",".join(ETT_MODELS), str, ETT_MODELS),
        "epochs": _opt_int(o, "epochs", 1),
        "train_stride": _opt_int(o, "train_stride", 8 if quick else 1),
        "val_stride": _opt_int(o, "val_stride", 8),
        "test_stride": _opt_int(o, "test_stride", 4 if quick else 1),
        "patience": _opt_int(o, "patience", None, allow_none=True),
        "val_every_steps": _opt_int(o, "val_every_steps", None if quick else 5, allow_none=True),
        "ema": None
        if str(o.get("ema", "")).lower() == "none"
        else (_opt_float(o, "ema", 0.0, low=0.0, high=1.0) or None),
        "batch_size": _opt_int(o, "batch_size", 50),
        "lr": _opt_float(o, "lr", 2e-3, low=0.0, strict_low=True),
        "weight_decay": _opt_float(o, "weight_decay", 1e-4, low=0.0),
        "dropout": _opt_float(o, "dropout", 0.25, low=0.0, high=1.0),
        "warmup": _opt_int(o, "warmup", 0, low=0),
        "loss": str(o.get("loss", "rmse")),
        "loss_weights": tuple(_opt_list(o, "loss_weights", "1,1,0", float)),
        "norm": str(o.get("norm", "l1")),
        "kernel_method": str(o.get("kernel_method", "fast")),
        "schedule": str(o.get("schedule", "step")),
        "s4d_lr": _opt_float(o, "s4d_lr", 1e-3, low=0.0, strict_low=True),
        "s4d_weight_decay": _opt_float(o, "s4d_weight_decay", 1e-4, low=0.0),
        "s4d_dropout": _opt_float(o, "s4d_dropout", 0.1, low=0.0, high=1.0),
        "s4d_schedule": str(o.get("s4d_schedule", "epoch")),
        "ci_block": None
        if str(o.get("ci_block", "auto")).lower() == "auto"
        else _opt_int(o, "ci_block", 168),
        "ci_boot": _opt_int(o, "ci_boot", 2000, low=100),
    }
    if any(h < 1 for h in st["horizons"]):
        raise ValueError(f"horizons: expected positive ints, got {o.get('horizons')!r}")
    if st["loss"] not in ("mse", "rmse"):
        raise ValueError(f"loss: expected 'mse' or 'rmse', got {st['loss']!r}")
    if len(st["loss_weights"]) != 3 or any(w < 0 for w in st["loss_weights"]):
        raise ValueError(
            f"loss_weights: expected three non-negative numbers w0,w1,w2, got {o.get('loss_weights')!r}"
        )
    if st["norm"] not in ("clip", "l1", "none"):
        raise ValueError(f"norm: expected 'clip', 'l1' or 'none', got {st['norm']!r}")
    for key in ("schedule", "s4d_schedule"):
        if st[key] not in ("epoch", "step"):
            raise ValueError(f"{key}: expected 'epoch' or 'step', got {st[key]!r}")
    if st["kernel_method"] not in ("fast", "squaring"):
        raise ValueError(
            f"kernel_method: expected 'fast' or 'squaring', got {st['kernel_method']!r}"
        )
    if st["warmup"] >= st["epochs"]:
        raise ValueError(f"warmup: expected fewer than epochs = {st['epochs']}, got {st['warmup']}")
    return st


def ar_settings(options: dict, quick: bool = False) -> dict:
    """Parse and check the ``ssm-ar`` options (``-o key=value``, see :data:`AR_OPTIONS`) before
    any data is generated; bad values raise ValueError naming the option and what it accepts."""
    o = dict(options)
    unknown = sorted(set(o) - set(AR_OPTIONS))
    if unknown:
        raise ValueError(
            f"options: unknown ssm-ar option(s) {unknown}; known: {sorted(AR_OPTIONS)}"
        )
    balance = str(o.get("balance_loss", "1")).strip().lower()
    if balance not in ("1", "true", "yes", "0", "false", "no"):
        raise ValueError(f"balance_loss: expected 1/true/yes or 0/false/no, got {balance!r}")
    return {
        "epochs": _opt_int(o, "epochs", 3 if quick else 30),
        "train_windows": _opt_int(o, "train_windows", 2000 if quick else 8000, low=0),
        "orders": _opt_list(o, "orders", ",".join(map(str, AR_ORDERS)), int, AR_ORDERS),
        "models": _opt_list(o, "models", ",".join(AR_MODELS), str, AR_MODELS),
        "balance_loss": balance in ("1", "true", "yes"),
    }


def _register_ar():
    from sciml import data

    try:
        data.register_dataset(
            DATASETS[0]["name"],
            DATASETS[0]["generator"],
            sizes=DATASETS[0]["sizes"],
            kind=DATASETS[0]["kind"],
            description=DATASETS[0]["description"],
        )
    except ValueError as exc:  # already registered (by the CLI)
        if "already" not in str(exc).lower():
            raise
    return data


def _tensor_ds(ds, indices=None):
    """Materialise windows once (per-item HDF5 reads dominate a small model's epoch otherwise)."""
    from torch.utils.data import TensorDataset

    from sciml.ssm import stack_windows

    return TensorDataset(*stack_windows(ds, indices))


def _train(
    model,
    train_ds,
    val_ds,
    *,
    epochs,
    batch_size,
    lr,
    weight_decay,
    ctx,
    select="forecast_mse",
    patience=None,
    warmup=0,
    val_every_steps=None,
    ema=None,
    schedule="epoch",
):
    """Fit with the shared Trainer, keep the best-on-validation state; (FitResult, s/epoch)."""
    from sciml.ssm import train_forecaster

    res = train_forecaster(
        model,
        train_ds,
        val_ds,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        weight_decay=weight_decay,
        seed=ctx.seed,
        device=ctx.device,
        select=select,
        patience=patience,
        warmup=warmup,
        val_every_steps=val_every_steps,
        ema=ema,
        schedule=schedule,
        progress=not ctx.quick,  # full runs take minutes per epoch on a CPU
    )
    return res, res.sec_per_epoch


def _predictor(model, kind, device):
    import torch

    model.eval()

    def predict(x, horizon):
        with torch.no_grad():
            x = x.to(device)
            out = model(x, horizon)
            return (out.forecast if kind == "spacetime" else out).cpu()

    return predict


def run_ar(ctx) -> dict[str, float]:
    """SpaceTime vs S4D vs the Bayes-optimal predictor on stable AR(p), p ∈ {2, 4, 8, 16}.

    Options (:data:`AR_OPTIONS`, checked by :func:`ar_settings`): ``epochs`` (default 30; quick
    3), ``train_windows`` (8000; quick 2000), ``orders`` (comma list of 2, 4, 8, 16), ``models``
    (``spacetime,s4d``), ``balance_loss`` (1: SpaceTime's log-MSE loss, see
    :class:`SpaceTimeLoss`). Each model keeps its lowest-validation-loss epoch.
    """
    import torch

    from sciml.data import WindowDataset, open_dataset
    from sciml.ssm import (
        S4DForecaster,
        S4DForecasterConfig,
        SpaceTime,
        SpaceTimeConfig,
        ar_forecast_mse,
        ar_optimal_forecast,
        evaluate_forecast,
        stack_windows,
    )

    st = ar_settings(ctx.options, ctx.quick)  # before any data is generated
    epochs, n_train_windows = st["epochs"], st["train_windows"]
    data = _register_ar()
    size = "quick" if ctx.quick else "full"
    path = data.get_dataset("ssm-ar", size, seed=ctx.seed)
    lag, horizon = 64, 24
    metrics: dict[str, float] = {}
    with open_dataset(path) as f:
        coords = {k: f.coords[k][...] for k in f.coords}
        stats = {
            k: (float(f.stats[k]["mean"][...]), float(f.stats[k]["std"][...])) for k in f.stats
        }
    sigma = float(coords["sigma"][0])
    # log-MSE terms: the one-step optimum of AR(16) is 0.2 % of the variance (see SpaceTimeLoss)
    balance, which, orders = st["balance_loss"], st["models"], st["orders"]
    for p in ctx.progress(orders, desc="AR(p)", total=len(orders)):
        key = f"series_p{p}"
        phi = torch.as_tensor(coords[f"phi_p{p}"])
        mean, std = stats[key]
        ds = {
            s: WindowDataset(path, s, key, lag=lag, horizon=horizon, normalize=True)
            for s in ("train", "val", "test")
        }
        train_idx = list(range(len(ds["train"])))
        if n_train_windows and len(train_idx) > n_train_windows:
            g = torch.Generator().manual_seed(ctx.seed)
            train_idx = torch.randperm(len(train_idx), generator=g)[:n_train_windows].tolist()
        train = _tensor_ds(ds["train"], train_idx)
        val = _tensor_ds(ds["val"], range(0, len(ds["val"]), 4))
        x_te, y_te = stack_windows(ds["test"], range(0, len(ds["test"]), 2))
        # Bayes-optimal: the true recursion on the de-standardised history
        bayes = evaluate_forecast(
            lambda x, h, phi=phi, mean=mean, std=std: (
                (ar_optimal_forecast(phi, x[..., 0].double() * std + mean, h) - mean)[..., None]
                / std
            ),
            x_te,
            y_te,
        )
        theory = ar_forecast_mse(phi.numpy(), sigma, horizon) / std**2
        metrics[f"p{p}_bayes_mse1"] = float(bayes["mse"][0])
        metrics[f"p{p}_bayes_mse24"] = float(bayes["mse"].mean())
        metrics[f"p{p}_theory_mse1"] = float(theory[0])
        metrics[f"p{p}_theory_mse24"] = float(theory.mean())
        # zero-mean stationary data: no lag-mean subtraction (it would add a bias mu (1 - Σφ))
        st_cfg = SpaceTimeConfig(
            d_model=16,
            d_state=32,
            n_encoder=1,
            dropout=0.0,
            ma_windows=(4, 8),
            subtract_lag_mean=False,
            loss_weights=(0.1, 1.0, 1.0),
            balance_loss=balance,
        )
        s4_cfg = S4DForecasterConfig(
            d_model=32, n_layers=2, d_state=32, dropout=0.0, subtract_lag_mean=False
        )
        models = {
            "spacetime": SpaceTime(st_cfg, seed=ctx.seed),
            "s4d": S4DForecaster(s4_cfg, seed=ctx.seed),
        }
        models = {k: v for k, v in models.items() if k in which}
        lrs = {"spacetime": 1e-2, "s4d": 3e-3}
        for name, model in models.items():
            fit, sec = _train(
                model,
                train,
                val,
                epochs=epochs,
                batch_size=64,
                lr=lrs[name],
                weight_decay=1e-4,
                ctx=ctx,
                # the 24-step validation MSE is dominated by noise; the training objective (for
                # SpaceTime with balance_loss: per-step Gaussian log-likelihoods) is not
                select="val_loss",
            )
            metrics[f"p{p}_{name}_best_epoch"] = float(fit.best_epoch or epochs)
            ev = evaluate_forecast(_predictor(model, name, ctx.device), x_te, y_te)
            metrics[f"p{p}_{name}_mse1"] = float(ev["mse"][0])
            metrics[f"p{p}_{name}_mse24"] = float(ev["mse"].mean())
            metrics[f"p{p}_{name}_ratio1"] = float(ev["mse"][0] / bayes["mse"][0])
            metrics[f"p{p}_{name}_ratio24"] = float(ev["mse"].mean() / bayes["mse"].mean())
            metrics[f"p{p}_{name}_sec_per_epoch"] = float(sec)
            ctx.log(
                f"AR({p}) {name}: mse1 {ev['mse'][0]:.4f} (bayes {bayes['mse'][0]:.4f}), "
                f"mse24 {ev['mse'].mean():.4f} (bayes {bayes['mse'].mean():.4f}), {sec:.1f} s/epoch"
            )
    return metrics


def run_etth1(ctx) -> dict[str, float]:
    """ETTh1 univariate (OT), lag 336: SpaceTime and S4D vs last-value and linear-AR baselines.

    Quick: horizon 24, a reduced SpaceTime/S4D, one epoch on every 8th training window. Full: all
    horizons, the paper's SpaceTime architecture on all windows, with the protocol fixed on the
    validation split (docs/status/ssm.md §3): 1 epoch, lr 2e-3 with a cosine over the optimiser
    steps, the public code's RMSE loss with
    weights (1, 1, 0), ``l1`` companion normalisation, validation every 5 steps.
    Options (see :func:`etth1_settings`): ``etth1_path``, ``horizons``, ``models``, ``epochs``,
    ``train_stride``, ``val_stride`` (default 8), ``test_stride``, ``patience``,
    ``val_every_steps``, ``ema``, ``batch_size``,
    SpaceTime ``lr``/``weight_decay``/``dropout``/``warmup``/``loss``/``loss_weights``/``norm``,
    S4D ``s4d_lr``/``s4d_weight_decay``/``s4d_dropout``. Every network keeps its
    best-on-validation state (epoch end, or any ``val_every_steps``-th step); the baselines'
    validation MSE (same windows) is reported beside. Each network's validation curve is written
    to ``out_dir/validations_h{h}_{model}.json``. Each network's test MSE relative to each
    baseline comes with a 95 % circular block-bootstrap interval over the same test windows
    (``h{h}_{model}_over_{baseline}{,_lo,_hi,_p_below_one}``); the per-window test errors go to
    ``test_window_mse_h{h}.json``, figures to ``forecast_h{h}.png`` and ``ratios_{model}.png``.
    """
    import json
    import os

    path = str(ctx.options.get("etth1_path", DEFAULT_ETTH1))
    if not os.path.exists(path):
        ctx.skip(f"ETTh1 is absent: no file at {path} (pass -o etth1_path=/path/to/ETTh1.csv)")
    st = etth1_settings(ctx.options, ctx.quick)

    from sciml.data import (
        WindowDataset,
        atomic_path,
        ett_splits,
        read_csv_timeseries,
        write_dataset,
    )
    from sciml.ssm import (
        LinearAR,
        S4DForecaster,
        S4DForecasterConfig,
        SpaceTime,
        SpaceTimeConfig,
        evaluate_forecast,
        forecast_figure,
        last_value_forecast,
        mse_ratio_ci,
        ratio_figure,
        stack_windows,
    )

    _, values, _ = read_csv_timeseries(path, columns=["OT"])
    lag = 336
    sl = ett_splits(int(values.shape[0]), lag=lag)
    h5 = write_dataset(
        ctx.out_dir / "etth1_ot.h5",
        {k: {"series": values[s]} for k, s in sl.items()},
        name="etth1-ot",
        kind="timeseries",
        params={
            "source": os.path.basename(path),
            "column": "OT",
            "lag": lag,
            "protocol": "informer",
        },
    )  # derived windows for this run only; stats from train
    quick = ctx.quick
    horizons, which, epochs = st["horizons"], st["models"], st["epochs"]
    metrics: dict[str, float] = {
        k: float(st[k])
        for k in ("epochs", "train_stride", "val_stride", "test_stride", "batch_size", "warmup")
    }
    metrics["patience"] = float(st["patience"] or 0)
    metrics["val_every_steps"] = float(st["val_every_steps"] or 0)
    metrics["ema"] = float(st["ema"] or 0)
    metrics["schedule_per_step"] = float(st["schedule"] == "step")
    metrics["s4d_schedule_per_step"] = float(st["s4d_schedule"] == "step")
    metrics["spacetime_kernel_squaring"] = float(st["kernel_method"] == "squaring")
    metrics.update(
        {f"spacetime_{k}": float(st[k]) for k in ("lr", "weight_decay", "dropout")}
        | {f"s4d_{k}": float(st[f"s4d_{k}"]) for k in ("lr", "weight_decay", "dropout")}
        | {f"spacetime_loss_w{i}": float(w) for i, w in enumerate(st["loss_weights"])}
        | {
            "spacetime_loss_rmse": float(st["loss"] == "rmse"),
            "spacetime_norm_l1": float(st["norm"] == "l1"),
        }
    )
    for h in ctx.progress(horizons, desc="ETTh1 horizons", total=len(horizons)):
        full_train = WindowDataset(h5, "train", lag=lag, horizon=h, normalize=True)
        train = _tensor_ds(full_train, range(0, len(full_train), st["train_stride"]))
        val_full = WindowDataset(h5, "val", lag=lag, horizon=h, normalize=True)
        val = _tensor_ds(val_full, range(0, len(val_full), st["val_stride"]))
        x_va, y_va = val.tensors
        test = WindowDataset(h5, "test", lag=lag, horizon=h, normalize=True)
        x_te, y_te = stack_windows(test, range(0, len(test), st["test_stride"]))
        window_mse = {}  # test windows' MSE per model, for the paired intervals
        shown = x_te.shape[0] // 2  # the forecast figure's window: the middle of the test split
        shown_forecast = {}
        baselines = []
        if "last" in which:
            baselines.append(("last", last_value_forecast))
        if "linear" in which:
            x_tr, y_tr = stack_windows(full_train, range(0, len(full_train), 1 if not quick else 2))
            lin = LinearAR(lag, ridge=1e-4).fit(x_tr, y_tr)
            baselines.append(("linear", lambda x, hh, m=lin: m.predict(x)))
        for name, pred in baselines:
            ev = evaluate_forecast(pred, x_te, y_te)
            window_mse[name] = ev["window_mse"].numpy()
            shown_forecast[name] = pred(x_te[shown : shown + 1], h)[0, :, 0].numpy()
            metrics[f"h{h}_{name}_mse"] = float(ev["mse"].mean())
            metrics[f"h{h}_{name}_mae"] = float(ev["mae"].mean())
            metrics[f"h{h}_{name}_val_mse"] = float(
                evaluate_forecast(pred, x_va, y_va)["mse"].mean()
            )
        st_cfg = SpaceTimeConfig(
            d_model=32 if quick else 128,
            dropout=st["dropout"],
            norm=st["norm"],
            kernel_method=st["kernel_method"],
            loss=st["loss"],
            loss_weights=st["loss_weights"],
        )
        s4_cfg = S4DForecasterConfig(
            d_model=32 if quick else 64, n_layers=2, d_state=64, dropout=st["s4d_dropout"]
        )
        nets = {
            "spacetime": lambda c=st_cfg: SpaceTime(c, seed=ctx.seed),
            "s4d": lambda c=s4_cfg: S4DForecaster(c, seed=ctx.seed),
        }
        hp = {
            "spacetime": (st["lr"], st["weight_decay"], st["warmup"], st["schedule"]),
            "s4d": (st["s4d_lr"], st["s4d_weight_decay"], 0, st["s4d_schedule"]),
        }
        for name in [n for n in nets if n in which]:
            model = nets[name]()
            lr, wd, warmup, schedule = hp[name]
            fit, sec = _train(
                model,
                train,
                val,
                epochs=epochs,
                batch_size=st["batch_size"],
                lr=lr,
                weight_decay=wd,
                ctx=ctx,
                patience=st["patience"],
                warmup=warmup,
                val_every_steps=st["val_every_steps"],
                ema=st["ema"],
                schedule=schedule,
            )
            metrics[f"h{h}_{name}_best_epoch"] = float(fit.best_epoch or len(fit.history))
            metrics[f"h{h}_{name}_best_step"] = float(fit.best_step or 0)
            metrics[f"h{h}_{name}_validations"] = float(len(fit.validations))
            with atomic_path(ctx.out_dir / f"validations_h{h}_{name}.json") as tmp:
                tmp.write_text(
                    json.dumps(
                        [
                            {k: v[k] for k in ("step", "epoch", "kind", "value", "improved")}
                            for v in fit.validations
                        ]
                    )
                )
            metrics[f"h{h}_{name}_epochs_run"] = float(len(fit.history))
            metrics[f"h{h}_{name}_val_mse"] = float(fit.best_val_mse or float("nan"))
            predict = _predictor(model, name, ctx.device)
            ev = evaluate_forecast(predict, x_te, y_te, batch_size=100)
            window_mse[name] = ev["window_mse"].numpy()
            shown_forecast[name] = predict(x_te[shown : shown + 1], h)[0, :, 0].numpy()
            metrics[f"h{h}_{name}_mse"] = float(ev["mse"].mean())
            metrics[f"h{h}_{name}_mae"] = float(ev["mae"].mean())
            metrics[f"h{h}_{name}_sec_per_epoch"] = float(sec)
            ctx.log(
                f"ETTh1 h={h} {name}: val MSE {metrics[f'h{h}_{name}_val_mse']:.4f}, test MSE "
                f"{metrics[f'h{h}_{name}_mse']:.4f} (best validation epoch {fit.best_epoch} of "
                f"{len(fit.history)}, step {fit.best_step}, {sec:.0f} s/epoch)"
            )
        block = st["ci_block"] or -(-max(168, h) // st["test_stride"])  # in test windows
        block = min(block, x_te.shape[0])
        metrics[f"h{h}_ci_block"] = float(block)
        for name in [n for n in ("spacetime", "s4d") if n in window_mse]:
            for ref in [r for r in ("linear", "last") if r in window_mse]:
                ci = mse_ratio_ci(
                    window_mse[name], window_mse[ref], block, st["ci_boot"], seed=ctx.seed
                )
                key = f"h{h}_{name}_over_{ref}"
                metrics[key] = ci["ratio"]
                metrics[f"{key}_lo"], metrics[f"{key}_hi"] = ci["lo"], ci["hi"]
                metrics[f"{key}_p_below_one"] = ci["p_below_one"]
                ctx.log(
                    f"ETTh1 h={h} {name} / {ref} test MSE: {ci['ratio']:.3f}, 95 % block-bootstrap "
                    f"interval [{ci['lo']:.3f}, {ci['hi']:.3f}] ({x_te.shape[0] // block} blocks "
                    f"of {block} windows; {name} ahead in {100 * ci['p_below_one']:.0f} % of "
                    "resamples)"
                )
        with atomic_path(ctx.out_dir / f"test_window_mse_h{h}.json") as tmp:
            tmp.write_text(json.dumps({k: v.tolist() for k, v in window_mse.items()}))
        _save_figure(
            ctx,
            f"forecast_h{h}",
            forecast_figure,
            x_te[shown, :, 0].numpy(),
            y_te[shown, :, 0].numpy(),
            {k: shown_forecast[k] for k in ETT_MODELS if k in shown_forecast},
            f"ETTh1 OT, test window {shown} of {x_te.shape[0]}, horizon {h}",
        )
        ctx.log(
            f"ETTh1 h={h}: "
            + ", ".join(f"{k} {metrics[f'h{h}_{k}_mse']:.4f}" for k in ETT_MODELS if k in which)
            + f" (test MSE, {len(train)} train windows, {x_te.shape[0]} test windows, {epochs} epochs)"
        )
    for name in [n for n in ("spacetime", "s4d") if n in which]:
        refs = [r for r in ("linear", "last") if r in which]
        if refs:
            title = f"ETTh1: {name} test MSE relative to the baselines"
            _save_figure(ctx, f"ratios_{name}", ratio_figure, metrics, horizons, name, refs, title)
    return metrics


def _save_figure(ctx, name, make, *args) -> None:
    """Save ``make(*args)``; a figure never fails the benchmark (e.g. without matplotlib)."""
    try:
        ctx.save_figure(make(*args), name)
    except Exception as exc:
        ctx.log(f"figure {name} skipped: {exc}")


DATASETS = [
    {
        "name": "ssm-ar",
        "generator": "sciml.ssm.ar:generate_ar_dataset",
        "kind": "timeseries",
        "description": "stable AR(p) series, p in {2, 4, 8, 16}, unit Gaussian noise (card: datasets/ssm-ar.md)",
        "sizes": {
            "quick": {
                "orders": [2, 4, 8, 16],
                "n_train": 8000,
                "n_val": 2000,
                "n_test": 2000,
                "sigma": 1.0,
            },
            "full": {
                "orders": [2, 4, 8, 16],
                "n_train": 20000,
                "n_val": 4000,
                "n_test": 4000,
                "sigma": 1.0,
            },
        },
    }
]

_AR = "p<p>: AR order; units: series / its train std"
#: ``ssm-ar`` metrics: ``p<p>_<model>_<metric>``, model ``spacetime`` or ``s4d``, and the
#: Bayes-optimal predictor's (``bayes``) and closed-form (``theory``) MSEs on the same windows.
AR_METRICS = {
    "p*_bayes_mse1": {
        "about": "one-step test MSE of the Bayes-optimal predictor (the true AR(p) recursion) "
        f"on the test windows; {_AR}",
        "better": "none",
    },
    "p*_bayes_mse24": {
        "about": "test MSE of the Bayes-optimal predictor, mean over the 24 forecast steps; " + _AR,
        "better": "none",
    },
    "p*_theory_mse1": {
        "about": "closed-form one-step MSE of the optimal predictor, σ² / std² (population "
        f"value of bayes_mse1); {_AR}",
        "better": "none",
    },
    "p*_theory_mse24": {
        "about": "closed-form optimal MSE σ² Σ_{j<h} ψ_j² / std², mean over h = 1…24 "
        f"(population value of bayes_mse24); {_AR}",
        "better": "none",
    },
    "p*_ratio1": {
        "about": "one-step test MSE of the model (spacetime, s4d) divided by the Bayes-optimal "
        "predictor's on the same test windows (1 = optimal)",
        "better": "lower",
    },
    "p*_ratio24": {
        "about": "test MSE of the model (spacetime, s4d) divided by the Bayes-optimal "
        "predictor's on the same test windows, both averaged over the 24 steps (1 = optimal)",
        "better": "lower",
    },
    "p*_mse1": {
        "about": f"one-step test MSE of the model (spacetime, s4d); {_AR}",
        "better": "lower",
    },
    "p*_mse24": {
        "about": f"test MSE of the model (spacetime, s4d), mean over the 24 forecast steps; {_AR}",
        "better": "lower",
    },
    "p*_best_epoch": {
        "about": "epoch (from 1) with the lowest validation loss, whose weights are scored",
        "better": "none",
    },
    "p*_sec_per_epoch": {
        "about": "wall-clock seconds per training epoch, validation included",
        "better": "lower",
    },
}

_ETT = " (OT z-scored on train; h<H>: H hours)"
_ETT_MODELS = {
    "spacetime": "SpaceTime (best-on-validation state)",
    "s4d": "S4D (best-on-validation state)",
    "linear": "the linear-AR baseline (ridge, 336 lags)",
    "last": "the last-value baseline",
}
#: ``ssm-etth1`` metrics: ``h<H>_<model>_<metric>``, model ``spacetime``, ``s4d``, ``linear``
#: (ridge linear AR on the 336 lags) or ``last`` (last value repeated), and the run's settings.
ETTH1_METRICS = {
    "h*_over_*_lo": {
        "about": "lower end of the 95 % block-bootstrap interval of the MSE ratio "
        "h<H>_<network>_over_<baseline>",
        "better": "lower",
    },
    "h*_over_*_hi": {
        "about": "upper end of the 95 % block-bootstrap interval of the MSE ratio "
        "h<H>_<network>_over_<baseline> (< 1: network ahead with confidence)",
        "better": "lower",
    },
    "h*_over_*_p_below_one": {
        "about": "share of bootstrap resamples in which the network's test MSE is below the "
        "baseline's",
        "better": "higher",
    },
    "h*_over_*": {
        "about": "test MSE of the network (spacetime, s4d) divided by the baseline's (linear, "
        "last) on the same test windows (< 1: network better)",
        "better": "lower",
    },
    **{
        f"h*_{model}_{kind}": {"about": text.format(m=label), "better": "lower"}
        for model, label in _ETT_MODELS.items()
        for kind, text in (
            ("val_mse", "validation MSE of {m}, mean over the H steps and windows" + _ETT),
            ("mse", "test MSE of {m}, mean over the H forecast steps and test windows" + _ETT),
            ("mae", "test MAE of {m}, mean over the H forecast steps and test windows" + _ETT),
        )
    },
    "h*_best_epoch": {
        "about": "epoch (from 1) of the selected best-on-validation state",
        "better": "none",
    },
    "h*_best_step": {
        "about": "optimiser steps done when the selected state was validated",
        "better": "none",
    },
    "h*_validations": {
        "about": "validation events during training (epoch ends and every val_every_steps steps)",
        "better": "none",
    },
    "h*_epochs_run": {
        "about": "epochs trained (fewer than epochs after early stopping)",
        "better": "none",
    },
    "h*_sec_per_epoch": {
        "about": "wall-clock seconds per training epoch, validation included",
        "better": "lower",
    },
    "h*_ci_block": {
        "about": "test windows per block of the block-bootstrap intervals",
        "better": "none",
    },
    "epochs": {"about": "training epochs per network (setting)", "better": "none"},
    "*_stride": {
        "about": "every n-th window used for training / validation / test (setting)",
        "better": "none",
    },
    "batch_size": {"about": "training batch size (setting)", "better": "none"},
    "warmup": {"about": "SpaceTime learning-rate warm-up epochs (setting)", "better": "none"},
    "patience": {
        "about": "early-stopping patience in validation events, 0: off (setting)",
        "better": "none",
    },
    "val_every_steps": {
        "about": "validation every n optimiser steps, 0: at epoch ends only (setting)",
        "better": "none",
    },
    "ema": {"about": "decay of the weight moving average, 0: off (setting)", "better": "none"},
    "schedule_per_step": {
        "about": "1: SpaceTime learning-rate schedule counted in optimiser steps, 0: in epochs "
        "(setting)",
        "better": "none",
    },
    "s4d_schedule_per_step": {
        "about": "1: S4D learning-rate schedule counted in optimiser steps, 0: in epochs (setting)",
        "better": "none",
    },
    "spacetime_kernel_squaring": {
        "about": "1: SpaceTime companion kernel by squaring, 0: fast (setting)",
        "better": "none",
    },
    "spacetime_loss_w*": {
        "about": "SpaceTime loss weight of the forecast (w0), one-step (w1) and next-input (w2) "
        "terms (setting)",
        "better": "none",
    },
    "spacetime_loss_rmse": {
        "about": "1: SpaceTime RMSE loss, 0: MSE (setting)",
        "better": "none",
    },
    "spacetime_norm_l1": {
        "about": "1: SpaceTime l1 companion-matrix normalisation, 0: clip or none (setting)",
        "better": "none",
    },
    "spacetime_*": {
        "about": "SpaceTime learning rate, weight decay or dropout (setting)",
        "better": "none",
    },
    "s4d_*": {"about": "S4D learning rate, weight decay or dropout (setting)", "better": "none"},
}

BENCHMARKS = [
    {
        "name": "ssm-ar",
        "description": "SpaceTime vs S4D vs the Bayes-optimal AR(p) predictor (1- and 24-step MSE)",
        "datasets": ["ssm-ar"],
        "references": {},
        "metrics": AR_METRICS,
        "options": AR_OPTIONS,
        "run": run_ar,
    },
    {
        "name": "ssm-etth1",
        "description": "ETTh1 univariate OT, lag 336: SpaceTime, S4D, last-value and linear-AR baselines",
        "datasets": [],
        "references": {
            "h24_spacetime_mse": {
                "value": 0.061,
                "source": "S4 paper (Gu et al. 2022), Table 4: S4 on ETTh1 h=24",
            },
            "h24_spacetime_mae": {"value": 0.191, "source": "S4 paper, Table 4: S4 on ETTh1 h=24"},
            "h720_spacetime_mse": {
                "value": 0.116,
                "source": "S4 paper, Table 4: S4 on ETTh1 h=720",
            },
            "h720_spacetime_mae": {
                "value": 0.271,
                "source": "S4 paper, Table 4: S4 on ETTh1 h=720",
            },
        },
        "metrics": ETTH1_METRICS,
        "options": ETTH1_OPTIONS,
        "run": run_etth1,
    },
]
