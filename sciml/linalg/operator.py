"""Normalise the forms of A (scipy sparse, torch sparse/dense, stencil, PoissonSystem, callable)
into a matvec on 1-D float64 torch tensors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from sciml.linalg.stencil import StencilOperator
from sciml.linalg.system import PoissonSystem, torch_csr

Matvec = Callable[[torch.Tensor], torch.Tensor]


def as_matvec(A, n: int, device: torch.device, dtype=torch.float64) -> Matvec:
    """Return ``x -> A x`` for x (n,) on ``device``.

    On CPU, scipy matrices (and a PoissonSystem's CSR) use scipy's matvec (zero-copy);
    elsewhere A becomes a torch sparse CSR tensor. A StencilOperator is applied matrix-free.
    """
    if isinstance(A, PoissonSystem):
        if device.type == "cpu":
            A = A.A
        else:
            A = A.torch_csr(device=device, dtype=dtype)
    if isinstance(A, StencilOperator):
        op = A.to(device=device, dtype=dtype)
        _check_n(op.n, n)
        return op.matvec
    if sp.issparse(A) or isinstance(A, np.ndarray):
        _check_square(A.shape, n)
        if device.type == "cpu":
            M = A.tocsr() if sp.issparse(A) else A
            return lambda x: torch.from_numpy(np.asarray(M @ x.numpy()))
        A = torch_csr(A, device, dtype)
    if isinstance(A, torch.Tensor):
        _check_square(tuple(A.shape), n)
        A = A.to(device=device, dtype=dtype)
        return lambda x: A @ x
    if callable(A):
        return A
    raise TypeError(
        "A: expected a PoissonSystem, StencilOperator, scipy sparse matrix, numpy/torch matrix "
        f"or callable, got {type(A).__name__}"
    )


def _check_square(shape, n):
    if len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"A: expected a square matrix, got shape {tuple(shape)}")
    _check_n(shape[0], n)


def _check_n(m, n):
    if m != n:
        raise ValueError(f"b: expected length {m} to match A, got {n}")


def as_rhs(b, device=None) -> torch.Tensor:
    """Right-hand side as a 1-D finite float64 tensor."""
    return _as_vector(b, "b", "right-hand side", device)


def as_x0(x0, n: int, device) -> torch.Tensor:
    """Initial guess as a new 1-D finite float64 tensor of length ``n`` on ``device``."""
    x = _as_vector(x0, "x0", "initial guess", device)
    if x.numel() != n:
        raise ValueError(f"x0: expected length {n} to match b, got {x.numel()}")
    return x.clone()


def _as_vector(v, name: str, what: str, device) -> torch.Tensor:
    if isinstance(v, np.ndarray) and not np.iscomplexobj(v):
        # a copy in native byte order and positive strides when needed (torch.from_numpy
        # refuses reversed views and big-endian arrays)
        v = torch.from_numpy(np.ascontiguousarray(v, dtype=v.dtype.newbyteorder("=")))
    elif isinstance(v, np.ndarray):
        v = torch.from_numpy(v.astype(np.complex128))
    if not isinstance(v, torch.Tensor):
        raise TypeError(f"{name}: expected a numpy array or torch tensor, got {type(v).__name__}")
    if v.is_complex():  # casting to float64 would drop the imaginary part
        raise TypeError(f"{name}: expected a real {what}, got complex dtype {v.dtype}")
    if v.ndim != 1:
        raise ValueError(
            f"{name}: expected a 1-D vector over the unknowns, got shape {tuple(v.shape)}"
        )
    v = v.to(device=device if device is not None else v.device, dtype=torch.float64)
    if not torch.isfinite(v).all():
        raise ValueError(f"{name}: {what} contains non-finite values (NaN or inf)")
    return v
