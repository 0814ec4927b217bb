"""SpaceTime and its closed-loop decoder against an explicit NumPy re-implementation (float64).

The reference writes the paper's model out loop by loop from the parameters: repeat / linear
embedding of ``x - mean(x)``, the fixed preprocessing FIR, the companion SSM as the recurrence
``x_t = A x_{t-1} + b u_t``, ``y_t = cᵀx_t + D u_t``, the GELU residual, the pre-norm MLP residual,
then the decoder ``x_{n+1} = A x_n + b u_n``, ``û_{n+1} = kᵀx_{n+1}``, ``y = cᵀx``, the output
linear and the re-added lag mean. Nothing from ``sciml`` is used to compute the reference.
"""

import numpy as np
import pytest
import torch
from scipy.special import erf

from sciml.ssm import ClosedLoopCompanionSSM, SpaceTime, SpaceTimeConfig, SpaceTimeLoss


def _np(p):
    return p.detach().numpy().astype(np.float64)


def _gelu(v):
    return 0.5 * v * (1 + erf(v / np.sqrt(2)))


def _normalize(a, mode):
    n = np.abs(a).sum(-1, keepdims=True)
    if mode == "none":
        return a
    return a / (np.maximum(n, 1.0) if mode == "clip" else n)


def _companion(a_row):
    d = a_row.shape[-1]
    A = np.eye(d, k=-1)
    A[:, -1] += a_row
    return A


def _decoder_ref(dec, u, horizon):
    """``u (B, L, H)`` -> one-step ``(B, L, H)`` (prediction of the output at n+1 made after
    u_n), next input ``(B, L, H)`` (û_{n+1}) and the closed-loop rollout ``(B, horizon, H)``."""
    a, b, c, k = _normalize(_np(dec.a), dec.norm), _np(dec.b), _np(dec.c), _np(dec.k)
    B, L, H = u.shape
    one, nxt, fut = np.zeros((B, L, H)), np.zeros((B, L, H)), np.zeros((B, horizon, H))
    for h in range(H):
        A = _companion(a[h])
        for i in range(B):
            x = np.zeros(a.shape[-1])
            for n in range(L):
                x = A @ x + b[h] * u[i, n, h]  # the state once u_n is in
                u_next = k[h] @ x
                nxt[i, n, h] = u_next
                one[i, n, h] = c[h] @ (A @ x + b[h] * u_next)
            for j in range(horizon):  # closed loop: the input is the model's own prediction
                x = A @ x + b[h] * (k[h] @ x)
                fut[i, j, h] = c[h] @ x
    return one, nxt, fut


def _spacetime_ref(model, x, horizon):
    cfg = model.config
    mu = x.mean(1, keepdims=True) if cfg.subtract_lag_mean else np.zeros_like(x[:, :1])
    if model.embed is not None:
        z = (x - mu) @ _np(model.embed.weight).T + _np(model.embed.bias)
    else:
        z = np.repeat(x - mu, cfg.d_model // cfg.n_channels, axis=-1)
    B, L, H = z.shape
    kernels = [np.array([1.0]), np.array([1.0, -1.0]), np.array([1.0, -2.0, 1.0])]
    kernels += [np.array([1.0, -3.0, 3.0, -1.0])]
    kernels = [kernels[o] for o in cfg.diff_orders]
    for m in cfg.ma_windows:  # moving-average residual: u_t - mean(u_{t-m+1..t})
        kernels.append(np.eye(1, m)[0] - np.full(m, 1.0 / m))
    for i, blk in enumerate(model.encoder):
        u = z
        if cfg.preprocess and i == 0:
            u = np.zeros_like(z)
            for h in range(H):
                f = kernels[h % len(kernels)]
                for t in range(L):
                    for j in range(min(len(f), t + 1)):
                        u[:, t, h] += f[j] * z[:, t - j, h]
        ssm = blk.ssm
        a, b, c, D = _normalize(_np(ssm.a), ssm.config.norm), _np(ssm.b), _np(ssm.c), _np(ssm.D)
        y = np.zeros_like(u)
        for h in range(H):
            A = _companion(a[h])
            s = np.zeros((B, a.shape[-1]))
            for t in range(L):
                s = s @ A.T + b[h] * u[:, t, h : h + 1]
                y[:, t, h] = s @ c[h] + D[h] * u[:, t, h]
        z = z + _gelu(y)
        mean, var = z.mean(-1, keepdims=True), z.var(-1, keepdims=True)
        zn = (z - mean) / np.sqrt(var + blk.norm.eps) * _np(blk.norm.weight) + _np(blk.norm.bias)
        w1, w2 = blk.mlp[0], blk.mlp[2]
        hidden = _gelu(zn @ _np(w1.weight).T + _np(w1.bias))
        z = z + hidden @ _np(w2.weight).T + _np(w2.bias)
    one, nxt, fut = _decoder_ref(model.decoder, z, horizon)
    W, bias = _np(model.output.weight), _np(model.output.bias)
    # one-step outputs at lag positions 0..L-2 forecast x[1..L-1]; the rollout starts at x[L]
    return fut @ W.T + bias + mu, one[:, :-1] @ W.T + bias + mu, nxt[:, :-1], z[:, 1:]


def test_closed_loop_decoder_equals_hand_written_loop():
    dec = ClosedLoopCompanionSSM(3, 5, norm="l1", init="random", seed=3).double()
    u = np.random.default_rng(1).normal(size=(2, 13, 3))
    out = dec(torch.as_tensor(u), 7)
    one, nxt, fut = _decoder_ref(dec, u, 7)
    np.testing.assert_allclose(_np(out.one_step), one, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_np(out.next_input), nxt, rtol=0, atol=1e-12)
    np.testing.assert_allclose(_np(out.horizon), fut, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "cfg",
    [
        SpaceTimeConfig(d_model=8, d_state=6, dropout=0.25, norm="l1"),
        SpaceTimeConfig(
            n_channels=2,
            d_model=6,
            d_state=4,
            n_encoder=2,
            embedding="linear",
            mlp_ratio=2,
            decoder_init="random",
            ma_windows=(3, 5),
        ),
    ],
    ids=["etth1-like", "multivariate-2-blocks"],
)
def test_spacetime_forward_and_loss_equal_numpy_reference(cfg):
    model = SpaceTime(cfg, seed=0).double().eval()
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 20, cfg.n_channels)).cumsum(1) + 5.0
    y = rng.normal(size=(2, 9, cfg.n_channels))
    with torch.no_grad():
        out = model(torch.as_tensor(x), 9)
        loss = SpaceTimeLoss((0.5, 2.0, 3.0))(out, (torch.as_tensor(x), torch.as_tensor(y)))
    ref = _spacetime_ref(model, x, 9)
    for name, r in zip(out._fields, ref, strict=True):
        np.testing.assert_allclose(_np(getattr(out, name)), r, rtol=0, atol=1e-11, err_msg=name)
    forecast, one_step, next_input, true_input = ref
    ref_loss = (
        0.5 * ((forecast - y) ** 2).mean()
        + 2.0 * ((one_step - x[:, 1:]) ** 2).mean()  # prediction of x[n+1] vs x[n+1]
        + 3.0 * ((next_input - true_input) ** 2).mean()
    )
    assert abs(float(loss) - ref_loss) < 1e-11
