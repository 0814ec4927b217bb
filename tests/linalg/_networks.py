"""Test "networks" for DCDM: exact inverses of a small assembled system."""

import numpy as np
import torch


def exact_inverse_net(s, scale: float = 3.0, offset=None):
    """(1, 1, *grid) → (1, 1, *grid): ``scale · A⁻¹ g`` (+ an optional constant offset field),
    A the dense matrix of the PoissonSystem ``s``."""
    Ainv = torch.from_numpy(np.linalg.inv(s.A.toarray()))
    off = 0.0 if offset is None else offset

    def net(g):
        return s.to_grid(Ainv @ s.to_vec(g[0, 0].double()) * scale)[None, None] + off

    return net
