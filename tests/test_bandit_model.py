"""advshape.bandit.model: problem generation, exact rho, rho_K and gradients.

Independent references: plain-Python sums (math.fsum over math.exp) for rho, Fractions for
rho_K, and central finite differences for every gradient.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from advshape.bandit import model as bm


def _problems(seed=0, **kw):
    args = dict(
        num_problems=40,
        num_answers=7,
        max_correct=3,
        difficulty="loguniform:0.01,0.6",
        test_fraction=0.25,
        features=5,
    )
    args.update(kw)
    return bm.make_problems(np.random.default_rng(seed), **args)


def _rho_python(logits_row, correct_row):
    e = [math.exp(z) for z in logits_row]
    return math.fsum(x for x, c in zip(e, correct_row) if c) / math.fsum(e)


def test_structure_correct_answers_and_split():
    pr = _problems(num_problems=200, max_correct=3)
    n_correct = pr.correct.sum(axis=1)
    assert n_correct.min() >= 1 and n_correct.max() <= 3
    assert set(np.unique(n_correct)) == {1, 2, 3}  # several correct answers occur
    assert (pr.correct.shape[1] - n_correct).min() >= 1
    assert len(pr.test) == 50 and len(pr.train) == 150
    assert sorted(np.concatenate([pr.train, pr.test]).tolist()) == list(range(200))
    assert pr.features.shape == (200, 7, 5) and pr.features.dtype == np.float32


def test_fixed_difficulty_is_hit_exactly():
    pr = _problems(difficulty="fixed:0.125", num_problems=30)
    for p in range(30):
        assert _rho_python(pr.prior[p], pr.correct[p]) == pytest.approx(0.125, rel=1e-12)
    np.testing.assert_allclose(pr.initial_rho, 0.125, rtol=1e-12)


def test_loguniform_difficulty_distribution():
    # log rho ~ Uniform(log lo, log hi): mean and std of log rho within 4 standard errors
    lo, hi, p = 0.002, 0.5, 4000
    pr = _problems(difficulty=f"loguniform:{lo},{hi}", num_problems=p, features=0)
    log_rho = np.log(pr.initial_rho)
    assert log_rho.min() >= math.log(lo) - 1e-9 and log_rho.max() <= math.log(hi) + 1e-9
    width = math.log(hi) - math.log(lo)
    mean, sd = (math.log(lo) + math.log(hi)) / 2, width / math.sqrt(12)
    assert abs(log_rho.mean() - mean) < 4 * sd / math.sqrt(p)
    assert abs(log_rho.std() - sd) < 0.05 * sd
    # and many problems are hard: P[rho < 0.02] = log(10)/log(250)
    assert abs(np.mean(pr.initial_rho < 0.02) - math.log(10) / width) < 0.03


def test_rho_matches_python_sum_for_both_models():
    pr = _problems()
    for kind in bm.MODELS:
        policy = bm.make_policy(kind, pr)
        policy.params += np.random.default_rng(1).standard_normal(policy.params.shape) * 0.3
        rho = bm.success_rates(policy)
        z = policy.logits()
        for p in range(pr.num_problems):
            assert rho[p] == pytest.approx(_rho_python(z[p], pr.correct[p]), rel=1e-12)


def test_pass_at_k_exact_against_fractions():
    rhos = [Fraction(1, 1000), Fraction(1, 7), Fraction(1, 2), Fraction(999, 1000)]
    for k in (1, 2, 8, 64):
        got = bm.pass_at_k_exact(np.array([float(r) for r in rhos]), k)
        want = [float(1 - (1 - r) ** k) for r in rhos]
        np.testing.assert_allclose(got, want, rtol=1e-13)
    # near rho = 1 the failure rate given separately keeps precision
    assert bm.pass_at_k_exact(np.array([1.0]), 3, fail=np.array([1e-10]))[0] == pytest.approx(
        1 - 1e-30, abs=0
    )
    assert bm.pass_at_k_exact(np.array([1.0]), 3)[0] == 1.0


def test_rho_gradient_against_finite_differences_tabular():
    pr = _problems(features=0, test_fraction=0.0, num_problems=6)
    policy = bm.make_policy("tabular", pr)
    pi = bm.softmax(policy.logits())
    _, grad = bm.rho_logit_grad(pi, pr.correct)
    h = 1e-6
    for p in range(6):
        for a in range(pr.num_answers):
            zp, zm = policy.params[p].copy(), policy.params[p].copy()
            zp[a] += h
            zm[a] -= h
            fd = (_rho_python(zp, pr.correct[p]) - _rho_python(zm, pr.correct[p])) / (2 * h)
            assert grad[p, a] == pytest.approx(fd, abs=1e-9)


def test_shared_param_grad_is_chain_rule_of_batch_mean():
    pr = _problems()
    policy = bm.make_policy("shared", pr)
    policy.params[:] = np.random.default_rng(2).standard_normal(policy.params.shape) * 0.2
    rows = pr.train[:9]
    _, grad = bm.rho_logit_grad(bm.softmax(policy.logits(rows)), pr.correct[rows])
    g = policy.param_grad(rows, grad)

    def mean_rho(w):
        z = pr.prior[rows] + pr.features[rows].astype(np.float64) @ w
        return np.mean([_rho_python(z[i], pr.correct[rows][i]) for i in range(len(rows))])

    h = 1e-6
    for d in range(len(policy.params)):
        e = np.zeros_like(policy.params)
        e[d] = h
        fd = (mean_rho(policy.params + e) - mean_rho(policy.params - e)) / (2 * h)
        assert g[d] == pytest.approx(fd, abs=1e-6)  # features are float32 in the chain rule


def test_tabular_param_grad_scatters_duplicates():
    pr = _problems(features=0, test_fraction=0.0, num_problems=4)
    policy = bm.make_policy("tabular", pr)
    g = np.ones((3, pr.num_answers))
    out = policy.param_grad(np.array([1, 1, 3]), g)
    np.testing.assert_array_equal(out[1], 2.0)
    np.testing.assert_array_equal(out[3], 1.0)
    np.testing.assert_array_equal(out[[0, 2]], 0.0)


def test_reproducible_from_seed():
    a, b, c = _problems(seed=5), _problems(seed=5), _problems(seed=6)
    for field in ("correct", "prior", "features", "train"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.prior, c.prior)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("loguniform:0,0.5", "0 < LOW"),
        ("uniform:0.5,0.1", "0 < LOW <= HIGH"),
        ("fixed:1.0", "0 < LOW"),
        ("gamma:1,2", "cannot parse"),
        ("loguniform:a,b", "cannot parse"),
        ("loguniform:0.1", "cannot parse"),
    ],
)
def test_bad_difficulty(text, match):
    with pytest.raises(ValueError, match=match):
        bm.Difficulty.parse(text)


def test_bad_problem_sets():
    with pytest.raises(ValueError, match="max_correct"):
        _problems(max_correct=7)
    with pytest.raises(ValueError, match="at least 2 answers"):
        _problems(num_answers=1, max_correct=1)
    with pytest.raises(ValueError, match="empty train or test"):
        _problems(num_problems=2, test_fraction=0.1)
    with pytest.raises(ValueError, match="unknown model"):
        bm.make_policy("deep", _problems())
    with pytest.raises(ValueError, match="needs answer features"):
        bm.make_policy("shared", _problems(features=0))
