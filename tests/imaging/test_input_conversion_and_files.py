"""Input conversion and resource handling of the imaging entry points (review pass 2): Python
lists keep NumPy's float64 precision, bad initial guesses and coil dtypes are clear errors, HFEN
of a reference without high frequencies is an error, and loading a benchmark problem leaves no
HDF5 file open."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.ndimage
import torch

from sciml.imaging import RDLEDM, RDLEDMConfig, birdcage_maps
from sciml.imaging.experiment import make_problem
from sciml.imaging.metrics import hfen
from sciml.imaging.rdledm import check_measurements
from sciml.imaging.tomo import Radon, acquisition_angles
from sciml.imaging.tomo.redpsm import check_sinogram


def test_list_measurements_keep_float64_precision():
    prob = make_problem(8, 3, 4, seed=0)
    y = prob.y.numpy()
    as_list = (y.real + 0.1234567891234).tolist()  # real list: digits beyond float32
    out = check_measurements(as_list, prob.op)
    assert out.dtype == torch.complex128
    np.testing.assert_array_equal(out.real.numpy(), np.asarray(as_list))  # no float32 rounding


def test_list_sinogram_keeps_float64_precision():
    op = Radon(acquisition_angles(4, 1), 9)
    g = np.random.default_rng(0).standard_normal(op.oshape) / 3.0
    out = check_sinogram(g.tolist(), op)
    assert out.dtype == torch.float64
    np.testing.assert_array_equal(out.numpy(), g)


def test_rdledm_initial_guess_is_checked():
    prob = make_problem(8, 3, 4, seed=0)
    solver = RDLEDM(RDLEDMConfig(max_iter=2))
    with pytest.raises(TypeError, match="x0 must be a torch.Tensor"):
        solver.reconstruct(prob.y, prob.op, x0=np.zeros(prob.op.ishape))
    bad = torch.zeros(prob.op.ishape, dtype=torch.complex128)
    bad[0, 1, 2] = float("nan")
    with pytest.raises(ValueError, match="x0 contains non-finite"):
        solver.reconstruct(prob.y, prob.op, x0=bad)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.int64])
def test_birdcage_maps_reject_real_dtypes(dtype):
    with pytest.raises(ValueError, match="complex64 or torch.complex128"):
        birdcage_maps(4, (8, 8), dtype=dtype)


def test_hfen_of_a_constant_reference_is_an_error():
    ref = torch.full((2, 16, 16), 0.7, dtype=torch.float64)
    with pytest.raises(ValueError, match="hfen is undefined"):
        hfen(ref + 0.1, ref)


def test_hfen_equals_scipy_gaussian_laplace_ratio():
    rng = np.random.default_rng(1)
    ref = rng.random((2, 16, 16))
    x = ref + 0.05 * rng.standard_normal(ref.shape)
    lx = np.stack([scipy.ndimage.gaussian_laplace(f, 1.5) for f in x])
    lr = np.stack([scipy.ndimage.gaussian_laplace(f, 1.5) for f in ref])
    expected = np.linalg.norm(lx - lr) / np.linalg.norm(lr)
    assert hfen(torch.as_tensor(x), torch.as_tensor(ref)) == pytest.approx(expected, rel=1e-10)


def test_load_problem_leaves_no_hdf5_file_open(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIML_DATA", str(tmp_path))
    from sciml.imaging.bench import load_problem

    before = len(h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE))
    prob = load_problem("quick", 4)
    assert prob.y.shape == prob.op.oshape
    assert len(h5py.h5f.get_obj_ids(types=h5py.h5f.OBJ_FILE)) == before
