import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from sciml.ssm import forecast_figure, ratio_figure  # noqa: E402


def test_forecast_figure_plots_the_given_series():
    rng = np.random.default_rng(0)
    history, truth = rng.standard_normal(336), rng.standard_normal(24)
    f = {"spacetime": rng.standard_normal(24), "linear": rng.standard_normal(24)}
    fig = forecast_figure(history, truth, f, "t", show_history=100)
    lines = {ln.get_label(): ln for ln in fig.axes[0].get_lines()}
    np.testing.assert_array_equal(lines["history"].get_ydata(), history[-100:])
    np.testing.assert_array_equal(lines["history"].get_xdata(), np.arange(-100, 0))
    np.testing.assert_array_equal(lines["truth"].get_ydata(), truth)
    np.testing.assert_array_equal(lines["spacetime"].get_ydata(), f["spacetime"])
    np.testing.assert_array_equal(lines["linear"].get_xdata(), np.arange(1, 25))
    with pytest.raises(ValueError, match="linear"):
        forecast_figure(history, truth, {"linear": np.zeros(23)})


def test_ratio_figure_draws_each_ratio_with_its_interval():
    metrics = {}
    for h, (r, lo, hi) in {24: (1.03, 0.93, 1.15), 48: (0.9, 0.8, 1.1)}.items():
        for ref, shift in (("linear", 0.0), ("last", -0.2)):
            k = f"h{h}_spacetime_over_{ref}"
            metrics |= {k: r + shift, k + "_lo": lo + shift, k + "_hi": hi + shift}
    fig = ratio_figure(metrics, [24, 48], "spacetime", ["linear", "last"])
    bars = fig.axes[0].containers
    assert [b.get_label() for b in bars] == ["spacetime / linear", "spacetime / last"]
    for b, shift in zip(bars, (0.0, -0.2), strict=True):
        y = b.lines[0].get_ydata()
        np.testing.assert_allclose(y, np.array([1.03, 0.9]) + shift)
        segs = b.lines[2][0].get_segments()  # vertical error bars: (x, lo) -> (x, hi)
        np.testing.assert_allclose([s[0][1] for s in segs], np.array([0.93, 0.8]) + shift)
        np.testing.assert_allclose([s[1][1] for s in segs], np.array([1.15, 1.1]) + shift)
    with pytest.raises(KeyError, match="h168"):
        ratio_figure(metrics, [24, 168], "spacetime", ["linear"])
