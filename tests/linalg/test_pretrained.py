import numpy as np
import pytest

from sciml.linalg import dcdm_solve, pcg
from sciml.linalg.bench import held_out_problem
from sciml.linalg.preconditioners import ichol0
from sciml.linalg.pretrained import MODELS_DIR, SHIPPED, pretrained


@pytest.mark.parametrize("dim,n", [(2, 64), (3, 16)])
def test_shipped_model_reaches_1e6_on_held_out_layout(dim, n):
    """The trained network alone (no CG fallback) reaches 1e-6 on an unseen obstacle layout;
    the true residual is checked independently with scipy."""
    path = MODELS_DIR / SHIPPED[dim]
    assert path.stat().st_size < 2_000_000
    system, b = held_out_problem(dim, n, seed=3)
    res = dcdm_solve(
        system, b, pretrained(dim), tol=1e-6, maxiter=200, fallback="none", stall_patience=10**6
    )
    assert res.converged
    assert np.linalg.norm(b - system.A @ res.x.numpy()) <= 1.01e-6 * np.linalg.norm(b)
    if dim == 2:  # the 2-D model also beats IC(0)-PCG here (3-D: see the benchmark at 32³)
        ic = pcg(system, b, ichol0(system), tol=1e-6, maxiter=5000)
        assert res.iterations < ic.iterations


def test_pretrained_bad_dim():
    with pytest.raises(ValueError, match="dim"):
        pretrained(4)
