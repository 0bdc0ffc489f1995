"""advshape.bandit.dynamics against theory.

- brute force: enumerating all M^N response tuples (tiny M, N) gives the exact mean of the
  sampled update, computed with the shaper's own ``advantages`` on each reward vector and a
  per-response loop; it must equal c_N(ρ)·∇ρ to 1e-12;
- Monte Carlo: the mean of T = 40,000 sampled updates per problem (N = 16, M = 8) is within
  5 standard errors of the exact expected update, coordinate by coordinate;
- expected dynamics ascend F_N: the sum over problems of the shaper's exact finite-N
  surrogate never decreases along 30 small SGD steps (tabular and shared);
- rloo_k's expected update is exactly ∇(ρ_K)/K (central finite differences of ρ_K), so its
  expected dynamics follow gradient ascent on Pass@K.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import advshape
from advshape.bandit import dynamics as dyn
from advshape.bandit import model as bm
from advshape.bandit.run import DEFAULT_SHAPERS, resolve_shaper

SHAPERS = [resolve_shaper(s, 8).at(1) for s in DEFAULT_SHAPERS]
# the 2026 shapers, among them ones that update all-wrong groups (maclaurin, linear_r, sqrt_r)
NEW_SHAPERS = [
    resolve_shaper(s, 2).at(1)
    for s in (
        "maclaurin:T=3",
        "maclaurin_cross_fitted:T=2",
        "maclaurin_loo:T=2",
        "linear_r",
        "sqrt_r",
        "focal:gamma=0.5",
        "maxpo:k=2",
    )
]
SMALL_K_SHAPERS = [resolve_shaper(s, 2).at(1) for s in DEFAULT_SHAPERS] + NEW_SHAPERS


def _tabular(num_problems=5, num_answers=4, seed=0, difficulty="uniform:0.05,0.9", max_correct=2):
    pr = bm.make_problems(
        np.random.default_rng(seed),
        num_problems=num_problems,
        num_answers=num_answers,
        max_correct=max_correct,
        difficulty=difficulty,
    )
    return pr, bm.make_policy("tabular", pr)


@pytest.mark.parametrize("shaper", SMALL_K_SHAPERS, ids=lambda s: s.spec)
def test_expected_update_equals_brute_force_enumeration(shaper):
    n, m = 3, 4
    pr, policy = _tabular(num_problems=3, num_answers=m)
    pi = bm.softmax(policy.logits())
    exact, _ = dyn.expected_logit_update(shaper, n, pi, pr.correct)
    table = dyn.score_table(shaper, n)
    for p in range(pr.num_problems):
        total = np.zeros(m)
        for ys in itertools.product(range(m), repeat=n):
            prob = np.prod(pi[p, list(ys)])
            rewards = pr.correct[p, list(ys)].astype(np.float64)
            adv = shaper.advantages(rewards[None, :])[0]
            direct = sum(adv[i] * (np.eye(m)[ys[i]] - pi[p]) for i in range(n)) / n
            fast, _ = dyn.sampled_logit_update(
                pi[p : p + 1], pr.correct[p : p + 1], np.array([ys], dtype=np.int32), table
            )
            np.testing.assert_allclose(fast[0], direct, atol=1e-14)
            total += prob * direct
        np.testing.assert_allclose(exact[p], total, atol=1e-12)


@pytest.mark.parametrize("shaper", SHAPERS, ids=lambda s: s.spec)
def test_monte_carlo_mean_of_sampled_updates_converges(shaper):
    n, trials = 16, 40_000
    pr, policy = _tabular(num_problems=4, num_answers=8, difficulty="uniform:0.05,0.6", seed=3)
    pi64 = bm.softmax(policy.logits())
    exact, _ = dyn.expected_logit_update(shaper, n, pi64, pr.correct)
    pi = np.repeat(pi64.astype(np.float32), trials, axis=0)
    correct = np.repeat(pr.correct, trials, axis=0)
    answers = dyn.sample_answers(pi, np.random.default_rng(11), n)
    upd, _ = dyn.sampled_logit_update(pi, correct, answers, dyn.score_table(shaper, n))
    upd = upd.reshape(4, trials, 8)
    mean, se = upd.mean(axis=1), upd.std(axis=1) / np.sqrt(trials)
    assert np.all(np.abs(mean - exact) <= 5 * se + 1e-6), np.max(
        np.abs(mean - exact) / (se + 1e-12)
    )


@pytest.mark.parametrize("m", [2, 5, 7, 64])
def test_sample_answers_follows_the_policy(m):
    rng = np.random.default_rng(m)
    pi = bm.softmax(rng.standard_normal((3, m)).astype(np.float32))
    draws = 60_000
    answers = dyn.sample_answers(pi, rng, draws)
    assert answers.min() >= 0 and answers.max() < m
    for row in range(3):
        freq = np.bincount(answers[row], minlength=m) / draws
        se = np.sqrt(pi[row] * (1 - pi[row]) / draws)
        assert np.all(np.abs(freq - pi[row]) <= 5 * se + 1e-7)


def _surrogate_sum(shaper, n, policy, rows):
    rho = bm.success_rates(policy, rows)
    return float(np.sum(advshape.finite_n_surrogate(shaper, n, rho)))


@pytest.mark.parametrize("model", ["tabular", "shared"])
@pytest.mark.parametrize("shaper", SHAPERS + NEW_SHAPERS, ids=lambda s: s.spec)
def test_expected_dynamics_never_decrease_the_finite_n_surrogate(model, shaper):
    config = dyn.BanditConfig(
        model=model,
        problems=60,
        answers=6,
        features=4,
        test_fraction=0.0,
        difficulty="loguniform:0.01,0.9",
        dynamics="expected",
        optimizer="sgd",
        lr=0.05 if model == "tabular" else 0.01,
        steps=30,
        batch=60,
        log_every=30,
        n=16,
        k=8,
    )
    values = []

    def record(step, policy):
        values.append(_surrogate_sum(shaper, config.n, policy, policy.problems.train))

    dyn.simulate(config, shaper, seed=0, on_step=record)
    diffs = np.diff(values)
    assert np.all(diffs >= -1e-12), diffs.min()
    assert values[-1] > values[0]  # and it does move


@pytest.mark.parametrize("model", ["tabular", "shared"])
def test_rloo_k_expected_update_is_the_pass_at_k_gradient(model):
    k, n = 4, 10
    pr = bm.make_problems(
        np.random.default_rng(4),
        num_problems=6,
        num_answers=5,
        max_correct=2,
        difficulty="uniform:0.02,0.8",
        features=3,
    )
    policy = bm.make_policy(model, pr)
    policy.params += np.random.default_rng(5).standard_normal(policy.params.shape) * 0.2
    rows = pr.train
    grad, *_ = dyn.parameter_update(
        policy, rows, advshape.shaper("rloo_k", k=k), n, "expected", np.random.default_rng(0)
    )

    # objective whose gradient the update must be: Σ ρ_K/K (tabular) or its batch mean (shared)
    def objective(params):
        saved = policy.params.copy()
        policy.params[...] = params
        rho_k = 1 - (1 - bm.success_rates(policy, rows)) ** k
        policy.params[...] = saved
        return rho_k.sum() / k if model == "tabular" else rho_k.mean() / k

    h = 1e-6
    fd = np.zeros_like(policy.params)
    for idx in np.ndindex(policy.params.shape):
        e = np.zeros_like(policy.params)
        e[idx] = h
        fd[idx] = (objective(policy.params + e) - objective(policy.params - e)) / (2 * h)
    np.testing.assert_allclose(grad, fd, atol=1e-6 if model == "shared" else 1e-9)


def _expected_tabular(**kw):
    """Full-batch tabular SGD under expected dynamics (deterministic)."""
    kw = {"model": "tabular", "dynamics": "expected", "optimizer": "sgd", "n": 16, "k": 8, **kw}
    return dyn.BanditConfig(batch=kw["problems"], log_every=kw["steps"], **kw)


def test_rloo_k_expected_trajectory_is_gradient_ascent_on_pass_at_k():
    # five SGD steps of simulate() == five steps of gradient ascent on Σ ρ_K / K, where the
    # gradient is K(1-ρ)^{K-1} ∂ρ/∂z written out directly
    k, n, lr = 8, 16, 0.5
    config = _expected_tabular(
        problems=10, answers=6, difficulty="loguniform:0.01,0.5", lr=lr, steps=5, n=n, k=k
    )
    got = []
    dyn.simulate(config, "rloo_k:k=8", seed=2, on_step=lambda s, pol: got.append(pol.params.copy()))
    pr = bm.make_problems(
        np.random.default_rng([2, 0]),
        num_problems=10,
        num_answers=6,
        max_correct=config.max_correct,
        difficulty=config.difficulty,
    )
    z = pr.prior.copy()
    for step in range(5):
        pi = bm.softmax(z)
        rho = (pi * pr.correct).sum(axis=1)
        z = z + lr * ((1 - rho) ** (k - 1))[:, None] * pi * (pr.correct - rho[:, None])
        np.testing.assert_allclose(got[step], z, rtol=1e-12, atol=1e-12)


def test_zero_gradient_fraction_expected_is_exact_probability():
    config = _expected_tabular(problems=8, answers=4, difficulty="fixed:0.1", steps=1)
    rec = dyn.simulate(config, "grpo", seed=0)[-1]
    # the step is taken at ρ = 0.1 exactly: P[all wrong or all right] = 0.9^16 + 0.1^16
    assert rec["zero_group_frac"] == pytest.approx(0.9**16 + 0.1**16, rel=1e-12)
    # grpo_k:k=8 also zeroes groups with fewer than K-1 = 7 wrong answers: N+ >= 10 (and 0)
    rec = dyn.simulate(config, "grpo_k:k=8", seed=0)[-1]
    from math import comb

    tail = sum(comb(16, j) * 0.1**j * 0.9 ** (16 - j) for j in range(10, 17))
    assert rec["zero_update_frac"] == pytest.approx(0.9**16 + tail, rel=1e-10)


def test_prioritised_sampling_weights_by_one_minus_tracked_success():
    train = np.arange(4)
    sampler = dyn.ProblemSampler("prioritised", train, 1, 4)
    sampler.observe(train, np.array([0.0, 0.5, 0.75, 1.0]))
    rng = np.random.default_rng(0)
    draws = np.array([sampler.draw(rng)[0] for _ in range(20_000)])
    freq = np.bincount(draws, minlength=4) / len(draws)
    want = np.array([1.0, 0.5, 0.25, 0.0]) / 1.75
    assert np.all(np.abs(freq - want) <= 5 * np.sqrt(want * (1 - want) / len(draws)) + 1e-12)
    # a problem with weight 0 is still taken when the batch needs it
    sampler = dyn.ProblemSampler("prioritised", train, 3, 4)
    sampler.observe(train, np.array([1.0, 1.0, 0.0, 0.5]))
    assert len(set(sampler.draw(rng).tolist())) == 3


def test_uniform_sampling_draws_distinct_training_problems():
    sampler = dyn.ProblemSampler("uniform", np.arange(10, 30), 7, 40)
    rows = sampler.draw(np.random.default_rng(0))
    assert len(set(rows.tolist())) == 7 and rows.min() >= 10 and rows.max() < 30


def test_optimisers():
    p = np.array([1.0, -2.0])
    dyn.Sgd(0.5).step(p, np.array([2.0, 4.0]))
    np.testing.assert_array_equal(p, [2.0, 0.0])
    p = np.zeros(3)
    dyn.Adam(0.1).step(p, np.array([3.0, -1e-3, 0.0]))  # first Adam step: lr·sign(g)
    np.testing.assert_allclose(p, [0.1, -0.1, 0.0], rtol=1e-4)


def test_simulate_is_reproducible_and_seed_dependent():
    config = dyn.BanditConfig(problems=80, steps=12, batch=16, log_every=4, features=4)
    a = dyn.simulate(config, "grpo", seed=1)
    b = dyn.simulate(config, "grpo", seed=1)
    c = dyn.simulate(config, "grpo", seed=2)
    assert a == b
    assert a != c
    assert [r["samples"] for r in a] == [0, 4 * 16 * 16, 8 * 16 * 16, 12 * 16 * 16]
    assert set(a[-1]) >= {"train_pass@1", "train_pass@8", "test_pass@16", "zero_group_frac"}


def test_sampled_training_improves_pass_at_1():
    config = dyn.BanditConfig(problems=200, steps=60, batch=50, log_every=60, features=8)
    rec = dyn.simulate(config, "rloo", seed=0)
    assert rec[-1]["train_pass@1"] > rec[0]["train_pass@1"] + 0.02


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (dict(model="deep"), "model must be one of"),
        (dict(dynamics="mean"), "dynamics must be one of"),
        (dict(optimizer="rmsprop"), "optimizer must be one of"),
        (dict(sampling="greedy"), "sampling must be one of"),
        (dict(lr=float("nan")), "lr must be"),
        (dict(lr=-1.0), "lr must be"),
        (dict(batch=10_000), "--batch 10000 exceeds the 30 training problems"),
        (dict(test_fraction=1.5), r"--test-fraction must be a number in \[0, 1\), got 1.5"),
        (dict(problems=0), r"--problems must be an integer in \[1, "),
        (dict(answers=8, max_correct=8), "--max-correct 8 must be at most --answers - 1 = 7"),
        (dict(prior_noise=1e308), r"--prior-noise must be a number in \[0, 30\]"),
        (dict(feature_signal=float("nan")), "--feature-signal must be a number"),
        (dict(steps=0), "steps must be"),
        (dict(difficulty="loguniform:0,1"), "0 < LOW"),
    ],
)
def test_bad_config(change, match):
    config = dyn.BanditConfig(**{"problems": 40, "batch": 8, **change})
    with pytest.raises(ValueError, match=match):
        dyn.simulate(config, "grpo", seed=0)


def test_shaper_that_needs_more_samples_than_n():
    config = dyn.BanditConfig(problems=40, batch=8, n=4)
    with pytest.raises(ValueError, match="k=8 > group size n=4"):
        dyn.simulate(config, "grpo_k:k=8", seed=0)


def test_k_schedule_uses_each_steps_shaper(monkeypatch):
    # steps(4@1,2@3) over 4 steps: k = 4, 4, 2, 2; and a schedule that has not yet left its
    # first value trains exactly as the fixed shaper (same random draws).
    config = dyn.BanditConfig(problems=80, steps=4, batch=16, log_every=2, features=4)
    used = []
    real = dyn.parameter_update

    def recording(policy, rows, shaper, *args, **kwargs):
        used.append(shaper.spec)
        return real(policy, rows, shaper, *args, **kwargs)

    monkeypatch.setattr(dyn, "parameter_update", recording)
    dyn.simulate(config, "grpo_k:k=steps(4@1,2@3)", seed=0)
    assert used == ["grpo_k:k=4", "grpo_k:k=4", "grpo_k:k=2", "grpo_k:k=2"]
    fixed = dyn.simulate(config, "grpo_k:k=4", seed=0)
    assert dyn.simulate(config, "grpo_k:k=steps(4@1,2@5)", seed=0) == fixed
    assert dyn.simulate(config, "grpo_k:k=linear(4,1)", seed=0) != fixed


def test_k_schedule_above_n_fails_before_the_run():
    config = dyn.BanditConfig(problems=40, batch=8, n=4)
    with pytest.raises(ValueError, match="k=6 > group size n=4"):
        dyn.simulate(config, "grpo_k:k=linear(6,1)", seed=0)


def test_simulate_step_path_matches_expected_update_on_average():
    # parameter_update("sampled") is the exact code simulate() runs (unnormalised softmax,
    # row totals from the CDF); with each problem repeated T = 40,000 times in one batch the
    # tabular gradient sums the T sampled updates, so sum/T must approach c_N(ρ)·∇ρ.
    # Tolerance 0.01 absolute: about 4 standard errors for these updates (|A| <= 4, N = 16).
    shaper, n, trials = advshape.shaper("grpo_k", k=4), 16, 40_000
    pr, policy = _tabular(num_problems=3, num_answers=6, difficulty="uniform:0.1,0.5", seed=8)
    exact, _ = dyn.expected_logit_update(shaper, n, bm.softmax(policy.logits()), pr.correct)
    rows = np.repeat(np.arange(3), trials)
    grad, success, *_ = dyn.parameter_update(
        policy, rows, shaper, n, "sampled", np.random.default_rng(9)
    )
    np.testing.assert_allclose(grad / trials, exact, atol=0.01)
    assert success.shape == (3 * trials,) and set(np.unique(success * n)) <= set(range(n + 1))


def test_unnormalised_rows_with_totals_give_the_normalised_update():
    rng = np.random.default_rng(0)
    pi = bm.softmax(rng.standard_normal((5, 9)))
    correct = rng.random((5, 9)) < 0.3
    answers = dyn.sample_answers(pi.astype(np.float32), rng, 16)
    table = dyn.score_table(advshape.shaper("rloo"), 16)
    want, n_pos = dyn.sampled_logit_update(pi, correct, answers, table)
    scale = rng.uniform(0.5, 7.0, size=5)
    got, n_pos2 = dyn.sampled_logit_update(pi * scale[:, None], correct, answers, table, scale)
    np.testing.assert_allclose(got, want, atol=1e-13)
    np.testing.assert_array_equal(n_pos, n_pos2)


def test_lazy_adam_moves_only_the_batch_rows():
    params = np.zeros((4, 3))
    adam = dyn.Adam(0.1)
    grad = np.zeros((4, 3))
    grad[1] = [2.0, -1.0, 0.0]
    adam.step(params, grad, rows=np.array([1, 2]))
    np.testing.assert_allclose(params[1], [0.1, -0.1, 0.0], rtol=1e-6)  # first step: lr·sign(g)
    np.testing.assert_array_equal(params[[0, 2, 3]], 0.0)
    # row 1 is absent from the next batch: it does not drift on its momentum
    grad[:] = 0.0
    grad[3] = [1.0, 1.0, 1.0]
    adam.step(params, grad, rows=np.array([0, 3]))
    np.testing.assert_allclose(params[1], [0.1, -0.1, 0.0], rtol=1e-6)
    np.testing.assert_allclose(params[3], 0.1, rtol=1e-6)  # its own first step
    assert adam.t.tolist() == [1, 1, 1, 1]
    with pytest.raises(ValueError, match="distinct rows"):
        adam.step(params, grad, rows=np.array([0, 0]))
