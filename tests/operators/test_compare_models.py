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


def test_neuralop_fno_joins_the_comparison_with_the_papers_modes():
    """When ``neuraloperator`` is installed its FNO is a fourth model, kept at the FNO paper's
    12 Fourier modes per quadrant (kx in [-12, 12), ky in [0, 12]) like our FNO."""
    pytest.importorskip("neuralop")
    from sciml.operators.bench import _models

    model = _models(1, 1, width=4, fno_width=8, padding=8)["neuralop_fno"]()
    shapes = {tuple(conv.weight.shape) for conv in model.fno_blocks.convs}
    assert shapes == {(8, 8, 24, 13)}
    ds = _data()
    defaults = {"budget_s": 0.2, "width": 4, "fno_width": 4, "batch_size": 2}
    out = compare_models(
        _Ctx(models="neuralop_fno"),
        ds,
        ds,
        c_in=1,
        c_out=1,
        autoregressive=False,
        defaults=defaults,
    )
    assert 0.0 <= out["neuralop_fno_rel_l2"] < float("inf")
    assert out["neuralop_fno_epochs"] >= 1


def test_neuralop_fno_padded_pads_like_our_fno():
    """The padded variant extends each axis by the same total number of points as our FNO's
    `padding` (split over both ends); it only exists when padding > 0 and the grid is known."""
    pytest.importorskip("neuralop")
    import torch

    from sciml.operators.bench import _models

    assert "neuralop_fno_padded" not in _models(1, 1, 4, 8, padding=0, grid=(16, 16))
    assert "neuralop_fno_padded" not in _models(1, 1, 4, 8, padding=8)
    model = _models(1, 1, width=4, fno_width=8, padding=8, grid=(16, 24))["neuralop_fno_padded"]()
    x = torch.randn(2, 1, 16, 24)
    assert model(x).shape == (2, 1, 16, 24)
    assert model.domain_padding._padding[str(x.shape[2:])] == [4, 4, 4, 4]
