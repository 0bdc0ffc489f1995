"""maxrl, w_reinforce, nsr, psr and grpo_passk: exact scores, exact finite-N expected updates,
closed-form surrogates against quadrature, and grpo_passk against verl's own function."""

from __future__ import annotations

from fractions import Fraction
from math import comb

import mpmath
import numpy as np
import pytest

import advshape
from tests import _reference as ref

CASES = [
    ("maxrl", {}),
    ("nsr", {}),
    ("psr", {}),
    ("w_reinforce", {}),
    ("w_reinforce", {"lam": 0.5}),
    ("w_reinforce", {"lam": 2.0}),
    ("grpo_passk", {}),
    ("grpo_passk", {"eps": 0.0}),
    ("grpo_passk", {"eps": 0.25}),
    ("grpo_passk", {"std": "none"}),
]


@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}{p}" for n, p in CASES])
def test_scores_every_n_up_to_32_against_the_definitions(name, params):
    shaper = advshape.shaper(name, **params)
    for n in range(shaper.info.min_n, 33):
        a_pos, a_neg = shaper.scores(np.arange(n + 1), n)
        for m in range(n + 1):
            r = ref.rewards_vector(m, n)
            extra = {"lam": shaper.params["lam"]} if "lam" in shaper.params else {}
            extra |= {k: v for k, v in shaper.params.items() if k != "lam"}
            if m >= 1:
                want = float(ref.reference_advantage(name, r, 0, **extra))
                assert a_pos[m] == pytest.approx(want, rel=1e-13, abs=1e-15), (name, n, m)
            if m < n:
                want = float(ref.reference_advantage(name, r, n - 1, **extra))
                assert a_neg[m] == pytest.approx(want, rel=1e-13, abs=1e-15), (name, n, m)


def test_grpo_passk_needs_two_responses():
    with pytest.raises(ValueError, match="at least 2 responses"):
        advshape.shaper("grpo_passk").advantages(np.array([[1.0]]))


def _exact_c_n(advantage, n: int, rho: Fraction) -> Fraction:
    """c_N(ρ) = (1/N) Σ_m Bin(m; N, ρ)·Σ_i A_i·(r_i/ρ − (1 − r_i)/(1 − ρ))  (Lemma 2), exactly,
    with A_i from the reference definition on the pattern of m successes."""
    total = Fraction(0)
    for m in range(n + 1):
        r = ref.rewards_vector(m, n)
        drift = sum(
            advantage(r, i) / rho if r[i] else -advantage(r, i) / (1 - rho) for i in range(n)
        )
        total += comb(n, m) * rho**m * (1 - rho) ** (n - m) * drift
    return total / n


RHOS = [Fraction(1, 9), Fraction(1, 3), Fraction(1, 2), Fraction(5, 7)]


def test_maxrl_ascends_the_truncated_likelihood_exactly():
    """c_N(ρ) = (1 − (1 − ρ)^{N−1})/ρ = Σ_{k=1}^{N−1} (1/k)·dPass@k/dρ exactly (Fractions): MaxRL's
    truncated maximum-likelihood objective with N − 1 terms, → d log ρ/dρ = 1/ρ as N → ∞."""
    for n in range(2, 13):
        for rho in RHOS:
            exact = _exact_c_n(ref.maxrl, n, rho)
            assert exact == (1 - (1 - rho) ** (n - 1)) / rho, (n, rho)
            assert exact == sum(Fraction(1, k) * k * (1 - rho) ** (k - 1) for k in range(1, n))
        got = advshape.expected_update_coefficient(
            advshape.shaper("maxrl"), n, [float(r) for r in RHOS]
        )
        want = [float((1 - (1 - r) ** (n - 1)) / r) for r in RHOS]
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize(
    ("name", "lam", "slope"),
    [
        ("psr", 0.0, Fraction(1)),
        ("nsr", 0.0, Fraction(1)),
        ("w_reinforce", 0.1, 1 + Fraction(0.1)),
        ("w_reinforce", 0.5, Fraction(3, 2)),
    ],
)
def test_psr_nsr_w_reinforce_have_the_same_expected_update_as_reinforce(name, lam, slope):
    """A⁺ = a, A⁻ = −b gives c_N(ρ) = a + b at every N and ρ, exactly: the REINFORCE surrogate ρ
    scaled by a + b (the binary float λ = 0.1 is used at its exact value)."""
    for n in range(1, 11):
        for rho in RHOS:
            assert _exact_c_n(lambda r, i: ref.psr_nsr(r, i, name, lam), n, rho) == slope
        params = {"lam": lam} if name == "w_reinforce" else {}
        got = advshape.expected_update_coefficient(advshape.shaper(name, **params), n, [0.3, 0.9])
        np.testing.assert_allclose(got, float(slope), rtol=1e-14)


@pytest.mark.parametrize("eps", [0.0, 1e-6, 0.5])
def test_grpo_passk_ascends_pass_at_n_exactly(eps):
    """c_N(ρ) = A⁺(1, N)·(1 − ρ)^{N−1} ∝ dPass@N/dρ: unbiased for Pass@N, the whole group."""
    s = advshape.shaper("grpo_passk", eps=eps)
    for n in range(2, 11):

        def adv(r, i):  # exact for std="none"; the std factor is the constant A⁺(1, N)
            return Fraction(int(ref.grpo_passk(r, i, std="none")))  # a 0/1 gap on 0/1 rewards

        for rho in RHOS:
            assert _exact_c_n(adv, n, rho) == (1 - rho) ** (n - 1)
        a_pos_1 = float(ref.grpo_passk(ref.rewards_vector(1, n), 0, eps=eps))
        got = advshape.expected_update_coefficient(s, n, [float(r) for r in RHOS])
        np.testing.assert_allclose(
            got, [a_pos_1 * float((1 - r) ** (n - 1)) for r in RHOS], rtol=1e-13
        )
        f_n = advshape.finite_n_surrogate(s, n, np.array([0.0, 0.25, 1.0]))
        np.testing.assert_allclose(f_n, a_pos_1 / n * np.array([0.0, 1 - 0.75**n, 1.0]), rtol=1e-13)


def test_closed_forms_against_quadrature():
    """maxrl: F(ρ) − F(1) = −∫_ρ^1 dt/t; the two-level family: ∫₀^ρ (a + b) dt."""
    maxrl = advshape.shaper("maxrl").surrogate
    for point in ("1e-12", "0.01", "0.3", "0.999"):
        exact = -mpmath.quad(lambda t: 1 / t, [mpmath.mpf(point), 1])
        assert maxrl(float(point)) == pytest.approx(float(exact), rel=1e-14)
    assert maxrl(1.0) == 0.0 and maxrl(0.0) == -np.inf
    for spec, slope in (("w_reinforce", 1.1), ("w_reinforce:lam=3", 4.0), ("nsr", 1), ("psr", 1)):
        f = advshape.shaper(spec).surrogate
        for point in ("0", "0.2", "1"):
            exact = mpmath.quad(lambda t, s=slope: s, [0, mpmath.mpf(point)])
            assert f(float(point)) == pytest.approx(float(exact), rel=1e-15, abs=0)


# --- grpo_passk against verl's own function ---------------------------------------------------

verl_core = pytest.importorskip("verl.trainer.ppo.core_algos")
torch = pytest.importorskip("torch")


def _verl_passk(rewards: np.ndarray, uids: np.ndarray, eps: float, norm: bool) -> np.ndarray:
    fn = verl_core.get_adv_estimator_fn("grpo_passk")
    length = 3
    token = torch.zeros(len(rewards), length, dtype=torch.float64)
    token[:, -1] = torch.as_tensor(rewards, dtype=torch.float64)
    mask = torch.ones(len(rewards), length, dtype=torch.float64)
    adv, _ = fn(
        token_level_rewards=token,
        response_mask=mask,
        index=uids,
        epsilon=eps,
        config={"norm_adv_by_std_in_grpo": norm},
    )
    return adv[:, 0].numpy()


@pytest.mark.parametrize(("eps", "std"), [(1e-6, "sample"), (0.1, "sample"), (1e-6, "none")])
def test_grpo_passk_equals_verls_on_random_shuffled_groups(eps, std):
    rng = np.random.default_rng(7)
    shaper = advshape.shaper("grpo_passk", eps=eps, std=std)
    for trial in range(20):
        sizes = rng.integers(2, 9, size=5)
        uids = np.repeat(np.array([f"p{j}" for j in range(5)], dtype=object), sizes)
        order = rng.permutation(uids.size)
        uids = uids[order]
        if trial % 2:  # continuous rewards (no ties)
            rewards = rng.normal(size=uids.size)
        else:  # binary: ties everywhere
            rewards = (rng.random(uids.size) < rng.random()).astype(np.float64)
        ours = shaper.advantages(rewards, groups=list(uids))
        theirs = _verl_passk(rewards, uids, eps, std == "sample")
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


# --- reverse-engineering surrogates that diverge (logarithmically) at an end ----------------


def _count_shaper(name, a_pos, a_neg):
    def scores(m, n):
        m, n = np.broadcast_arrays(np.asarray(m, float), np.asarray(n, float))
        inner = (m > 0) & (m < n)
        rho = m / n
        safe = np.where(inner, rho, 0.5)
        return np.where(inner, a_pos(safe), 0.0), np.where(inner, a_neg(safe), 0.0)

    return advshape.count_shaper(name, scores)


RHO = np.array([1e-12, 1e-6, 1e-3, 0.05, 0.3, 0.5, 0.8, 0.999, 1 - 1e-6, 1 - 1e-12])


def test_reverse_engineer_reports_maxrl_as_log_rho_up_to_a_constant():
    curve = advshape.reverse_engineer("maxrl")
    assert curve.divergent == (0,) and curve.anchor == 1.0
    assert "diverges (logarithmically) at ρ = 0" in curve.describe()
    assert curve(0.0) == -np.inf and curve(1.0) == 0.0
    np.testing.assert_allclose(curve(RHO), np.log(RHO), rtol=1e-9, atol=1e-8)
    np.testing.assert_allclose(curve.derivative(np.array([0.01, 0.5])), [100, 2], rtol=1e-6)
    with pytest.raises(ValueError, match="no normalisation"):
        curve.normalised(0.5)
    # the finite-N surrogate stays finite: F_N(ρ) − F_N(1) = −Σ_{k<N} (1 − ρ)^k/k
    f_8 = advshape.reverse_engineer("maxrl", n=8)
    want = -sum((1 - RHO) ** k / k for k in range(1, 8))
    np.testing.assert_allclose(f_8(RHO) - f_8(1.0), want, rtol=1e-12, atol=1e-13)


def test_reverse_engineer_right_and_two_sided_log_divergence():
    right = _count_shaper("right", lambda r: np.ones_like(r), lambda r: -r / (1 - r))
    curve = advshape.reverse_engineer(right)  # F' = 1/(1 − ρ): F = −log(1 − ρ), F(0) = 0
    assert curve.divergent == (1,) and curve.anchor == 0.0 and curve(1.0) == np.inf
    np.testing.assert_allclose(curve(RHO), -np.log1p(-RHO), rtol=1e-9, atol=1e-8)
    logit = _count_shaper("logit", lambda r: (1 - r) / r, lambda r: -r / (1 - r))
    curve = advshape.reverse_engineer(logit)  # F' = 1/ρ + 1/(1 − ρ) − 2, anchored F(½) = 0
    assert curve.divergent == (0, 1) and curve.anchor == 0.5
    np.testing.assert_allclose(curve(RHO), np.log(RHO / (1 - RHO)) - 2 * RHO + 1, rtol=0, atol=3e-7)


def test_readme_psr_nsr_table_is_generated_from_exact_moments():
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("upd", root / "scripts/update_readme_recent.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    section = (root / "docs/surrogates.md").read_text().split(module.START + "\n", 1)[1]
    assert section.split("\n" + module.END, 1)[0] == module.render(), (
        "run: python scripts/update_readme_recent.py"
    )


def test_bernoulli_update_moments_by_hand():
    """N = 1, PSR: g = r/ρ, so E g = 1 and Var g = (1 − ρ)/ρ."""
    from advshape.surrogates.verify import bernoulli_update_moments

    rho = Fraction(1, 4)
    mean, var = bernoulli_update_moments(lambda m, n: (Fraction(1), Fraction(0)), 1, rho)
    assert (mean, var) == (1, Fraction(3))


def test_surrogate_plot_handles_divergent_and_missing_population_surrogates(tmp_path):
    import warnings

    pytest.importorskip("matplotlib")
    from advshape.plots import figures

    shapers = [advshape.shaper("maxrl"), advshape.shaper("grpo_passk"), advshape.shaper("grpo")]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NaN from normalising −inf
        written = figures.plot_surrogates(shapers, 8, tmp_path)
    assert [p.suffix for p in written] == [".png", ".svg"]
    assert "not normalisable" in written[1].read_text()
