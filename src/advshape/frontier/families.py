"""Families of shapers: a spec template with one knob and a list of its values.

``grpo_k:k={1,2,3,4,6,8,12,16}`` is the family of grpo_k at eight K's; the braces hold the
knob's values, separated by commas outside parentheses, so a family of K schedules reads
``grpo_k:k={linear(8,1),steps(8,1),linear(16,1)}``. A spec without braces is a family of one.
A family's points are drawn joined, in the order of its values, on the Pareto plot.

The **fixed-K frontier** is made of the runs of grpo_k and rloo_k with a fixed K (and of
grpo and rloo themselves, their K = 1 members: GRPO_K with K = 1 is GRPO exactly, RLOO_K is
RLOO, since f̂_{0} = 1); :mod:`advshape.frontier.pareto` turns their points into the frontier.

The default families (:func:`default_families`) are read from the registry: a family whose
shaper is not registered in this version of advshape is left out, so shapers added to the
registry join the default set when they land.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "FIXED_K_SHAPERS",
    "Family",
    "default_families",
    "fixed_k",
    "parse_family",
]

#: The shapers whose fixed-K runs make the fixed-K frontier, with their K = 1 members.
FIXED_K_SHAPERS = {"grpo_k": "grpo", "rloo_k": "rloo"}

# The default set, one row per family: (full, --quick, why). A row may offer alternatives in
# order; the first whose shaper the registry has is taken, so F-GRPO's focal weighting replaces
# its integer special case biased_k (γ = K − 1) once it is registered, and rows whose shapers
# are not registered yet (issue 17) are left out until they are.
_DEFAULT: tuple[tuple[tuple[str, str, str], ...], ...] = (
    (
        (
            "grpo_k:k={1,2,3,4,6,8,12,16}",
            "grpo_k:k={1,4,16}",
            "the fixed-K frontier of GRPO_K (K = 1 is GRPO)",
        ),
    ),
    (("rloo_k:k={1,4,16}", "rloo_k:k={1,16}", "the fixed-K frontier of RLOO_K (K = 1: RLOO)"),),
    (("pkpo:k={4,8}", "pkpo:k=8", "PKPO's k"),),
    (
        ("focal:gamma={0.5,1,2}", "focal:gamma=1", "F-GRPO's focal weighting (1 − ρ̂)^γ of GRPO"),
        ("biased_k:k={2,3}", "biased_k:k=2", "(1 − ρ̂)^γ of GRPO at integer γ = K − 1"),
    ),
    (("entropy:lam={0.5,1}", "entropy:lam=0.5", "entropy-regularised GRPO, λ"),),
    (("maxrl", "maxrl", "MaxRL"),),
    (("maclaurin:T={2,8}", "maclaurin:T=8", "MaxRL's order-T Maclaurin estimator"),),
    (("linear_r", "linear_r", "asymmetric prompt weighting: Linear-R"),),
    (("sqrt_r", "sqrt_r", "asymmetric prompt weighting: Sqrt-R"),),
    (("plateau_r", "plateau_r", "asymmetric prompt weighting: Plateau-R"),),
    (("uniform_r", "uniform_r", "asymmetric prompt weighting: Uniform-R"),),
    (("skew_r", "skew_r", "skew-R"),),
    (
        (
            "grpo_k:k={linear(8,1),steps(8,1),linear(16,1)}",
            "grpo_k:k={linear(8,1),steps(8,1),linear(16,1)}",
            "K annealed: 8 → 1 linearly, 8 then 1 at half the run, 16 → 1 linearly",
        ),
    ),
)

_BRACES = re.compile(r"([A-Za-z_]\w*)\s*=\s*\{([^{}]*)\}")


class Family(NamedTuple):
    """A spec template, its knob (None for a single spec) and one spec per knob value."""

    text: str
    knob: str | None
    values: tuple[str, ...]
    specs: tuple[str, ...]

    @property
    def name(self) -> str:
        """The shaper's registry name (the text before ':')."""
        return self.text.partition(":")[0].strip()


def _split_values(body: str, text: str, option: str) -> list[str]:
    from advshape._src.spec import _split_top_level  # the spec parser's own splitter

    try:
        values = [v.strip() for v in _split_top_level(body, text)]
    except ValueError:
        raise ValueError(f"{option} {text!r}: unbalanced parentheses inside {{...}}") from None
    if any(not v for v in values):
        raise ValueError(
            f"{option} {text!r}: an empty value in {{{body}}}; separate values by single commas, "
            "e.g. 'grpo_k:k={1,2,4}'"
        )
    return values


def parse_family(text: str, option: str = "--family") -> Family:
    """Expand a family: ``"grpo_k:k={1,2,4}"`` → the specs grpo_k:k=1, grpo_k:k=2, grpo_k:k=4.

    Args:
        text: a spec, or a spec whose one parameter holds ``{v1,v2,...}``.
        option: the command-line option it came from, named in errors.

    Returns:
        A :class:`Family`. The specs are not checked here (the testbed checks them all, before
        any work); the syntax is.

    Example:
        >>> parse_family("grpo_k:k={1,2,4}").specs
        ('grpo_k:k=1', 'grpo_k:k=2', 'grpo_k:k=4')
        >>> parse_family("grpo_k:k={linear(8,1),steps(8,1)}").values
        ('linear(8,1)', 'steps(8,1)')
        >>> parse_family("maxrl")
        Family(text='maxrl', knob=None, values=(), specs=('maxrl',))

    References:
        Seed paper: arXiv 2510.23049 (the shapers and their parameters, Table 1); K schedules:
        Walder & Karkhanis 2025 (PKPO), arXiv 2505.15201.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            f"{option} must be a shaper spec such as 'grpo_k:k={{1,2,4}}', got {text!r}"
        )
    text = text.strip()
    groups = list(_BRACES.finditer(text))
    if text.count("{") != len(groups) or text.count("}") != len(groups):
        raise ValueError(
            f"{option} {text!r}: write the knob's values as PARAM={{v1,v2,...}}, e.g. "
            "'grpo_k:k={1,2,4}' (braces only after 'PARAM=', not nested)"
        )
    if len(groups) > 1:
        raise ValueError(
            f"{option} {text!r} varies {len(groups)} parameters; a family has one knob: "
            "give one family per knob"
        )
    if not groups:
        return Family(text, None, (), (text,))
    match = groups[0]
    values = _split_values(match.group(2), text, option)
    if len(set(values)) != len(values):
        twice = sorted({v for v in values if values.count(v) > 1})
        raise ValueError(f"{option} {text!r} lists {', '.join(twice)} twice; drop the repeat")
    specs = tuple(
        text[: match.start()] + f"{match.group(1)}={v}" + text[match.end() :] for v in values
    )
    return Family(text, match.group(1), tuple(values), specs)


def fixed_k(spec: str) -> int | None:
    """The fixed K of a spec on the fixed-K frontier (grpo_k/rloo_k with a fixed k; grpo and
    rloo are K = 1), else None.

    Example:
        >>> fixed_k("grpo_k:k=8"), fixed_k("grpo"), fixed_k("grpo_k:k=linear(8,1)"), fixed_k("pkpo:k=8")
        (8, 1, None, None)

    References:
        Seed paper: arXiv 2510.23049, Eqs. (15)–(17): GRPO_K and RLOO_K; K = 1 gives GRPO and
        RLOO (f̂_{0} = 1).
    """
    import advshape

    name, params = advshape.parse_spec(spec)
    if name in FIXED_K_SHAPERS.values():
        return 1
    k = params.get("k")
    if name in FIXED_K_SHAPERS and isinstance(k, int) and not isinstance(k, bool):
        return k
    return None


def default_families(*, quick: bool = False) -> list[str]:
    """The default families whose shapers this version's registry has (see the module doc).

    Args:
        quick: the ``--quick`` set: the same families at fewer knob values.

    Returns:
        Family texts for :func:`parse_family`.

    Example:
        >>> default_families()[:2]
        ['grpo_k:k={1,2,3,4,6,8,12,16}', 'rloo_k:k={1,4,16}']

    References:
        Seed paper: arXiv 2510.23049; PKPO: arXiv 2505.15201; MaxRL: arXiv 2602.02710;
        asymmetric prompt weighting: arXiv 2602.11128; F-GRPO: arXiv 2602.06717.
    """
    import advshape

    known = set(advshape.names())
    chosen = []
    for row in _DEFAULT:
        for full, fast, _ in row:
            if parse_family(full).name in known:
                chosen.append(fast if quick else full)
                break
    return chosen
