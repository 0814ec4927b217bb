"""Figures of the forecasting benchmarks (matplotlib is imported only when one is drawn)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["forecast_figure", "ratio_figure"]


def forecast_figure(
    history: np.ndarray,
    truth: np.ndarray,
    forecasts: Mapping[str, np.ndarray],
    title: str = "",
    show_history: int | None = 168,
):
    """One window: the last ``show_history`` lag values ``(lag,)``, the truth ``(horizon,)`` and
    each model's forecast ``(horizon,)`` against time steps (hours for ETTh1; standardised units).
    Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    history, truth = np.asarray(history).ravel(), np.asarray(truth).ravel()
    lag, horizon = history.size, truth.size
    start = 0 if show_history is None else max(0, lag - show_history)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(np.arange(start, lag) - lag, history[start:], color="k", lw=1, label="history")
    steps = np.arange(horizon) + 1
    ax.plot(steps, truth, color="k", ls="--", lw=1, label="truth")
    for name, f in forecasts.items():
        f = np.asarray(f).ravel()
        if f.size != horizon:
            raise ValueError(f"forecasts[{name!r}]: expected {horizon} values, got {f.size}")
        ax.plot(steps, f, lw=1.2, label=name)
    ax.axvline(0.5, color="0.7", lw=0.8)
    ax.set_xlabel("time step relative to the forecast origin")
    ax.set_ylabel("standardised value")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig


def ratio_figure(
    metrics: Mapping[str, float],
    horizons: Sequence[int],
    model: str,
    references: Sequence[str],
    title: str = "",
):
    """``model``'s test-MSE ratio to each reference per horizon with its interval, from the
    ``h{h}_{model}_over_{ref}{,_lo,_hi}`` entries of ``metrics`` (``ssm-etth1``'s keys); a ratio
    below the dashed line at 1 means ``model`` is ahead. Returns the matplotlib Figure."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2))
    x = np.arange(len(horizons), dtype=float)
    for i, ref in enumerate(references):
        keys = [f"h{h}_{model}_over_{ref}" for h in horizons]
        missing = [k for k in keys if k not in metrics]
        if missing:
            raise KeyError(f"metrics: missing {missing}")
        r = np.array([metrics[k] for k in keys])
        lo = np.array([metrics[k + "_lo"] for k in keys])
        hi = np.array([metrics[k + "_hi"] for k in keys])
        ax.errorbar(
            x + 0.12 * (i - (len(references) - 1) / 2),
            r,
            yerr=np.stack([r - lo, hi - r]),
            fmt="o",
            capsize=3,
            label=f"{model} / {ref}",
        )
    ax.axhline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xticks(x, [str(h) for h in horizons])
    ax.set_xlim(-0.5, len(horizons) - 0.5)
    ax.set_xlabel("horizon")
    ax.set_ylabel("test MSE ratio (95 % interval)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
