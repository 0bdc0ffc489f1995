"""The shaper a testbed's option names: the one place where ``lm`` and ``bandit`` read a spec.

``advshape train --shaper``, ``advshape compare --shapers`` and ``advshape simulate --shapers``
take every spec form: a registry spec with K schedules (``grpo_k:k=linear(16,1)``), a surrogate
``F=EXPR[;Omega=EXPR;lam=X]`` or ``surrogate:EXPR[;regularizer=EXPR;lam=X]``. The text is read
by the core's one parser (``advshape.scheduled``); this module only names the option in
errors, and compares two specs by :func:`canonical_spec` (the built shaper's ``.spec``).
"""

from __future__ import annotations

from advshape._src.scheduled import ScheduledShaper, scheduled


def shaper_option(
    spec: str, option: str = "--shaper", *, default_k: int | None = None
) -> ScheduledShaper:
    """The shaper ``spec`` names, as a (possibly constant) ``ScheduledShaper``; a bad spec
    raises ``ValueError`` that names ``option``.

    Shapers that take ``k`` get ``default_k`` when the spec gives none (the bandit's ``--k``).
    """
    try:
        return scheduled(spec, defaults=None if default_k is None else {"k": default_k})
    except ImportError as err:  # e.g. sympy missing: a usage error, no traceback
        raise ValueError(f"{option} {spec!r}: {err}") from err
    except ValueError as err:
        raise ValueError(f"{option}: {err}") from None


def canonical_spec(spec: str, *, default_k: int | None = None) -> str:
    """The one spelling of ``spec``: two specs name the same shaper when these are equal
    (``grpo`` = ``grpo:std=population``, ``surrogate:rho`` = ``F=rho``)."""
    return shaper_option(spec, default_k=default_k).spec
