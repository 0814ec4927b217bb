"""The ``mri-phantoms`` dataset: validation and test dynamic phantoms with k-t masks.

Registered lazily with :func:`sciml.data.register_dataset`; ``get_dataset("mri-phantoms", size)``
writes the file once. Splits ``val`` (phantom seed ``VAL_SEED``) and ``test`` (``TEST_SEED``), each
with keys ``cardiac``, ``deforming`` ``(1, T, n, n)`` float64 in [0, 1] and ``mask_r4``,
``mask_r8``, ``mask_r12`` ``(1, T, n, n)`` uint8 (variable-density, mask seed ``1000 + seed``).
"""

from __future__ import annotations

from sciml.data import register_dataset

from .bench import PHANTOM_SIZES as SIZES

ACCELS = (4, 8, 12)


def generate_mri_phantoms(seed: int, n: int, frames: int, accels: list | None = None) -> dict:
    """Generator for the registry: ``seed`` is the test seed; validation uses ``seed + 1``.
    Masks for every R in (4, 8, 12) are stored (``accels`` only records the benchmark's choice)."""
    from .masks import variable_density_mask
    from .phantoms import cardiac_phantom, deforming_phantom

    splits = {}
    for split, s in (("test", seed), ("val", seed + 1)):
        entry = {
            "cardiac": cardiac_phantom(n, frames, seed=s)[None].numpy(),
            "deforming": deforming_phantom(n, frames, seed=s)[None].numpy(),
        }
        for r in ACCELS:
            m = variable_density_mask((frames, n, n), r, seed=1000 + s)
            entry[f"mask_r{r}"] = m[None].numpy().astype("uint8")
        splits[split] = entry
    return {"splits": splits, "kind": "imaging", "stats": None}


register_dataset(
    "mri-phantoms",
    "sciml.imaging.datasets:generate_mri_phantoms",
    sizes=SIZES,
    kind="imaging",
    description="dynamic cardiac-like and deforming phantoms with variable-density k-t masks",
)
