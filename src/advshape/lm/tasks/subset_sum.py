"""``subset_sum``: pick some of the given numbers so that they add up to the target.

The prompt is six numbers 1–20 and a target (``"3 17 8 3 12 5>20:"``); a correct answer
is any nonempty selection of the given numbers, each used at most as often as it is
given, that sums to the target, written with ``+`` in any order (``"17+3"``,
``"3+5+12"``, ``"12+8"``). Classes:

* ``easy``: the target is one of the given numbers, so copying it is always correct (a
  rule a small model can learn);
* ``hard``: no single number equals the target; every answer adds two or more numbers
  (a search the model cannot do reliably: it guesses).

Our own generator and verifier: numbers uniform on 1–20 (repeats allowed); an easy
target is one of them, a hard target the sum of 2–3 of them that equals none of them;
a problem is its sorted numbers and target, split into train and held-out by a hash of
it (1/8 held out), with no problem twice in a split. The warm start's target is uniform
among the problem's answers, counted as selections of positions and written in prompt
order.
"""

from __future__ import annotations

import itertools
import re

from advshape.lm.tasks.problems import Problem, TaskData, TaskSpec, draw_splits

__all__ = ["SPECS", "selections", "subset_sum_score"]

COUNT, LOW, HIGH = 6, 1, 20
HELDOUT_FRACTION = 1 / 8
HARD_FRACTION = 0.5
_ANSWER = re.compile(r"^[0-9]{1,2}(\+[0-9]{1,2}){0,5}$")


def selections(numbers: tuple[int, ...], target: int) -> tuple[str, ...]:
    """The correct answers of a ``subset_sum`` problem: every selection summing to the target.

    Selections are of positions, so a number given twice may be picked twice; each answer
    lists its numbers in prompt order, joined by ``+``.

    Args:
        numbers: the given numbers, in prompt order.
        target: the target sum.

    Returns:
        The answers, by number of terms, then in order of the positions.

    Example:
        >>> from advshape.lm.tasks.subset_sum import selections
        >>> selections((3, 5, 7, 8), 15)
        ('7+8', '3+5+7')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the verifiable reward r₀/₁, Sec. 1.1.1).
    """
    out = []
    for size in range(1, len(numbers) + 1):
        for chosen in itertools.combinations(range(len(numbers)), size):
            if sum(numbers[i] for i in chosen) == target:
                out.append("+".join(str(numbers[i]) for i in chosen))
    return tuple(out)


def subset_sum_score(problem: Problem, answer: str) -> float:
    """The verifier of ``subset_sum``: 1 if the answer picks given numbers summing to the target.

    The answer is numbers joined by ``+`` (no leading zeros), a sub-multiset of the given
    ones, in any order.

    Args:
        problem: a ``subset_sum`` problem (its ``entry`` is (numbers, target)).
        answer: the response, stripped.

    Returns:
        1.0 or 0.0.

    Example:
        >>> from advshape.lm.tasks import Problem
        >>> from advshape.lm.tasks.subset_sum import subset_sum_score
        >>> problem = Problem("3 5 7 8>15:", "7+8", key="x", entry=((3, 5, 7, 8), 15))
        >>> [subset_sum_score(problem, a) for a in ("8+7", "3+5+7", "7+7+1", "15")]
        [1.0, 1.0, 0.0, 0.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the verifiable reward r₀/₁, Sec. 1.1.1).
    """
    if not _ANSWER.match(answer):
        return 0.0
    parts = answer.split("+")
    if any(p.startswith("0") for p in parts):
        return 0.0
    numbers, target = problem.entry
    available = list(numbers)
    for value in map(int, parts):
        if value not in available:
            return 0.0
        available.remove(value)
    return float(sum(map(int, parts)) == target)


def load_subset_sum(seed: int, n_train: int, n_eval: int) -> TaskData:
    def draw(rng, hard: bool):
        numbers = tuple(rng.integers(LOW, HIGH + 1, size=COUNT).tolist())
        if hard:
            picked = rng.choice(COUNT, size=int(rng.integers(2, 4)), replace=False)
            target = int(sum(numbers[i] for i in picked))
            if target in numbers:
                return None
        else:
            target = int(numbers[int(rng.integers(COUNT))])

        def build(rng) -> Problem:
            answers = selections(numbers, target)
            return Problem(
                prompt=" ".join(map(str, numbers)) + f">{target}:",
                reference=answers[0],
                key=f"{sorted(numbers)}>{target}",
                entry=(numbers, target),
                difficulty="hard" if hard else "easy",
                answers=answers,
            )

        return f"{sorted(numbers)}>{target}", build

    train, heldout = draw_splits(
        "subset_sum",
        seed,
        (n_train, n_eval),
        draw,
        salt=0x5B5,
        hard_fraction=HARD_FRACTION,
        heldout_fraction=HELDOUT_FRACTION,
    )
    return TaskData(train, heldout, subset_sum_score)


SPECS = (
    TaskSpec(
        name="subset_sum",
        summary="pick some of six numbers 1-20 that add up to the target; many answers",
        alphabet="0123456789 +>:",
        max_answer_chars=17,  # six two-digit numbers joined by '+'
        classes=("easy", "hard"),
        load=load_subset_sum,
        default_n_train=20_000,
        config={
            "count": COUNT,
            "range": [LOW, HIGH],
            "heldout": HELDOUT_FRACTION,
            "hard": HARD_FRACTION,
        },
    ),
)
"""The ``subset_sum`` task's registry entry (``advshape.lm.tasks.TASKS``)."""
