"""sciml: low-rank structured scientific machine learning and signal recovery."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

CORE = [
    "torch>=2.2",
    "numpy>=1.24",
    "scipy>=1.10",
    "h5py>=3.8",
    "pyro-ppl>=1.8",
    "gpytorch>=1.11",
]
EXTRAS = {
    "jax": ["jax>=0.4.20", "jaxlib>=0.4.20"],
    "bench": ["pyamg>=5.0", "scikit-image>=0.21", "matplotlib>=3.7", "tqdm>=4.65"],
    "dev": [
        "pytest>=7.4",
        "pytest-xdist>=3.3",
        "pytest-timeout>=2.2",
        "ruff>=0.4",
        "import-linter>=2.0",
        "jupytext>=1.15",
        "nbclient>=0.8",
        "ipykernel>=6.25",
    ],
}
EXTRAS["all"] = sorted({req for reqs in EXTRAS.values() for req in reqs})

setup(
    name="sciml",
    version="0.1.0",
    description="Low-rank structured scientific machine learning and signal recovery",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["sciml", "sciml.*"]),
    package_data={"sciml": ["**/*.json", "**/*.pt"]},
    include_package_data=True,
    install_requires=CORE,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["sciml-bench=sciml.bench.cli:main"]},
    license="MIT",
)
