"""The shaper a testbed's option names: the one place where ``lm`` and ``bandit`` read a spec.

``advshape train --shaper``, ``advshape compare --shapers`` and ``advshape simulate --shapers``
take every spec form: a registry spec with K schedules (``grpo_k:k=linear(16,1)``), a surrogate
``F=EXPR[;Omega=EXPR;lam=X]`` or ``surrogate:EXPR[;regularizer=EXPR;lam=X]``. They build the
shaper with :func:`shaper_option` and compare two specs with :func:`canonical_spec` (the built
shaper's ``.spec``), so the text is parsed in exactly one call below.
"""

from __future__ import annotations

from advshape._src.schedule import ScheduledShaper
from advshape._src.shaper import Shaper
from advshape.surrogates.forward import shaper_from_text


def shaper_option(
    spec: str, option: str = "--shaper", *, default_k: int | None = None
) -> Shaper | ScheduledShaper:
    """The shaper ``spec`` names; a bad spec raises ``ValueError`` that names ``option``.

    Shapers that take ``k`` get ``default_k`` when the spec gives none (the bandit's ``--k``).
    """
    try:
        return shaper_from_text(spec, default_k=default_k)
    except ImportError as err:  # e.g. sympy missing: a usage error, no traceback
        raise ValueError(f"{option} {spec!r}: {err}") from err
    except ValueError as err:
        raise ValueError(f"{option}: {err}") from None


def canonical_spec(spec: str, *, default_k: int | None = None) -> str:
    """The one spelling of ``spec``: two specs name the same shaper when these are equal
    (``grpo`` = ``grpo:std=population``, ``surrogate:rho`` = ``F=rho``)."""
    return shaper_option(spec, default_k=default_k).spec
