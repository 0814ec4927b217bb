"""sciml-bench entries of sciml.tensor (top level imports nothing heavy).

- ``funbat-synthetic``: the paper's rank-1 CP case (reference RMSE 0.0042) and a 3-mode Tucker
  tensor (RMSE/MAE vs noise level and rank) with FunBaT, FunBaT-CP and the three baselines
  (ALS Tucker/CP on a binned grid, SVI Bayesian Tucker with pyro, GP regression with gpytorch).
- ``funbat-scaling``: seconds per epoch and peak memory on synthetic tensors with the Beijing
  shape (428/501/1461 unique values, 13,572 entries) and the US-Temp shape (15/95/267, 44,755
  entries), each configuration in a fresh process so that peak RSS is its own.
"""

from __future__ import annotations

SHAPES = {
    "beijing": {"n_unique": (428, 501, 1461), "n_entries": 13572},
    "ustemp": {"n_unique": (15, 95, 267), "n_entries": 44755},
}

_MEASURED = "public FunBaT code, measured by the project on its 2-core CPU"
REFERENCE_SCALING = {
    "s_per_epoch_beijing_r2": {
        "value": 0.89,
        "source": _MEASURED,
    },
    "s_per_epoch_beijing_r3": {
        "value": 1.16,
        "source": _MEASURED,
    },
    "s_per_epoch_beijing_r5": {"value": 8.6, "source": _MEASURED},
    "peak_mb_beijing_r2": {"value": 403.0, "source": _MEASURED},
    "peak_mb_beijing_r3": {"value": 844.0, "source": _MEASURED},
    "peak_mb_beijing_r5": {"value": 10400.0, "source": _MEASURED},
    "s_per_epoch_cp_beijing_r2": {
        "value": 0.81,
        "source": _MEASURED,
    },
}

DATASETS = [
    {
        "name": "funbat-synthetic",
        "generator": "sciml.tensor.synthetic:generate_tucker3",
        "sizes": {
            "quick": {"n": 1500, "noise": 0.1, "n_unique": [60, 80, 120]},
            "full": {"n": 5000, "noise": 0.1, "n_unique": [150, 200, 300]},
        },
        "kind": "tensor",
        "description": "3-mode rank-(2,2,2) Tucker tensor, smooth latent functions, non-uniform continuous indices",
        # 1: entries are distinct (before, an entry drawn twice could sit in train and test)
        "version": 1,
    },
    {
        "name": "funbat-rank1",
        "generator": "sciml.tensor.synthetic:generate_rank1_cp",
        "sizes": {"quick": {"n": 1350}, "full": {"n": 1350}},
        "kind": "tensor",
        "description": "FunBaT paper's synthetic rank-1 CP tensor, 1,350 points, 50/50 split",
    },
]


def _register():
    from sciml import data

    for d in DATASETS:
        try:
            data.register_dataset(
                d["name"],
                d["generator"],
                sizes=d["sizes"],
                kind=d["kind"],
                description=d["description"],
                version=d.get("version", 0),
            )
        except ValueError as exc:  # already registered (by the CLI)
            if "already" not in str(exc).lower():
                raise
    return data


def _epoch_timer():
    import time

    stamps = []

    def cb(epoch, model):
        stamps.append(time.perf_counter())

    return stamps, cb


def _median_step(stamps, t0):
    import statistics

    d = [b - a for a, b in zip([t0, *stamps[:-1]], stamps)]
    return statistics.median(d[1:] if len(d) > 2 else d)


# ---------------------------------------------------------------------------- synthetic
def run_rank1(ctx, epochs: int = 100) -> dict:
    """The paper's rank-1 CP case: FunBaT-CP, ν=3/2, ℓ=0.1, σ²=0.5, 100 epochs."""
    import time

    import numpy as np
    import torch

    from sciml.tensor import FunBaTConfig, FunBaTCP, load_entries

    data = _register()
    path = data.get_dataset("funbat-rank1", "quick", seed=ctx.seed)
    xtr, ytr = load_entries(path, "train")
    xte, yte = load_entries(path, "test")
    dev = torch.device(ctx.device)
    Xtr = torch.as_tensor(xtr, device=dev)
    cfg = FunBaTConfig(rank=1, nu=1.5, lengthscale=0.1, variance=0.5, epochs=epochs, seed=ctx.seed)
    stamps, cb = _epoch_timer()
    t0 = time.perf_counter()
    m = FunBaTCP(cfg).fit(Xtr, torch.as_tensor(ytr, device=dev), callback=cb)
    total = time.perf_counter() - t0
    pred = m.predict(torch.as_tensor(xte, device=dev)).cpu().numpy()
    out = {
        "rmse_rank1_cp": float(np.sqrt(np.mean((pred - yte) ** 2))),
        "mae_rank1_cp": float(np.mean(np.abs(pred - yte))),
        "s_per_epoch_rank1_cp": _median_step(stamps, t0),
        "fit_seconds_rank1_cp": total,
    }
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from sciml.tensor.synthetic import RANK1_CP_FUNCTIONS

        grid = np.linspace(-0.1, 1.1, 300)
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
        for k, ax in enumerate(axes):
            mu, var = m.posterior_factors(k, grid)
            mu, sd = mu[:, 0].cpu().numpy(), var[:, 0].sqrt().cpu().numpy()
            truth = RANK1_CP_FUNCTIONS[k](grid)
            # rank-1 CP is identified up to a scale: match the learned function to the truth
            s = float(np.dot(mu, truth) / max(np.dot(mu, mu), 1e-12))
            ax.plot(grid, truth, "k--", label="truth")
            ax.plot(grid, s * mu, label="FunBaT-CP (rescaled)")
            ax.fill_between(grid, s * (mu - 2 * sd), s * (mu + 2 * sd), alpha=0.3)
            ax.set_title(f"mode {k + 1}")
        axes[0].legend()
        ctx.save_figure(fig, "rank1_latent_functions")
        plt.close(fig)
    except Exception as exc:  # a figure never fails the benchmark
        ctx.log(f"figure skipped: {exc}")
    return out


def run_tucker_suite(ctx, noises, ranks, *, epochs, svi_steps, gp_points, gp_steps, size) -> dict:
    """FunBaT, FunBaT-CP and the baselines on the 3-mode Tucker synthetic tensor."""
    import time

    import numpy as np
    import torch

    from sciml.tensor import (
        CPALS,
        FunBaT,
        FunBaTConfig,
        FunBaTCP,
        GPBaseline,
        SVITucker,
        TuckerALS,
        load_entries,
    )

    data = _register()
    dev = torch.device(ctx.device)
    out = {}
    for noise in noises:
        path = data.get_dataset("funbat-synthetic", size, seed=ctx.seed, noise=noise)
        xtr, ytr = load_entries(path, "train")
        xte, yte = load_entries(path, "test")
        Xtr, Ytr = torch.as_tensor(xtr, device=dev), torch.as_tensor(ytr, device=dev)
        Xte = torch.as_tensor(xte, device=dev)
        n_bins = [int(min(30, len(np.unique(xtr[:, k])))) for k in range(3)]
        for R in ranks:
            models = {
                "funbat": lambda R=R: FunBaT(
                    FunBaTConfig(rank=R, nu=1.5, lengthscale=0.3, epochs=epochs, seed=ctx.seed)
                ),
                "funbat_cp": lambda R=R: FunBaTCP(
                    FunBaTConfig(rank=R, nu=1.5, lengthscale=0.3, epochs=epochs, seed=ctx.seed)
                ),
                "als_tucker": lambda R=R, nb=n_bins: TuckerALS(
                    R, n_bins=nb, n_iter=50, reg=0.1, seed=ctx.seed
                ),
                "als_cp": lambda R=R, nb=n_bins: CPALS(
                    R, n_bins=nb, n_iter=50, reg=0.1, seed=ctx.seed
                ),
                "svi_tucker": lambda R=R, nb=n_bins: SVITucker(
                    R, n_bins=nb, steps=svi_steps, seed=ctx.seed
                ),
            }
            if R == ranks[0]:
                models["gp"] = lambda: GPBaseline(
                    nu=1.5, max_points=gp_points, steps=gp_steps, seed=ctx.seed
                )
            for name, make in models.items():
                t0 = time.perf_counter()
                m = make().fit(Xtr, Ytr)
                secs = time.perf_counter() - t0
                pred = m.predict(Xte).detach().cpu().numpy()
                key = f"{name}_noise{noise:g}" + ("" if name == "gp" else f"_r{R}")
                out[f"rmse_{key}"] = float(np.sqrt(np.mean((pred - yte) ** 2)))
                out[f"mae_{key}"] = float(np.mean(np.abs(pred - yte)))
                out[f"fit_seconds_{key}"] = secs
                ctx.log(f"{key}: rmse {out[f'rmse_{key}']:.4f} ({secs:.1f} s)")
    return out


#: Settings of the synthetic Tucker study per size (noise levels, ranks, budgets of the baselines).
SYNTHETIC_SETTINGS: dict[str, dict] = {
    "quick": dict(noises=[0.1], ranks=[2], epochs=50, svi_steps=300, gp_points=500, gp_steps=40),
    "full": dict(
        noises=[0.05, 0.1, 0.3],
        ranks=[1, 2, 3],
        epochs=100,
        svi_steps=1500,
        gp_points=2000,
        gp_steps=100,
    ),
}


def run_synthetic(ctx, **overrides) -> dict:
    """Rank-1 CP check plus the synthetic Tucker study; ``overrides`` replace entries of
    :data:`SYNTHETIC_SETTINGS` for the chosen size."""
    size = "quick" if ctx.quick else "full"
    settings = {**SYNTHETIC_SETTINGS[size], **overrides}
    noises, ranks = settings.pop("noises"), settings.pop("ranks")
    out = run_rank1(ctx)
    out.update(run_tucker_suite(ctx, noises, ranks, size=size, **settings))
    return out


# ---------------------------------------------------------------------------- scaling
def scaling_worker(
    shape: str,
    rank: int,
    model: str = "tucker",
    epochs: int = 5,
    device: str = "cpu",
    seed: int = 0,
) -> dict:
    """Time one configuration in this process: median seconds per epoch (first epoch excluded),
    peak RSS (MB) and, on CUDA, peak allocated device memory (MB)."""
    import resource
    import time

    import torch

    from sciml.tensor import FunBaT, FunBaTConfig, FunBaTCP
    from sciml.tensor.synthetic import make_shaped_tensor

    spec = SHAPES[shape]
    x, y = make_shaped_tensor(spec["n_unique"], spec["n_entries"], rank=3, seed=seed)
    dev = torch.device(device)
    X, Y = torch.as_tensor(x, device=dev), torch.as_tensor(y, device=dev)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    cls = FunBaT if model == "tucker" else FunBaTCP
    cfg = FunBaTConfig(rank=rank, nu=0.5, lengthscale=0.3, epochs=epochs, seed=seed)
    stamps, cb = _epoch_timer()

    def sync_cb(epoch, m):
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        cb(epoch, m)

    t0 = time.perf_counter()
    cpu0 = time.process_time()
    m = cls(cfg).fit(X, Y, callback=sync_cb)
    cpu = time.process_time() - cpu0
    out = {
        "s_per_epoch": _median_step(stamps, t0),
        "cpu_s_per_epoch": cpu / epochs,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "rss_before_fit_mb": base_mb,
        "train_rmse": float(m.history[-1]["train_mse"]) ** 0.5,
    }
    if dev.type == "cuda":
        out["peak_cuda_mb"] = torch.cuda.max_memory_allocated(dev) / 2**20
        out["device_name"] = torch.cuda.get_device_name(dev)
    return out


def scaling_subprocess(
    shape: str,
    rank: int,
    model: str = "tucker",
    epochs: int = 5,
    device: str = "cpu",
    seed: int = 0,
    threads: int | None = None,
) -> dict:
    """Run :func:`scaling_worker` in a fresh Python process (so peak RSS is its own)."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json; from sciml.tensor.bench import scaling_worker; "
        f"print('RESULT' + json.dumps(scaling_worker({shape!r}, {rank}, {model!r}, {epochs}, {device!r}, {seed})))"
    )
    env = dict(os.environ)
    if threads is not None:  # intra-op threads of the worker (OMP/MKL and torch)
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    for line in res.stdout.splitlines():
        if line.startswith("RESULT"):
            return json.loads(line[len("RESULT") :])
    raise RuntimeError(f"scaling worker failed ({shape}, R={rank}): {res.stderr[-2000:]}")


def run_scaling(ctx) -> dict:
    if ctx.quick:
        configs = [("beijing", 2, "tucker"), ("beijing", 3, "tucker"), ("ustemp", 7, "tucker")]
        epochs = 3
    else:
        configs = [(s, r, "tucker") for s in ("beijing", "ustemp") for r in (2, 3, 5, 7)]
        configs += [("beijing", 2, "cp"), ("beijing", 3, "cp")]
        epochs = 5
    # one intra-op thread by default on CPU: on a shared 2-core machine torch's thread pool
    # spin-waits and timings explode; -o threads=N overrides
    threads = int(ctx.options.get("threads", 1 if ctx.device == "cpu" else 0)) or None
    out = {}
    for shape, R, model in ctx.progress(configs, desc="funbat-scaling", total=len(configs)):
        r = scaling_subprocess(shape, R, model, epochs, ctx.device, ctx.seed, threads=threads)
        tag = ("" if model == "tucker" else "cp_") + f"{shape}_r{R}"
        out[f"s_per_epoch_{tag}"] = r["s_per_epoch"]
        out[f"peak_mb_{tag}"] = r["peak_rss_mb"]
        if "peak_cuda_mb" in r:
            out[f"peak_cuda_mb_{tag}"] = r["peak_cuda_mb"]
        ctx.log(f"{tag}: {r['s_per_epoch']:.4f} s/epoch, peak RSS {r['peak_rss_mb']:.0f} MB")
    return out


_SYN_MODELS = {
    "funbat": "FunBaT",
    "funbat_cp": "FunBaT-CP",
    "als_tucker": "ALS Tucker (binned grid)",
    "als_cp": "ALS CP (binned grid)",
    "svi_tucker": "SVI Bayesian Tucker",
    "gp": "GP regression",
}
_NOISE = " (suffix: noise<σ> = train noise std, r<R> = rank)"
#: ``funbat-synthetic`` metrics: ``<metric>_<model>_noise<σ>[_r<R>]`` on the Tucker tensor (test
#: values noise-free), and ``<metric>_rank1_cp`` on the paper's rank-1 CP case.
SYNTHETIC_METRICS = {
    "rmse_rank1_cp": {
        "about": "test RMSE of FunBaT-CP on the paper's rank-1 CP tensor (noise-free values)",
        "better": "lower",
    },
    "mae_rank1_cp": {
        "about": "test MAE of FunBaT-CP on the paper's rank-1 CP tensor (noise-free values)",
        "better": "lower",
    },
    "s_per_epoch_rank1_cp": {
        "about": "wall-clock seconds per epoch of FunBaT-CP on the rank-1 CP case (median, first "
        "epoch excluded)",
        "better": "lower",
    },
    "fit_seconds_rank1_cp": {
        "about": "wall-clock seconds of the whole FunBaT-CP fit on the rank-1 CP case",
        "better": "lower",
    },
    **{
        f"{kind}_{model}_noise*": {"about": text.format(m=label) + _NOISE, "better": "lower"}
        for kind, text in (
            ("rmse", "test RMSE of {m} against the noise-free Tucker-tensor values"),
            ("mae", "test MAE of {m} against the noise-free Tucker-tensor values"),
            ("fit_seconds", "wall-clock seconds of the {m} fit"),
        )
        for model, label in _SYN_MODELS.items()
    },
}

_SHAPES = {
    "beijing": "the Beijing shape (428/501/1461 values, 13,572 entries)",
    "ustemp": "the US-Temp shape (15/95/267 values, 44,755 entries)",
}
#: ``funbat-scaling`` metrics: ``<metric>_[cp_]<shape>_r<R>`` (``cp_``: FunBaT-CP), synthetic
#: tensors of the real data sets' shapes, each configuration in a fresh process.
SCALING_METRICS = {
    f"{kind}_{cp}{shape}_r*": {
        "about": text.format(m="FunBaT-CP" if cp else "FunBaT", s=_SHAPES[shape]),
        "better": "lower",
    }
    for kind, text in (
        ("s_per_epoch", "{m} wall-clock seconds per epoch (median, first excluded) at {s}, rank R"),
        ("peak_mb", "peak resident MiB of the fresh process fitting {m} at {s}, rank R"),
        ("peak_cuda_mb", "peak allocated CUDA MiB fitting {m} at {s}, rank R (GPU runs)"),
    )
    for cp, shape in (("", "beijing"), ("", "ustemp"), ("cp_", "beijing"))  # run_scaling's
}

BENCHMARKS = [
    {
        "name": "funbat-synthetic",
        "description": "FunBaT/FunBaT-CP vs ALS Tucker/CP, SVI Bayesian Tucker and GP on synthetic continuous-indexed tensors",
        "datasets": ["funbat-synthetic", "funbat-rank1"],
        "references": {
            "rmse_rank1_cp": {
                "value": 0.0042,
                "source": "FunBaT public code on the paper's rank-1 CP case, 100 epochs, run by the project",
            },
            "s_per_epoch_rank1_cp": {
                "value": 0.093,
                "source": _MEASURED,
            },
        },
        "metrics": SYNTHETIC_METRICS,
        "options": {},
        "run": run_synthetic,
    },
    {
        "name": "funbat-scaling",
        "description": "FunBaT seconds/epoch and peak memory at the Beijing and US-Temp shapes",
        "datasets": [],
        "references": REFERENCE_SCALING,
        "metrics": SCALING_METRICS,
        "options": {
            "threads": "intra-op threads (OMP/MKL) of each worker process; 0: the libraries' "
            "default (default 1 on CPU / 0 on CUDA)",
        },
        "run": run_scaling,
    },
]
