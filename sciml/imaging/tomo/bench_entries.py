"""sciml-bench entries for RED-PSM (``ct-redpsm``, ``mri-redpsm``), to be merged into
``sciml/imaging/bench.py``. Top level imports nothing heavy; ``run`` imports inside."""


def _flat(out: dict, suffix: str = "") -> dict:
    res = {}
    for m, r in out.items():
        for k in ("psnr", "ssim", "hfen", "seconds", "sec_per_outer"):
            if k in r:
                res[f"{k}_{m}{suffix}"] = float(r[k])
    if "redpsm" in out and "psm" in out:
        res[f"psnr_gain_vs_psm{suffix}"] = out["redpsm"]["psnr"] - out["psm"]["psnr"]
    if "redpsm" in out and "fbp" in out:
        res[f"psnr_gain_vs_fbp{suffix}"] = out["redpsm"]["psnr"] - out["fbp"]["psnr"]
    return res


def run_ct_redpsm(ctx) -> dict:
    """Quick: 64×64, P=32 (our weights). Full: 128×128, P=128 and P=256 with the paper's
    hyper-parameters. Final iterates only."""
    from sciml.imaging.tomo.experiment import CT_SETTINGS, ct_config, make_ct_problem, run_ct

    settings = ["quick"] if ctx.quick else ["p128", "p256"]
    out = {}
    for name in settings:
        s = CT_SETTINGS[name]
        prob = make_ct_problem(s["n"], s["frames"], seed=ctx.seed, device=ctx.device)
        cfg = ct_config(name)
        ctx.log(f"{name}: n={s['n']} P={s['frames']} {cfg}")
        res = run_ct(prob, cfg)
        suffix = "" if ctx.quick else f"_{name}"
        out.update(_flat(res, suffix))
        out[f"radon_mbytes{suffix}"] = prob.op.nbytes / 2**20
        out[f"dense_matrix_mbytes{suffix}"] = prob.op.dense_nbytes / 2**20
        for m, r in res.items():
            ctx.log(
                f"{name} {m}: PSNR {r['psnr']:.2f} dB SSIM {r['ssim']:.4f} HFEN "
                f"{r['hfen']:.4f} {r['seconds']:.1f} s"
            )
    return out


def run_mri_redpsm(ctx) -> dict:
    """Cardiac cine phantom 64×64×16, R=8: RED-PSM, PSM, L+S, RDLEDM, zero-filled."""
    from sciml.imaging.tomo.experiment import run_mri

    res = run_mri("quick", seed=ctx.seed, device=ctx.device)
    for m, r in res.items():
        ctx.log(f"mri {m}: PSNR {r['psnr']:.2f} dB SSIM {r['ssim']:.4f} {r['seconds']:.1f} s")
    out = _flat(res)
    if "lps" in res:
        out["psnr_gain_vs_lps"] = res["redpsm"]["psnr"] - res["lps"]["psnr"]
    return out


#: ``about`` templates of the per-method image scores ``<score>_<method><suffix>``: ``{m}`` the
#: method's label, ``{s}`` what the suffix means. Scores compare the magnitude of the
#: reconstruction with the ground-truth sequence (``sciml.imaging.metrics``).
SCORES = {
    "psnr": (
        "PSNR of the {m} reconstruction{s} vs the truth, 10·log10(range² / MSE) over the "
        "sequence (dB)",
        "higher",
    ),
    "ssim": (
        "SSIM of the {m} reconstruction{s}, per frame (σ = 1.5 window), mean over frames",
        "higher",
    ),
    "hfen": (
        "HFEN of the {m} reconstruction{s}: ‖LoG(x) − LoG(x_true)‖ / ‖LoG(x_true)‖, LoG σ = 1.5 "
        "per frame",
        "lower",
    ),
    "seconds": ("wall-clock seconds of the {m} reconstruction{s}", "lower"),
}


def image_metrics(methods: dict, suffix: str = "", scores=tuple(SCORES)) -> dict:
    """``metrics`` patterns ``<score>_<method>*`` for every score and method (``{method: label}``);
    ``suffix`` (e.g. ``" at acceleration R (_r<R>)"``) explains what follows the method."""
    return {
        f"{score}_{method}*": {
            "about": SCORES[score][0].format(m=label, s=suffix),
            "better": SCORES[score][1],
        }
        for score in scores
        for method, label in methods.items()
    }


_VIEWS = " (full runs: _p<P> = P views)"
CT_METRICS = {
    "psnr_gain_vs_psm*": {
        "about": "PSNR of RED-PSM minus PSNR of PSM alone (no denoiser prior), final iterates "
        f"(dB){_VIEWS}",
        "better": "higher",
    },
    "psnr_gain_vs_fbp*": {
        "about": f"PSNR of RED-PSM minus PSNR of per-frame filtered back-projection (dB){_VIEWS}",
        "better": "higher",
    },
    "sec_per_outer_*": {
        "about": "wall-clock seconds per RED-PSM outer (ADMM) iteration, initialisation "
        f"excluded{_VIEWS}",
        "better": "lower",
    },
    "radon_mbytes*": {
        "about": f"MiB held by our sparse (CSR) projection matrices A and Aᵀ in float64{_VIEWS}",
        "better": "lower",
    },
    "dense_matrix_mbytes*": {
        "about": "MiB the same system matrix takes dense in float32, as stored by the public "
        f"RED-PSM code{_VIEWS}",
        "better": "none",
    },
    **image_metrics(
        {
            "redpsm": "RED-PSM",
            "psm": "PSM-alone",
            "fbp": "per-frame filtered back-projection",
            "swfbp": "sliding-window FBP",
        },
        _VIEWS,
    ),
}

MRI_METRICS = {
    "psnr_gain_vs_psm": {
        "about": "PSNR of RED-PSM minus PSNR of PSM alone (no denoiser prior), R = 8 (dB)",
        "better": "higher",
    },
    "psnr_gain_vs_lps": {
        "about": "PSNR of RED-PSM minus PSNR of L+S (low-rank + sparse), R = 8 (dB)",
        "better": "higher",
    },
    **image_metrics(
        {
            "redpsm": "RED-PSM",
            "psm": "PSM-alone",
            "lps": "L+S (low-rank + sparse)",
            "rdledm": "RDLEDM",
            "zero_filled": "zero-filled inverse FFT",
        },
        " at R = 8",
    ),
}

BENCHMARKS = [
    {
        "name": "ct-redpsm",
        "description": "RED-PSM (PSM + DnCNN RED prior, ADMM) vs PSM alone, per-frame and "
        "sliding-window FBP on a deforming phantom, one parallel-beam view per instant",
        "datasets": [],
        "references": {
            "psnr_gain_vs_psm": {
                "value": 1.0,
                "source": "project target: RED-PSM at least 1 dB above PSM in PSNR, final "
                "iterate; the paper (Iskender et al., ICCV 2023) reports best-over-iterations "
                "PSNR on its walnut data",
                "target": ">=",
            },
        },
        "metrics": CT_METRICS,
        "options": {},
        "run": run_ct_redpsm,
    },
    {
        "name": "mri-redpsm",
        "description": "RED-PSM and PSM alone vs L+S, RDLEDM and zero-filled on the cardiac "
        "cine phantom with variable-density k-t sampling (R=8)",
        "datasets": [],
        "references": {
            "psnr_gain_vs_psm": {
                "value": 1.0,
                "source": "project target: RED-PSM at least 1 dB above PSM in PSNR",
                "target": ">=",
            },
        },
        "metrics": MRI_METRICS,
        "options": {},
        "run": run_mri_redpsm,
    },
]
