"""Run-folder files: atomic writes that follow the umask, and checks of output paths.

Each write goes to a temporary file in the target's folder and is moved into place with
``os.replace``, which is atomic on POSIX and Windows; on any error the temporary is removed.
``tempfile.mkstemp`` creates 0600 files (and ``mkdtemp`` 0700 folders), so each temporary is
given the mode an ordinary ``open`` or ``mkdir`` would have had under the user's umask before
it is moved into place: run folders are readable by whoever the user's umask lets read them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "atomic_write",
    "check_output_dir",
    "file_mode",
    "folder_mode",
    "make_temp_dir",
    "read_json",
    "read_jsonl",
    "write_json_atomic",
    "write_jsonl_atomic",
    "write_text_atomic",
]


def _umask() -> int:
    # os.umask can only be read by setting it; set it straight back (no other thread writes here).
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0666 minus the umask."""
    return 0o666 & ~_umask()


def folder_mode() -> int:
    """The mode ``os.mkdir`` gives a new folder: 0777 minus the umask."""
    return 0o777 & ~_umask()


def make_temp_dir(parent: str | os.PathLike, prefix: str) -> str:
    """``tempfile.mkdtemp`` in ``parent``, with an ordinary folder's mode (mkdtemp's is 0700)."""
    path = tempfile.mkdtemp(prefix=prefix, dir=parent)
    os.chmod(path, folder_mode())
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[Any], None], mode: str = "w") -> None:
    """Call ``write(fh)`` on a temporary file, then move it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, file_mode())
        with os.fdopen(fd, mode) as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    atomic_write(path, lambda fh: json.dump(obj, fh, indent=2, sort_keys=True))


def write_jsonl_atomic(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> None:
    atomic_write(
        path, lambda fh: fh.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)
    )


def read_json(path: str | os.PathLike, fix: str = "delete it and rerun") -> Any:
    """``json.load`` of ``path``; a damaged file raises ``ValueError`` naming the file and ``fix``."""
    try:
        with open(path) as f:
            return json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{os.fspath(path)!r} is not valid JSON ({err}); {fix}") from None


def read_jsonl(
    path: str | os.PathLike, fix: str = "delete it and rerun"
) -> list[dict[str, Any]]:
    """The records of a JSON-lines file, one per non-blank line; ``[]`` if there is no file.

    A damaged line raises ``ValueError`` naming the file, the line and ``fix``.
    """
    if not os.path.exists(path):
        return []
    with open(path) as f:
        lines = [(i, line) for i, line in enumerate(f, 1) if line.strip()]
    records = []
    for i, line in lines:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(
                f"{os.fspath(path)!r} line {i} is not valid JSON ({err}); {fix}"
            ) from None
    return records


def check_output_dir(flag: str, path: str | os.PathLike) -> None:
    """Raise ``ValueError`` unless ``path`` is, or can be created as, a writable folder.

    Called before any work, so a mistyped ``--out`` (an existing file, a path through a
    file, a read-only place) is refused with one line instead of failing later.
    """
    text = os.fspath(path)
    if not text.strip():
        raise ValueError(f"{flag} is empty; give a folder, e.g. {flag} runs/mine")
    if "\0" in text:
        raise ValueError(f"{flag} {text!r} contains a NUL character; give a plain folder name")
    p = Path(text)
    if p.exists() and not p.is_dir():
        raise ValueError(
            f"{flag} {text!r} is an existing file, not a folder; choose another {flag}"
        )
    probe = p
    while not probe.exists():  # the nearest existing ancestor is where the folder gets created
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise ValueError(
            f"{flag} {text!r} runs through {os.fspath(probe)!r}, which is a file; choose another {flag}"
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        where = "" if probe == p else f" (its nearest existing folder {os.fspath(probe)!r})"
        raise ValueError(
            f"{flag} {text!r}{where} is not writable by you; choose a folder you can write to"
        )
