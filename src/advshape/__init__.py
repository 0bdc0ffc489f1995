"""advshape: advantage shaping for reinforcement learning with verifiable rewards.

Every advantage shaping of "Advantage Shaping as Surrogate Reward Maximization: Unifying
Pass@K Policy Gradients" (arXiv 2510.23049, https://arxiv.org/abs/2510.23049), and the shapers
of the newer literature, exact and vectorised over NumPy, PyTorch and any Array-API library::

    import advshape
    s = advshape.shaper("grpo_k:k=4")
    adv = s.advantages(rewards)          # rewards [..., N]: one group per row
    a_pos, a_neg = s.scores(n_pos, N)    # advantage of a correct / wrong response
    sched = advshape.scheduled("grpo_k:k=linear(16,1)")   # K over a run: sched.at(step, total)

Only NumPy and array-api-compat are imported here; torch and friends stay out of the way.
"""

from advshape._src.combinatorics import binom_ratio_table, fail_at_k, fail_at_k_loo, pass_at_k
from advshape._src.constraints import Bound, OneOf
from advshape._src.diagnostics import group_diagnostics
from advshape._src.expectation import binomial_pmf, expected_update_coefficient, finite_n_surrogate
from advshape._src.registry import (
    REQUIRED,
    Param,
    ShaperEntry,
    names,
    parse_spec,
    register,
    registry,
    shaper,
)
from advshape._src.schedule import Schedule
from advshape._src.scheduled import ScheduledShaper, scheduled
from advshape._src.shaper import Shaper, ShaperInfo, count_shaper, weights_from_scores
from advshape._version import __version__

# Surrogate-reward tools, loaded on first use so that `import advshape` stays NumPy-only
# (they pull in SymPy/SciPy when called).
_LAZY = {
    "reverse_engineer": "advshape.surrogates",
    "from_surrogate": "advshape.surrogates",
    "SurrogateCurve": "advshape.surrogates",
    "explain": "advshape.surrogates.explain",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'advshape' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "REQUIRED",
    "Bound",
    "OneOf",
    "Param",
    "Schedule",
    "ScheduledShaper",
    "Shaper",
    "ShaperEntry",
    "ShaperInfo",
    "SurrogateCurve",
    "__version__",
    "binom_ratio_table",
    "binomial_pmf",
    "count_shaper",
    "expected_update_coefficient",
    "explain",
    "fail_at_k",
    "fail_at_k_loo",
    "finite_n_surrogate",
    "from_surrogate",
    "group_diagnostics",
    "names",
    "parse_spec",
    "pass_at_k",
    "register",
    "registry",
    "reverse_engineer",
    "scheduled",
    "shaper",
    "weights_from_scores",
]
