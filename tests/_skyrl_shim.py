"""Lets skyrl 0.3.0 import on Python 3.11, for the SkyRL tests only (see test_integrations_skyrl).

skyrl 0.3.0 declares Python >= 3.11, but its ``skyrl.tinker.types`` define pydantic models
with ``typing.TypedDict``, which pydantic refuses before Python 3.12 (it asks for
``typing_extensions.TypedDict``); skyrl 0.4 requires Python 3.12. Importing this module gives
``typing.TypedDict`` the ``typing_extensions`` one before SkyRL is imported. ``SHIM`` is the
same as source, for a ``sitecustomize.py`` that does it in Ray workers.
"""

import sys
import typing

SHIM = "import typing, typing_extensions\ntyping.TypedDict = typing_extensions.TypedDict\n"

if sys.version_info < (3, 12):
    import typing_extensions

    typing.TypedDict = typing_extensions.TypedDict  # type: ignore[misc]
