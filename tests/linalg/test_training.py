import numpy as np
import pytest
import torch

from sciml.linalg import DCDMNet, DCDMNetConfig, dcdm_loss
from sciml.linalg.ritz import generate_ritz, training_system


def test_ritz_generator_output():
    out = generate_ritz(seed=0, dim=2, grid=12, steps=40, n_train=30, n_val=5)
    tr = out["splits"]["train"]["x"]
    assert tr.shape == (30, 1, 12, 12) and tr.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(tr.reshape(30, -1), axis=1), 1.0, rtol=1e-5)
    s = training_system(2, 12)
    assert np.all(tr[:, 0][:, ~s.fluid] == 0)  # zero on the air layer


def test_network_shapes_and_parameter_count():
    m3 = DCDMNet(DCDMNetConfig(dim=3))
    # reference 64³ model ≈ 97k parameters: 7 blocks × 2 convs (16·16·27 + 16) + in + head
    expected = 7 * 2 * (16 * 16 * 27 + 16) + (27 * 16 + 16) + (16 + 1)
    assert sum(p.numel() for p in m3.parameters()) == expected
    m2 = DCDMNet(DCDMNetConfig(dim=2))
    assert m2(torch.zeros(2, 1, 9, 7)).shape == (2, 1, 9, 7)  # odd sizes handled
    with pytest.raises(ValueError, match="x: expected shape"):
        m2(torch.zeros(2, 9, 7))


def test_short_training_reduces_the_loss(tmp_path, monkeypatch):
    """One epoch on the quick Ritz set through the shared data layer and Trainer lowers the
    validation loss below that of the untrained network (computed independently here)."""
    monkeypatch.setenv("SCIML_DATA", str(tmp_path))
    from sciml.data import ArrayDataset, get_dataset
    from sciml.linalg.training import DCDMTrainConfig, train_dcdm

    path = get_dataset("dcdm-ritz-2d", "quick", seed=0, root=tmp_path)
    val = ArrayDataset(path, "val", ("x",))
    xb = torch.stack([val[i][0] for i in range(len(val))])
    s = training_system(2, 32)
    op = s.stencil(dtype=torch.float32)
    fluid = op.fluid.float()

    def loss_of(model):
        with torch.no_grad():
            q = model(xb) * fluid
            return dcdm_loss(q, xb, op.apply(q)).item()

    torch.manual_seed(0)
    init = loss_of(DCDMNet(DCDMNetConfig(dim=2)))
    model, hist = train_dcdm(DCDMTrainConfig(dim=2, data_size="quick", epochs=2), progress=False)
    assert len(hist) == 2
    assert loss_of(model) < 0.7 * init
    assert np.isclose(hist[-1]["val_loss"], loss_of(model), rtol=1e-3)


def test_fast_cpu_convolution_equals_reference_convolution():
    """The oneDNN call used on CPU equals torch.nn.functional.conv (2-D and 3-D, batch 1)."""
    from torch.nn import functional as F

    torch.manual_seed(0)
    for dim, shape in ((2, (1, 1, 10, 6)), (3, (1, 1, 8, 6, 4))):
        m = DCDMNet(DCDMNetConfig(dim=dim))
        x = torch.randn(shape)
        conv = F.conv2d if dim == 2 else F.conv3d
        ref = conv(x, m.inp.weight, m.inp.bias, padding=1)
        torch.testing.assert_close(m.inp(x), ref, rtol=1e-5, atol=1e-5)


def test_mixed_layout_generator():
    """layouts > 0: vectors from the box and random layouts, zero off each sample's fluid cells,
    with the per-sample cell types; layouts = 0 keeps the single-matrix data bit for bit."""
    from sciml.linalg.ritz import training_layouts

    out = generate_ritz(seed=0, dim=2, grid=12, steps=30, n_train=9, n_val=3, layouts=2)
    x, cells = out["splits"]["train"]["x"], out["splits"]["train"]["cells"]
    masks = training_layouts(2, 12, 2)
    assert x.shape == cells.shape == (9, 1, 12, 12) and cells.dtype == np.int8
    for i in range(9):
        np.testing.assert_array_equal(cells[i, 0], masks[i // 3])
        assert np.all(x[i, 0][cells[i, 0] != 0] == 0)
    np.testing.assert_allclose(np.linalg.norm(x.reshape(9, -1), axis=1), 1.0, rtol=1e-5)
    assert len({m.tobytes() for m in masks}) == 3
    single = generate_ritz(seed=0, dim=2, grid=12, steps=30, n_train=9, n_val=3)
    assert set(single["splits"]["train"]) == {"x"}
