"""What every task of :mod:`advshape.lm.tasks` is made of: problems, a task's data and its
registry entry, and the hash split of problems into train and held-out.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

#: The reward at or above which a response counts as correct (r₀/₁ = 1[score ≥ 1]).
CORRECT_SCORE = 1.0


@dataclasses.dataclass(frozen=True)
class Problem:
    """One verifiable problem.

    ``reference`` is one correct answer; ``answers`` (if not empty) are the answers the
    warm start draws its target from, uniformly; ``difficulty`` is the problem's class;
    ``key`` identifies the problem (same key = same problem, so splits stay disjoint);
    ``entry`` is the data the verifier reads.
    """

    prompt: str
    reference: str
    key: str = dataclasses.field(compare=False, repr=False)
    entry: Any = dataclasses.field(compare=False, repr=False)
    difficulty: str = "all"
    answers: tuple[str, ...] = dataclasses.field(default=(), compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class TaskData:
    """What a task's loader returns: the two splits and the verifier."""

    train: list[Problem]
    heldout: list[Problem]
    score: Callable[[Problem, str], float]


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One registry entry: how to build a task and what it is.

    ``load(seed, n_train, n_eval)`` builds the splits and the verifier; ``classes`` are
    the difficulty classes in report order; ``max_answer_chars`` is the longest correct
    answer (the response cap is one more token, for ``<eos>``).
    """

    name: str
    summary: str
    alphabet: str
    max_answer_chars: int
    classes: tuple[str, ...]
    load: Callable[[int, int, int], TaskData]
    default_n_train: int = 1000
    sample_answer: Callable[[Problem, Any], str] | None = None  # a uniform correct answer
    hard_case: bool = False
    config: dict[str, Any] = dataclasses.field(default_factory=dict)


def in_heldout(key: str, seed: int, fraction: float) -> bool:
    """Whether a problem is held out: a hash of (seed, key), so the split is stable.

    The same problem always lands in the same split for a given ``seed``; about
    ``fraction`` of all problems are held out.
    """
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < fraction * 2**64


def draw_splits(
    name: str,
    seed: int,
    sizes: tuple[int, int],
    draw: Callable[[Any, bool], tuple[str, Callable[[Any], Problem]] | None],
    *,
    salt: int,
    hard_fraction: float,
    heldout_fraction: float,
) -> tuple[list[Problem], list[Problem]]:
    """Train and held-out problems of a generated task, by rejection.

    ``draw(rng, hard)`` proposes a problem of the class: its key and a builder (called with
    the rng once the problem is kept), or None to try again. Each split keeps only the
    problems the hash split puts there (:func:`in_heldout`), holds no key twice, and mixes
    the classes at exactly ``hard_fraction``; the order is then shuffled.
    """
    splits = []
    for split_id, size in enumerate(sizes):
        rng = np.random.default_rng([seed, split_id, salt])
        n_hard = round(hard_fraction * size)
        problems: list[Problem] = []
        seen: set[str] = set()
        for hard, count in ((True, n_hard), (False, size - n_hard)):
            made = tries = 0
            while made < count:
                tries += 1
                if tries > 50 * count + 10_000:
                    raise ValueError(
                        f"task {name!r} ran out of distinct {'hard' if hard else 'easy'} "
                        f"problems for {count} in a split; lower --n-train or --eval-problems"
                    )
                proposal = draw(rng, hard)
                if proposal is None:
                    continue
                key, build = proposal
                held_out = in_heldout(f"{name}:{key}", seed, heldout_fraction)
                if key in seen or held_out != bool(split_id):
                    continue
                seen.add(key)
                problems.append(build(rng))
                made += 1
        order = rng.permutation(len(problems))
        splits.append([problems[i] for i in order])
    return splits[0], splits[1]
