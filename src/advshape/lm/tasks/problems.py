"""What every task of :mod:`advshape.lm.tasks` is made of: problems, a task's data and its
registry entry, and the hash split of problems into train and held-out.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["CORRECT_SCORE", "Problem", "TaskData", "TaskSpec", "draw_splits", "in_heldout"]

CORRECT_SCORE = 1.0
"""The score at or above which a response counts as correct: r₀/₁ = 1[score ≥ 1]."""


@dataclasses.dataclass(frozen=True)
class Problem:
    """One verifiable problem: a prompt, its data for the verifier, one correct answer.

    Attributes:
        prompt: the text the model continues (``"4851:"``).
        reference: one correct answer.
        key: what identifies the problem (the same key is the same problem, so the splits
            stay disjoint).
        entry: the data the verifier reads.
        difficulty: the problem's class (``"easy"``, ``"hard"``, or ``"all"``).
        answers: if not empty, the answers the warm start draws its target from, uniformly.

    Example:
        >>> from advshape.lm.tasks import Problem
        >>> Problem("4851:", "33", key="4851", entry=4851, difficulty="easy")
        Problem(prompt='4851:', reference='33', difficulty='easy')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (a problem–answer pair (x, a), Sec. 1.1).
    """

    prompt: str
    reference: str
    key: str = dataclasses.field(compare=False, repr=False)
    entry: Any = dataclasses.field(compare=False, repr=False)
    difficulty: str = "all"
    answers: tuple[str, ...] = dataclasses.field(default=(), compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class TaskData:
    """What a task's loader returns: the two splits and the verifier.

    Attributes:
        train: the training problems.
        heldout: the held-out problems (disjoint from ``train``).
        score: the verifier, ``score(problem, answer) -> r ∈ [0, 1]``.

    Example:
        >>> from advshape.lm.tasks import get_task_spec
        >>> data = get_task_spec("palindrome").load(0, 3, 2)
        >>> len(data.train), len(data.heldout), data.score(data.heldout[0], "cgiiigc")
        (3, 2, 1.0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (a training set and the verifiable reward, Secs. 1.1 and 2).
    """

    train: list[Problem]
    heldout: list[Problem]
    score: Callable[[Problem, str], float]


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One registry entry: how to build a task and what it is.

    Attributes:
        name: the task's name (``--task``).
        summary: one line: the task and its answers.
        alphabet: every character of its prompts and answers (the tiny tokenizer's vocabulary).
        max_answer_chars: the longest correct answer (the response cap is one more token, for
            ``<eos>``).
        classes: the difficulty classes, in report order.
        load: ``load(seed, n_train, n_eval) -> TaskData``, the splits and the verifier.
        default_n_train: the train problems when ``--n-train`` is 0.
        sample_answer: ``sample_answer(problem, rng)``, a correct answer drawn uniformly (the
            warm start's target), or None.
        hard_case: whether the task is one of the hard cases (no RL headroom for a tiny model).
        config: the generator's settings, recorded with each run.

    Example:
        >>> from advshape.lm.tasks import TASKS
        >>> spec = TASKS["palindrome"]
        >>> spec.classes, spec.max_answer_chars, spec.default_n_train
        (('easy', 'hard'), 10, 20000)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (verifiable tasks, Sec. 1.1).
    """

    name: str
    summary: str
    alphabet: str
    max_answer_chars: int
    classes: tuple[str, ...]
    load: Callable[[int, int, int], TaskData]
    default_n_train: int = 1000
    sample_answer: Callable[[Problem, Any], str] | None = None
    hard_case: bool = False
    config: dict[str, Any] = dataclasses.field(default_factory=dict)


def in_heldout(key: str, seed: int, fraction: float) -> bool:
    """Whether a problem is held out: a hash of (seed, key) below ``fraction``, so the split is stable.

        held out ⇔ SHA-256(f"{seed}:{key}")[:8] < fraction·2⁶⁴

    The same problem always lands in the same split for a given ``seed``; about ``fraction``
    of all problems are held out.

    Args:
        key: the problem's key (task name and problem).
        seed: the split's seed.
        fraction: the share of problems held out, in [0, 1].

    Returns:
        True if the problem is held out.

    Example:
        >>> from advshape.lm.tasks import in_heldout
        >>> in_heldout("divisor:4851", 0, 1 / 8), in_heldout("divisor:4851", 0, 1.0)
        (False, True)
        >>> sum(in_heldout(f"problem {i}", 0, 0.25) for i in range(1000))  # about 250
        237

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (held-out problems measure generalisation, Sec. 2).
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

    Each split keeps only the problems the hash split puts there (:func:`in_heldout`), holds
    no key twice, and mixes the classes at exactly ``hard_fraction``; the order is then
    shuffled.

    Args:
        name: the task's name (part of each problem's hash key).
        seed: the seed of the draws and of the split.
        sizes: (train problems, held-out problems).
        draw: ``draw(rng, hard)`` proposes a problem of the class: its key and a builder
            (called with the rng once the problem is kept), or None to try again.
        salt: the task's own stream of the generator (tasks draw independently).
        hard_fraction: the share of hard problems in each split.
        heldout_fraction: the share of all problems the hash split holds out.

    Returns:
        ``(train, heldout)``, two lists of problems.

    Raises:
        ValueError: the generator runs out of distinct problems for a split.

    Example:
        >>> from advshape.lm.tasks import Problem, draw_splits
        >>> def draw(rng, hard):
        ...     n = int(rng.integers(10, 100) if hard else rng.integers(1, 10))
        ...     return str(n), lambda rng: Problem(f"{n}:", str(n), key=str(n), entry=n)
        >>> train, heldout = draw_splits("echo", 0, (6, 2), draw, salt=1, hard_fraction=0.5,
        ...                              heldout_fraction=0.25)
        >>> len(train), len(heldout), {p.key for p in train} & {p.key for p in heldout}
        (6, 2, set())

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (a training set, and held-out problems, Sec. 2).
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
