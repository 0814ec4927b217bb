"""FNO spectral convolution: the shared ``sciml.kernels.fourier_mode_mix`` vs the usual inline
torch code (the public FNO's ``SpectralConv2d``: rfft2, two einsums into a zero spectrum, irfft2),
forward + backward, float32, in one process: warm-up, then ``--repeats`` interleaved timings,
median reported, ratio = peer / ours. ``neuraloperator``'s ``SpectralConv`` at the same modes
joins when that package is installed.

    OMP_NUM_THREADS=1 python benchmarks/fourier_mode_mix.py [--device cuda] [--repeats 21]

Writes ``benchmarks/results/fourier_mode_mix_<device>.json``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import torch

from sciml.bench import atomic_write_json, device_name, script_provenance
from sciml.kernels import fourier_mode_mix
from sciml.kernels.timing import time_interleaved

RESULTS = Path(__file__).resolve().parent / "results"


def inline_spectral_conv(x: torch.Tensor, w_pos: torch.Tensor, w_neg: torch.Tensor) -> torch.Tensor:
    """The public FNO code's spectral conv (complex weights (C_in, C_out, m, m) per sign of k_x)."""
    b, _, nx, ny = x.shape
    m = w_pos.shape[-1]
    xf = torch.fft.rfft2(x)
    out = torch.zeros(b, w_pos.shape[1], nx, ny // 2 + 1, dtype=xf.dtype, device=x.device)
    out[:, :, :m, :m] = torch.einsum("bixy,ioxy->boxy", xf[:, :, :m, :m], w_pos)
    out[:, :, nx - m :, :m] = torch.einsum("bixy,ioxy->boxy", xf[:, :, nx - m :, :m], w_neg)
    return torch.fft.irfft2(out, s=(nx, ny))


def time_case(
    batch: int, width: int, size: int, modes: int, device: torch.device, repeats: int
) -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, width, size, size, generator=g).to(device).requires_grad_()
    shape = (width, width, modes, modes)
    w_pos = torch.randn(*shape, dtype=torch.complex64, generator=g).to(device).requires_grad_()
    w_neg = torch.randn(*shape, dtype=torch.complex64, generator=g).to(device).requires_grad_()
    fns: dict[str, Callable[[], torch.Tensor]] = {
        "ours": lambda: fourier_mode_mix(x, torch.cat([w_pos, w_neg], dim=2), check=False),
        "inline_torch": lambda: inline_spectral_conv(x, w_pos, w_neg),
    }
    with torch.no_grad():
        err = float((fns["ours"]() - fns["inline_torch"]()).abs().max())
    try:  # the neuraloperator package's layer, when installed (benchmark only)
        from neuralop.layers.spectral_convolution import SpectralConv

        # neuralop keeps n_modes[0] wavenumbers (±) along x and n_modes[-1] // 2 + 1 along the
        # rfft axis: (2m, 2m - 1) keeps the same 2m × m modes as ours ((2m, 2m) would keep m + 1)
        layer = SpectralConv(width, width, n_modes=(2 * modes, 2 * modes - 1)).to(device)
        assert list(layer.n_modes) == [2 * modes, modes], layer.n_modes
        fns["neuralop"] = lambda: layer(x)
    except ImportError:
        pass

    def fwd_bwd(fn: Callable[[], torch.Tensor]) -> Callable[[], torch.Tensor]:
        def step() -> torch.Tensor:
            loss = fn().square().sum()
            loss.backward()
            return loss  # waiting for it (on CUDA: the device) waits for the backward pass too

        return step

    med = time_interleaved({k: fwd_bwd(fn) for k, fn in fns.items()}, warmup=2, repeats=repeats)
    med = {k: 1e3 * v for k, v in med.items()}
    row = {"batch": batch, "width": width, "size": size, "modes": modes,
           "max_abs_diff_vs_inline": err}  # fmt: skip
    row |= {f"{k}_median_ms": v for k, v in med.items()}
    row |= {f"{k}_over_ours": v / med["ours"] for k, v in med.items() if k != "ours"}
    return row


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    device = torch.device(args.device)
    cases = [(20, 24, 72, 12), (20, 24, 64, 12), (20, 64, 96, 12)]  # Darcy 64²+8, NS 64², 85²+11
    rows = []
    for b, w, n, m in cases:
        row = time_case(b, w, n, m, device, args.repeats)
        rows.append(row)
        peers = ", ".join(
            f"{k.removesuffix('_over_ours')} / ours {v:.2f}"
            for k, v in row.items()
            if k.endswith("_over_ours")
        )
        print(
            f"B={b} C={w} {n}² modes {m}: ours {row['ours_median_ms']:.1f} ms ({peers})", flush=True
        )
    prov = script_provenance("benchmarks/fourier_mode_mix.py", argv)
    res = {
        "benchmark": "fourier_mode_mix",
        "config": {
            "dtype": "float32",
            "device": str(device),
            "repeats": args.repeats,
            "torch_threads": prov.pop("torch_threads"),
            "device_name": device_name(device),
        },
        "rows": rows,
        **prov,
    }
    out = Path(args.out) if args.out else RESULTS / f"fourier_mode_mix_{device.type}.json"
    print(f"wrote {atomic_write_json(out, res)}")


if __name__ == "__main__":
    main()
