"""The package version: the single source, read by setuptools (pyproject's dynamic version),
by ``advshape.__version__`` and by ``advshape --version``."""

__version__ = "0.1.0"
"""The version of advshape (``advshape --version`` prints it)."""
