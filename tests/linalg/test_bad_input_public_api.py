"""Bad input at the public DCDM entry points: a ValueError that names the argument."""

import math

import numpy as np
import pytest

from sciml.linalg import DCDMConfig, DCDMNet, DCDMNetConfig


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(channels=0), "channels"),
        (dict(channels=-1), "channels"),
        (dict(kernel_size=0), "kernel_size"),
        (dict(kernel_size=-1), "kernel_size"),
        (dict(kernel_size=1.5), "kernel_size"),
        (dict(kernel_size=2), "kernel_size"),
        (dict(blocks_full=-1), "blocks_full"),
        (dict(blocks_half=1.5), "blocks_half"),
        (dict(blocks_up=-1), "blocks_up"),
    ],
)
def test_dcdm_net_config(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DCDMNet(DCDMNetConfig(dim=2, **kwargs))


def test_dcdm_net_zero_blocks_allowed():
    DCDMNet(DCDMNetConfig(dim=2, channels=2, blocks_full=0, blocks_half=0, blocks_up=0))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(stall_patience=0), "stall_patience"),
        (dict(stall_patience=-1), "stall_patience"),
        (dict(stall_patience=1.5), "stall_patience"),
        (dict(stall_ratio=0.0), "stall_ratio"),
        (dict(stall_ratio=-1.0), "stall_ratio"),
        (dict(stall_ratio=math.nan), "stall_ratio"),
        (dict(stall_ratio=math.inf), "stall_ratio"),
    ],
)
def test_dcdm_config(kwargs, name):
    with pytest.raises(ValueError, match=name):
        DCDMConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"count": 0}, "count"),
        ({"count": -1}, "count"),
        ({"count": 1.5}, "count"),
        ({"Z": np.zeros((5, 0))}, "Z"),
        ({"Z": np.zeros(5)}, "Z"),
    ],
)
def test_ritz_rhs_rejects_bad_count_and_empty_ritz_vectors(kwargs, name):
    from sciml.linalg import ritz_rhs

    args = {"Z": np.linalg.qr(np.random.default_rng(0).standard_normal((6, 3)))[0], "count": 2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=f"^{name}:"):
        ritz_rhs(**args)
