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

FIXED_K_SHAPERS = {"grpo_k": "grpo", "rloo_k": "rloo"}
"""The shapers whose fixed-K runs make the fixed-K frontier (GRPO_K and RLOO_K, the seed paper's
Eqs. 15–17), each with its K = 1 member (GRPO, Eq. 8; RLOO, Eq. 6)."""

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
    """A spec template, its knob (None for a single spec) and one spec per knob value.

    Attributes:
        text: the family as written, ``"grpo_k:k={1,2,4}"``.
        knob: the parameter whose values vary (``"k"``), or None for a single spec.
        values: the knob's values as written (``("1", "2", "4")``); empty for a single spec.
        specs: one shaper spec per value (``("grpo_k:k=1", …)``), or the single spec.

    Example:
        >>> from advshape.frontier.families import parse_family
        >>> family = parse_family("pkpo:k={4,8}")
        >>> family.name, family.knob, family.specs
        ('pkpo', 'k', ('pkpo:k=4', 'pkpo:k=8'))

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers and their parameters, Table 1); Walder & Karkhanis 2025 (PKPO, K
        schedules), https://arxiv.org/abs/2505.15201.
    """

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
        >>> from advshape.frontier.families import parse_family
        >>> parse_family("grpo_k:k={1,2,4}").specs
        ('grpo_k:k=1', 'grpo_k:k=2', 'grpo_k:k=4')
        >>> parse_family("grpo_k:k={linear(8,1),steps(8,1)}").values
        ('linear(8,1)', 'steps(8,1)')
        >>> parse_family("maxrl")
        Family(text='maxrl', knob=None, values=(), specs=('maxrl',))

    Raises:
        ValueError: empty text, braces not after ``PARAM=``, two knobs, an empty or repeated
            value, or unbalanced parentheses, naming ``option`` and the fix.

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the shapers and their parameters, Table 1); Walder & Karkhanis 2025 (PKPO, K
        schedules), https://arxiv.org/abs/2505.15201.
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
    """The fixed K of a spec on the fixed-K frontier, or None for any other spec.

    The fixed-K frontier is made of grpo_k and rloo_k with a fixed k, whose advantages are
    A±_Pass@K = f̂±_{K−1}·A± (the seed paper's Eq. 17); grpo and rloo are their K = 1
    members, since f̂±_0 = 1.

    Args:
        spec: a shaper spec.

    Returns:
        K for grpo_k/rloo_k with an integer k, 1 for grpo and rloo, else None (a K schedule,
        another shaper).

    Raises:
        ValueError: a spec that does not parse.

    Example:
        >>> from advshape.frontier.families import fixed_k
        >>> fixed_k("grpo_k:k=8"), fixed_k("grpo"), fixed_k("grpo_k:k=linear(8,1)")
        (8, 1, None)
        >>> fixed_k("pkpo:k=8") is None
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K and RLOO_K, Eqs. 15–17; GRPO, Eq. 8; RLOO, Eq. 6).
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
        >>> from advshape.frontier.families import default_families
        >>> default_families()[:2]
        ['grpo_k:k={1,2,3,4,6,8,12,16}', 'rloo_k:k={1,4,16}']
        >>> default_families(quick=True)[:2]
        ['grpo_k:k={1,4,16}', 'rloo_k:k={1,16}']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K, RLOO_K, skew-R, the entropy regulariser); Walder & Karkhanis 2025 (PKPO),
        https://arxiv.org/abs/2505.15201; Tajwar et al. 2026 (MaxRL),
        https://arxiv.org/abs/2602.02710; Heckel, Soltanolkotabi & Thrampoulidis 2026
        (asymmetric prompt weighting), https://arxiv.org/abs/2602.11128; Plyusov et al. 2026
        (F-GRPO), https://arxiv.org/abs/2602.06717.
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
