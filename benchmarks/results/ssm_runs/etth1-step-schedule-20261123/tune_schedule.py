"""SpaceTime on ETTh1 at one horizon with step-level validation, on the VALIDATION split only.

Writes only the train/val splits (the test split is never read). Same code path, seed, windows
and settings as ``sciml-bench run ssm-etth1 -o horizons=H -o val_every_steps=K ...`` (all
training windows, validation on every 8th validation window). Prints one ``RESULT {json}`` line:
the validation curve (step, validation MSE on every 8th window), the selected step/epoch, the
selected state's MSE on ALL validation windows, the linear-AR / last-value validation MSE and the
process CPU time. Run with ``OMP_NUM_THREADS=1``.
"""

import argparse
import json
import pathlib
import tempfile
import time

import torch
from torch.utils.data import TensorDataset

from sciml.data import WindowDataset, ett_splits, read_csv_timeseries, write_dataset
from sciml.ssm import (
    LinearAR,
    SpaceTime,
    SpaceTimeConfig,
    evaluate_forecast,
    last_value_forecast,
    stack_windows,
    train_forecaster,
)

torch.set_num_threads(1)
p = argparse.ArgumentParser()
p.add_argument("--h", type=int, default=24)
p.add_argument("--lr", type=float, default=3e-4)
p.add_argument("--wd", type=float, default=1e-4)
p.add_argument("--dropout", type=float, default=0.25)
p.add_argument("--loss", default="rmse")
p.add_argument("--w", default="1,1,0")
p.add_argument("--norm", default="l1")
p.add_argument("--epochs", type=int, default=2)
p.add_argument("--stride", type=int, default=1)
p.add_argument("--val_every_steps", type=int, default=10)
p.add_argument("--ema", type=float, default=None)
p.add_argument("--schedule", default="epoch")
p.add_argument("--d_state", type=int, default=64)
p.add_argument("--warmup", type=int, default=0)
p.add_argument("--csv", default="/work/shared/data/ett/ETTh1.csv")
a = p.parse_args()
_, values, _ = read_csv_timeseries(a.csv, columns=["OT"])
lag = 336
sl = ett_splits(int(values.shape[0]), lag=lag)
tmp = pathlib.Path(tempfile.mkdtemp(prefix="ssm-tune-"))
splits = {k: {"series": values[s]} for k, s in sl.items() if k != "test"}
h5 = write_dataset(tmp / "e.h5", splits, name="etth1-ot", kind="timeseries", params={"lag": lag})
tr = WindowDataset(h5, "train", lag=lag, horizon=a.h, normalize=True)
va = WindowDataset(h5, "val", lag=lag, horizon=a.h, normalize=True)
train = TensorDataset(*stack_windows(tr, range(0, len(tr), a.stride)))
val = TensorDataset(*stack_windows(va, range(0, len(va), 8)))
xv, yv = stack_windows(va)
lin = LinearAR(lag, ridge=1e-4).fit(*stack_windows(tr))


def linear(x, h):
    return lin.predict(x)


res = {
    "args": {k: v for k, v in vars(a).items() if k != "csv"},
    "linear_val_all": float(evaluate_forecast(linear, xv, yv)["mse"].mean()),
    "linear_val8": float(evaluate_forecast(linear, *val.tensors)["mse"].mean()),
    "last_val_all": float(evaluate_forecast(last_value_forecast, xv, yv)["mse"].mean()),
}
w = tuple(float(v) for v in a.w.split(","))
cfg = SpaceTimeConfig(
    dropout=a.dropout, norm=a.norm, loss=a.loss, loss_weights=w, d_state=a.d_state
)
m = SpaceTime(cfg, seed=0)
t0 = time.process_time()
fit = train_forecaster(
    m,
    train,
    val,
    epochs=a.epochs,
    batch_size=50,
    lr=a.lr,
    weight_decay=a.wd,
    val_every_steps=a.val_every_steps,
    ema=a.ema,
    schedule=a.schedule,
    warmup=a.warmup,
)
res["cpu_s"] = time.process_time() - t0
res["curve"] = [[v["step"], v["epoch"], v["value"]] for v in fit.validations]
res["train_loss"] = [r["train_loss"] for r in fit.history]
res["best_epoch"], res["best_step"], res["best_val8"] = (
    fit.best_epoch,
    fit.best_step,
    fit.best_val_mse,
)
m.eval()
with torch.no_grad():
    ev = evaluate_forecast(lambda x, h: m(x, h).forecast, xv, yv, batch_size=100)
res["st_val_all"] = float(ev["mse"].mean())
print("RESULT", json.dumps(res), flush=True)
