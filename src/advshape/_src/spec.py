"""The shaper spec language: one text that names a shaper in the API, on the command line and
in configuration files (TRL, verl, run folders).

Three forms, all read by :func:`parse_spec`:

- a registry shaper, ``NAME[:KEY=VALUE,...]``: ``grpo``, ``grpo_k:k=4``,
  ``grpo:std=sample,eps=1e-6``; a numeric value may be a schedule over the run,
  ``grpo_k:k=linear(16,1)`` (grammar in :mod:`advshape._src.schedule`);
- a forward-engineered surrogate, ``surrogate:F[;regularizer=Ω][;lam=λ][;name=NAME]``, where
  F and Ω are expressions in ``rho`` (';' separates the parts because F may hold commas);
- the same, short: ``F=F[;Omega=Ω][;lam=λ]``.

Both surrogate forms parse to the name ``"surrogate"`` with the keyword arguments of
``advshape.from_surrogate`` (``F``, ``regularizer``, ``lam``, ``name``), so they mean the same.

Values are typed by look: ``true``/``false``; integers and decimal numbers written with ASCII
digits (``4``, ``-0.5``, ``1e-6``); ``nan``/``inf`` (read as floats, so that range checks
name them); a schedule ``KIND(...)``; anything else is text. Python's ``int()`` also reads
``4_0`` and non-ASCII digits such as ``４``; the spec language does not: such a value raises
``ValueError`` (with the ASCII spelling to use), in plain values and in schedules alike, so
that one shaper has one spelling in every config file and every tool reads it the same way.

This module is pure text: it knows no shaper. The registry (:mod:`advshape._src.registry`)
checks names and parameters and builds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "SURROGATE",
    "SURROGATE_KEYS",
    "format_spec",
    "is_schedule_text",
    "parse_spec",
    "parse_value",
    "surrogate_spec",
]

SURROGATE = "surrogate"  # the name both surrogate forms parse to
SURROGATE_KEYS = ("F", "regularizer", "lam", "name")  # keyword arguments of from_surrogate

SCHEDULE_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*\((.*)\)\s*$", re.DOTALL)
# ASCII digits only ([0-9], not \d, which also matches '４' and other scripts' digits)
INTEGER_RE = re.compile(r"[+-]?[0-9]+")
DECIMAL_RE = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_SPECIAL_FLOAT_RE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)

_SPEC_EXAMPLES = "e.g. 'grpo_k:k=4' or 'grpo:std=sample,eps=1e-6'"
_SHORT_EXAMPLE = (
    "'F=EXPR' or 'F=EXPR;Omega=EXPR;lam=NUMBER', e.g. 'F=2*asin(sqrt(rho));Omega=-rho*log(rho)"
    "-(1-rho)*log(1-rho);lam=0.5'"
)
_LONG_EXAMPLE = (
    "'surrogate:F;regularizer=OMEGA;lam=0.5' (parts after F are regularizer=, lam= or "
    "name=, separated by ';')"
)


def is_schedule_text(value: Any) -> bool:
    """Whether ``value`` is text written like a schedule, ``KIND(...)``.

    Args:
        value: any value of a parsed spec.

    Returns:
        True for a string of the form ``name(...)``, such as ``"linear(16,1)"``.

    Example:
        >>> is_schedule_text("linear(16,1)"), is_schedule_text("16")
        (True, False)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
        Walder & Karkhanis, Pass@K Policy Optimization (annealing k over a run),
        https://arxiv.org/abs/2505.15201.
    """
    return isinstance(value, str) and SCHEDULE_RE.match(value) is not None


def ascii_number_hint(text: str) -> str | None:
    """If Python reads ``text`` as a number but the spec language does not (``4_0``, ``４``),
    the message that says how to write it; else None."""
    for convert in (int, float):
        try:
            value = convert(text)
        except ValueError:
            continue
        return (
            f"{text.strip()!r} is not written with ASCII digits 0-9 (no '_', no other "
            f"scripts' digits): write {value!r}"
        )
    return None


def parse_value(text: str) -> Any:
    """One value of a spec, typed by look (see the module docstring).

    Args:
        text: the text after ``KEY=``.

    Returns:
        bool, int, float, or the stripped text (a schedule stays text).

    Raises:
        ValueError: ``text`` is a number Python reads but not written with ASCII digits
            (``4_0``, ``４``): specs have one spelling per value.

    Example:
        >>> parse_value("4"), parse_value("1e-6"), parse_value("true"), parse_value("sample")
        (4, 1e-06, True, 'sample')
        >>> parse_value("4_0")
        Traceback (most recent call last):
        ...
        ValueError: '4_0' is not written with ASCII digits 0-9 (no '_', no other scripts' digits): write 40

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    value = text.strip()
    low = value.lower()
    if low in ("true", "false"):
        return low == "true"
    if INTEGER_RE.fullmatch(value):
        return int(value)
    if DECIMAL_RE.fullmatch(value) or _SPECIAL_FLOAT_RE.fullmatch(value):
        return float(value)
    if not is_schedule_text(value):
        hint = ascii_number_hint(value)
        if hint is not None:
            raise ValueError(hint)
    return value


def _split_top_level(text: str, spec: str) -> list[str]:
    """Split at the commas outside parentheses: a schedule ``linear(16,1)`` is one value."""
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced ')' in shaper spec {spec!r}")
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    if depth:
        raise ValueError(f"unbalanced '(' in shaper spec {spec!r}: close the schedule with ')'")
    items.append(text[start:])
    return items


def _number(key: str, text: str, spec: str) -> float:
    """A surrogate's ``lam``: a number, else a ValueError naming the spec."""
    try:
        value = parse_value(text)
    except ValueError as err:
        raise ValueError(f"{key} in {spec!r}: {err}") from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number in {spec!r}, got {text.strip()!r}")
    return float(value)


def _parse_short_surrogate(text: str, spec: str) -> dict[str, Any]:
    """``F=EXPR[;Omega=EXPR][;lam=X]`` -> from_surrogate's keyword arguments."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, eq, value = part.partition("=")
        key = key.strip()
        if not eq or key not in ("F", "Omega", "lam") or key in fields or not value.strip():
            raise ValueError(
                f"cannot read {part!r} in {spec!r}: write a surrogate as {_SHORT_EXAMPLE}"
            )
        fields[key] = value.strip()
    params: dict[str, Any] = {"F": fields["F"]}
    if "Omega" in fields:
        params["regularizer"] = fields["Omega"]
    if "lam" in fields:
        params["lam"] = _number("lam", fields["lam"], spec)
    return params


def _parse_long_surrogate(rest: str, spec: str) -> dict[str, Any]:
    """``F[;regularizer=EXPR][;lam=X][;name=NAME]`` (after ``surrogate:``) -> keyword arguments."""
    first, *parts = rest.split(";")
    if not first.strip():
        raise ValueError(
            f"shaper spec {spec!r} has no surrogate F after 'surrogate:': write e.g. "
            "'surrogate:2*asin(sqrt(rho))'"
        )
    params: dict[str, Any] = {"F": first.strip()}
    for item in parts:
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in ("regularizer", "lam", "name") or not value.strip():
            raise ValueError(f"cannot parse {item!r} in {spec!r}: write {_LONG_EXAMPLE}")
        if key in params:
            raise ValueError(f"{key} given twice in shaper spec {spec!r}")
        params[key] = _number(key, value, spec) if key == "lam" else value.strip()
    return params


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """A spec's name and parameters, in any of the three forms (see the module docstring).

    Args:
        spec: ``"grpo_k:k=4,eps=0.1"``, ``"grpo_k:k=linear(16,1)"``,
            ``"surrogate:2*asin(sqrt(rho));regularizer=rho*(1-rho);lam=0.5"`` or
            ``"F=2*asin(sqrt(rho))"``.

    Returns:
        ``(name, params)``: a registry name and its parameters typed by look (schedules stay
        text), or ``("surrogate", keyword arguments of advshape.from_surrogate)``. Names and
        parameters are not checked against the registry here.

    Raises:
        ValueError: the text does not follow the grammar; the message shows how to write it.

    Example:
        >>> parse_spec("grpo_k:k=4,eps=0.1")
        ('grpo_k', {'k': 4, 'eps': 0.1})
        >>> parse_spec("rloo_k:k=linear(16,1)")
        ('rloo_k', {'k': 'linear(16,1)'})
        >>> parse_spec("F=rho;Omega=rho*(1-rho);lam=0.5")
        ('surrogate', {'F': 'rho', 'regularizer': 'rho*(1-rho)', 'lam': 0.5})
        >>> parse_spec("surrogate:rho;regularizer=rho*(1-rho);lam=0.5")
        ('surrogate', {'F': 'rho', 'regularizer': 'rho*(1-rho)', 'lam': 0.5})

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 1.2, C-2: a shaper from a surrogate F and a regulariser Ω with strength λ, Eq. 2).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            f"a shaper spec must be a non-empty string like 'grpo_k:k=4', got {spec!r}"
        )
    text = spec.strip()
    if text.startswith("F="):
        return SURROGATE, _parse_short_surrogate(text, spec)
    name, colon, rest = text.partition(":")
    name = name.strip()
    if name == SURROGATE:  # bare "surrogate": F and the rest come as keywords
        return SURROGATE, _parse_long_surrogate(rest, spec) if colon else {}
    params: dict[str, Any] = {}
    if rest.strip():
        for item in _split_top_level(rest, spec):
            key, eq, value = item.partition("=")
            key = key.strip()
            if not eq or not key or not value.strip():
                raise ValueError(
                    f"cannot parse {item!r} in shaper spec {spec!r}: write parameters as "
                    f"key=value, comma-separated, {_SPEC_EXAMPLES}"
                )
            if key in params:
                raise ValueError(f"parameter {key!r} given twice in shaper spec {spec!r}")
            try:
                params[key] = parse_value(value)
            except ValueError as err:
                raise ValueError(f"shaper spec {spec!r}, parameter {key!r}: {err}") from None
    return name, params


def format_spec(name: str, items: Iterable[tuple[str, Any]]) -> str:
    """``name:key=value,...`` (just ``name`` without items): the inverse of :func:`parse_spec`
    for registry specs whose values print as they parse (numbers, bools, text, schedules).

    Args:
        name: the registry name.
        items: ``(key, value)`` pairs, in the order to write them.

    Returns:
        The spec text.

    Example:
        >>> format_spec("grpo_k", [("k", 4)]), format_spec("grpo", [])
        ('grpo_k:k=4', 'grpo')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    parts = [f"{key}={value}" for key, value in items]
    return name + (":" + ",".join(parts) if parts else "")


def surrogate_spec(
    F: str, regularizer: str | None = None, lam: float = 0.0, name: str | None = None
) -> str | None:
    """The ``surrogate:...`` text that :func:`parse_spec` reads back as these arguments (F and
    Ω with surrounding spaces stripped, which changes no expression), or None when one cannot
    be written in it (a part holding ';', or a name padded with spaces, which parsing strips).

    Args:
        F: the surrogate's source text (an expression in ``rho``).
        regularizer: Ω's source text, if any.
        lam: the regulariser strength λ (written with ``repr``, which reads back exactly).
        name: the shaper's name, if one was given.

    Returns:
        ``"surrogate:F[;regularizer=Ω][;lam=λ][;name=NAME]"``, or None.

    Example:
        >>> surrogate_spec("2*asin(sqrt(rho))", "rho*(1-rho)", 0.5)
        'surrogate:2*asin(sqrt(rho));regularizer=rho*(1-rho);lam=0.5'
        >>> parse_spec(surrogate_spec("rho", "rho*(1-rho)", 0.1, "mine"))[1]
        {'F': 'rho', 'regularizer': 'rho*(1-rho)', 'lam': 0.1, 'name': 'mine'}

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 1.2, Eq. 2).
    """
    parts = [("", F.strip())]
    if regularizer is not None:
        parts.append(("regularizer=", regularizer.strip()))
    if lam != 0.0:
        parts.append(("lam=", repr(float(lam))))
    if name is not None:
        parts.append(("name=", name))
    for _, text in parts:
        if not text or ";" in text or text != text.strip():
            return None
    return SURROGATE + ":" + ";".join(label + text for label, text in parts)
