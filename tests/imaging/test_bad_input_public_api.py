"""Bad input to the imaging entry points: clear errors naming the argument, never a math-domain
error or a silent NaN configuration."""

from __future__ import annotations

import math

import pytest
import torch

from sciml.imaging import (
    RDLEDMConfig,
    project_linf_ball,
    psnr,
    psnr_frames,
    soft_threshold,
    ssim,
    svt,
)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("theta", math.nan),
        ("theta", -0.5),
        ("theta", 1.5),
        ("step_ratio", math.nan),
        ("step_ratio", math.inf),
        ("step_ratio", 0.0),
        ("tol", math.inf),
        ("tol", math.nan),
        ("tol", -1.0),
    ],
)
def test_rdledm_config_rejects_non_finite_or_out_of_range_settings(field, value):
    with pytest.raises(ValueError, match=f"RDLEDMConfig.{field}"):
        RDLEDMConfig(**{field: value})


def test_psnr_of_a_constant_reference_needs_a_data_range():
    ref = torch.ones(2, 4, 4, dtype=torch.float64)
    x = ref + 0.1
    with pytest.raises(ValueError, match="data_range"):
        psnr(x, ref)
    with pytest.raises(ValueError, match="data_range"):
        psnr_frames(x, ref)
    with pytest.raises(ValueError, match="data_range"):
        ssim(x, ref)
    # with the range given, the closed form 10 log10(r² / mse)
    assert psnr(x, ref, data_range=1.0) == pytest.approx(10 * math.log10(1 / 0.01), rel=1e-12)
    with pytest.raises(ValueError, match="data_range"):
        psnr(x, ref, data_range=0.0)


def test_psnr_of_non_finite_input_is_an_error_naming_x():
    ref = torch.linspace(0, 1, 32, dtype=torch.float64).reshape(2, 4, 4)
    x = ref.clone()
    x[0, 0, 0] = math.inf
    with pytest.raises(ValueError, match="x and ref must be finite"):
        psnr(x, ref)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: soft_threshold(x, 0.1),
        lambda x: svt(x, 0.1),
        lambda x: svt(x, 0.1, method="gram"),
        lambda x: project_linf_ball(x, 1.0),
    ],
)
def test_proximal_maps_reject_integer_input_by_name(call):
    with pytest.raises(TypeError, match="x must be a floating or complex tensor"):
        call(torch.ones(3, 4, dtype=torch.int64))
