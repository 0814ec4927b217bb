"""Every benchmark documents its metrics: ``"metrics"`` in its ``BENCHMARKS`` entry maps
``fnmatch`` patterns over the metric names its ``run`` returns to ``{"about": one line,
"better": "lower" | "higher" | "none"}`` (first matching pattern wins), and a reference that
is a project threshold rather than a published figure carries ``"target": ">=" | "<="``.

Cheap: no benchmark runs. :data:`QUICK_NAMES` holds the metric names each benchmark returned
in a ``--quick`` run on CPU (the interface they document); :func:`full_names` adds the names of
full runs, options and GPU runs, derived from the ``run`` code (more horizons, sizes, orders,
accelerations, ...). Every name must be covered by a pattern, and every pattern must be the
first match of some name (no dead or shadowed pattern).
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from sciml.bench.registry import load_bench_file

ROOT = Path(__file__).resolve().parents[1] / "sciml"
BETTER = {"lower", "higher", "none"}
TARGETS = {">=", "<="}
MAX_ABOUT = 160  # characters: one short line

# Captured from `sciml-bench run NAME --quick` on CPU (neuraloperator installed, pyamg installed;
# ssm-etth1 with the ETTh1 CSV), in the order run returns them.
QUICK_NAMES = {
    "kernels": """
        kron_matvec_min_ratio_linear_operator_over_ours
        kron_matvec_geomean_ratio_linear_operator_over_ours
        kron_eigh_min_ratio_linear_operator_over_ours fft_conv_ratio_conv1d_over_ours_at_max_L
        poisson_ratio_scipy_over_ours_torch kron_matvec_max_fraction_of_copy_bandwidth
    """.split(),
    "gphm": """
        poisson1d-sin100_rel_l2 poisson1d-sin100_time_s poisson2d-sin6cos20_rel_l2
        poisson2d-sin6cos20_time_s
    """.split(),
    "mri-rdledm": """
        psnr_rdledm_r8 ssim_rdledm_r8 hfen_rdledm_r8 seconds_rdledm_r8 iterations_rdledm_r8
        psnr_lps_r8 ssim_lps_r8 hfen_lps_r8 seconds_lps_r8 iterations_lps_r8 psnr_lowrank_r8
        ssim_lowrank_r8 hfen_lowrank_r8 seconds_lowrank_r8 iterations_lowrank_r8 psnr_zero_filled_r8
        ssim_zero_filled_r8 hfen_zero_filled_r8 seconds_zero_filled_r8 iterations_zero_filled_r8
        psnr_gain_vs_lps_r8
    """.split(),
    "ct-redpsm": """
        psnr_redpsm ssim_redpsm hfen_redpsm seconds_redpsm sec_per_outer_redpsm psnr_psm ssim_psm
        hfen_psm seconds_psm psnr_fbp ssim_fbp hfen_fbp seconds_fbp psnr_swfbp ssim_swfbp hfen_swfbp
        seconds_swfbp psnr_gain_vs_psm psnr_gain_vs_fbp radon_mbytes dense_matrix_mbytes
    """.split(),
    "mri-redpsm": """
        psnr_redpsm ssim_redpsm hfen_redpsm seconds_redpsm psnr_psm ssim_psm hfen_psm seconds_psm
        psnr_lps ssim_lps hfen_lps seconds_lps psnr_rdledm ssim_rdledm hfen_rdledm seconds_rdledm
        psnr_zero_filled ssim_zero_filled hfen_zero_filled seconds_zero_filled psnr_gain_vs_psm
        psnr_gain_vs_lps
    """.split(),
    "dcdm-2d": """
        n128_cg_iters_0.0001 n128_cg_time_0.0001 n128_cg_time_nosetup_0.0001 n128_cg_iters_1e-06
        n128_cg_time_1e-06 n128_cg_time_nosetup_1e-06 n128_cg_setup n128_jacobi-pcg_iters_0.0001
        n128_jacobi-pcg_time_0.0001 n128_jacobi-pcg_time_nosetup_0.0001 n128_jacobi-pcg_iters_1e-06
        n128_jacobi-pcg_time_1e-06 n128_jacobi-pcg_time_nosetup_1e-06 n128_jacobi-pcg_setup
        n128_ic-pcg_iters_0.0001 n128_ic-pcg_time_0.0001 n128_ic-pcg_time_nosetup_0.0001
        n128_ic-pcg_iters_1e-06 n128_ic-pcg_time_1e-06 n128_ic-pcg_time_nosetup_1e-06
        n128_ic-pcg_setup n128_amg-sa-pcg_iters_0.0001 n128_amg-sa-pcg_time_0.0001
        n128_amg-sa-pcg_time_nosetup_0.0001 n128_amg-sa-pcg_iters_1e-06 n128_amg-sa-pcg_time_1e-06
        n128_amg-sa-pcg_time_nosetup_1e-06 n128_amg-sa-pcg_setup n128_amg-rs-pcg_iters_0.0001
        n128_amg-rs-pcg_time_0.0001 n128_amg-rs-pcg_time_nosetup_0.0001 n128_amg-rs-pcg_iters_1e-06
        n128_amg-rs-pcg_time_1e-06 n128_amg-rs-pcg_time_nosetup_1e-06 n128_amg-rs-pcg_setup
        n128_dcdm_iters_0.0001 n128_dcdm_time_0.0001 n128_dcdm_time_nosetup_0.0001
        n128_dcdm_iters_1e-06 n128_dcdm_time_1e-06 n128_dcdm_time_nosetup_1e-06 n128_dcdm_setup
        n128_dcdm-recurrence_iters_0.0001 n128_dcdm-recurrence_time_0.0001
        n128_dcdm-recurrence_time_nosetup_0.0001 n128_dcdm-recurrence_iters_1e-06
        n128_dcdm-recurrence_time_1e-06 n128_dcdm-recurrence_time_nosetup_1e-06
        n128_dcdm-recurrence_setup n128_dcdm-k16_iters_0.0001 n128_dcdm-k16_time_0.0001
        n128_dcdm-k16_time_nosetup_0.0001 n128_dcdm-k16_iters_1e-06 n128_dcdm-k16_time_1e-06
        n128_dcdm-k16_time_nosetup_1e-06 n128_dcdm-k16_setup n128_dcdm-debias_iters_0.0001
        n128_dcdm-debias_time_0.0001 n128_dcdm-debias_time_nosetup_0.0001
        n128_dcdm-debias_iters_1e-06 n128_dcdm-debias_time_1e-06 n128_dcdm-debias_time_nosetup_1e-06
        n128_dcdm-debias_setup n128_dcdm-coarse_iters_0.0001 n128_dcdm-coarse_time_0.0001
        n128_dcdm-coarse_time_nosetup_0.0001 n128_dcdm-coarse_iters_1e-06
        n128_dcdm-coarse_time_1e-06 n128_dcdm-coarse_time_nosetup_1e-06 n128_dcdm-coarse_setup
        n128_dcdm-coarse-debias_iters_0.0001 n128_dcdm-coarse-debias_time_0.0001
        n128_dcdm-coarse-debias_time_nosetup_0.0001 n128_dcdm-coarse-debias_iters_1e-06
        n128_dcdm-coarse-debias_time_1e-06 n128_dcdm-coarse-debias_time_nosetup_1e-06
        n128_dcdm-coarse-debias_setup n128_dcdm-coarse-debias-k16_iters_0.0001
        n128_dcdm-coarse-debias-k16_time_0.0001 n128_dcdm-coarse-debias-k16_time_nosetup_0.0001
        n128_dcdm-coarse-debias-k16_iters_1e-06 n128_dcdm-coarse-debias-k16_time_1e-06
        n128_dcdm-coarse-debias-k16_time_nosetup_1e-06 n128_dcdm-coarse-debias-k16_setup
        n128_dcdm_over_amg-sa-pcg_time_0.0001 n128_dcdm_over_amg-sa-pcg_time_nosetup_0.0001
        n128_dcdm_over_amg-sa-pcg_time_1e-06 n128_dcdm_over_amg-sa-pcg_time_nosetup_1e-06
        n128_dcdm-coarse-debias_over_amg-sa-pcg_time_0.0001
        n128_dcdm-coarse-debias_over_amg-sa-pcg_time_nosetup_0.0001
        n128_dcdm-coarse-debias_over_amg-sa-pcg_time_1e-06
        n128_dcdm-coarse-debias_over_amg-sa-pcg_time_nosetup_1e-06
        n128_dcdm_over_amg-rs-pcg_time_0.0001 n128_dcdm_over_amg-rs-pcg_time_nosetup_0.0001
        n128_dcdm_over_amg-rs-pcg_time_1e-06 n128_dcdm_over_amg-rs-pcg_time_nosetup_1e-06
        n128_dcdm-coarse-debias_over_amg-rs-pcg_time_0.0001
        n128_dcdm-coarse-debias_over_amg-rs-pcg_time_nosetup_0.0001
        n128_dcdm-coarse-debias_over_amg-rs-pcg_time_1e-06
        n128_dcdm-coarse-debias_over_amg-rs-pcg_time_nosetup_1e-06 n128_unknowns
    """.split(),
    "dcdm-3d": """
        n32_cg_iters_0.0001 n32_cg_time_0.0001 n32_cg_time_nosetup_0.0001 n32_cg_iters_1e-06
        n32_cg_time_1e-06 n32_cg_time_nosetup_1e-06 n32_cg_setup n32_jacobi-pcg_iters_0.0001
        n32_jacobi-pcg_time_0.0001 n32_jacobi-pcg_time_nosetup_0.0001 n32_jacobi-pcg_iters_1e-06
        n32_jacobi-pcg_time_1e-06 n32_jacobi-pcg_time_nosetup_1e-06 n32_jacobi-pcg_setup
        n32_ic-pcg_iters_0.0001 n32_ic-pcg_time_0.0001 n32_ic-pcg_time_nosetup_0.0001
        n32_ic-pcg_iters_1e-06 n32_ic-pcg_time_1e-06 n32_ic-pcg_time_nosetup_1e-06 n32_ic-pcg_setup
        n32_amg-sa-pcg_iters_0.0001 n32_amg-sa-pcg_time_0.0001 n32_amg-sa-pcg_time_nosetup_0.0001
        n32_amg-sa-pcg_iters_1e-06 n32_amg-sa-pcg_time_1e-06 n32_amg-sa-pcg_time_nosetup_1e-06
        n32_amg-sa-pcg_setup n32_amg-rs-pcg_iters_0.0001 n32_amg-rs-pcg_time_0.0001
        n32_amg-rs-pcg_time_nosetup_0.0001 n32_amg-rs-pcg_iters_1e-06 n32_amg-rs-pcg_time_1e-06
        n32_amg-rs-pcg_time_nosetup_1e-06 n32_amg-rs-pcg_setup n32_dcdm_iters_0.0001
        n32_dcdm_time_0.0001 n32_dcdm_time_nosetup_0.0001 n32_dcdm_iters_1e-06 n32_dcdm_time_1e-06
        n32_dcdm_time_nosetup_1e-06 n32_dcdm_setup n32_dcdm-coarse-debias_iters_0.0001
        n32_dcdm-coarse-debias_time_0.0001 n32_dcdm-coarse-debias_time_nosetup_0.0001
        n32_dcdm-coarse-debias_iters_1e-06 n32_dcdm-coarse-debias_time_1e-06
        n32_dcdm-coarse-debias_time_nosetup_1e-06 n32_dcdm-coarse-debias_setup
        n32_dcdm_over_amg-sa-pcg_time_0.0001 n32_dcdm_over_amg-sa-pcg_time_nosetup_0.0001
        n32_dcdm_over_amg-sa-pcg_time_1e-06 n32_dcdm_over_amg-sa-pcg_time_nosetup_1e-06
        n32_dcdm-coarse-debias_over_amg-sa-pcg_time_0.0001
        n32_dcdm-coarse-debias_over_amg-sa-pcg_time_nosetup_0.0001
        n32_dcdm-coarse-debias_over_amg-sa-pcg_time_1e-06
        n32_dcdm-coarse-debias_over_amg-sa-pcg_time_nosetup_1e-06
        n32_dcdm_over_amg-rs-pcg_time_0.0001 n32_dcdm_over_amg-rs-pcg_time_nosetup_0.0001
        n32_dcdm_over_amg-rs-pcg_time_1e-06 n32_dcdm_over_amg-rs-pcg_time_nosetup_1e-06
        n32_dcdm-coarse-debias_over_amg-rs-pcg_time_0.0001
        n32_dcdm-coarse-debias_over_amg-rs-pcg_time_nosetup_0.0001
        n32_dcdm-coarse-debias_over_amg-rs-pcg_time_1e-06
        n32_dcdm-coarse-debias_over_amg-rs-pcg_time_nosetup_1e-06 n32_unknowns
        cube64_cg_iters_0.0001 cube64_cg_iters_1e-06 cube64_cg_setup cube64_amg-sa-pcg_iters_0.0001
        cube64_amg-sa-pcg_iters_1e-06 cube64_amg-sa-pcg_setup cube64_amg-rs-pcg_iters_0.0001
        cube64_amg-rs-pcg_iters_1e-06 cube64_amg-rs-pcg_setup cube64_dst_time cube64_dst_relres
    """.split(),
    "lsm-darcy": """
        budget_s_per_model width lr rounds_per_epoch lsm_rel_l2 lsm_nrmse lsm_max_error lsm_err_low
        lsm_err_mid lsm_err_high lsm_params lsm_epochs lsm_train_s lsm_s_per_epoch
        lsm_train_samples_per_s lsm_infer_samples_per_s lsm_final_train_loss lsm_peak_mem_mb
        lsm_mem_before_training_mb fno_rel_l2 fno_nrmse fno_max_error fno_err_low fno_err_mid
        fno_err_high fno_params fno_epochs fno_train_s fno_s_per_epoch fno_train_samples_per_s
        fno_infer_samples_per_s fno_final_train_loss fno_peak_mem_mb fno_mem_before_training_mb
        unet_rel_l2 unet_nrmse unet_max_error unet_err_low unet_err_mid unet_err_high unet_params
        unet_epochs unet_train_s unet_s_per_epoch unet_train_samples_per_s unet_infer_samples_per_s
        unet_final_train_loss unet_peak_mem_mb unet_mem_before_training_mb neuralop_fno_rel_l2
        neuralop_fno_nrmse neuralop_fno_max_error neuralop_fno_err_low neuralop_fno_err_mid
        neuralop_fno_err_high neuralop_fno_params neuralop_fno_epochs neuralop_fno_train_s
        neuralop_fno_s_per_epoch neuralop_fno_train_samples_per_s neuralop_fno_infer_samples_per_s
        neuralop_fno_final_train_loss neuralop_fno_peak_mem_mb neuralop_fno_mem_before_training_mb
        neuralop_fno_padded_rel_l2 neuralop_fno_padded_nrmse neuralop_fno_padded_max_error
        neuralop_fno_padded_err_low neuralop_fno_padded_err_mid neuralop_fno_padded_err_high
        neuralop_fno_padded_params neuralop_fno_padded_epochs neuralop_fno_padded_train_s
        neuralop_fno_padded_s_per_epoch neuralop_fno_padded_train_samples_per_s
        neuralop_fno_padded_infer_samples_per_s neuralop_fno_padded_final_train_loss
        neuralop_fno_padded_peak_mem_mb neuralop_fno_padded_mem_before_training_mb resolution
        n_train
    """.split(),
    "lsm-ns": """
        budget_s_per_model width lr rounds_per_epoch lsm_rel_l2 lsm_nrmse lsm_max_error lsm_err_low
        lsm_err_mid lsm_err_high lsm_params lsm_epochs lsm_train_s lsm_s_per_epoch
        lsm_train_samples_per_s lsm_infer_samples_per_s lsm_final_train_loss lsm_peak_mem_mb
        lsm_mem_before_training_mb fno_rel_l2 fno_nrmse fno_max_error fno_err_low fno_err_mid
        fno_err_high fno_params fno_epochs fno_train_s fno_s_per_epoch fno_train_samples_per_s
        fno_infer_samples_per_s fno_final_train_loss fno_peak_mem_mb fno_mem_before_training_mb
        unet_rel_l2 unet_nrmse unet_max_error unet_err_low unet_err_mid unet_err_high unet_params
        unet_epochs unet_train_s unet_s_per_epoch unet_train_samples_per_s unet_infer_samples_per_s
        unet_final_train_loss unet_peak_mem_mb unet_mem_before_training_mb neuralop_fno_rel_l2
        neuralop_fno_nrmse neuralop_fno_max_error neuralop_fno_err_low neuralop_fno_err_mid
        neuralop_fno_err_high neuralop_fno_params neuralop_fno_epochs neuralop_fno_train_s
        neuralop_fno_s_per_epoch neuralop_fno_train_samples_per_s neuralop_fno_infer_samples_per_s
        neuralop_fno_final_train_loss neuralop_fno_peak_mem_mb neuralop_fno_mem_before_training_mb
        resolution n_train
    """.split(),
    "ssm-ar": """
        p2_bayes_mse1 p2_bayes_mse24 p2_theory_mse1 p2_theory_mse24 p2_spacetime_best_epoch
        p2_spacetime_mse1 p2_spacetime_mse24 p2_spacetime_ratio1 p2_spacetime_ratio24
        p2_spacetime_sec_per_epoch p2_s4d_best_epoch p2_s4d_mse1 p2_s4d_mse24 p2_s4d_ratio1
        p2_s4d_ratio24 p2_s4d_sec_per_epoch p4_bayes_mse1 p4_bayes_mse24 p4_theory_mse1
        p4_theory_mse24 p4_spacetime_best_epoch p4_spacetime_mse1 p4_spacetime_mse24
        p4_spacetime_ratio1 p4_spacetime_ratio24 p4_spacetime_sec_per_epoch p4_s4d_best_epoch
        p4_s4d_mse1 p4_s4d_mse24 p4_s4d_ratio1 p4_s4d_ratio24 p4_s4d_sec_per_epoch p8_bayes_mse1
        p8_bayes_mse24 p8_theory_mse1 p8_theory_mse24 p8_spacetime_best_epoch p8_spacetime_mse1
        p8_spacetime_mse24 p8_spacetime_ratio1 p8_spacetime_ratio24 p8_spacetime_sec_per_epoch
        p8_s4d_best_epoch p8_s4d_mse1 p8_s4d_mse24 p8_s4d_ratio1 p8_s4d_ratio24 p8_s4d_sec_per_epoch
        p16_bayes_mse1 p16_bayes_mse24 p16_theory_mse1 p16_theory_mse24 p16_spacetime_best_epoch
        p16_spacetime_mse1 p16_spacetime_mse24 p16_spacetime_ratio1 p16_spacetime_ratio24
        p16_spacetime_sec_per_epoch p16_s4d_best_epoch p16_s4d_mse1 p16_s4d_mse24 p16_s4d_ratio1
        p16_s4d_ratio24 p16_s4d_sec_per_epoch
    """.split(),
    "ssm-etth1": """
        epochs train_stride val_stride test_stride batch_size warmup patience val_every_steps ema
        schedule_per_step s4d_schedule_per_step spacetime_kernel_squaring spacetime_lr
        spacetime_weight_decay spacetime_dropout s4d_lr s4d_weight_decay s4d_dropout
        spacetime_loss_w0 spacetime_loss_w1 spacetime_loss_w2 spacetime_loss_rmse spacetime_norm_l1
        h24_last_mse h24_last_mae h24_last_val_mse h24_linear_mse h24_linear_mae h24_linear_val_mse
        h24_spacetime_best_epoch h24_spacetime_best_step h24_spacetime_validations
        h24_spacetime_epochs_run h24_spacetime_val_mse h24_spacetime_mse h24_spacetime_mae
        h24_spacetime_sec_per_epoch h24_s4d_best_epoch h24_s4d_best_step h24_s4d_validations
        h24_s4d_epochs_run h24_s4d_val_mse h24_s4d_mse h24_s4d_mae h24_s4d_sec_per_epoch
        h24_ci_block h24_spacetime_over_linear h24_spacetime_over_linear_lo
        h24_spacetime_over_linear_hi h24_spacetime_over_linear_p_below_one h24_spacetime_over_last
        h24_spacetime_over_last_lo h24_spacetime_over_last_hi h24_spacetime_over_last_p_below_one
        h24_s4d_over_linear h24_s4d_over_linear_lo h24_s4d_over_linear_hi
        h24_s4d_over_linear_p_below_one h24_s4d_over_last h24_s4d_over_last_lo h24_s4d_over_last_hi
        h24_s4d_over_last_p_below_one
    """.split(),
    "funbat-synthetic": """
        rmse_rank1_cp mae_rank1_cp s_per_epoch_rank1_cp fit_seconds_rank1_cp rmse_funbat_noise0.1_r2
        mae_funbat_noise0.1_r2 fit_seconds_funbat_noise0.1_r2 rmse_funbat_cp_noise0.1_r2
        mae_funbat_cp_noise0.1_r2 fit_seconds_funbat_cp_noise0.1_r2 rmse_als_tucker_noise0.1_r2
        mae_als_tucker_noise0.1_r2 fit_seconds_als_tucker_noise0.1_r2 rmse_als_cp_noise0.1_r2
        mae_als_cp_noise0.1_r2 fit_seconds_als_cp_noise0.1_r2 rmse_svi_tucker_noise0.1_r2
        mae_svi_tucker_noise0.1_r2 fit_seconds_svi_tucker_noise0.1_r2 rmse_gp_noise0.1
        mae_gp_noise0.1 fit_seconds_gp_noise0.1
    """.split(),
    "funbat-scaling": """
        s_per_epoch_beijing_r2 peak_mb_beijing_r2 s_per_epoch_beijing_r3 peak_mb_beijing_r3
        s_per_epoch_ustemp_r7 peak_mb_ustemp_r7
    """.split(),
}


def _modules() -> dict[str, object]:
    """Every ``sciml/*/bench.py`` loaded by path (``imaging`` brings ``tomo/bench_entries.py``)."""
    return {
        path.parent.name: load_bench_file(path, f"_test_metric_docs_{path.parent.name}")
        for path in sorted(ROOT.glob("*/bench.py"))
    }


MODULES = _modules()
ENTRIES = {e["name"]: e for m in MODULES.values() for e in getattr(m, "BENCHMARKS", [])}


def _sub(names, pattern: str, values) -> list[str]:
    """``names`` with the regex ``pattern`` (e.g. ``^h24_``) replaced by each of ``values``;
    names it does not match are kept once."""
    return list(dict.fromkeys(re.sub(pattern, v, n) for n in names for v in values))


def full_names(bench: str) -> list[str]:
    """Metric names of full runs, options and GPU runs, derived from the ``run`` code."""
    quick = QUICK_NAMES[bench]
    if bench == "gphm":
        problems = list(MODULES["gp"].REFERENCE_L2)  # every GP-HM problem (list_problems)
        return [f"{p}_{m}" for p in problems for m in ("rel_l2", "time_s")]
    if bench == "mri-rdledm":  # R = 4, 8, 12 and the R = 8 ablations
        names = _sub(quick, r"_r8$", ["_r4", "_r8", "_r12"])
        return names + [
            f"{s}_ablation_{a}_r8" for a in MODULES["imaging"].ABLATIONS for s in ("psnr", "ssim")
        ]
    if bench == "ct-redpsm":  # settings p128 and p256 (P views)
        return [f"{n}_{s}" for n in quick for s in ("p128", "p256")]
    if bench in ("dcdm-2d", "dcdm-3d"):
        dim = int(bench[5])
        sizes = MODULES["linalg"].SIZES[dim]
        assert all(n.startswith((f"n{sizes['quick'][0]}_", "cube64_")) for n in quick)
        return _sub(quick, rf"^n{sizes['quick'][0]}_", [f"n{n}_" for n in sizes["full"]])
    if bench == "ssm-ar":
        orders = MODULES["ssm"].AR_ORDERS
        assert orders == (2, 4, 8, 16)
        return _sub([n for n in quick if n.startswith("p2_")], r"^p2_", [f"p{p}_" for p in orders])
    if bench == "ssm-etth1":
        horizons = MODULES["ssm"].ETT_HORIZONS
        assert horizons == (24, 48, 168, 336, 720)
        return _sub(quick, r"^h24_", [f"h{h}_" for h in horizons])
    if bench == "funbat-synthetic":
        full = MODULES["tensor"].SYNTHETIC_SETTINGS["full"]
        models = ("funbat", "funbat_cp", "als_tucker", "als_cp", "svi_tucker")
        names = [n for n in quick if n.endswith("rank1_cp")]
        for noise in full["noises"]:
            keys = [f"{m}_noise{noise:g}_r{r}" for m in models for r in full["ranks"]]
            keys.append(f"gp_noise{noise:g}")
            names += [f"{k}_{key}" for key in keys for k in ("rmse", "mae", "fit_seconds")]
        return names
    if bench == "funbat-scaling":
        tags = [f"{s}_r{r}" for s in ("beijing", "ustemp") for r in (2, 3, 5, 7)]
        tags += ["cp_beijing_r2", "cp_beijing_r3"]
        return [f"{k}_{t}" for t in tags for k in ("s_per_epoch", "peak_mb", "peak_cuda_mb")]
    return list(quick)  # kernels, mri-redpsm, lsm-*: full runs return the same names


def _first(metrics: dict, name: str) -> str | None:
    return next((p for p in metrics if fnmatch.fnmatchcase(name, p)), None)


def test_every_benchmark_is_documented():
    assert set(ENTRIES) == set(QUICK_NAMES)
    for bench, names in QUICK_NAMES.items():
        assert len(names) == len(set(names)), bench


@pytest.mark.parametrize("bench", sorted(QUICK_NAMES))
def test_metric_docs(bench):
    metrics = ENTRIES[bench].get("metrics")
    assert isinstance(metrics, dict) and metrics, f"{bench}: no 'metrics' dict"
    for pattern, doc in metrics.items():
        assert isinstance(pattern, str) and pattern.strip() == pattern and pattern, pattern
        assert set(doc) == {"about", "better"}, (bench, pattern, doc)
        about = doc["about"]
        assert isinstance(about, str) and about.strip() == about and about, (bench, pattern)
        assert "\n" not in about and len(about) <= MAX_ABOUT, (bench, pattern, len(about))
        assert doc["better"] in BETTER, (bench, pattern, doc["better"])
    names = QUICK_NAMES[bench] + full_names(bench)
    uncovered = sorted({n for n in names if _first(metrics, n) is None})
    assert not uncovered, f"{bench}: names no pattern matches: {uncovered}"
    used = {_first(metrics, n) for n in names}
    dead = [p for p in metrics if p not in used]
    assert not dead, f"{bench}: patterns that are no name's first match: {dead}"


@pytest.mark.parametrize("bench", sorted(QUICK_NAMES))
def test_references_are_documented(bench):
    entry = ENTRIES[bench]
    for name, ref in (entry.get("references") or {}).items():
        assert _first(entry["metrics"], name) is not None, f"{bench}: reference {name!r}"
        assert name in QUICK_NAMES[bench] + full_names(bench), (bench, name)
        # a project threshold carries a direction; a published or measured figure does not
        threshold = ref["source"].startswith("project target")
        assert ("target" in ref) == threshold, (bench, name, ref)
        if threshold:
            assert ref["target"] in TARGETS, (bench, name, ref["target"])
            better = entry["metrics"][_first(entry["metrics"], name)]["better"]
            assert better == {">=": "higher", "<=": "lower"}[ref["target"]], (bench, name)


# (benchmark, metric name, the pattern that must describe it first, better): the names where
# dict order decides (a general pattern would also match)
FIRST_MATCH = [
    ("ssm-ar", "p16_s4d_ratio1", "p*_ratio1", "lower"),
    ("ssm-ar", "p2_bayes_mse1", "p*_bayes_mse1", "none"),
    ("ssm-ar", "p8_theory_mse24", "p*_theory_mse24", "none"),
    ("ssm-ar", "p4_spacetime_mse24", "p*_mse24", "lower"),
    ("ssm-etth1", "h720_s4d_over_last_lo", "h*_over_*_lo", "lower"),
    ("ssm-etth1", "h336_spacetime_over_linear_p_below_one", "h*_over_*_p_below_one", "higher"),
    ("ssm-etth1", "h48_spacetime_over_linear", "h*_over_*", "lower"),
    ("ssm-etth1", "h168_last_val_mse", "h*_last_val_mse", "lower"),
    ("ssm-etth1", "s4d_schedule_per_step", "s4d_schedule_per_step", "none"),
    (
        "dcdm-2d",
        "n256_dcdm_over_amg-sa-pcg_time_nosetup_1e-06",
        "n*_over_*_time_nosetup_*",
        "lower",
    ),
    ("dcdm-2d", "n128_dcdm_over_amg-rs-pcg_time_0.0001", "n*_over_*_time_*", "lower"),
    ("dcdm-2d", "n128_ic-pcg_time_nosetup_1e-06", "n*_time_nosetup_*", "lower"),
    ("dcdm-3d", "cube64_cg_iters_1e-06", "cube64_*_iters_*", "lower"),
    ("mri-rdledm", "psnr_gain_vs_lps_r12", "psnr_gain_vs_lps_r*", "higher"),
    ("mri-rdledm", "ssim_ablation_no_tv_t_r8", "ssim_ablation_*", "higher"),
    ("mri-rdledm", "iterations_zero_filled_r8", "iterations_zero_filled*", "none"),
    ("ct-redpsm", "psnr_gain_vs_psm_p256", "psnr_gain_vs_psm*", "higher"),
    ("ct-redpsm", "psnr_swfbp", "psnr_swfbp*", "higher"),
    ("mri-redpsm", "psnr_gain_vs_lps", "psnr_gain_vs_lps", "higher"),
    ("funbat-synthetic", "rmse_funbat_cp_noise0.3_r3", "rmse_funbat_cp_noise*", "lower"),
    ("funbat-scaling", "peak_mb_cp_beijing_r2", "peak_mb_cp_beijing_r*", "lower"),
    ("lsm-ns", "neuralop_fno_s_per_epoch", "*_s_per_epoch", "lower"),
]


@pytest.mark.parametrize("bench,name,pattern,better", FIRST_MATCH, ids=[f[1] for f in FIRST_MATCH])
def test_first_match(bench, name, pattern, better):
    metrics = ENTRIES[bench]["metrics"]
    assert _first(metrics, name) == pattern
    assert metrics[pattern]["better"] == better
