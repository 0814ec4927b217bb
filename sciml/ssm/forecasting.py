"""Forecasting heads and helpers: an S4D forecaster (masked future positions), last-value and
linear autoregressive baselines, Trainer glue and evaluation on standardised windows."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ._layer import check_positive_int
from .s4d import S4D, S4DConfig

__all__ = [
    "LinearAR",
    "S4DForecaster",
    "S4DForecasterConfig",
    "evaluate_forecast",
    "forecast_step_fn",
    "last_value_forecast",
    "stack_windows",
]


@dataclass(frozen=True)
class S4DForecasterConfig:
    """S4D forecaster: linear encoder -> ``n_layers`` residual S4D blocks (post LayerNorm) -> linear."""

    n_channels: int = 1
    d_model: int = 64
    n_layers: int = 2
    d_state: int = 64
    dropout: float = 0.1
    subtract_lag_mean: bool = True


class S4DForecaster(nn.Module):
    """S4 paper's forecasting setup: the lag followed by ``horizon`` zeros and a mask channel; the
    outputs at the masked positions are the forecast. ``forward(x (B, lag, C), horizon)`` ->
    the forecast tensor ``(B, horizon, C)`` directly (not a :class:`~sciml.ssm.SpaceTimeOutput`)."""

    def __init__(
        self, config: S4DForecasterConfig | None = None, *, seed: int | None = None
    ) -> None:
        super().__init__()
        cfg = self.config = config or S4DForecasterConfig()
        C, H = (
            check_positive_int(cfg.n_channels, "n_channels"),
            check_positive_int(cfg.d_model, "d_model"),
        )
        check_positive_int(cfg.n_layers, "n_layers")
        # a seed initialises from its own copy of the CPU generator (the caller's global RNG
        # stream is left as it was; the initial weights are the same as with a global reseed)
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.encoder = nn.Linear(C + 1, H)
            scfg = S4DConfig(d_state=cfg.d_state, dropout=cfg.dropout)
            self.layers = nn.ModuleList(
                [S4D(H, scfg, seed=None if seed is None else seed + i) for i in range(cfg.n_layers)]
            )
            self.norms = nn.ModuleList([nn.LayerNorm(H) for _ in range(cfg.n_layers)])
            self.drop = nn.Dropout(cfg.dropout)
            self.decoder = nn.Linear(H, C)

    def forward(self, x: torch.Tensor, horizon: int) -> torch.Tensor:
        """Forecast ``horizon`` steps after each lag window.

        Args:
            x: lag windows ``(B, lag, C)``, floating point, ``C = config.n_channels``.
            horizon: number of future steps to forecast (int >= 1).

        Returns:
            The forecast tensor itself, ``(B, horizon, C)``: the outputs at the ``horizon``
            masked (zero-filled) positions appended to the lag. With
            ``config.subtract_lag_mean`` (default) each window's lag mean (per channel) is
            subtracted from the input and added back to the forecast.

        Unlike :meth:`SpaceTime.forward <sciml.ssm.SpaceTime.forward>`, which returns a
        :class:`~sciml.ssm.SpaceTimeOutput` (forecast plus the one-step and next-input outputs
        that the three-term :class:`~sciml.ssm.SpaceTimeLoss` needs), this model is trained on
        the forecast alone (plain MSE), so nothing else is returned; both are accepted by
        :func:`~sciml.ssm.train_forecaster` and :func:`~sciml.ssm.forecast_mse`.

        Raises:
            ValueError: ``x`` not ``(B, lag, n_channels)`` or a bad ``horizon``.
        """
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[-1] != self.config.n_channels:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x: expected shape (B, lag, {self.config.n_channels}), got {got}")
        horizon = check_positive_int(horizon, "horizon")
        B, lag, C = x.shape
        mu = (
            x.mean(1, keepdim=True) if self.config.subtract_lag_mean else torch.zeros_like(x[:, :1])
        )
        seq = torch.cat([x - mu, x.new_zeros(B, horizon, C)], dim=1)
        mask = torch.cat([x.new_zeros(B, lag, 1), x.new_ones(B, horizon, 1)], dim=1)
        z = self.encoder(torch.cat([seq, mask], dim=-1))
        for layer, norm in zip(self.layers, self.norms):
            z = norm(z + self.drop(layer(z)))
        return self.decoder(z[:, lag:]) + mu

    def param_groups(self, lr: float, weight_decay: float = 0.0) -> list[dict]:
        """SSM parameters at their own lr without weight decay (see :meth:`S4D.param_groups`)."""
        ssm_ids = set()
        groups = []
        for layer in self.layers:
            g = layer.param_groups(lr, weight_decay)[0]
            ssm_ids |= {id(p) for p in g["params"]}
            groups.append(g)
        rest = [p for p in self.parameters() if id(p) not in ssm_ids]
        return [*groups, {"params": rest, "lr": lr, "weight_decay": weight_decay}]


def forecast_step_fn(model: nn.Module, batch) -> tuple[torch.Tensor, torch.Tensor]:
    """Trainer ``step_fn`` for ``model(x, horizon) -> (B, horizon, C)``."""
    x, y = batch[0], batch[1]
    return model(x, y.shape[1]), y


def last_value_forecast(x: torch.Tensor, horizon: int) -> torch.Tensor:
    """Repeat the last observation: ``(B, lag, C)`` -> ``(B, horizon, C)``."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[1] == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x: expected a tensor of shape (B, lag >= 1, C), got {got}")
    horizon = check_positive_int(horizon, "horizon")
    return x[:, -1:].expand(-1, horizon, -1)


class LinearAR:
    """Direct linear autoregression lag -> horizon per channel, fit by (ridge) least squares.

    ``ŷ = W x_{-p:} + β`` with ``W (horizon, p)`` shared over channels.
    """

    def __init__(self, order: int, ridge: float = 1e-6) -> None:
        self.order = check_positive_int(order, "order")
        self.ridge = float(ridge)
        self.W: torch.Tensor | None = None

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        f = x[:, -self.order :].transpose(1, 2).reshape(-1, self.order)  # (B*C, p)
        return torch.cat([f, torch.ones_like(f[:, :1])], dim=1)

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> LinearAR:
        """``x (N, lag, C)``, ``y (N, horizon, C)``."""
        if x.shape[1] < self.order:
            raise ValueError(f"x: expected lag >= order = {self.order}, got {x.shape[1]}")
        F = self._features(x.double())
        Y = y.double().transpose(1, 2).reshape(-1, y.shape[1])
        G = F.T @ F + self.ridge * F.shape[0] * torch.eye(
            F.shape[1], dtype=F.dtype, device=F.device
        )
        self.W = torch.linalg.solve(G, F.T @ Y)  # (p+1, horizon)
        return self

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        if self.W is None:
            raise RuntimeError("LinearAR.predict called before fit")
        B, _, C = x.shape
        out = self._features(x.double()) @ self.W  # (B*C, horizon)
        return out.reshape(B, C, -1).transpose(1, 2).to(x.dtype)


def stack_windows(ds, indices: Sequence[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Materialise ``(x, y)`` windows of a map-style dataset: ``(N, lag, C)``, ``(N, horizon, C)``."""
    idx = range(len(ds)) if indices is None else indices
    xs, ys = zip(*(ds[i] for i in idx))
    return torch.stack(xs), torch.stack(ys)


@torch.no_grad()
def evaluate_forecast(
    predict, x: torch.Tensor, y: torch.Tensor, batch_size: int = 256
) -> dict[str, torch.Tensor]:
    """Per-step MSE/MAE ``(horizon,)`` of ``predict(x_batch, horizon)`` over windows ``x, y``;
    ``"window_mse"`` ``(n,)``: each window's MSE over horizon and channels (for paired
    comparisons, :func:`~sciml.ssm.compare.mse_ratio_ci`); the seconds taken under ``"seconds"``."""
    t0 = time.perf_counter()
    se = torch.zeros(y.shape[1], dtype=torch.float64)
    ae = torch.zeros(y.shape[1], dtype=torch.float64)
    per_window = []
    for s in range(0, x.shape[0], batch_size):
        xb, yb = x[s : s + batch_size], y[s : s + batch_size]
        pred = predict(xb, yb.shape[1]).to(device=yb.device, dtype=yb.dtype)
        err = (pred - yb).double().cpu()
        se += (err**2).mean(-1).sum(0)
        ae += err.abs().mean(-1).sum(0)
        per_window.append((err**2).mean((1, 2)))
    n = x.shape[0]
    return {
        "mse": se / n,
        "mae": ae / n,
        "window_mse": torch.cat(per_window),
        "seconds": torch.tensor(time.perf_counter() - t0),
    }
