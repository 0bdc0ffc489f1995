"""Two number tasks of our own, built so that the paper's effects show on a tiny model.

``divisor``: the prompt is a composite n (4–5 digits) and ``:``; a correct answer is
any divisor d of n with 1 < d < n, written in digits without a leading zero. Classes:

* ``easy``: the smallest prime factor of n is 2, 3 or 5 (a digit rule finds one);
* ``hard``: the smallest prime factor is at least 7 (no digit rule: guess and check).

``prime_suffix``: the prompt is n (4–5 digits) and ``:``; a correct answer is two digits
dd such that the number n·100 + dd (n followed by dd) is prime. Every problem has at
least one answer. Classes by the number of answers: ``hard`` has 1–4 (at most a 4%
chance for a uniform guess), ``easy`` has 5 or more.

Both: train and held-out problems are drawn from disjoint sets, fixed by a hash of
(task seed, n) (1/8 held out); each split mixes the classes at ``hard_fraction``
exactly; no problem occurs twice in a split. The warm start's targets are drawn
uniformly among a problem's correct answers — for ``divisor`` among those of at most
three digits (every composite n < 10⁵ has one, its smallest prime factor ≤ 316; longer
divisors are accepted by the verifier but are quotients the model cannot compute).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from advshape.lm.tasks.problems import Problem, TaskData, TaskSpec, in_heldout

__all__ = ["SPECS", "divisor_score", "prime_suffix_score", "proper_divisors"]

LOW, HIGH = 1000, 99_999  # n has 4 or 5 digits
HELDOUT_FRACTION = 1 / 8
HARD_FRACTION = 0.5
_DIGITS = re.compile(r"^[1-9][0-9]{0,5}$")
_TWO_DIGITS = re.compile(r"^[0-9]{2}$")
_MAX_PRIME_SUFFIX_ANSWERS_HARD = 4


@functools.cache
def smallest_prime_factors(limit: int):
    """spf[m] for 0 ≤ m ≤ limit (spf[m] = m for primes; 0 for m < 2), by a sieve."""
    spf = np.zeros(limit + 1, dtype=np.int64)
    for p in range(2, int(limit**0.5) + 1):
        if spf[p] == 0:  # p is prime: mark its multiples not marked yet
            block = spf[p * p :: p]
            block[block == 0] = p
    rest = np.arange(limit + 1)
    spf[spf == 0] = rest[spf == 0]
    spf[:2] = 0
    spf.setflags(write=False)
    return spf


@functools.cache
def prime_table(limit: int):
    """is_prime[m] for 0 ≤ m ≤ limit (a read-only boolean array)."""
    is_prime = np.ones(limit + 1, dtype=bool)
    is_prime[:2] = False
    for p in range(2, int(limit**0.5) + 1):
        if is_prime[p]:
            is_prime[p * p :: p] = False
    is_prime.setflags(write=False)
    return is_prime


def proper_divisors(n: int) -> list[int]:
    """The correct answers of a ``divisor`` problem: every d with 1 < d < n and n % d == 0.

    Args:
        n: a positive integer.

    Returns:
        The proper divisors of n other than 1, ascending (empty for a prime).

    Example:
        >>> from advshape.lm.tasks.number_theory import proper_divisors
        >>> proper_divisors(4851)  # 4851 = 3²·7²·11
        [3, 7, 9, 11, 21, 33, 49, 63, 77, 99, 147, 231, 441, 539, 693, 1617]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the verifiable reward r₀/₁, Sec. 1.1.1).
    """
    small = [d for d in range(2, int(n**0.5) + 1) if n % d == 0]
    large = [n // d for d in reversed(small) if d * d != n]
    return small + large


def _split(
    name: str,
    candidates: Any,
    hard_mask: Any,
    seed: int,
    n_train: int,
    n_eval: int,
    make: Callable[[int], Problem],
    hard_fraction: float,
) -> list[list[Problem]]:
    """Hash split, then per split an exact class mix drawn without replacement."""
    heldout_mask = np.array([in_heldout(f"{name}:{n}", seed, HELDOUT_FRACTION) for n in candidates])
    splits = []
    for split_id, (mask, size) in enumerate(((~heldout_mask, n_train), (heldout_mask, n_eval))):
        rng = np.random.default_rng([seed, split_id, 0x5EED])
        n_hard = round(hard_fraction * size)
        chosen = []
        for want_hard, count in ((True, n_hard), (False, size - n_hard)):
            pool = candidates[mask & (hard_mask == want_hard)]
            if count > len(pool):
                raise ValueError(
                    f"task {name!r} has only {len(pool)} distinct "
                    f"{'hard' if want_hard else 'easy'} problems in the "
                    f"{'held-out' if split_id else 'train'} split, fewer than the {count} asked "
                    "for; lower --n-train or --eval-problems"
                )
            chosen.append(rng.choice(pool, size=count, replace=False))
        numbers = np.concatenate(chosen)
        rng.shuffle(numbers)
        splits.append([make(int(n)) for n in numbers])
    return splits


# ----------------------------------------------------------------------------- divisor


def divisor_score(problem: Problem, answer: str) -> float:
    """The verifier of ``divisor``: 1 if the answer names a divisor d of n with 1 < d < n, else 0.

    The answer must be digits without a leading zero.

    Args:
        problem: a ``divisor`` problem (its ``entry`` is n).
        answer: the response, stripped.

    Returns:
        1.0 or 0.0.

    Example:
        >>> from advshape.lm.tasks import Problem
        >>> from advshape.lm.tasks.number_theory import divisor_score
        >>> problem = Problem("4851:", "3", key="4851", entry=4851)
        >>> divisor_score(problem, "77"), divisor_score(problem, "077"), divisor_score(problem, "5")
        (1.0, 0.0, 0.0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the verifiable reward r₀/₁, Sec. 1.1.1).
    """
    if not _DIGITS.match(answer):
        return 0.0
    n, d = problem.entry, int(answer)
    return float(1 < d < n and n % d == 0)


def _divisor_problem(n: int) -> Problem:
    spf = int(smallest_prime_factors(HIGH)[n])
    short = tuple(str(d) for d in proper_divisors(n) if d < 1000)
    return Problem(
        prompt=f"{n}:",
        reference=str(spf),
        key=str(n),
        entry=n,
        difficulty="easy" if spf <= 5 else "hard",
        answers=short,
    )


def load_divisor(seed: int, n_train: int, n_eval: int) -> TaskData:
    spf = smallest_prime_factors(HIGH)
    candidates = np.arange(LOW, HIGH + 1)
    candidates = candidates[spf[candidates] != candidates]  # composites only
    hard = spf[candidates] >= 7
    train, heldout = _split(
        "divisor", candidates, hard, seed, n_train, n_eval, _divisor_problem, HARD_FRACTION
    )
    return TaskData(train, heldout, divisor_score)


# ----------------------------------------------------------------------------- prime_suffix


def prime_suffix_score(problem: Problem, answer: str) -> float:
    """The verifier of ``prime_suffix``: 1 if the answer is two digits dd and n·100 + dd is prime.

    Args:
        problem: a ``prime_suffix`` problem (its ``entry`` is n).
        answer: the response, stripped.

    Returns:
        1.0 or 0.0.

    Example:
        >>> from advshape.lm.tasks import Problem
        >>> from advshape.lm.tasks.number_theory import prime_suffix_score
        >>> problem = Problem("57772:", "01", key="57772", entry=57772)  # 5777201 is prime
        >>> prime_suffix_score(problem, "01"), prime_suffix_score(problem, "1")
        (1.0, 0.0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the verifiable reward r₀/₁, Sec. 1.1.1).
    """
    if not _TWO_DIGITS.match(answer):
        return 0.0
    return float(prime_table(HIGH * 100 + 99)[problem.entry * 100 + int(answer)])


def _prime_suffix_answers(n: int) -> tuple[str, ...]:
    window = prime_table(HIGH * 100 + 99)[n * 100 : n * 100 + 100]
    return tuple(f"{dd:02d}" for dd in range(100) if window[dd])


def _prime_suffix_problem(n: int) -> Problem:
    answers = _prime_suffix_answers(n)
    return Problem(
        prompt=f"{n}:",
        reference=answers[0],
        key=str(n),
        entry=n,
        difficulty="hard" if len(answers) <= _MAX_PRIME_SUFFIX_ANSWERS_HARD else "easy",
        answers=answers,
    )


def load_prime_suffix(seed: int, n_train: int, n_eval: int) -> TaskData:
    is_prime = prime_table(HIGH * 100 + 99)
    candidates = np.arange(LOW, HIGH + 1)
    counts = is_prime[: (HIGH + 1) * 100].reshape(-1, 100).sum(1)[candidates]
    candidates, counts = candidates[counts > 0], counts[counts > 0]
    hard = counts <= _MAX_PRIME_SUFFIX_ANSWERS_HARD
    train, heldout = _split(
        "prime_suffix",
        candidates,
        hard,
        seed,
        n_train,
        n_eval,
        _prime_suffix_problem,
        HARD_FRACTION,
    )
    return TaskData(train, heldout, prime_suffix_score)


SPECS = (
    TaskSpec(
        name="divisor",
        summary="answer any divisor d of a 4-5 digit composite n, 1 < d < n; many answers; "
        "the default",
        alphabet="0123456789:",
        max_answer_chars=5,
        classes=("easy", "hard"),
        load=load_divisor,
        default_n_train=20_000,
        config={"low": LOW, "high": HIGH, "heldout": HELDOUT_FRACTION, "hard": HARD_FRACTION},
    ),
    TaskSpec(
        name="prime_suffix",
        summary="append two digits to a 4-5 digit n so that the number is prime; 1-20 answers",
        alphabet="0123456789:",
        max_answer_chars=2,
        classes=("easy", "hard"),
        load=load_prime_suffix,
        default_n_train=20_000,
        config={"low": LOW, "high": HIGH, "heldout": HELDOUT_FRACTION, "hard": HARD_FRACTION},
    ),
)
"""The ``divisor`` and ``prime_suffix`` tasks' registry entries (``advshape.lm.tasks.TASKS``)."""
