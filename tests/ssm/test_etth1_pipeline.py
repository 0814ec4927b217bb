"""The ``ssm-etth1`` data pipeline against explicit NumPy on the ETTh1 CSV (read in place).

Independent reference: the OT column parsed with the ``csv`` module, standardised with the mean and
(population) std of hours 0-8640 only, windows cut by hand with the Informer borders (val targets
8640-11520 h, test targets 11520-14400 h, each window's target right after its 336-hour lag),
last-value and ridge linear-AR forecasts with NumPy, MSE on the standardised data, window by
window. Runs the benchmark with the baselines only (no network training).
"""

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest

from sciml.ssm import bench

CSV = os.environ.get("SCIML_ETTH1", bench.DEFAULT_ETTH1)
pytestmark = pytest.mark.skipif(not os.path.exists(CSV), reason=f"ETTh1 is absent ({CSV})")

LAG, H = 336, 24


class _Ctx:
    quick, device, seed = False, "cpu", 0

    def __init__(self, out_dir, options):
        self.out_dir, self.options = Path(out_dir), options

    def progress(self, iterable, desc, total=None):
        return iter(iterable)

    def log(self, msg, **_):
        pass

    def skip(self, reason):
        pytest.skip(reason)

    def save_figure(self, fig, name):
        pass


def _windows(z, first_target, last_target):
    """Windows whose targets start at hours first_target .. last_target - H (inclusive)."""
    starts = np.arange(first_target - LAG, last_target - LAG - H + 1)
    x = np.stack([z[s : s + LAG] for s in starts])
    y = np.stack([z[s + LAG : s + LAG + H] for s in starts])
    return x, y


def test_etth1_baselines_equal_numpy_on_the_csv(tmp_path):
    with open(CSV, newline="") as fh:
        ot = np.array([float(row["OT"]) for row in csv.DictReader(fh)])
    z = (ot - ot[:8640].mean()) / ot[:8640].std()  # train statistics only
    opts = {"etth1_path": CSV, "models": "last,linear", "horizons": str(H), "ci_boot": 100}
    metrics = bench.run_etth1(_Ctx(tmp_path, opts))
    per_window = json.loads((tmp_path / f"test_window_mse_h{H}.json").read_text())

    x_te, y_te = _windows(z, 11520, 14400)
    assert len(per_window["last"]) == len(per_window["linear"]) == x_te.shape[0] == 2857
    last = ((x_te[:, -1:] - y_te) ** 2).mean(1)
    np.testing.assert_allclose(per_window["last"], last, rtol=1e-5, atol=1e-7)
    assert abs(metrics[f"h{H}_last_mse"] - last.mean()) < 1e-6
    assert abs(metrics[f"h{H}_last_mae"] - np.abs(x_te[:, -1:] - y_te).mean()) < 1e-6

    x_tr, y_tr = _windows(z, LAG, 8640)  # every training window, targets inside train
    F = np.hstack([x_tr, np.ones((len(x_tr), 1))])
    W = np.linalg.solve(F.T @ F + 1e-4 * len(F) * np.eye(LAG + 1), F.T @ y_tr)
    lin = ((np.hstack([x_te, np.ones((len(x_te), 1))]) @ W - y_te) ** 2).mean(1)
    np.testing.assert_allclose(per_window["linear"], lin, rtol=1e-4, atol=1e-7)
    assert abs(metrics[f"h{H}_linear_mse"] - lin.mean()) < 1e-6

    # validation (every 8th window, targets from hour 8640) never touches the test period
    x_va, y_va = _windows(z, 8640, 11520)
    val_last = ((x_va[::8, -1:] - y_va[::8]) ** 2).mean()
    assert abs(metrics[f"h{H}_last_val_mse"] - val_last) < 1e-6
