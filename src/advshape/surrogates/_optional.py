"""Optional dependencies of the surrogate tools (the ``surrogates`` extra), with a clear error."""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL = "pip install 'advshape[surrogates]'"


def require(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise ImportError saying which feature needs it and how to install."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f"{feature} needs {module.split('.')[0]}: {INSTALL}") from err
