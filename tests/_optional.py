"""Which optional dependency an import lacked (the docstring tests skip such a module)."""

from __future__ import annotations

import importlib.metadata


def missing_dependency(err: ImportError) -> str | None:
    """The optional package whose absence made an import fail, or None if it was not that: a
    module of another distribution not found, or the integrations' version check
    (``_checks.require_version``) finding no installed distribution."""
    if isinstance(err, ModuleNotFoundError) and err.name:
        return None if err.name.split(".")[0] == "advshape" else err.name
    if isinstance(err.__cause__, importlib.metadata.PackageNotFoundError):
        return str(err.__cause__.name)
    return None
