"""One mode's latent functions: R independent Matérn components on the sorted unique index
values of that mode, as one Gauss–Markov chain with block-diagonal dynamics (state size R·d),
smoothed given summed information-form messages on ``u(t) = H x(t)``."""

from __future__ import annotations

import torch

from .kalman import _kalman_smoother
from .sde import MaternSDE, _discretise

__all__ = ["ModeChain"]


def _blockdiag(R: int, X: torch.Tensor) -> torch.Tensor:
    """(…, d, d) → (…, R·d, R·d) block-diagonal ``I_R ⊗ X``."""
    eye = torch.eye(R, dtype=X.dtype, device=X.device)
    d = X.shape[-1]
    out = torch.einsum("rq,...ij->...riqj", eye, X)
    return out.reshape(*X.shape[:-2], R * d, R * d)


class ModeChain:
    """State-space GP prior over ``R`` components of one mode.

    Args:
        t: (S,) strictly increasing unique index values.
        rank: number of components R.
        sde: the Matérn component SDE (shared lengthscale/variance within the mode).
    """

    def __init__(self, t: torch.Tensor, rank: int, sde: MaternSDE):
        self.t = t
        self.R = rank
        self.sde = sde
        self.d = sde.dim
        self.D = rank * self.d
        kw = {"dtype": t.dtype, "device": t.device}
        self.F = sde.F.to(**kw)
        self.Pinf1 = sde.Pinf.to(**kw)
        self.P0 = _blockdiag(rank, self.Pinf1)
        dt = torch.cat([t.new_zeros(1), t[1:] - t[:-1]])
        A1, Q1 = _discretise(sde, dt)
        self.A = _blockdiag(rank, A1)
        self.Q = _blockdiag(rank, Q1)
        self._obs = torch.arange(rank, device=t.device) * self.d  # positions of u_r in the state
        self.result = None

    # ------------------------------------------------------------------ smoothing
    def _lift(self, Lam: torch.Tensor, eta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        S = Lam.shape[0]
        G = Lam.new_zeros(S, self.R, self.d, self.R, self.d)
        G[:, :, 0, :, 0] = Lam
        g = eta.new_zeros(S, self.R, self.d)
        g[:, :, 0] = eta
        return G.reshape(S, self.D, self.D), g.reshape(S, self.D)

    def _project(self, m: torch.Tensor, P: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        idx = self._obs
        return m[:, idx], P[:, idx][:, :, idx]

    def smooth(self, Lam: torch.Tensor, eta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior of ``u(t_j)`` given summed messages.

        Args:
            Lam: (S, R, R) summed message precisions; eta: (S, R) summed information vectors.
        Returns:
            mean (S, R) and covariance (S, R, R) of the components at the chain's states.
        """
        G, g = self._lift(Lam, eta)
        self.result = _kalman_smoother(self.A, self.Q, self.P0, G, g)
        return self._project(self.result.mean, self.result.cov)

    def prior(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Prior moments of u at the states: zeros (S, R) and σ²·I (S, R, R)."""
        S = self.t.shape[0]
        eye = torch.eye(self.R, dtype=self.t.dtype, device=self.t.device)
        return self.t.new_zeros(S, self.R), (self.sde.variance * eye).expand(S, -1, -1).clone()

    # ------------------------------------------------------------------ queries
    def _disc(self, dt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        A1 = torch.linalg.matrix_exp(dt[:, None, None] * self.F)
        Q1 = self.Pinf1 - A1 @ self.Pinf1 @ A1.mT
        return _blockdiag(self.R, A1), _blockdiag(self.R, 0.5 * (Q1 + Q1.mT))

    def marginals(self, tq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior of ``u`` at arbitrary index values (smoothed value at a training state,
        conditioning on the two neighbouring states in between, propagation beyond the ends).

        Args:
            tq: (M,) query index values.
        Returns:
            mean (M, R), covariance (M, R, R).
        """
        if self.result is None:
            raise RuntimeError("ModeChain.marginals: call smooth() first")
        t, res = self.t, self.result
        S, D = t.shape[0], self.D
        tq = tq.to(dtype=t.dtype, device=t.device).contiguous()
        M = tq.shape[0]
        mean = tq.new_zeros(M, D)
        cov = tq.new_zeros(M, D, D)
        p = torch.searchsorted(t, tq, right=True) - 1  # last state with t_p <= t*
        left = p < 0
        right = p >= S - 1
        mid = ~(left | right)
        if right.any():  # forward propagation from the last state (exact at t_last)
            i = right.nonzero()[:, 0]
            A, Q = self._disc(tq[i] - t[-1])
            mean[i] = (A @ res.mean[-1][:, None])[..., 0]
            cov[i] = A @ res.cov[-1] @ A.mT + Q
        if left.any():  # backward: x* ~ N(0, P∞), x_0 = A x* + q
            i = left.nonzero()[:, 0]
            A, _ = self._disc(t[0] - tq[i])
            Gb = torch.linalg.solve(self.P0, A @ self.P0).mT  # P∞ Aᵀ P∞⁻¹
            mean[i] = (Gb @ res.mean[0][:, None])[..., 0]
            cov[i] = self.P0 - Gb @ A @ self.P0 + Gb @ res.cov[0] @ Gb.mT
        if mid.any():
            i = mid.nonzero()[:, 0]
            pi = p[i]
            A1, Q1 = self._disc(tq[i] - t[pi])
            A2, Q2 = self._disc(t[pi + 1] - tq[i])
            Sn = A2 @ Q1 @ A2.mT + Q2
            K = torch.linalg.solve(Sn, A2 @ Q1).mT  # Q1 A2ᵀ Sn⁻¹
            eye = torch.eye(D, dtype=t.dtype, device=t.device)
            Bp = (eye - K @ A2) @ A1
            Bn = K
            Sig = (eye - K @ A2) @ Q1
            mp, mn = res.mean[pi], res.mean[pi + 1]
            Pp, Pn = res.cov[pi], res.cov[pi + 1]
            C = res.gain[pi] @ Pn  # Cov(x_p, x_n)
            mean[i] = (Bp @ mp[..., None] + Bn @ mn[..., None])[..., 0]
            cross = Bp @ C @ Bn.mT
            cov[i] = Sig + Bp @ Pp @ Bp.mT + Bn @ Pn @ Bn.mT + cross + cross.mT
        cov = 0.5 * (cov + cov.mT)
        return self._project(mean, cov)
