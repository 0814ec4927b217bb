"""`compare_models` option ``models``: the subset trained, and a clear error for a bad name."""

import pytest
import torch
from torch.utils.data import TensorDataset

from sciml.operators.bench import compare_models


class _Ctx:
    quick, device, seed = True, "cpu", 0

    def __init__(self, **options):
        self.options = options

    def log(self, msg: str) -> None:
        pass


def _data(n: int = 4, size: int = 16) -> TensorDataset:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 1, size, size, generator=g)
    return TensorDataset(x, 2.0 * x)


def test_models_option_restricts_the_comparison():
    ds = _data()
    defaults = {"budget_s": 0.2, "width": 4, "fno_width": 4, "batch_size": 2}
    out = compare_models(
        _Ctx(models="fno"), ds, ds, c_in=1, c_out=1, autoregressive=False, defaults=defaults
    )
    assert "fno_rel_l2" in out and out["fno_rel_l2"] >= 0.0
    assert not any(k.startswith(("lsm_", "unet_")) for k in out)


def test_unknown_model_name_is_a_clear_error():
    ds = _data()
    defaults = {"budget_s": 0.1, "width": 4, "fno_width": 4, "batch_size": 2}
    with pytest.raises(ValueError, match="models: unknown"):
        compare_models(
            _Ctx(models="lsm,transformer"),
            ds,
            ds,
            c_in=1,
            c_out=1,
            autoregressive=False,
            defaults=defaults,
        )
