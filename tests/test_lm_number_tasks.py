"""Our own tasks: verifiers against brute force, the hash split, class mix, references."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from advshape.lm.tasks import Task, in_heldout
from advshape.lm.tasks import number_theory as nt


def brute_divisors(n: int) -> set[int]:
    return {d for d in range(2, n) if n % d == 0}


def brute_is_prime(m: int) -> bool:
    return m >= 2 and all(m % q for q in range(2, int(m**0.5) + 1))


@pytest.fixture(scope="module")
def divisor():
    return Task("divisor", seed=3, n_train=600, n_eval=200)


@pytest.fixture(scope="module")
def prime_suffix():
    return Task("prime_suffix", seed=3, n_train=600, n_eval=200)


def test_divisor_verifier_accepts_exactly_the_proper_divisors(divisor):
    for problem in divisor.heldout[:40] + divisor.train[:40]:
        n = problem.entry
        assert problem.prompt == f"{n}:"
        truth = brute_divisors(n)
        accepted = {d for d in range(0, n + 2) if divisor.score(problem, str(d)) == 1.0}
        assert accepted == truth
        assert set(nt.proper_divisors(n)) == truth
        # The warm start's answers: every divisor below 1,000, and nothing else.
        assert {int(a) for a in problem.answers} == {d for d in truth if d < 1000}


@pytest.mark.parametrize("answer", ["", " ", "0", "01", "-3", "+3", "3.0", "1e1", "3 ", "٣", "x"])
def test_divisor_verifier_rejects_malformed_answers(answer):
    problem = nt._divisor_problem(1000)
    # "3 " is stripped by Task.score, but the verifier itself takes digits only.
    assert nt.divisor_score(problem, answer) == 0.0


def test_divisor_classes_follow_the_smallest_prime_factor(divisor):
    for problem in divisor.train + divisor.heldout:
        n = problem.entry
        smallest = min(brute_divisors(n))
        assert problem.difficulty == ("easy" if smallest in (2, 3, 5) else "hard")
        assert not brute_is_prime(n) and 1000 <= n <= 99_999


def test_prime_suffix_verifier_matches_trial_division(prime_suffix):
    for problem in prime_suffix.heldout[:30] + prime_suffix.train[:30]:
        n = problem.entry
        truth = {f"{dd:02d}" for dd in range(100) if brute_is_prime(100 * n + dd)}
        accepted = {f"{dd:02d}" for dd in range(100) if prime_suffix.score(problem, f"{dd:02d}")}
        assert accepted == truth == set(problem.answers)
        assert problem.difficulty == ("hard" if len(truth) <= 4 else "easy")
        for bad in (str(int(min(truth))), min(truth) + "1", "", "ab"):
            if bad not in truth:
                assert nt.prime_suffix_score(problem, bad) == 0.0


def test_sieves_match_trial_division():
    spf = nt.smallest_prime_factors(5000)
    is_prime = nt.prime_table(5000)
    for m in range(2, 5001):
        assert is_prime[m] == brute_is_prime(m)
        assert spf[m] == min(d for d in range(2, m + 1) if m % d == 0)
    with pytest.raises(ValueError):
        spf[10] = 0  # the cached tables are read-only


@pytest.mark.parametrize("name", ["divisor", "prime_suffix"])
def test_hash_split_is_disjoint_stable_and_exactly_mixed(name):
    task = Task(name, seed=5, n_train=800, n_eval=300)
    train, heldout = {p.entry for p in task.train}, {p.entry for p in task.heldout}
    assert len(train) == 800 and len(heldout) == 300  # no problem repeats in a split
    assert not train & heldout
    # The split is a function of (seed, problem) alone.
    assert all(in_heldout(f"{name}:{n}", 5, nt.HELDOUT_FRACTION) for n in heldout)
    assert not any(in_heldout(f"{name}:{n}", 5, nt.HELDOUT_FRACTION) for n in train)
    again = Task(name, seed=5, n_train=800, n_eval=300)
    assert [p.prompt for p in again.heldout] == [p.prompt for p in task.heldout]
    other = Task(name, seed=6, n_train=800, n_eval=300)
    assert {p.entry for p in other.heldout} != heldout
    for split, size in ((task.train, 800), (task.heldout, 300)):
        assert collections.Counter(p.difficulty for p in split) == {
            "hard": round(nt.HARD_FRACTION * size),
            "easy": size - round(nt.HARD_FRACTION * size),
        }


def test_held_out_fraction_of_the_hash_split():
    held = sum(in_heldout(f"divisor:{n}", 0, 1 / 8) for n in range(20_000))
    assert abs(held / 20_000 - 1 / 8) < 0.01


def test_references_are_drawn_uniformly_among_correct_answers(divisor):
    problem = next(p for p in divisor.train if len(p.answers) >= 6)
    rng = np.random.default_rng(0)
    draws = collections.Counter(divisor.reference(problem, rng) for _ in range(6000))
    assert set(draws) == set(problem.answers)
    expected = 6000 / len(problem.answers)
    chi2 = sum((c - expected) ** 2 / expected for c in draws.values())
    assert chi2 < 3 * len(problem.answers)  # far below for a uniform draw


def test_too_many_problems_is_a_clear_error():
    with pytest.raises(ValueError, match=r"only \d+ distinct hard problems in the held-out split"):
        Task("divisor", seed=0, n_train=10, n_eval=100_000)


def test_longest_answer_fits_the_response_cap():
    from advshape.lm.tasks import get_task_spec

    assert get_task_spec("divisor").max_answer_chars == len(str(99_999 // 2))
    assert get_task_spec("prime_suffix").max_answer_chars == 2


def brute_palindromes(bag: str) -> set[str]:
    import itertools

    return {"".join(p) for p in itertools.permutations(bag) if "".join(p) == "".join(p)[::-1]}


def test_palindrome_verifier_and_answers_match_brute_force():
    from advshape.lm.tasks import palindrome as pal

    task = Task("palindrome", seed=2, n_train=300, n_eval=60)
    rng = np.random.default_rng(1)
    checked = 0
    for problem in task.heldout + task.train[:60]:
        bag = problem.key
        assert sorted(problem.prompt[:-1]) == list(bag) and problem.prompt.endswith(":")
        assert problem.difficulty == ("hard" if len(bag) >= 7 else "easy")
        assert task.score(problem, task.reference(problem, rng)) == 1.0
        if len(bag) <= 8:  # brute force over all orderings of the bag
            truth = brute_palindromes(bag)
            assert set(pal.palindromes(bag)) == truth
            for candidate in {"".join(p) for p in itertools_sample(bag, rng)}:
                assert (task.score(problem, candidate) == 1.0) == (candidate in truth)
            checked += 1
    assert checked > 50
    problem = task.train[0]
    for bad in ("", problem.key.upper(), problem.key + "a", "a1a", "ab ba"):
        assert pal.palindrome_score(problem, bad) == 0.0


def itertools_sample(bag: str, rng, count: int = 30):
    """Random orderings of the bag, and the sorted bag itself (rarely a palindrome)."""
    letters = list(bag)
    out = ["".join(letters)]
    for _ in range(count):
        rng.shuffle(letters)
        out.append("".join(letters))
    return out


def test_palindrome_references_are_uniform_among_all_answers():
    from advshape.lm.tasks import palindrome as pal

    task = Task("palindrome", seed=2, n_train=300, n_eval=60)
    problem = next(p for p in task.train if 6 <= len(pal.palindromes(p.key)) <= 30)
    answers = pal.palindromes(problem.key)
    rng = np.random.default_rng(0)
    draws = collections.Counter(task.reference(problem, rng) for _ in range(300 * len(answers)))
    assert set(draws) == set(answers)
    expected = 300
    chi2 = sum((c - expected) ** 2 / expected for c in draws.values())
    assert chi2 < 3 * len(answers)


def test_palindrome_split_is_disjoint_and_stable():
    task = Task("palindrome", seed=4, n_train=500, n_eval=100)
    train, heldout = {p.key for p in task.train}, {p.key for p in task.heldout}
    assert len(train) == 500 and len(heldout) == 100 and not train & heldout
    assert all(in_heldout(f"palindrome:{b}", 4, 1 / 8) for b in heldout)
    assert [p.prompt for p in Task("palindrome", seed=4, n_train=500, n_eval=100).heldout] == [
        p.prompt for p in task.heldout
    ]


def test_subset_sum_verifier_matches_brute_force_over_all_orderings():
    import itertools

    from advshape.lm.tasks import subset_sum as ss

    task = Task("subset_sum", seed=1, n_train=200, n_eval=60)
    for problem in task.heldout[:25] + task.train[:25]:
        numbers, target = problem.entry
        assert problem.prompt == " ".join(map(str, numbers)) + f">{target}:"
        assert problem.difficulty == ("easy" if target in numbers else "hard")
        truth: set[str] = set()
        everything: set[str] = set()
        for size in range(1, 7):
            for chosen in itertools.permutations(range(6), size):
                text = "+".join(str(numbers[i]) for i in chosen)
                everything.add(text)
                if sum(numbers[i] for i in chosen) == target:
                    truth.add(text)
        for text in everything:
            assert (ss.subset_sum_score(problem, text) == 1.0) == (text in truth), text
        # The warm start's answers are the selections by position, in prompt order.
        brute = [
            c
            for size in range(1, 7)
            for c in itertools.combinations(range(6), size)
            if sum(numbers[i] for i in c) == target
        ]
        assert problem.answers == tuple("+".join(str(numbers[i]) for i in c) for c in brute)
        for bad in (str(target) + "+0", "0" + str(numbers[0]), "", "+", f"{target}-0", "99+99"):
            assert ss.subset_sum_score(problem, bad) == 0.0


def test_subset_sum_split_and_mix():
    task = Task("subset_sum", seed=7, n_train=400, n_eval=100)
    train, heldout = {p.key for p in task.train}, {p.key for p in task.heldout}
    assert len(train) == 400 and len(heldout) == 100 and not train & heldout
    assert all(in_heldout(f"subset_sum:{k}", 7, 1 / 8) for k in heldout)
    assert collections.Counter(p.difficulty for p in task.heldout) == {"easy": 50, "hard": 50}
