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

from advshape.lm.tasks import Problem, TaskData, TaskSpec, in_heldout

COUNT, LOW, HIGH = 6, 1, 20
HELDOUT_FRACTION = 1 / 8
HARD_FRACTION = 0.5
_ANSWER = re.compile(r"^[0-9]{1,2}(\+[0-9]{1,2}){0,5}$")


def selections(numbers: tuple[int, ...], target: int) -> tuple[str, ...]:
    """Every selection of positions whose numbers sum to ``target``, in prompt order."""
    out = []
    for size in range(1, len(numbers) + 1):
        for chosen in itertools.combinations(range(len(numbers)), size):
            if sum(numbers[i] for i in chosen) == target:
                out.append("+".join(str(numbers[i]) for i in chosen))
    return tuple(out)


def subset_sum_score(problem: Problem, answer: str) -> float:
    """1 if ``answer`` is numbers joined by ``+``, a sub-multiset of the given ones (no
    leading zeros), summing to the target."""
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
    import numpy as np

    splits = []
    for split_id, size in enumerate((n_train, n_eval)):
        rng = np.random.default_rng([seed, split_id, 0x5B5])
        n_hard = round(HARD_FRACTION * size)
        problems: list[Problem] = []
        seen: set[str] = set()
        for hard, count in ((True, n_hard), (False, size - n_hard)):
            made = tries = 0
            while made < count:
                tries += 1
                if tries > 50 * count + 10_000:
                    raise ValueError(
                        f"task 'subset_sum' ran out of distinct {'hard' if hard else 'easy'} "
                        f"problems for {count} in a split; lower --n-train or --eval-problems"
                    )
                numbers = tuple(rng.integers(LOW, HIGH + 1, size=COUNT).tolist())
                if hard:
                    picked = rng.choice(COUNT, size=int(rng.integers(2, 4)), replace=False)
                    target = int(sum(numbers[i] for i in picked))
                    if target in numbers:
                        continue
                else:
                    target = int(numbers[int(rng.integers(COUNT))])
                key = f"{sorted(numbers)}>{target}"
                if key in seen or in_heldout(f"subset_sum:{key}", seed, HELDOUT_FRACTION) != bool(
                    split_id
                ):
                    continue
                seen.add(key)
                answers = selections(numbers, target)
                problems.append(
                    Problem(
                        prompt=" ".join(map(str, numbers)) + f">{target}:",
                        reference=answers[0],
                        key=key,
                        entry=(numbers, target),
                        difficulty="hard" if hard else "easy",
                        answers=answers,
                    )
                )
                made += 1
        order = rng.permutation(len(problems))
        splits.append([problems[i] for i in order])
    return TaskData(splits[0], splits[1], subset_sum_score)


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
