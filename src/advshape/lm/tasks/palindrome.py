"""``palindrome``: arrange a bag of letters into a palindrome that uses every letter.

The prompt is the letters in a random order and ``:`` (``"kgmtkntng:"``); a correct
answer is any palindrome made of exactly those letters (``"tkgnmngkt"``). A bag of L
letters has h = ⌊L/2⌋ letter pairs, and every distinct arrangement of the pairs gives
an answer: h! / ∏ mⱼ! answers for pair multiplicities mⱼ (up to 5! = 120). Classes by
length: ``easy`` has 3–6 letters, ``hard`` 7–10. Our own generator and verifier (the
task is reasoning-gym's ``palindrome_generation``, re-implemented with a compact
prompt): bags are drawn uniformly by length, then letters uniformly from a–z; a
problem is its sorted bag, split into train and held-out by a hash of it (1/8 held out),
with no bag twice in a split. The warm start's target is uniform among all answers.
"""

from __future__ import annotations

import itertools
import re

from advshape.lm.tasks.problems import Problem, TaskData, TaskSpec, draw_splits

__all__ = ["SPECS", "palindrome_score", "palindromes"]

MIN_LENGTH, MAX_LENGTH, HARD_FROM = 3, 10, 7
HELDOUT_FRACTION = 1 / 8
HARD_FRACTION = 0.5
LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"^[a-z]{1,10}$")


def palindromes(bag: str) -> tuple[str, ...]:
    """The correct answers of a ``palindrome`` problem: every palindrome of exactly its letters.

    Args:
        bag: the letters (any order).

    Returns:
        Every distinct palindrome using each letter as often as the bag has it, sorted
        (empty when more than one letter occurs an odd number of times).

    Example:
        >>> from advshape.lm.tasks.palindrome import palindromes
        >>> palindromes("aabbc"), palindromes("abc")
        (('abcba', 'bacab'), ())

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the verifiable reward r₀/₁, Sec. 1.1.1).
    """
    counts = {c: bag.count(c) for c in sorted(set(bag))}
    odd = [c for c, m in counts.items() if m % 2]
    if len(odd) > len(bag) % 2:
        return ()
    half = "".join(c * (m // 2) for c, m in counts.items())
    middle = odd[0] if odd else ""
    return tuple(
        sorted({"".join(p) + middle + "".join(reversed(p)) for p in itertools.permutations(half)})
    )


def sample_palindrome(problem: Problem, rng) -> str:
    """A palindrome of the problem's letters, uniform among all of them: a uniform shuffle
    of the pairs gives every distinct arrangement with the same probability ∏ mⱼ! / h!."""
    bag = problem.key
    half = [c for c in sorted(set(bag)) for _ in range(bag.count(c) // 2)]
    middle = "".join(c for c in sorted(set(bag)) if bag.count(c) % 2)
    rng.shuffle(half)
    return "".join(half) + middle + "".join(reversed(half))


def palindrome_score(problem: Problem, answer: str) -> float:
    """The verifier of ``palindrome``: 1 if the answer reads the same backwards and uses exactly the letters.

    Args:
        problem: a ``palindrome`` problem (its ``key`` is the sorted bag of letters).
        answer: the response, stripped.

    Returns:
        1.0 or 0.0.

    Example:
        >>> from advshape.lm.tasks import Problem
        >>> from advshape.lm.tasks.palindrome import palindrome_score
        >>> problem = Problem("cabab:", "abcba", key="aabbc", entry="aabbc")
        >>> [palindrome_score(problem, a) for a in ("bacab", "abcba", "abba", "abcab")]
        [1.0, 1.0, 0.0, 0.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the verifiable reward r₀/₁, Sec. 1.1.1).
    """
    if not _WORD.match(answer):
        return 0.0
    return float(answer == answer[::-1] and "".join(sorted(answer)) == problem.key)


def _first_palindrome(bag: str) -> str:
    half = "".join(c * (bag.count(c) // 2) for c in sorted(set(bag)))
    middle = "".join(c for c in sorted(set(bag)) if bag.count(c) % 2)
    return half + middle + half[::-1]


def _draw_bag(rng, length: int) -> str:
    """``length // 2`` letter pairs and, for odd lengths, one middle letter, uniform a–z."""
    pairs = [LETTERS[i] for i in rng.integers(0, 26, size=length // 2).tolist()]
    middle = [LETTERS[int(rng.integers(0, 26))]] if length % 2 else []
    return "".join(sorted(pairs + pairs + middle))


def load_palindrome(seed: int, n_train: int, n_eval: int) -> TaskData:
    def draw(rng, hard: bool):
        lengths = range(HARD_FROM, MAX_LENGTH + 1) if hard else range(MIN_LENGTH, HARD_FROM)
        bag = _draw_bag(rng, int(rng.integers(lengths.start, lengths.stop)))

        def build(rng) -> Problem:
            letters = list(bag)
            rng.shuffle(letters)  # the prompt lists the bag in a random order
            return Problem(
                prompt="".join(letters) + ":",
                reference=_first_palindrome(bag),
                key=bag,
                entry=bag,
                difficulty="hard" if hard else "easy",
            )

        return bag, build

    train, heldout = draw_splits(
        "palindrome",
        seed,
        (n_train, n_eval),
        draw,
        salt=0x9A11,
        hard_fraction=HARD_FRACTION,
        heldout_fraction=HELDOUT_FRACTION,
    )
    return TaskData(train, heldout, palindrome_score)


SPECS = (
    TaskSpec(
        name="palindrome",
        summary="arrange 3-10 letters into a palindrome using them all; up to 120 answers",
        alphabet=LETTERS + ":",
        max_answer_chars=MAX_LENGTH,
        classes=("easy", "hard"),
        load=load_palindrome,
        default_n_train=20_000,
        sample_answer=sample_palindrome,
        config={
            "lengths": [MIN_LENGTH, MAX_LENGTH],
            "hard_from": HARD_FROM,
            "heldout": HELDOUT_FRACTION,
            "hard": HARD_FRACTION,
        },
    ),
)
"""The ``palindrome`` task's registry entry (``advshape.lm.tasks.TASKS``)."""
