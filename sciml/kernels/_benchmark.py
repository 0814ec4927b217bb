"""Kernel benchmarks: ours against linear_operator, dense products, conv1d and SciPy, one process.

Used by ``benchmarks/kernels.py`` (full sizes, writes ``benchmarks/results/kernels.json``) and by the
``kernels`` entry of ``sciml-bench`` (``--quick`` shrinks every size).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Callable
from typing import Any

import numpy as np

from .fft import fft_conv
from .kron import KronEigh, kron_matvec
from .poisson import poisson_dst
from .timing import time_call

Log = Callable[[str], None]


def copy_bandwidth_gbs(n_bytes: int = 1 << 28, device: str = "cpu") -> float:
    """Copy bandwidth (read + write) in GB/s of ``device``'s memory, timed on large arrays.

    CPU: ``np.copyto``; CUDA: a device-to-device ``Tensor.copy_`` (the ceiling that the
    memory-bound kernels are compared with, on the memory they run on).
    """
    if device.startswith("cuda"):
        import torch

        src = torch.ones(n_bytes // 8, dtype=torch.float64, device=device)
        dst = torch.empty_like(src)
        t = time_call(lambda: dst.copy_(src), warmup=2, repeats=10)["median_s"]
        return 2 * n_bytes / t / 1e9
    src = np.ones(n_bytes // 8)
    dst = np.empty_like(src)
    t = time_call(lambda: np.copyto(dst, src), warmup=1, repeats=5)["median_s"]
    return 2 * n_bytes / t / 1e9


def _device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine()


def bench_kron_matvec(
    cases: list[tuple[int, int, int]], device: str, log: Log
) -> list[dict[str, Any]]:
    """(d, n, rhs) cases: ours (torch, JAX) vs linear_operator vs dense matmul where it fits."""
    return [_kron_case(d, n, rhs, device, log) for d, n, rhs in cases]


def _kron_case(d: int, n: int, rhs: int, device: str, log: Log) -> dict[str, Any]:
    import torch
    from linear_operator.operators import DenseLinearOperator, KroneckerProductLinearOperator

    gen = torch.Generator().manual_seed(0)
    factors = [torch.randn(n, n, dtype=torch.float64, generator=gen).to(device) for _ in range(d)]
    big_n = n**d
    x = torch.randn(rhs, big_n, dtype=torch.float64, generator=gen).to(device)
    row: dict[str, Any] = {"op": "kron_matvec", "d": d, "n": n, "rhs": rhs, "N": big_n}
    row["ours_torch_s"] = time_call(lambda: kron_matvec(factors, x, check=False))["median_s"]
    lo = KroneckerProductLinearOperator(*[DenseLinearOperator(a) for a in factors])
    # Same array in memory for both: linear_operator multiplies columns, so it gets the (N, B) view
    # of our (B, N) batch and makes it contiguous itself (counted); the variant given a
    # pre-transposed contiguous copy (not counted) is reported too.
    row["linear_operator_s"] = time_call(lambda: lo @ x.T)["median_s"]
    xt = x.T.contiguous()
    row["linear_operator_pretransposed_s"] = time_call(lambda: lo @ xt)["median_s"]
    ref = (lo @ xt).T  # the comparison is only meaningful if both compute the same thing
    row["max_rel_diff_vs_linear_operator"] = float(
        (kron_matvec(factors, x) - ref).norm() / ref.norm()
    )
    if big_n <= 4096:
        dense = factors[0]
        for a in factors[1:]:
            dense = torch.kron(dense, a)
        row["dense_s"] = time_call(lambda: x @ dense.T)["median_s"]
    try:
        import jax
        import jax.numpy as jnp

        if jax.config.jax_enable_x64:
            jf = [jnp.asarray(a.cpu().numpy()) for a in factors]
            jx = jnp.asarray(x.cpu().numpy())
            fn = jax.jit(lambda fs, v: kron_matvec(fs, v, check=False))
            row["ours_jax_s"] = time_call(lambda: fn(jf, jx))["median_s"]
    except ImportError:
        pass
    # minimal traffic: each of the d passes reads and writes N·rhs doubles
    row["ours_torch_gbs"] = 2 * d * big_n * rhs * 8 / row["ours_torch_s"] / 1e9
    row["ratio_linear_operator_over_ours"] = row["linear_operator_s"] / row["ours_torch_s"]
    log(
        f"kron_matvec d={d} n={n} rhs={rhs}: ours {row['ours_torch_s'] * 1e3:.2f} ms, "
        f"linear_operator {row['linear_operator_s'] * 1e3:.2f} ms "
        f"(x{row['ratio_linear_operator_over_ours']:.2f}), {row['ours_torch_gbs']:.1f} GB/s"
    )
    return row


def bench_kron_eigh(cases: list[tuple[int, int]], device: str, log: Log) -> list[dict[str, Any]]:
    """(d, n) cases: eigendecomposition + solve of (⊗K_i + s·I) x = b, ours vs linear_operator."""
    return [_eigh_case(d, n, device, log) for d, n in cases]


def _eigh_case(d: int, n: int, device: str, log: Log) -> dict[str, Any]:
    import torch
    from linear_operator.operators import DenseLinearOperator, KroneckerProductLinearOperator

    gen = torch.Generator().manual_seed(1)
    mats = []
    for _ in range(d):
        m = torch.randn(n, n, dtype=torch.float64, generator=gen)
        mats.append((m @ m.T / n + 0.1 * torch.eye(n, dtype=torch.float64)).to(device))
    b = torch.randn(n**d, dtype=torch.float64, generator=gen).to(device)
    shift = 0.5

    def ours() -> Any:
        return KronEigh(mats, check=False).solve(b, shift)

    def peer() -> Any:
        lo = KroneckerProductLinearOperator(*[DenseLinearOperator(a) for a in mats])
        diag = torch.tensor(shift, dtype=torch.float64, device=b.device)
        return lo.add_diagonal(diag).solve(b.unsqueeze(-1))

    t_ours = time_call(ours, repeats=3)["median_s"]
    t_peer = time_call(peer, repeats=3)["median_s"]
    diff = float((ours() - peer().squeeze(-1)).norm() / ours().norm())
    log(
        f"KronEigh.solve d={d} n={n}: ours {t_ours * 1e3:.1f} ms, linear_operator "
        f"{t_peer * 1e3:.1f} ms (x{t_peer / t_ours:.2f}), rel diff {diff:.1e}"
    )
    return {
        "op": "KronEigh.solve",
        "d": d,
        "n": n,
        "N": n**d,
        "ours_s": t_ours,
        "linear_operator_s": t_peer,
        "ratio_linear_operator_over_ours": t_peer / t_ours,
        "max_rel_diff_vs_linear_operator": diff,
    }


def bench_fft_conv(
    lengths: list[int], channels: int, device: str, log: Log
) -> list[dict[str, Any]]:
    """Causal convolution with a full-length kernel: fft_conv vs depthwise conv1d (direct)."""
    return [_conv_case(length, channels, device, log) for length in lengths]


def _conv_case(length: int, channels: int, device: str, log: Log) -> dict[str, Any]:
    import torch
    import torch.nn.functional as F

    gen = torch.Generator().manual_seed(2)
    u = torch.randn(1, channels, length, generator=gen).to(device)
    k = torch.randn(channels, length, generator=gen).to(device)
    weight = k.flip(-1).unsqueeze(1)  # conv1d correlates: flip the kernel to convolve

    def direct() -> Any:
        return F.conv1d(F.pad(u, (length - 1, 0)), weight, groups=channels)

    t_ours = time_call(lambda: fft_conv(u, k, check=False))["median_s"]
    big = length >= 32768  # direct convolution is O(L²): one timed call (after the warm-up)
    t_direct = time_call(direct, warmup=1, repeats=1 if big else 5)["median_s"]
    diff = float((fft_conv(u, k) - direct()).norm() / direct().norm())
    log(
        f"fft_conv L={length}: ours {t_ours * 1e3:.2f} ms, conv1d {t_direct * 1e3:.2f} ms "
        f"(x{t_direct / t_ours:.1f}), rel diff {diff:.1e}"
    )
    return {
        "op": "fft_conv",
        "L": length,
        "channels": channels,
        "ours_s": t_ours,
        "conv1d_s": t_direct,
        "ratio_conv1d_over_ours": t_direct / t_ours,
        "max_rel_diff_vs_conv1d": diff,
    }


def bench_poisson(n: int, device: str, log: Log) -> dict[str, Any]:
    """poisson_dst on an n³ box (torch and NumPy backends) vs a scipy.fft.dstn/idstn reference."""
    import scipy.fft as sfft
    import torch

    rng = np.random.default_rng(3)
    f = rng.standard_normal((n, n, n))
    h = 1.0 / (n + 1)
    lam1 = (2 * np.sin(np.pi * np.arange(1, n + 1) / (2 * (n + 1))) / h) ** 2
    lam = lam1[:, None, None] + lam1[None, :, None] + lam1[None, None, :]

    def scipy_ref() -> Any:
        return sfft.idstn(sfft.dstn(f, type=1) / lam, type=1)

    ft = torch.as_tensor(f, device=device)
    t_ref = time_call(scipy_ref, repeats=3)["median_s"]
    t_torch = time_call(lambda: poisson_dst(ft, (h, h, h)), repeats=3)["median_s"]
    t_numpy = time_call(lambda: poisson_dst(f, (h, h, h)), repeats=3)["median_s"]
    diff = float(
        np.linalg.norm(poisson_dst(ft, (h, h, h)).cpu().numpy() - scipy_ref())
        / np.linalg.norm(scipy_ref())
    )
    row = {
        "op": "poisson_dst",
        "n": n,
        "ours_torch_s": t_torch,
        "ours_numpy_s": t_numpy,
        "scipy_dstn_s": t_ref,
        "ratio_scipy_over_ours_torch": t_ref / t_torch,
        "max_rel_diff_vs_scipy": diff,
    }
    log(
        f"poisson_dst {n}^3: torch {t_torch * 1e3:.1f} ms, numpy {t_numpy * 1e3:.1f} ms, "
        f"scipy dstn {t_ref * 1e3:.1f} ms (x{t_ref / t_torch:.2f}), rel diff {diff:.1e}"
    )
    return row


def run_all(quick: bool, device: str, log: Log, *, tiny: bool = False) -> dict[str, Any]:
    """Every kernel benchmark; returns the JSON-ready result (rows + summary ratios).

    ``tiny`` shrinks every size to seconds in total (tutorial smoke runs); ``quick`` to under a minute.
    """
    import torch

    if tiny:
        kron_cases = [(2, 64, 1), (3, 12, 4)]
        eigh_cases = [(2, 32)]
        lengths, channels, pn = [256], 2, 16
    elif quick:
        kron_cases = [(2, 256, 1), (2, 256, 32), (3, 32, 1), (3, 32, 32)]
        eigh_cases = [(2, 128), (3, 24)]
        lengths, channels, pn = [1024, 4096], 4, 48
    else:
        kron_cases = [
            (2, 1024, 1),
            (2, 1024, 32),
            (3, 64, 1),
            (3, 64, 32),
            (3, 128, 1),
            (3, 128, 32),
        ]
        eigh_cases = [(2, 512), (3, 64)]
        lengths, channels, pn = [1024, 4096, 16384, 65536], 4, 128
    result: dict[str, Any] = {
        "device": device,
        "device_name": _device_name(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "quick": quick,
    }
    result["copy_bandwidth_gbs"] = copy_bandwidth_gbs(1 << 26 if quick else 1 << 28, device)
    log(f"copy bandwidth: {result['copy_bandwidth_gbs']:.1f} GB/s")
    result["kron_matvec"] = bench_kron_matvec(kron_cases, device, log)
    for row in result["kron_matvec"]:
        row["fraction_of_copy_bandwidth"] = row["ours_torch_gbs"] / result["copy_bandwidth_gbs"]
    result["kron_eigh"] = bench_kron_eigh(eigh_cases, device, log)
    result["fft_conv"] = bench_fft_conv(lengths, channels, device, log)
    result["poisson"] = bench_poisson(pn, device, log)
    km = [r["ratio_linear_operator_over_ours"] for r in result["kron_matvec"]]
    result["summary"] = {
        "kron_matvec_min_ratio_linear_operator_over_ours": min(km),
        "kron_matvec_geomean_ratio_linear_operator_over_ours": math.exp(
            sum(map(math.log, km)) / len(km)
        ),
        "kron_eigh_min_ratio_linear_operator_over_ours": min(
            r["ratio_linear_operator_over_ours"] for r in result["kron_eigh"]
        ),
        "fft_conv_ratio_conv1d_over_ours_at_max_L": result["fft_conv"][-1][
            "ratio_conv1d_over_ours"
        ],
        "poisson_ratio_scipy_over_ours_torch": result["poisson"]["ratio_scipy_over_ours_torch"],
        "kron_matvec_max_fraction_of_copy_bandwidth": max(
            r["fraction_of_copy_bandwidth"] for r in result["kron_matvec"]
        ),
    }
    return result


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table of the ratios (peer time / our time: > 1 means we are faster)."""
    lines = [f"{'benchmark':44s} {'ours':>10s} {'peer':>10s} {'peer/ours':>9s}"]
    for r in result["kron_matvec"]:
        name = f"kron_matvec d={r['d']} n={r['n']} rhs={r['rhs']} vs linear_operator"
        lines.append(
            f"{name:44s} {r['ours_torch_s'] * 1e3:8.2f}ms {r['linear_operator_s'] * 1e3:8.2f}ms "
            f"{r['ratio_linear_operator_over_ours']:9.2f}"
        )
        if "dense_s" in r:
            lines.append(
                f"{'  vs dense':44s} {r['ours_torch_s'] * 1e3:8.2f}ms {r['dense_s'] * 1e3:8.2f}ms "
                f"{r['dense_s'] / r['ours_torch_s']:9.2f}"
            )
        if "ours_jax_s" in r:
            lines.append(
                f"{'  JAX (jit) vs linear_operator':44s} {r['ours_jax_s'] * 1e3:8.2f}ms "
                f"{r['linear_operator_s'] * 1e3:8.2f}ms {r['linear_operator_s'] / r['ours_jax_s']:9.2f}"
            )
    for r in result["kron_eigh"]:
        name = f"KronEigh.solve d={r['d']} n={r['n']} vs linear_operator"
        lines.append(
            f"{name:44s} {r['ours_s'] * 1e3:8.2f}ms {r['linear_operator_s'] * 1e3:8.2f}ms "
            f"{r['ratio_linear_operator_over_ours']:9.2f}"
        )
    for r in result["fft_conv"]:
        name = f"fft_conv L={r['L']} vs conv1d"
        lines.append(
            f"{name:44s} {r['ours_s'] * 1e3:8.2f}ms {r['conv1d_s'] * 1e3:8.2f}ms "
            f"{r['ratio_conv1d_over_ours']:9.2f}"
        )
    p = result["poisson"]
    name = f"poisson_dst {p['n']}^3 (torch) vs scipy dstn"
    lines.append(
        f"{name:44s} {p['ours_torch_s'] * 1e3:8.2f}ms {p['scipy_dstn_s'] * 1e3:8.2f}ms "
        f"{p['ratio_scipy_over_ours_torch']:9.2f}"
    )
    return "\n".join(lines)
