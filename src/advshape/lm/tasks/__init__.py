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

import functools
from collections.abc import Sequence

import numpy as np

from advshape.lm.tasks import gym, number_theory, palindrome, subset_sum
from advshape.lm.tasks.problems import (
    CORRECT_SCORE,
    Problem,
    TaskData,
    TaskSpec,
    draw_splits,
    in_heldout,
)

__all__ = [
    "CORRECT_SCORE",
    "DEFAULT_TASK",
    "TASKS",
    "Problem",
    "Task",
    "TaskData",
    "TaskSpec",
    "draw_splits",
    "get_task_spec",
    "in_heldout",
    "task_help",
    "task_names",
]


@functools.lru_cache(maxsize=4)
def _load(name: str, seed: int, n_train: int, n_eval: int) -> TaskData:
    """A task's problems, generated once per process (a frontier's worker trains many runs of
    the same task; generating the divisor task's problems takes about a second)."""
    return get_task_spec(name).load(seed, n_train, n_eval)


class Task:
    """A task's train and held-out problems plus its verifier (memoised).

    The reward of a response is the verifier's score r ∈ [0, 1]; it is correct when r ≥ 1,
    the paper's binary reward r₀/₁ (Sec. 1.1.1).

    Args:
        name: the task, a key of :data:`TASKS`.
        seed: the seed of the problems and of the train / held-out split.
        n_train: the number of train problems (0: the task's default).
        n_eval: the number of held-out problems.

    Raises:
        ValueError: an unknown task, or no train or held-out problem asked for.

    Example:
        >>> from advshape.lm.tasks import Task
        >>> task = Task("palindrome", seed=0, n_train=4, n_eval=2)
        >>> problem = task.heldout[0]
        >>> problem.prompt, task.score(problem, "cgiiigc"), task.score(problem, "cgiigc")
        ('cicigig:', 1.0, 0.0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLVR and the 0/1 reward, Sec. 1.1).
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
        """The task's difficulty classes, in report order."""
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
        """:meth:`score` of each (problem, answer) pair."""
        return [self.score(p, a) for p, a in zip(problems, answers, strict=True)]

    @staticmethod
    def correct(score: float) -> bool:
        """Whether a score counts as correct: r₀/₁ = 1[r ≥ 1]."""
        return score >= CORRECT_SCORE

    def reference(self, problem: Problem, rng: np.random.Generator) -> str:
        """The warm start's target: uniform among the problem's correct answers (drawn by the
        task, or from ``problem.answers``), else its one reference."""
        if self.spec.sample_answer is not None:
            return self.spec.sample_answer(problem, rng)
        if problem.answers:
            return problem.answers[int(rng.integers(len(problem.answers)))]
        return problem.reference


# The registry: every task module lists its specs.
TASKS: dict[str, TaskSpec] = {
    spec.name: spec
    for spec in (*number_theory.SPECS, *subset_sum.SPECS, *palindrome.SPECS, *gym.SPECS)
}
"""Every task by name: its :class:`TaskSpec` (each task module lists its own in ``SPECS``)."""
DEFAULT_TASK = "divisor"
"""The task of ``advshape train`` unless ``--task`` names another."""


def task_names() -> tuple[str, ...]:
    """The names of every task, in registry order.

    Returns:
        The keys of :data:`TASKS`.

    Example:
        >>> from advshape.lm.tasks import task_names
        >>> task_names()
        ('divisor', 'prime_suffix', 'subset_sum', 'palindrome', 'countdown', 'chain_sum')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (verifiable tasks, Sec. 1.1).
    """
    return tuple(TASKS)


def task_help() -> str:
    """Every task with its one-line summary, for ``--help`` and error messages.

    Returns:
        ``"name: summary; name: summary; ..."``.

    Example:
        >>> from advshape.lm.tasks import task_help
        >>> task_help()[:69]
        'divisor: answer any divisor d of a 4-5 digit composite n, 1 < d < n; '

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (verifiable tasks, Sec. 1.1).
    """
    return "; ".join(f"{s.name}: {s.summary}" for s in TASKS.values())


def get_task_spec(name: str) -> TaskSpec:
    """The registry entry of a task.

    Args:
        name: the task's name.

    Returns:
        Its :class:`TaskSpec`.

    Raises:
        ValueError: an unknown name (the message lists the tasks).

    Example:
        >>> from advshape.lm.tasks import get_task_spec
        >>> spec = get_task_spec("divisor")
        >>> spec.classes, spec.max_answer_chars
        (('easy', 'hard'), 5)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (verifiable tasks, Sec. 1.1).
    """
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(
            f"unknown task {name!r}; choose one of: {', '.join(TASKS)} (--task)"
        ) from None
