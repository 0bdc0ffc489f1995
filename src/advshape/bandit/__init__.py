"""Exact bandit testbed: watch each advantage shaping move pass@1 and pass@K.

P problems, each a softmax policy over M answers (tabular or shared-linear logits), trained
with any count-based shaper under sampled or exact expected dynamics. See
:mod:`advshape.bandit.model`, :mod:`advshape.bandit.dynamics` and :mod:`advshape.bandit.run`.
"""

from advshape.bandit.dynamics import BanditConfig, simulate
from advshape.bandit.model import BanditProblems, Difficulty, make_policy, make_problems

__all__ = [
    "BanditConfig",
    "BanditProblems",
    "Difficulty",
    "make_policy",
    "make_problems",
    "simulate",
]
