"""Verifiable tasks for RLVR of a small language model: one registry, one ``Task`` type.

=================  =====================  ===========  ===================================
task               prompt → an answer     answers      what it shows
=================  =====================  ===========  ===================================
``divisor``        ``"4851:"`` → ``"33"``   many         the default: RL sharpens, Pass@K
                                                        shapers keep pass@K (see below)
``prime_suffix``   ``"4851:"`` → ``"07"``   1–20         the same effects on a second task
``countdown``      ``"2 7 4>1:"`` → ``7-4-2``  many      the hard case (reasoning-gym)
``chain_sum``      ``"43-17+5="`` → ``31``  exactly one  the hard case (reasoning-gym)
=================  =====================  ===========  ===================================

``divisor`` and ``prime_suffix`` are our own generators and verifiers
(:mod:`advshape.lm.tasks.number_theory`): huge problem spaces (tens of thousands of
problems, none repeats within a run), many correct answers per problem, short answers,
two difficulty classes mixed into both splits at a set proportion, and a train /
held-out split by a hash of the problem. Their warm start is supervised on an answer
drawn uniformly among a problem's correct answers, so the start policy is diverse and
RL has room both to sharpen (raise pass@1) and to lose diversity (lower pass@16).

``countdown`` and ``chain_sum`` come from reasoning-gym (its generators and verifier)
and stay as the *hard case*: a model of a million parameters cannot compute the value
of an expression, countdown with three numbers has only about 2,000 distinct problems,
and measured warm starts have almost no headroom, so RL does not visibly help there
(``docs/notes/issue5b-defaults-search.md``).

Every task gives a :class:`Task`: ``train`` and ``heldout`` lists of :class:`Problem`,
``score(problem, answer) -> r ∈ [0, 1]``, ``correct(r) = 1[r ≥ 1]`` (the paper's binary
reward, Sec. 1.1.1) and ``reference(problem, rng)``, the warm start's target.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

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
    import numpy as np

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


@functools.lru_cache(maxsize=4)
def _load(name: str, seed: int, n_train: int, n_eval: int) -> TaskData:
    """A task's problems, generated once per process (a frontier's worker trains many runs of
    the same task; generating the divisor task's problems takes about a second)."""
    return get_task_spec(name).load(seed, n_train, n_eval)


class Task:
    """A task's train and held-out problems plus its verifier (memoised).

    ``n_train=0`` takes the task's default number of train problems.
    """

    def __init__(self, name: str, *, seed: int, n_train: int, n_eval: int):
        self.spec = get_task_spec(name)
        n_train = n_train or self.spec.default_n_train
        if n_train < 1 or n_eval < 1:
            raise ValueError(
                f"need at least one train and one held-out problem, got n_train={n_train}, "
                f"n_eval={n_eval}"
            )
        self.name = name
        self.seed = seed
        data = _load(name, seed, n_train, n_eval)
        self.train, self.heldout, self._score = data.train, data.heldout, data.score
        self._cache: dict[tuple[str, str], float] = {}

    @property
    def alphabet(self) -> str:
        """Every character a prompt or a reference answer of this task can contain."""
        return self.spec.alphabet

    @property
    def classes(self) -> tuple[str, ...]:
        return self.spec.classes

    def score(self, problem: Problem, answer: str) -> float:
        """The verifier's score r ∈ [0, 1] of ``answer`` (surrounding spaces removed)."""
        answer = answer.strip()
        key = (problem.prompt, answer)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = float(self._score(problem, answer))
        return cached

    def scores(self, problems: Sequence[Problem], answers: Sequence[str]) -> list[float]:
        return [self.score(p, a) for p, a in zip(problems, answers, strict=True)]

    @staticmethod
    def correct(score: float) -> bool:
        return score >= CORRECT_SCORE

    def reference(self, problem: Problem, rng) -> str:
        """The warm start's target: uniform among the problem's correct answers (drawn by the
        task, or from ``problem.answers``), else its one reference."""
        if self.spec.sample_answer is not None:
            return self.spec.sample_answer(problem, rng)
        if problem.answers:
            return problem.answers[int(rng.integers(len(problem.answers)))]
        return problem.reference


# The registry: every task module lists its specs; built last, since they import the
# types above.
def _registry() -> dict[str, TaskSpec]:
    from advshape.lm.tasks import gym, number_theory, palindrome, subset_sum

    specs = (*number_theory.SPECS, *subset_sum.SPECS, *palindrome.SPECS, *gym.SPECS)
    return {spec.name: spec for spec in specs}


TASKS: dict[str, TaskSpec] = _registry()
DEFAULT_TASK = "divisor"


def task_names() -> tuple[str, ...]:
    return tuple(TASKS)


def task_help() -> str:
    """One line per task, for ``--help`` and error messages."""
    return "; ".join(f"{s.name}: {s.summary}" for s in TASKS.values())


def get_task_spec(name: str) -> TaskSpec:
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(
            f"unknown task {name!r}; choose one of: {', '.join(TASKS)} (--task)"
        ) from None
