"""The reasoning-gym tasks, kept as the hard case: countdown and chain_sum.

Problem instances and their verification come from reasoning-gym (its dataset
generators and its ``score_answer``); only the *prompt text* is our own, short
enough for a character-level model to read:

=============  ==========================  ======================  ==================
task           prompt (ours)               reference (gym's)       correct answers
=============  ==========================  ======================  ==================
countdown      ``"2 7 4>1:"``              ``"7-4-2"``             many (order, ops)
chain_sum      ``"43-17+5="``              ``"31"``                exactly one
=============  ==========================  ======================  ==================

Why they are hard for RL on a CPU: countdown with three numbers 1-9 has only about
two thousand distinct problems (as multisets of numbers with a target), and a model
of a million parameters cannot compute the value of an expression, which is what
decides the reward, so credit does not transfer to held-out problems.

The verifier's score r ∈ [0, 1] is what pkpo receives; the binary shapers get
r₀/₁ = 1[r ≥ 1]. Train and held-out problems are generated from two different
reasoning-gym seeds derived from one ``seed``; duplicates, and held-out problems whose
key (sorted numbers and target, or the expression) occurs in the train set, are
dropped, so the two sets are disjoint and both reproducible from the seed alone.
"""

from __future__ import annotations

import re
from typing import Any

from advshape.lm.tasks.problems import Problem, TaskData, TaskSpec

__all__ = ["SPECS"]

# Only these characters can form a countdown answer; anything else is scored as the
# gym scores unparsable text (0.01) without handing it to sympy's ``parse_expr``
# (which evaluates its input: "9**9**9" would never return).
_COUNTDOWN_ANSWER = re.compile(r"^[0-9+\-*/()]{1,40}$")
_COUNTDOWN_MALFORMED_SCORE = 0.01
_SEED_STRIDE = 10**8
ALPHABET = "0123456789+-*/()=>: "

COUNTDOWN_CONFIG = dict(
    min_numbers=3, max_numbers=3, min_value=1, max_value=9, min_target=1, max_target=99
)
CHAIN_SUM_CONFIG = dict(min_terms=2, max_terms=3, min_digits=1, max_digits=2)


def _countdown_problem(entry: dict[str, Any]) -> Problem:
    meta = entry["metadata"]
    numbers = " ".join(str(n) for n in meta["numbers"])
    # The order of the numbers does not make a new problem.
    key = f"{sorted(meta['numbers'])}>{meta['target']}"
    return Problem(f"{numbers}>{meta['target']}:", entry["answer"].replace(" ", ""), key, entry)


def _chain_sum_problem(entry: dict[str, Any]) -> Problem:
    expression = entry["metadata"]["expression"]
    return Problem(
        expression.replace(" ", "") + "=", entry["answer"].replace(" ", ""), expression, entry
    )


def _build(ds, make, n: int, exclude: frozenset[str]) -> list[Problem]:
    out: list[Problem] = []
    seen: set[str] = set()
    # A thousand duplicates in a row: the problem space is (nearly) exhausted.
    misses = 0
    for i in range(len(ds)):
        if misses > 1000:
            break
        problem = make(ds[i])
        # Duplicate prompts inside one split would only reweight problems; drop them.
        if problem.key in exclude or problem.key in seen:
            misses += 1
            continue
        misses = 0
        seen.add(problem.key)
        out.append(problem)
        if len(out) == n:
            break
    return out


def load_gym(name: str, config: dict[str, Any], make, seed: int, n_train: int, n_eval: int):
    """Two gym datasets with seeds derived from ours: one for training, one held out."""
    import reasoning_gym  # seconds to import: only when a gym task is built, not to list tasks

    def dataset(gym_seed: int, size: int):
        return reasoning_gym.create_dataset(name, seed=gym_seed, size=size, **config)

    # Gym datasets generate items lazily by index: a generous size costs nothing unless
    # duplicates force us to read further. A gym item i of seed s is drawn from
    # Random(s + i), so the two splits use seeds 10⁸ apart: their index ranges
    # (< 10⁸ long) never share a Random stream.
    train_ds = dataset(2 * seed * _SEED_STRIDE, 50 * n_train + 1000)
    train = _build(train_ds, make, n_train, exclude=frozenset())
    eval_ds = dataset((2 * seed + 1) * _SEED_STRIDE, 50 * n_eval + 1000)
    heldout = _build(eval_ds, make, n_eval, exclude=frozenset(p.key for p in train))
    if len(train) < n_train or len(heldout) < n_eval:
        raise ValueError(
            f"task {name!r} has too few distinct problems for n_train={n_train} and "
            f"n_eval={n_eval} (found {len(train)} and {len(heldout)}); lower "
            "--n-train or --eval-problems"
        )

    def score(problem: Problem, answer: str) -> float:
        if name == "countdown" and (not _COUNTDOWN_ANSWER.match(answer) or "**" in answer):
            return _COUNTDOWN_MALFORMED_SCORE  # '**' is power, not an allowed operator
        # score_answer is a method of the dataset but reads only ``entry``.
        return float(train_ds.score_answer(answer, problem.entry))

    return TaskData(train, heldout, score)


SPECS = (
    TaskSpec(
        name="countdown",
        summary="combine 3 numbers 1-9 with + - * / ( ) to hit a target (reasoning-gym); "
        "the hard case",
        alphabet=ALPHABET,
        max_answer_chars=16,
        classes=("all",),
        load=lambda seed, n_train, n_eval: load_gym(
            "countdown", COUNTDOWN_CONFIG, _countdown_problem, seed, n_train, n_eval
        ),
        hard_case=True,
        config=COUNTDOWN_CONFIG,
    ),
    TaskSpec(
        name="chain_sum",
        summary="add and subtract 2-3 numbers of 1-2 digits (reasoning-gym); one answer; "
        "the hard case",
        alphabet=ALPHABET,
        max_answer_chars=6,
        classes=("all",),
        load=lambda seed, n_train, n_eval: load_gym(
            "chain_sum", CHAIN_SUM_CONFIG, _chain_sum_problem, seed, n_train, n_eval
        ),
        hard_case=True,
        config=CHAIN_SUM_CONFIG,
    ),
)
"""The ``countdown`` and ``chain_sum`` tasks' registry entries (``advshape.lm.tasks.TASKS``);
reasoning-gym is imported only when one of them loads its problems."""
