"""Named baseline solvers with one stopping rule (relative residual) and setup timing."""

from __future__ import annotations

import time

import numpy as np
import torch

from sciml.linalg.krylov import pcg
from sciml.linalg.operator import as_rhs
from sciml.linalg.preconditioners import amg, ichol0, jacobi
from sciml.linalg.result import SolveResult
from sciml.linalg.system import AIR, FLUID, PoissonSystem

BASELINES = ("cg", "jacobi-pcg", "ic-pcg", "amg-sa-pcg", "amg-rs-pcg")


def has_pyamg() -> bool:
    """True when the optional dependency pyamg can be imported."""
    try:
        import pyamg  # noqa: F401
    except ImportError:
        return False
    return True


def solve_baseline(
    name: str, system: PoissonSystem, b, tol: float = 1e-6, maxiter: int = 5000
) -> SolveResult:
    """Solve with a named baseline: ``cg``, ``jacobi-pcg``, ``ic-pcg`` (IC(0)), ``amg-sa-pcg``
    / ``amg-rs-pcg`` (pyamg V-cycle preconditioners; ImportError when pyamg is absent).
    ``setup_time`` holds the preconditioner construction time (seconds)."""
    if not isinstance(system, PoissonSystem):
        raise TypeError(f"system: expected a PoissonSystem, got {type(system).__name__}")
    t0 = time.perf_counter()
    if name == "cg":
        M = None
    elif name == "jacobi-pcg":
        M = jacobi(system)
    elif name == "ic-pcg":
        M = ichol0(system)
    elif name == "amg-sa-pcg":
        M = amg(system, "sa")
    elif name == "amg-rs-pcg":
        M = amg(system, "rs")
    else:
        raise ValueError(f"name: expected one of {BASELINES}, got {name!r}")
    setup = time.perf_counter() - t0
    return pcg(system, b, M, tol=tol, maxiter=maxiter, setup_time=setup, method=name)


def is_dirichlet_box(system: PoissonSystem) -> bool:
    """All cells fluid and every outside face air: the case ``poisson_dst`` solves exactly."""
    return bool((system.mask == FLUID).all()) and all(
        lo == AIR and hi == AIR for lo, hi in system.boundary
    )


def solve_dst(system: PoissonSystem, b) -> SolveResult:
    """Exact fast Poisson solve (``sciml.kernels.poisson_dst``) for a Dirichlet box."""
    from sciml.kernels import poisson_dst

    if not is_dirichlet_box(system):
        raise ValueError("system: poisson_dst needs an all-fluid box with air (Dirichlet) faces")
    # the comparison runs on the CPU (the matrix is SciPy's): a tensor on any device is fetched
    # (np.asarray would fail for a CUDA tensor), checked and named like every other solver's b
    b = as_rhs(b.detach() if isinstance(b, torch.Tensor) else b, "cpu")
    if b.numel() != system.A.shape[0]:
        raise ValueError(f"b: expected length {system.A.shape[0]}, got {b.numel()}")
    t0 = time.perf_counter()
    u = poisson_dst(b.reshape(system.shape), system.spacing, bc="dirichlet").reshape(-1)
    t = time.perf_counter() - t0
    res_norm = float(np.linalg.norm(b.numpy() - system.A @ u.numpy()))
    b_norm = float(np.linalg.norm(b.numpy()))
    rel = res_norm / b_norm if b_norm > 0 else res_norm  # b = 0: absolute (0 for u = 0)
    return SolveResult(u, True, 1, [1.0, rel], [0.0, t], 0.0, "dst")
