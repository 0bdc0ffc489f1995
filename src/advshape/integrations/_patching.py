"""Wrap functions of a trainer's modules when those modules are first imported.

verl and SkyRL offer no hook for what advshape adds (the step, padding, metrics, up-front
checks), so the integrations wrap a few of their functions. Wrapping eagerly would import the
trainers (seconds, Ray) into every process that merely imports the integration; instead a
finder on ``sys.meta_path`` runs ``patch(module)`` right after a listed module executes,
before any other module can import its functions by name.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

__all__ = ["patch_on_import"]


class _PatchOnImport(importlib.abc.MetaPathFinder):
    def __init__(self, patches: Mapping[str, Callable[[ModuleType], None]]) -> None:
        self.patches = patches

    def find_spec(self, fullname: str, path: Any, target: Any = None):
        patch = self.patches.get(fullname)
        if patch is None:
            return None
        spec = None
        for finder in sys.meta_path:  # the finders after this one, as the import would use
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            patch(module)

        loader: Any = spec.loader  # patched in place: its type declares exec_module a method
        loader.exec_module = exec_module
        return spec


def patch_on_import(patches: Mapping[str, Callable[[ModuleType], None]]) -> None:
    """Run ``patches[name](module)`` for each listed module: now if it is already imported,
    else as soon as it is. Idempotent per ``patches`` mapping (the patch functions must skip
    what they already wrapped)."""
    for name, patch in patches.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not any(isinstance(f, _PatchOnImport) and f.patches is patches for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport(patches))
