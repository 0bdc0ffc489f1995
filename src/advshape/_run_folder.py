"""One protocol for the run folders of the testbeds: ``advshape train`` and ``advshape simulate``.

A run folder holds ``config.json`` (the settings that produced it), the run's work (finished
steps, or finished runs) and, after a run stopped on an error, ``failed.json``. Before anything
is written, :meth:`RunFolder.check` decides, reading only, what a new command may do with it:

==============================================  ===========================================
the folder                                      the new command
==============================================  ===========================================
absent, or empty                                starts
files, but no ``config.json``                   refused: not a run folder, nothing is touched
no finished work                                starts afresh (replaces it)
failed, with other settings                     starts afresh: the corrected rerun replaces it
finished work, same settings, resuming          continues it (a failed one too)
finished work, not resuming                     refused: pass ``--resume`` (a failed one
                                                starts afresh)
finished work, other settings                   refused, naming the settings that differ
==============================================  ===========================================

"The same settings": the settings saved in ``config.json`` equal the new ones key by key,
after each testbed's normalisation (shaper specs in their canonical spelling); settings that
may change between a run and its continuation are simply not part of them. Hidden entries
(names starting with ``.``: the temporaries of atomic writes) do not make a folder foreign.
Every file is written atomically (:mod:`advshape._files`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advshape._files import read_json, write_json_atomic

__all__ = ["CONFIG_FILE", "FAILED_FILE", "RunFolder", "differences"]

CONFIG_FILE = "config.json"
FAILED_FILE = "failed.json"
_MISSING = object()


def differences(
    saved: Mapping[str, Any],
    new: Mapping[str, Any],
    normalise: Mapping[str, Callable[[Any], Any]] | None = None,
) -> list[str]:
    """The keys whose values differ between ``saved`` and ``new`` (either missing counts), sorted.

    ``normalise[key]`` maps both values before they are compared; a value it cannot read
    (``ValueError``, ``TypeError``, ``ImportError``) differs from everything.
    """
    normalise = normalise or {}

    def same(key: str, a: Any, b: Any) -> bool:
        if a is _MISSING or b is _MISSING:
            return False
        if key not in normalise:
            return bool(a == b)
        try:
            return bool(normalise[key](a) == normalise[key](b))
        except (ValueError, TypeError, ImportError):
            return False

    keys = set(saved) | set(new)
    return sorted(k for k in keys if not same(k, saved.get(k, _MISSING), new.get(k, _MISSING)))


@dataclass(frozen=True)
class RunFolder:
    """The run folder ``path`` of one testbed command (``what`` names its work in messages:
    "run", "study"; ``option`` is the command's flag for the folder)."""

    path: Path
    what: str = "run"
    option: str = "--out"

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG_FILE

    @property
    def failed_path(self) -> Path:
        return self.path / FAILED_FILE

    def check(
        self,
        settings: Mapping[str, Any],
        *,
        saved_settings: Callable[[Any], Mapping[str, Any]],
        has_work: Callable[[], bool],
        resume: bool,
        normalise: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> bool:
        """Can this folder take the run of ``settings``? True: continue its work; False: start
        afresh (then call :meth:`start_afresh` before writing). Reads only.

        ``saved_settings(config)`` reads the settings out of a saved ``config.json`` (a config
        it cannot read differs in every setting); ``has_work()`` says whether the folder holds
        finished work worth keeping; ``resume``: whether the command continues a run it finds
        (``--resume``; a bandit study always does). Raises ``ValueError`` naming the folder and
        the fix when the folder cannot take the run.
        """
        where = f"{self.option} {os.fspath(self.path)!r}"
        if not self.path.is_dir() or not any(
            not name.startswith(".") for name in os.listdir(self.path)
        ):
            return False
        if not self.config_path.exists():
            raise ValueError(
                f"{where} holds files but no {self.what} ({CONFIG_FILE} is missing), so it is "
                f"not a run folder; choose a new or empty folder for {self.option}"
            )
        if not has_work():
            return False
        config = read_json(self.config_path, fix=f"delete the folder or choose another {self.option}")
        try:
            saved = saved_settings(config)
        except (KeyError, TypeError, ValueError):
            saved = {}  # a config.json this version cannot read: every setting differs
        diff = differences(saved, settings, normalise)
        failed = self.failed_path.exists()
        if failed and (diff or not resume):
            return False  # the failed run is replaced by this (corrected) rerun
        if not resume:
            raise ValueError(
                f"{where} already holds a {self.what}; pass --resume to continue it or choose "
                f"another {self.option}"
            )
        if diff:
            raise ValueError(
                f"{where} holds a {self.what} with another configuration: options {diff} differ; "
                f"rerun with the same options to continue it, or choose another {self.option} "
                "(results of different configurations are never mixed)"
            )
        return True

    def start_afresh(self, *stale: str) -> None:
        """Remove ``failed.json`` and the ``stale`` files or folders of an earlier run."""
        for name in (FAILED_FILE, *stale):
            path = self.path / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def write_config(self, config: Any) -> None:
        write_json_atomic(self.config_path, config)

    def mark_failed(self, message: str) -> None:
        """Record why the run stopped, so that a corrected rerun may replace the folder."""
        write_json_atomic(self.failed_path, {"error": message})

    def clear_failed(self) -> None:
        """The run completed: the folder is no longer marked failed."""
        if self.failed_path.exists():
            self.failed_path.unlink()
