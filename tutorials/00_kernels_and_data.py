# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 — Kernels and data
#
# The three things every sciml method stands on:
#
# 1. **Kronecker algebra** without dense products: `kron_matvec`, `KronEigh`, mode products;
# 2. **FFT kernels**: long causal convolution and centred orthonormal FFTs; a fast Poisson solve;
# 3. **one HDF5 schema** for every dataset, written atomically and read lazily.
#
# Finally we run a benchmark from Python, exactly as `sciml-bench run kernels` does, and read its
# metrics.
#
# Runtime as it stands: about 13 s on a 2-core CPU (`OMP_NUM_THREADS=1`; the benchmark at the end
# takes about 5 s of it). Set `SCIML_SMOKE=1` for a run of a few seconds.

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from sciml.kernels import KronEigh, fft_conv, fftc, ifftc, kron_matvec, poisson_dst

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
rng = np.random.default_rng(0)

# %% [markdown]
# ## Kronecker matvec
# `(A_1 ⊗ A_2 ⊗ A_3) x` as three matrix products: O(N Σ n_i) work instead of O(N²).
# The same call works on NumPy arrays, torch tensors and JAX arrays.

# %%
n = 8 if SMOKE else 24
factors = [rng.standard_normal((n, n)) for _ in range(3)]
x = rng.standard_normal(n**3)
dense = np.kron(factors[0], np.kron(factors[1], factors[2]))
y = kron_matvec(factors, x)
print("relative error vs dense np.kron:", np.linalg.norm(y - dense @ x) / np.linalg.norm(dense @ x))
y_torch = kron_matvec([torch.as_tensor(a) for a in factors], torch.as_tensor(x))
print(
    "torch result type:",
    type(y_torch).__name__,
    "max |torch - numpy| =",
    float(abs(y_torch.numpy() - y).max()),
)

# %% [markdown]
# ## Eigen-solve of a Kronecker-structured GP covariance
# A separable squared-exponential kernel on a grid: `(K_1 ⊗ K_2 + σ² I)^{-1} y` and the log-determinant
# from per-factor eigendecompositions. Eigenvalues are never clamped.

# %%
m = 20 if SMOKE else 60
t = np.linspace(0, 1, m)
k1 = np.exp(-0.5 * (t[:, None] - t[None, :]) ** 2 / 0.1**2)
k2 = np.exp(-0.5 * (t[:, None] - t[None, :]) ** 2 / 0.3**2)
field = np.sin(6 * t)[:, None] * np.cos(3 * t)[None, :] + 0.1 * rng.standard_normal((m, m))
ke = KronEigh([k1, k2])
alpha = ke.solve(field, 0.01)  # grid layout: (m, m) in, (m, m) out
posterior_mean = kron_matvec([k1, k2], alpha)
print("log det(K + 0.01 I) =", float(ke.logdet(0.01)))

fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
axes[0].imshow(field, cmap="RdBu_r")
axes[0].set_title("noisy field")
axes[1].imshow(posterior_mean, cmap="RdBu_r")
axes[1].set_title("GP posterior mean (Kronecker)")
plt.tight_layout()

# %% [markdown]
# ## Long causal convolution and the centred FFT
# `fft_conv` is the convolution an SSM layer uses in convolution mode; `fftc`/`ifftc` map images to
# centred k-space (the MRI convention) and are unitary.

# %%
length = 256 if SMOKE else 4096
u = torch.randn(1, length, dtype=torch.float64)
kernel = torch.exp(-torch.arange(length, dtype=torch.float64) / 50.0)
start = time.perf_counter()
yc = fft_conv(u, kernel)
print(f"fft_conv of length {length}: {1e3 * (time.perf_counter() - start):.2f} ms")
direct = np.convolve(u[0].numpy(), kernel.numpy())[:length]
print(
    "relative error vs np.convolve:",
    float(np.linalg.norm(yc[0].numpy() - direct) / np.linalg.norm(direct)),
)

img = torch.zeros(64, 64, dtype=torch.complex128)
img[24:40, 20:44] = 1
kspace = fftc(img)
print("unitary:", float(kspace.abs().pow(2).sum()), "=", float(img.abs().pow(2).sum()))
print("round trip error:", float((ifftc(kspace) - img).abs().max()))

# %% [markdown]
# ## Fast Poisson solve
# `-Δu = f` on a box with homogeneous Dirichlet boundaries: exact for the 5-point Laplacian by DST-I.

# %%
nx = 31 if SMOKE else 127
h = 1.0 / (nx + 1)
g = np.arange(1, nx + 1) * h
X, Y = np.meshgrid(g, g, indexing="ij")
exact = np.sin(np.pi * X) * np.sin(3 * np.pi * Y)
u_h = poisson_dst(10 * np.pi**2 * exact, (h, h))
print(
    f"max error vs the continuum solution at h={h:.4f}: {np.abs(u_h - exact).max():.2e} (second order)"
)

# %% [markdown]
# ## One HDF5 schema for every dataset
# `write_dataset` writes atomically (temporary file, then rename) and computes normalisation statistics
# on the training split only; `open_dataset` validates and reads lazily; the torch Datasets read one
# sample at a time, safely from several DataLoader workers.

# %%
from sciml.data import FieldDataset, open_dataset, write_dataset

workdir = Path(tempfile.mkdtemp())
n_train, n_test = (16, 4) if SMOKE else (128, 32)
xs = rng.standard_normal((n_train + n_test, 1, 16, 16)).astype(np.float32)
ys = np.stack([poisson_dst(s[0], (1 / 17, 1 / 17)) for s in xs])[:, None].astype(np.float32)
path = write_dataset(
    workdir / "poisson.h5",
    {
        "train": {"x": xs[:n_train], "y": ys[:n_train]},
        "test": {"x": xs[n_train:], "y": ys[n_train:]},
    },
    name="poisson-demo",
    kind="field",
    params={"n": 16, "bc": "dirichlet"},
    seed=0,
)
with open_dataset(path) as ds:
    print("attrs:", {k: ds.attrs[k] for k in ("name", "kind", "params", "seed")})
    print("splits:", {s: list(ds.splits[s]) for s in ds.splits})
    print("train x shape:", ds.splits["train"]["x"].shape)
train = FieldDataset(path, "train")
x0, y0 = train[0]
print("one sample:", tuple(x0.shape), tuple(y0.shape), x0.dtype)

# %% [markdown]
# ## Running a benchmark from Python
# `sciml.bench.discover()` finds every benchmark declared in a `bench.py` (as `sciml-bench list`
# does) and `run_benchmark` runs one — what `sciml-bench run kernels --quick` does — returning a
# `RunResult` with the status, the run directory and the **metrics** as a dict. (The command line
# entry point `sciml.bench.main(["run", "kernels", "--quick"])` runs the same thing but returns
# only an exit status.) Results land in their own directory with `config.json`, `metrics.json`
# and `log.txt`, plus any file the benchmark writes itself (here `kernels.json`).

# %%
from sciml.bench import discover, run_benchmark

bench = discover().benchmarks["kernels"]
result = run_benchmark(
    bench,
    out_root=workdir / "runs",
    quick=True,
    options={"size": "tiny"} if SMOKE else {},  # = `-o size=tiny` on the command line
)
print(f"status: {result.status} in {result.wall_time_s:.1f} s -> {result.out_dir.name}")
if result.status != "ok":
    print("reason:", result.reason)
for key in sorted(result.metrics)[:5]:  # None: a non-finite value
    value = result.metrics[key]
    print(f"  {key} = {value if value is None else format(value, '.3g')}")
for key, ref in bench.references.items():  # targets declared next to the benchmark
    value = result.metrics.get(key)
    shown = value if value is None else format(value, ".3g")
    print(f"{key}: {shown} vs reference {ref.value} ({ref.source})")
print(sorted(p.name for p in result.out_dir.iterdir()))
