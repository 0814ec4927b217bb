"""SpaceTime (Zhang et al., ICLR 2023): embedding -> encoder blocks (preprocess -> companion SSM ->
MLP, residual) -> closed-loop companion decoder -> output linear; the three-term training loss."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from ._layer import check_positive_int, check_state_batch
from .closed_loop import ClosedLoopCompanionSSM
from .companion import CompanionConfig, CompanionSSM
from .preprocess import Preprocess

__all__ = [
    "SpaceTime",
    "SpaceTimeConfig",
    "SpaceTimeLoss",
    "SpaceTimeOutput",
    "SpaceTimeState",
    "spacetime_step_fn",
]


@dataclass(frozen=True)
class SpaceTimeConfig:
    """SpaceTime hyper-parameters; defaults are the paper's ETTh1 architecture.

    ``embedding="repeat"`` tiles the ``n_channels`` inputs to ``d_model`` (needs divisibility);
    ``"linear"`` uses a learned map (multivariate inputs of any size). ``kernel_method``: the
    encoder's companion kernel (:class:`~sciml.ssm.companion.CompanionConfig`).
    """

    n_channels: int = 1
    d_model: int = 128
    d_state: int = 64
    n_encoder: int = 1
    embedding: str = "repeat"
    preprocess: bool = True
    diff_orders: tuple[int, ...] = (0, 1, 2, 3)
    ma_windows: tuple[int, ...] = (4, 8, 16, 32)
    mlp_ratio: int = 1
    dropout: float = 0.25
    norm: str = "clip"
    decoder_init: str = "shift"
    subtract_lag_mean: bool = True
    loss_weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    balance_loss: bool = False
    loss: str = "mse"
    kernel_method: str = "fast"


class SpaceTimeOutput(NamedTuple):
    """Outputs of :meth:`SpaceTime.forward` (``B`` windows, ``C`` channels, ``H = d_model``).

    ``forecast (B, horizon, C)``: **the prediction** of the ``horizon`` values after the lag
    window (the decoder's closed-loop rollout from its state at the last lag sample, mapped to
    the ``C`` channels, lag mean added back). Use ``out.forecast`` for evaluation.

    ``one_step (B, lag-1, C)``: open-loop one-step predictions over the lag — ``one_step[:, n]``,
    made at lag position ``n``, predicts ``x[:, n+1]`` (so the whole tensor is compared with
    ``x[:, 1:]``), lag mean added back.

    ``next_input (B, lag-1, H)`` and ``true_input (B, lag-1, H)``: the decoder's prediction of its
    own next input (``kᵀ x_n``, the quantity its closed loop feeds back) and that input as it
    actually was (the encoder output at positions ``1..lag-1``), in the model's internal
    ``d_model`` space (lag mean removed, not mapped to channels).

    Only ``forecast`` is a forecast; the other three exist for :class:`SpaceTimeLoss`, whose
    second and third terms train the one-step output and the closed-loop feedback on the lag.
    """

    forecast: torch.Tensor
    one_step: torch.Tensor
    next_input: torch.Tensor
    true_input: torch.Tensor


class SpaceTimeState(NamedTuple):
    """Step-mode state of :class:`SpaceTime` after the samples fed so far.

    ``encoder``: per encoder block ``(preprocess FIR buffer (B, H, w-1) or None, companion state
    (B, H, d))``; ``decoder``: the closed-loop decoder's open-loop state ``(B, H, d)``.
    """

    encoder: tuple[tuple[torch.Tensor | None, torch.Tensor], ...]
    decoder: torch.Tensor


class _EncoderBlock(nn.Module):
    def __init__(self, cfg: SpaceTimeConfig, preprocess: bool, seed: int | None) -> None:
        super().__init__()
        H = cfg.d_model
        self.pre = Preprocess(H, cfg.diff_orders, cfg.ma_windows) if preprocess else nn.Identity()
        ssm_cfg = CompanionConfig(
            d_state=cfg.d_state, norm=cfg.norm, kernel_method=cfg.kernel_method
        )
        self.ssm = CompanionSSM(H, ssm_cfg, seed=seed)
        self.mlp = nn.Sequential(
            nn.Linear(H, cfg.mlp_ratio * H), nn.GELU(), nn.Linear(cfg.mlp_ratio * H, H)
        )
        self.norm = nn.LayerNorm(H)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z + self.drop(nn.functional.gelu(self.ssm(self.pre(z))))
        return z + self.drop(self.mlp(self.norm(z)))

    def default_state(
        self, batch_size: int, device, dtype
    ) -> tuple[torch.Tensor | None, torch.Tensor]:
        pre = (
            None
            if isinstance(self.pre, nn.Identity)
            else self.pre.default_state(batch_size, device, dtype)
        )
        return pre, self.ssm.default_state(batch_size, device, dtype)

    def step(self, z: torch.Tensor, state: tuple) -> tuple[torch.Tensor, tuple]:
        """Step mode of :meth:`forward`: ``z (B, H)`` -> ``(z (B, H), state)``."""
        pre_state, ssm_state = state
        u = z
        if pre_state is not None:
            u, pre_state = self.pre.step(z, pre_state)
        y, ssm_state = self.ssm.step(u, ssm_state)
        z = z + self.drop(nn.functional.gelu(y))
        return z + self.drop(self.mlp(self.norm(z))), (pre_state, ssm_state)


class SpaceTime(nn.Module):
    """SpaceTime forecaster: ``forward(x (B, lag, C), horizon)`` -> :class:`SpaceTimeOutput`,
    whose ``.forecast (B, horizon, C)`` is the prediction (the other fields feed the loss)."""

    def __init__(self, config: SpaceTimeConfig | None = None, *, seed: int | None = None) -> None:
        super().__init__()
        cfg = self.config = config or SpaceTimeConfig()
        check_positive_int(cfg.n_channels, "n_channels")
        H = check_positive_int(cfg.d_model, "d_model")
        check_positive_int(cfg.n_encoder, "n_encoder", 0)
        check_positive_int(cfg.mlp_ratio, "mlp_ratio")
        if cfg.loss not in ("mse", "rmse"):
            raise ValueError(f"loss: expected 'mse' or 'rmse', got {cfg.loss!r}")
        if cfg.embedding not in ("repeat", "linear"):
            raise ValueError(f"embedding: expected 'repeat' or 'linear', got {cfg.embedding!r}")
        if cfg.embedding == "repeat" and H % cfg.n_channels:
            raise ValueError(
                f"d_model: expected a multiple of n_channels = {cfg.n_channels} for embedding='repeat', got {H}"
            )
        # a seed initialises from its own copy of the CPU generator: the caller's global RNG
        # stream is left as it was (the initial weights are the same as with a global reseed)
        with torch.random.fork_rng(devices=[], enabled=seed is not None):
            if seed is not None:
                torch.manual_seed(seed)
            self.embed = nn.Linear(cfg.n_channels, H) if cfg.embedding == "linear" else None
            self.encoder = nn.ModuleList(
                [
                    _EncoderBlock(
                        cfg, cfg.preprocess and i == 0, None if seed is None else seed + i
                    )
                    for i in range(cfg.n_encoder)
                ]
            )
            self.decoder = ClosedLoopCompanionSSM(
                H,
                cfg.d_state,
                cfg.norm,
                cfg.decoder_init,
                seed=None if seed is None else seed + 101,
            )
            self.output = nn.Linear(H, cfg.n_channels)

    def _check_input(self, x) -> None:
        if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[-1] != self.config.n_channels:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x: expected shape (B, lag, {self.config.n_channels}), got {got}")
        if not x.is_floating_point():
            raise TypeError(f"x: expected a floating dtype, got {x.dtype}")

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        if self.embed is not None:
            return self.embed(x)
        return x.repeat_interleave(self.config.d_model // self.config.n_channels, dim=-1)

    def forward(self, x: torch.Tensor, horizon: int) -> SpaceTimeOutput:
        """Forecast ``horizon`` steps after each lag window (conv mode: all positions at once).

        Args:
            x: lag windows ``(B, lag, C)``, floating point, ``C = config.n_channels``,
                ``lag >= 2``.
            horizon: number of future steps to forecast (int >= 1).

        Returns:
            :class:`SpaceTimeOutput` ``(forecast, one_step, next_input, true_input)``:
            ``forecast (B, horizon, C)`` is the prediction; ``one_step (B, lag-1, C)`` the
            open-loop one-step predictions of ``x[:, 1:]``; ``next_input``/``true_input
            (B, lag-1, d_model)`` the decoder's predicted and actual next inputs. The extra three
            fields feed the training loss (:class:`SpaceTimeLoss`); unlike
            :meth:`S4DForecaster.forward <sciml.ssm.S4DForecaster.forward>`, which returns the
            forecast tensor itself, this returns the tuple — take ``.forecast`` for predictions.

        With ``config.subtract_lag_mean`` (default) each window's mean over the lag (per channel)
        is subtracted before the embedding and added back to ``forecast`` and ``one_step``.
        :meth:`forward_recurrent` computes the same outputs one sample at a time.

        Raises:
            ValueError: ``x`` not ``(B, lag, n_channels)``, ``lag < 2``, or a bad ``horizon``.
            TypeError: ``x`` not floating point.
        """
        self._check_input(x)
        if x.shape[1] < 2:
            raise ValueError(f"x: expected lag >= 2, got {x.shape[1]}")
        mu = (
            x.mean(1, keepdim=True) if self.config.subtract_lag_mean else torch.zeros_like(x[:, :1])
        )
        z = self._embed(x - mu)
        for blk in self.encoder:
            z = blk(z)
        out = self.decoder(z, horizon)
        forecast = self.output(out.horizon) + mu
        one_step = self.output(out.one_step[:, :-1]) + mu
        return SpaceTimeOutput(forecast, one_step, out.next_input[:, :-1], z[:, 1:])

    # -- step mode --------------------------------------------------------------------------------
    def default_state(self, batch_size: int, device=None, dtype=None) -> SpaceTimeState:
        """Zero :class:`SpaceTimeState` (no samples seen) on this model's device and dtype."""
        ref = self.output.weight
        device, dtype = device or ref.device, dtype or ref.dtype
        return SpaceTimeState(
            tuple(blk.default_state(batch_size, device, dtype) for blk in self.encoder),
            self.decoder.default_state(batch_size, device, dtype),
        )

    def forward_recurrent(
        self, x: torch.Tensor, horizon: int, state: SpaceTimeState | None = None
    ) -> tuple[SpaceTimeOutput, SpaceTimeState]:
        """Step mode: the same :class:`SpaceTimeOutput` as :meth:`forward`, one sample at a time.

        ``x (B, L, C)`` is fed through every layer's recurrence (O(d) per sample and layer), then
        the decoder rolls ``horizon`` steps in closed loop from a copy of its state. Returns the
        outputs and the state after ``x``: passing it back with the next piece of a stream
        continues the sequence, so ``forecast`` after any piece equals :meth:`forward` on
        everything fed so far. The one-step prediction made at the last sample of a piece is
        ``forecast[:, 0]``. Streaming across calls needs ``subtract_lag_mean=False`` (the lag mean
        is a function of the whole window, so with it each call must be a whole window).
        """
        self._check_input(x)
        horizon = check_positive_int(horizon, "horizon")
        if state is not None and self.config.subtract_lag_mean:
            raise ValueError(
                "state: streaming across calls needs subtract_lag_mean=False (the lag mean is a "
                "function of the whole window); pass state=None with a whole window"
            )
        if state is None:
            state = self.default_state(x.shape[0], x.device, x.dtype)
        else:
            check_state_batch((tuple(state.encoder), state.decoder), x.shape[0])
        mu = (
            x.mean(1, keepdim=True) if self.config.subtract_lag_mean else torch.zeros_like(x[:, :1])
        )
        z_in = self._embed(x - mu)
        enc, dec = list(state.encoder), state.decoder
        one_step, next_input, true_input = [], [], []
        for t in range(x.shape[1]):
            z = z_in[:, t]
            for i, blk in enumerate(self.encoder):
                z, enc[i] = blk.step(z, enc[i])
            y1, nxt, dec = self.decoder.step_open(z, dec)
            one_step.append(y1)
            next_input.append(nxt)
            true_input.append(z)
        ys, xc = [], dec
        for _ in range(horizon):
            y, xc = self.decoder.step_closed(xc)
            ys.append(y)
        forecast = self.output(torch.stack(ys, 1)) + mu
        out = SpaceTimeOutput(
            forecast,
            self.output(torch.stack(one_step[:-1], 1)) + mu
            if len(one_step) > 1
            else forecast[:, :0],
            torch.stack(next_input[:-1], 1) if len(next_input) > 1 else z_in[:, :0],
            torch.stack(true_input[1:], 1) if len(true_input) > 1 else z_in[:, :0],
        )
        return out, SpaceTimeState(tuple(enc), dec)


class SpaceTimeLoss(nn.Module):
    """The three-term SpaceTime loss on the forecast, the open-loop one-step outputs over the lag
    and the decoder's next-input predictions.

    ``balance=False`` (the paper): ``w0·MSE(forecast, y) + w1·MSE(one_step, x[:, 1:]) +
    w2·MSE(next_input, true_input)``.

    ``balance=True``: the two terms with data targets enter as ``log MSE`` — the Gaussian negative
    log-likelihood (per unit sample) with that term's noise variance maximised out; the forecast
    term is the mean of ``log MSE_j`` over horizon steps j (the noise variance grows with j). The
    gradient of a log term is ``∇MSE / MSE``: a one-step error at 0.2 % of the variance is then not
    drowned by the far larger, noisier multi-step errors. The next-input term stays a plain MSE:
    its target is the model's own encoder output, which has no noise floor (a log would reward
    shrinking the features). The minimiser is unchanged when one model attains every term's
    optimum (e.g. the Bayes predictor of an AR process). Values can be negative.

    ``criterion="rmse"`` (the public SpaceTime's ETTh1 setting ``--loss informer_rmse``): every
    term is the root of its mean squared error, ``w0·RMSE(forecast, y) + w1·RMSE(one_step, ·) +
    w2·RMSE(next_input, ·)``; the gradient of a term is ``∇MSE / (2·RMSE)``, so each term is
    scaled by its own error level (milder than the log of ``balance``). Not combined with
    ``balance``.

    Called as ``loss(output, (x, y))`` (pair with :func:`spacetime_step_fn` in the Trainer).
    """

    def __init__(
        self,
        weights: tuple[float, float, float] = (1.0, 1.0, 1.0),
        balance: bool = False,
        criterion: str = "mse",
    ) -> None:
        super().__init__()
        if len(weights) != 3 or any(w < 0 for w in weights):
            raise ValueError(f"weights: expected three non-negative floats, got {weights!r}")
        if criterion not in ("mse", "rmse"):
            raise ValueError(f"criterion: expected 'mse' or 'rmse', got {criterion!r}")
        if balance and criterion != "mse":
            raise ValueError(f"criterion: balance=True needs criterion='mse', got {criterion!r}")
        self.weights = tuple(float(w) for w in weights)
        self.balance = bool(balance)
        self.criterion = criterion

    def forward(
        self, out: SpaceTimeOutput, target: tuple[torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        x, y = target
        w0, w1, w2 = self.weights
        mse = nn.functional.mse_loss
        if self.criterion == "rmse":
            tiny = torch.finfo(y.dtype).tiny

            def rmse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
                # √ has an infinite slope at 0 (0·∞ = NaN in the backward of an exact fit):
                # clamp to the smallest normal number first
                return mse(a, b).clamp_min(tiny).sqrt()

            loss = w0 * rmse(out.forecast, y)
            if w1:
                loss = loss + w1 * rmse(out.one_step, x[:, 1:])
            if w2:
                loss = loss + w2 * rmse(out.next_input, out.true_input)
            return loss
        if self.balance:
            tiny = torch.finfo(y.dtype).tiny
            per_step = ((out.forecast - y) ** 2).mean((0, 2))  # MSE of each horizon step
            loss = w0 * per_step.clamp_min(tiny).log().mean()
            if w1:
                loss = loss + w1 * mse(out.one_step, x[:, 1:]).clamp_min(tiny).log()
        else:
            loss = w0 * mse(out.forecast, y)
            if w1:
                loss = loss + w1 * mse(out.one_step, x[:, 1:])
        if w2:  # target made by the model itself (no noise floor): plain MSE in both modes
            loss = loss + w2 * mse(out.next_input, out.true_input)
        return loss


def spacetime_step_fn(
    model: SpaceTime, batch
) -> tuple[SpaceTimeOutput, tuple[torch.Tensor, torch.Tensor]]:
    """Trainer ``step_fn``: batch ``(x (B, lag, C), y (B, horizon, C))`` -> ``(output, (x, y))``."""
    x, y = batch
    return model(x, y.shape[1]), (x, y)
