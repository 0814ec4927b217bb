"""sciml: low-rank structured scientific machine learning and signal recovery."""

__version__ = "0.1.0"
