"""Small PDE problems shared by the GP-HM solver tests."""

import math

import jax.numpy as jnp

from sciml.gp import PDEProblem


def small_helmholtz(shape: tuple[int, ...]) -> PDEProblem:
    """Δu + u/2 = f on [0, π]^d with the manufactured solution Π sin(1.5 x_i + 0.3)."""
    d = len(shape)
    axes = "xyz"[:d]
    return PDEProblem(
        "small",
        operator=lambda F, x: sum(F[f"u_{a}{a}"] for a in axes) + 0.5 * F["u"],
        fields=("u",) + tuple(f"u_{a}{a}" for a in axes),
        domain=tuple((0.0, math.pi) for _ in range(d)),
        grid=shape,
        exact=lambda x: math.prod(jnp.sin(1.5 * xi + 0.3) for xi in x),
        freq_scale=1.0,
    )
