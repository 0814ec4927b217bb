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
# # 04 — State-space sequence models: HiPPO, S4D, SpaceTime
#
# A linear SSM `x' = Ax + Bu, y = Cx + Du` is both a **recurrence** (streaming, generation) and a
# **convolution** `y = K̄ * u` with `K̄_l = C Āˡ B̄` (parallel training by FFT). This tutorial:
#
# 1. reconstructs a signal's history from its online HiPPO-LegS coefficients;
# 2. checks the fast companion kernel (SpaceTime) against explicit matrix powers;
# 3. trains S4D and SpaceTime on an AR(4) process and compares them with the Bayes-optimal predictor;
# 4. plots a forecast;
# 5. runs the trained SpaceTime as a recurrence on a stream, equal to the convolutional pass.
#
# Runtime as it stands (full mode): about 2.5 minutes on a 2-core CPU (`OMP_NUM_THREADS=1`),
# almost all of it section 3, which trains each model for 15 epochs (~70 s per model; one line per
# epoch is printed). Set `SCIML_SMOKE=1` for a run of well under a minute.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch.utils.data import TensorDataset

from sciml.ssm import (
    HiPPOProjection,
    S4DForecaster,
    S4DForecasterConfig,
    SpaceTime,
    SpaceTimeConfig,
    ar_forecast_mse,
    ar_optimal_forecast,
    companion_kernel,
    companion_matrix,
    normalize_companion,
    simulate_ar,
    ssm_kernel_naive,
    ssm_kernel_squaring,
    stable_ar_coefficients,
    train_forecaster,
)

SMOKE = os.environ.get("SCIML_SMOKE") == "1"
torch.manual_seed(0)

# %% [markdown]
# ## 1. HiPPO-LegS: memorise a signal online
# The LegS ODE `c'(t) = (A c + B u)/t` keeps the Legendre coefficients of the whole history
# `u[0, t]`; `reconstruct` evaluates `Σ c_n √(2n+1) P_n(2s - 1)`. The error falls quickly with N.

# %%
L = 1000
t = np.arange(1, L + 1) / L
signal = np.sin(6 * t) + 0.4 * np.cos(17 * t) * t
s = torch.linspace(0, 1, 300, dtype=torch.float64)
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(t, signal, "k", lw=2, label="signal")
for N in (4, 8, 16):
    proj = HiPPOProjection(N, "legs")
    c = proj(torch.as_tensor(signal))[-1]
    rec = proj.reconstruct(c, s)
    err = np.sqrt(np.mean((rec.numpy() - np.interp(s.numpy(), t, signal)) ** 2))
    ax.plot(s, rec, label=f"N={N} (rms err {err:.1e})")
    print(f"LegS N={N:2d}: rms reconstruction error {err:.2e}")
ax.legend()
ax.set_title("HiPPO-LegS reconstruction of the full history at t = 1")
plt.show()

# %% [markdown]
# ## 2. The fast companion kernel
# SpaceTime's state matrix is a companion matrix `A = S + a e_dᵀ`. Our kernel uses the
# `O((d + L) log(d + L))` algorithm (Woodbury at the roots of unity plus FFT correlations), never
# powers of A. It equals explicit powers to round-off, and on the CPU it is faster than repeated
# squaring (the public SpaceTime code's path), as the timings printed below show. On a GPU
# repeated squaring is faster (launch latency; docs/status/gpu.md), hence
# `SpaceTimeConfig(kernel_method="squaring")`.

# %%
H, d, L = 16, 64, 1024 if SMOKE else 8192
a = normalize_companion(torch.randn(H, d), "l1")
b, c = torch.randn(H, d), torch.randn(H, d)
K_fast = companion_kernel(a.double(), b.double(), c.double(), 1024)
K_ref = ssm_kernel_naive(companion_matrix(a.double()), b.double(), c.double(), 1024)
print("relative difference to explicit powers:", float((K_fast - K_ref).norm() / K_ref.norm()))
for name, fn in (
    ("fast", lambda: companion_kernel(a, b, c, L)),
    ("squaring", lambda: ssm_kernel_squaring(companion_matrix(a), b, c, L)),
):
    fn()
    t0 = time.perf_counter()
    fn()
    print(f"{name:9s} L={L}: {1e3 * (time.perf_counter() - t0):.1f} ms")

# %% [markdown]
# ## 3. S4D vs SpaceTime on AR(4)
# Companion matrices can express any AR(p) process exactly; diagonal SSMs cannot (their kernel is a
# sum of exponentials `Σ c_n λ_nˡ`, never exactly the finite impulse response of the AR predictor),
# only approximately. We train both
# with the shared `Trainer` on lag/horizon windows and compare with the Bayes-optimal predictor
# (the noise-free AR recursion), whose error is known in closed form.

# %%
p, lag, horizon = 4, 64, 24
phi = stable_ar_coefficients(p, seed=1)
series = simulate_ar(phi, 6000 if SMOKE else 30000, sigma=1.0, seed=2)
mean, std = series[:4000].mean(), series[:4000].std()
z = torch.as_tensor((series - mean) / std, dtype=torch.float32)


def windows(x, stride):
    idx = torch.arange(0, x.numel() - lag - horizon + 1, stride)
    w = torch.stack([x[i : i + lag + horizon] for i in idx])[..., None]
    return w[:, :lag], w[:, lag:]


n_train, n_val = int(0.7 * z.numel()), int(0.8 * z.numel())
train = TensorDataset(*windows(z[:n_train], 2))
val = TensorDataset(*windows(z[n_train:n_val], 4))
x_te, y_te = windows(z[n_val:], 8)
epochs = 2 if SMOKE else 15
# balance_loss: each loss term enters as log(MSE), so the one-step error (a small fraction of the
# variance for a predictable AR process) is not drowned by the multi-step errors
st = SpaceTime(
    SpaceTimeConfig(
        d_model=16,
        d_state=32,
        dropout=0.0,
        ma_windows=(4, 8),
        subtract_lag_mean=False,
        loss_weights=(0.1, 1.0, 1.0),
        balance_loss=True,
    ),
    seed=0,
)
s4d = S4DForecaster(
    S4DForecasterConfig(d_model=32, d_state=32, dropout=0.0, subtract_lag_mean=False), seed=0
)
# the shared Trainer underneath; each model keeps its best-on-validation epoch.
# progress=True: one summary line per epoch (and a transient progress bar), so the full run
# (most of this tutorial's time) is not silent
for model, lr in ((st, 1e-2), (s4d, 3e-3)):
    name = type(model).__name__
    print(f"training {name} for {epochs} epochs ...", flush=True)
    t0 = time.perf_counter()
    fit = train_forecaster(model, train, val, epochs=epochs, batch_size=64, lr=lr, progress=True)
    print(
        f"{name}: {time.perf_counter() - t0:.0f} s, best validation epoch {fit.best_epoch} "
        f"of {epochs}",
        flush=True,
    )

# %%
st.eval()
s4d.eval()
with torch.no_grad():
    preds = {
        "SpaceTime": st(x_te, horizon).forecast,
        "S4D": s4d(x_te, horizon),
        "Bayes": (
            (
                ar_optimal_forecast(
                    torch.as_tensor(phi), x_te[..., 0].double() * std + mean, horizon
                )
                - mean
            )
            / std
        )[..., None].float(),
    }
theory = ar_forecast_mse(phi, 1.0, horizon) / std**2
for name, pr in preds.items():
    mse = ((pr - y_te) ** 2).mean((0, 2))
    print(f"{name:9s}: 1-step MSE {mse[0]:.4f}, mean 24-step MSE {mse.mean():.4f}")
print(f"closed form: 1-step {theory[0]:.4f}, mean 24-step {theory.mean():.4f}")

# %% [markdown]
# ## 4. A forecast

# %%
i = 3
fig, ax = plt.subplots(figsize=(8, 3))
ax.plot(range(lag), x_te[i, :, 0], "k", label="history")
ax.plot(range(lag, lag + horizon), y_te[i, :, 0], "k--", label="truth")
for name, pr in preds.items():
    ax.plot(range(lag, lag + horizon), pr[i, :, 0], label=name)
ax.legend()
ax.set_title(f"AR({p}) forecast, horizon {horizon}")
plt.show()

# %% [markdown]
# ## 5. Streaming: the same SpaceTime as a recurrence
# Every layer also runs as a recurrence (`O(d)` work per new sample), and so does the whole model:
# `forward_recurrent` returns its state, and passing it back with the next samples continues the
# stream. After any piece the forecast equals the convolutional forward pass over everything seen
# so far — here four pieces of 16 samples against one call on the 64-sample window. (Streaming
# needs `subtract_lag_mean=False`, as here: the lag mean needs the whole window.)

# %%
state = None
with torch.no_grad():
    for start in range(0, lag, 16):
        out, state = st.forward_recurrent(x_te[:4, start : start + 16], horizon, state)
    conv = st(x_te[:4], horizon).forecast
print(
    f"streamed vs convolutional forecast: max |difference| = {(out.forecast - conv).abs().max():.1e}"
)
