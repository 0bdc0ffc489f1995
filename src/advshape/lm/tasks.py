"""Verifiable reasoning tasks from reasoning-gym, in a compact prompt format.

Problem instances and their verification come from reasoning-gym (its dataset
generators and its ``score_answer``); only the *prompt text* is our own, short
enough for a character-level model of a few million parameters to read:

=============  ==========================  ======================  ==================
task           prompt (ours)               reference (gym's)       correct answers
=============  ==========================  ======================  ==================
countdown      ``"2 7 4>1:"``              ``"7-4-2"``             many (order, ops)
chain_sum      ``"43-17+5="``              ``"31"``                exactly one
=============  ==========================  ======================  ==================

Countdown with three numbers 1-9 has only about two thousand distinct problems
(as multisets of numbers with a target), so held-out problems are new *multisets*,
not merely new orderings of train problems.

The verifier's score r ∈ [0, 1] is what pkpo receives; the binary shapers get
the 0/1 reward r₀/₁ = 1[r ≥ 1] (the paper's Sec. 1.1.1 reward: the response agrees
with the answer).

Train and held-out problems are generated from two different reasoning-gym seeds
derived from one ``seed``; duplicates, and held-out problems whose key (sorted
numbers and target, or the expression) occurs in the train set, are dropped, so the two sets are disjoint and both are
reproducible from the seed alone.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

#: The reward at or above which a response counts as correct (r₀/₁ = 1[score ≥ 1]).
CORRECT_SCORE = 1.0

# Only these characters can form a countdown answer; anything else is scored as the
# gym scores unparsable text (0.01) without handing it to sympy's ``parse_expr``
# (which evaluates its input: "9**9**9" would never return).
_COUNTDOWN_ANSWER = re.compile(r"^[0-9+\-*/()]{1,40}$")
_COUNTDOWN_MALFORMED_SCORE = 0.01
_SEED_STRIDE = 10**8


@dataclasses.dataclass(frozen=True)
class Problem:
    """One verifiable problem: our compact prompt, the gym's reference answer and entry."""

    prompt: str
    reference: str
    key: str = dataclasses.field(compare=False, repr=False)
    entry: dict[str, Any] = dataclasses.field(compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """How to build one task: the gym dataset name, its config, and our prompt format."""

    name: str
    gym_name: str
    gym_config: dict[str, Any]
    prompt: Callable[[dict[str, Any]], str]
    reference: Callable[[dict[str, Any]], str]
    key: Callable[[dict[str, Any]], str]  # same key = same problem (splits stay disjoint)
    max_answer_chars: int
    summary: str


def _countdown_prompt(entry: dict[str, Any]) -> str:
    numbers = " ".join(str(n) for n in entry["metadata"]["numbers"])
    return f"{numbers}>{entry['metadata']['target']}:"


def _chain_sum_prompt(entry: dict[str, Any]) -> str:
    return entry["metadata"]["expression"].replace(" ", "") + "="


def _countdown_key(entry: dict[str, Any]) -> str:
    # The order of the numbers does not make a new problem.
    numbers = sorted(entry["metadata"]["numbers"])
    return f"{numbers}>{entry['metadata']['target']}"


def _chain_sum_key(entry: dict[str, Any]) -> str:
    return entry["metadata"]["expression"]


def _strip_spaces(entry: dict[str, Any]) -> str:
    return entry["answer"].replace(" ", "")


TASKS: dict[str, TaskSpec] = {
    "countdown": TaskSpec(
        name="countdown",
        gym_name="countdown",
        gym_config=dict(
            min_numbers=3, max_numbers=3, min_value=1, max_value=9, min_target=1, max_target=99
        ),
        prompt=_countdown_prompt,
        reference=_strip_spaces,
        key=_countdown_key,
        max_answer_chars=16,
        summary="combine 3 numbers 1-9 with + - * / ( ) to hit the target; many correct answers",
    ),
    "chain_sum": TaskSpec(
        name="chain_sum",
        gym_name="chain_sum",
        gym_config=dict(min_terms=2, max_terms=3, min_digits=1, max_digits=2),
        prompt=_chain_sum_prompt,
        reference=_strip_spaces,
        key=_chain_sum_key,
        max_answer_chars=6,
        summary="add and subtract 2-3 numbers of 1-2 digits; one correct answer",
    ),
}


def task_names() -> tuple[str, ...]:
    return tuple(TASKS)


def get_task_spec(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose one of: {', '.join(TASKS)}") from None


class Task:
    """A task's train and held-out problems plus its verifier.

    ``score(problem, answer)`` is reasoning-gym's ``score_answer`` (memoised: the
    same answer to the same problem is scored once); ``correct`` thresholds it.
    """

    def __init__(self, name: str, *, seed: int, n_train: int, n_eval: int):
        import reasoning_gym

        if n_train < 1 or n_eval < 1:
            raise ValueError(
                f"need at least one train and one held-out problem, got n_train={n_train}, "
                f"n_eval={n_eval}"
            )
        self.spec = get_task_spec(name)
        self.name = name
        self.seed = seed
        # Two gym datasets with seeds derived from ours: one for training, one held out.
        make = lambda gym_seed, size: reasoning_gym.create_dataset(  # noqa: E731
            self.spec.gym_name, seed=gym_seed, size=size, **self.spec.gym_config
        )
        # Gym datasets generate items lazily by index: a generous size costs nothing
        # unless duplicates force us to read further.
        # A gym item i of seed s is drawn from Random(s + i), so the two splits use seeds
        # 10⁸ apart: their index ranges (< 10⁸ long) never share a Random stream.
        self._train_ds = make(2 * seed * _SEED_STRIDE, 50 * n_train + 1000)
        self.train = self._build(self._train_ds, n_train, exclude=frozenset())
        train_keys = frozenset(p.key for p in self.train)
        self._eval_ds = make((2 * seed + 1) * _SEED_STRIDE, 50 * n_eval + 1000)
        self.heldout = self._build(self._eval_ds, n_eval, exclude=train_keys)
        if len(self.train) < n_train or len(self.heldout) < n_eval:
            raise ValueError(
                f"task {name!r} has too few distinct problems for n_train={n_train} and "
                f"n_eval={n_eval} (found {len(self.train)} and {len(self.heldout)}); lower "
                "--n-train or --eval-problems"
            )
        self._cache: dict[tuple[str, str], float] = {}

    def _build(self, ds, n: int, exclude: frozenset[str]) -> list[Problem]:
        out: list[Problem] = []
        seen: set[str] = set()
        # A thousand duplicates in a row: the problem space is (nearly) exhausted.
        misses = 0
        for i in range(len(ds)):
            if misses > 1000:
                break
            entry = ds[i]
            problem = Problem(
                self.spec.prompt(entry), self.spec.reference(entry), self.spec.key(entry), entry
            )
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

    def score(self, problem: Problem, answer: str) -> float:
        """reasoning-gym's score of ``answer`` (a string, leading/trailing spaces removed)."""
        answer = answer.strip()
        key = (problem.prompt, answer)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if self.name == "countdown" and not _COUNTDOWN_ANSWER.match(answer):
            value = _COUNTDOWN_MALFORMED_SCORE
        elif self.name == "countdown" and "**" in answer:
            value = _COUNTDOWN_MALFORMED_SCORE  # '**' is power, not an allowed operator
        else:
            # score_answer is a method of the dataset but reads only ``entry``.
            value = float(self._train_ds.score_answer(answer, problem.entry))
        self._cache[key] = value
        return value

    def scores(self, problems: Sequence[Problem], answers: Sequence[str]) -> list[float]:
        return [self.score(p, a) for p, a in zip(problems, answers, strict=True)]

    @staticmethod
    def correct(score: float) -> bool:
        return score >= CORRECT_SCORE

    @property
    def alphabet(self) -> str:
        """Every character a prompt or a reference answer of this task can contain."""
        return "0123456789+-*/()=>: "
