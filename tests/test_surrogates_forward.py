"""Forward-engineering: shapers from surrogate rewards (contribution C-2), and round trips."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import advshape
from advshape.surrogates.forward import from_surrogate, numeric_derivative
from advshape.surrogates.reverse import reverse_engineer

ENTROPY = "-rho*log(rho) - (1-rho)*log(1-rho)"


def _table(s, n):
    m = np.arange(n + 1)
    return s.scores(m, np.full(n + 1, n))


@pytest.mark.parametrize("n", [2, 3, 8, 16, 64])
def test_corollary_1_arcsin_gives_grpo_times_n_over_n_minus_1(n):
    forward = from_surrogate("2*asin(sqrt(rho))")
    for ours, grpo in zip(_table(forward, n), _table(advshape.shaper("grpo"), n)):
        np.testing.assert_allclose(ours, n / (n - 1) * grpo, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("lam", [0.1, 1.0, 3.0])
def test_entropy_surrogate_gives_eq_26(lam):
    forward = from_surrogate("2*asin(sqrt(rho))", regularizer=ENTROPY, lam=lam)
    n = 16
    # Eq. (26) typed in: A± = [1 + λ√(ρ̂(1−ρ̂))·log((1−ρ̂)/ρ̂)]·A±_GRPO, times RLOO's N/(N−1)
    m = np.arange(1, n)
    rho = m / n
    scale = 1 + lam * np.sqrt(rho * (1 - rho)) * np.log((1 - rho) / rho)
    a_pos, a_neg = _table(forward, n)
    np.testing.assert_allclose(
        a_pos[1:-1], n / (n - 1) * scale * np.sqrt((1 - rho) / rho), rtol=1e-13
    )
    np.testing.assert_allclose(
        a_neg[1:-1], -n / (n - 1) * scale * np.sqrt(rho / (1 - rho)), rtol=1e-13
    )
    assert a_pos[0] == a_neg[0] == a_pos[-1] == a_neg[-1] == 0.0  # constant groups: no signal


def test_claim_2_chen_surrogate_forward_engineers_to_the_population_chen():
    """Forward-engineering (2/K)·arcsin√ρ_K plugs ρ̂ into F' everywhere (also into ρ_K), so it
    differs from GRPO~_K (which uses the estimator ρ̂_K) at finite N but ascends the same F."""
    k = 4
    forward = from_surrogate(f"2/{k}*asin(sqrt(1-(1-rho)**{k}))")
    rho = np.linspace(0, 1, 51)
    reference = 2 / k * np.arcsin(np.sqrt(1 - (1 - rho) ** k))
    np.testing.assert_allclose(reverse_engineer(forward)(rho), reference, atol=1e-8)


@pytest.mark.parametrize(
    "F, reg, lam",
    [
        ("2*asin(sqrt(rho))", None, 0.0),
        ("rho**2", None, 0.0),
        ("1 - (1-rho)**5", None, 0.0),
        ("asin(sqrt(rho))", "sqrt(rho*(1-rho))", 1.0),
        ("2*asin(sqrt(rho))", ENTROPY, 2.5),
    ],
)
def test_round_trip_string(F, reg, lam):
    forward = from_surrogate(F, regularizer=reg, lam=lam)
    rho = np.concatenate([[0, 1e-12, 1e-6], np.linspace(0, 1, 101), [1 - 1e-6, 1]])
    target = forward.surrogate(rho) - forward.surrogate(0.0)
    np.testing.assert_allclose(reverse_engineer(forward)(rho), target, rtol=0, atol=1e-7)


def test_round_trip_callable_with_numerical_derivative():
    forward = from_surrogate(lambda r: 2 * np.arcsin(np.sqrt(r)), name="arcsin")
    curve = reverse_engineer(forward, resolution=2**14)
    rho = np.linspace(0, 1, 41)
    np.testing.assert_allclose(curve(rho), 2 * np.arcsin(np.sqrt(rho)), atol=1e-7)
    assert forward.name == "arcsin"


def test_numeric_derivative_accuracy_documented():
    x = np.arange(1, 4096) / 4096
    d = numeric_derivative(lambda r: 2 * np.arcsin(np.sqrt(r)), x)
    exact = 1 / np.sqrt(x * (1 - x))
    assert np.max(np.abs(d - exact) / np.maximum(1, exact)) < 1e-9
    d = numeric_derivative(np.exp, np.array([0.5]))
    assert d[0] == pytest.approx(np.exp(0.5), rel=1e-12)


def test_scalar_only_callable_is_vectorised():
    import math

    forward = from_surrogate(lambda r: math.sqrt(r))
    a_pos, _ = _table(forward, 4)
    # F' = 1/(2√ρ), A⁺ = F'(ρ̂)·N(1−ρ̂)/(N−1): at ρ̂ = 1/4, 1·(4·3/4)/3 = 1
    assert a_pos[1] == pytest.approx(1.0, rel=1e-9)


def test_sympy_expression_and_shaper_behaviour():
    x = sympy.Symbol("x")
    forward = from_surrogate(2 * sympy.asin(sympy.sqrt(x)))
    assert forward.spec == "F=2*asin(sqrt(rho))"
    assert forward.info.count_based and forward.info.binary_only
    rewards = np.array([[1, 0, 0, 1], [1, 1, 1, 1], [0, 1, 0, 0]], dtype=np.float32)
    adv = forward.advantages(rewards)
    assert adv.dtype == np.float32
    a_pos, a_neg = forward.scores(np.array([2, 4, 1]), 4)
    expected = np.where(rewards == 1, a_pos[:, None], a_neg[:, None])
    np.testing.assert_allclose(adv, expected, rtol=1e-6)
    w_pos, w_neg = forward.weights(np.array([1, 2, 3]), 4)
    # Corollary 1: w± = N/(N−1)·√(ρ̂(1−ρ̂))
    rho = np.array([1, 2, 3]) / 4
    np.testing.assert_allclose(w_pos, 4 / 3 * np.sqrt(rho * (1 - rho)), rtol=1e-14)
    np.testing.assert_allclose(w_neg, 4 / 3 * np.sqrt(rho * (1 - rho)), rtol=1e-14)


def test_surrogate_specs_in_advshape_shaper():
    """Both surrogate spec forms are read by advshape.shaper and mean the same shaper."""
    s = advshape.shaper(f"F=2*asin(sqrt(rho));Omega={ENTROPY};lam=0.5")
    long = advshape.shaper(f"surrogate:2*asin(sqrt(rho));regularizer={ENTROPY};lam=0.5")
    reference = advshape.shaper("entropy:lam=0.5")
    for ours, same, theirs in zip(_table(s, 8), _table(long, 8), _table(reference, 8)):
        np.testing.assert_allclose(ours, 8 / 7 * theirs, rtol=1e-13, atol=1e-15)
        np.testing.assert_array_equal(ours, same)
    assert s.spec == long.spec
    assert advshape.shaper("F=arcsin(sqrt(ρ))").spec == "F=asin(sqrt(rho))"
    assert advshape.shaper("surrogate:rho;name=mine").name == "mine"
    with pytest.raises(ValueError, match="cannot read"):
        advshape.shaper("F=rho;Omeg=rho")
    with pytest.raises(ValueError, match="lam must be a number"):
        advshape.shaper("F=rho;Omega=rho;lam=big")
    with pytest.raises(ValueError, match="lam must be a number"):
        advshape.shaper("surrogate:rho;regularizer=rho;lam=big")


@pytest.mark.parametrize(
    "F, match",
    [
        ("2*asin(sqrt(rho)", "cannot parse"),
        ("rho +* 2", "cannot parse"),
        ("x + rho", "unknown symbol"),
        ("1 - rho", "decreases at rho"),
        ("rho**2 - rho/2", "decreases at rho"),
        ("sin(10*rho)", "decreases at rho"),
        ("log(rho)", "not finite at rho = 0"),
        ("1/(1-rho)", "not finite at rho = 1"),
        ("3", "does not reward success"),
        (42, "must be a string, a SymPy expression or a callable"),
    ],
)
def test_bad_surrogates_are_refused(F, match):
    with pytest.raises(ValueError, match=match):
        from_surrogate(F)


CALLABLES_WITHOUT_A_DERIVATIVE = {
    "step at 1/3 and 2/3": lambda r: np.floor(3 * np.asarray(r)) / 3 + np.asarray(r),
    "jump at 0.3": lambda r: (np.asarray(r) > 0.3) * 1.0 + r,
    "jump of 1e-6 at 0.123": lambda r: (np.asarray(r) > 0.123) * 1e-6 + r,
    "jump at 1e-7": lambda r: (np.asarray(r) > 1e-7) * 1.0 + r,
    "jump at 1 - 1e-7": lambda r: (np.asarray(r) > 1 - 1e-7) * 1.0 + r,
    "infinite slope at 0.5": lambda r: np.cbrt(np.asarray(r) - 0.5),
    "infinite slope at 0.4321": lambda r: np.cbrt(np.asarray(r) - 0.4321),
    "kink at 0.61803": lambda r: r + 0.5 * np.abs(np.asarray(r) - 0.61803),
}


@pytest.mark.parametrize("case", list(CALLABLES_WITHOUT_A_DERIVATIVE))
def test_callables_without_a_usable_derivative_are_refused(case):
    """The string path refuses step functions and infinite slopes symbolically; a callable's
    derivative is numerical, and used to give finite, arbitrary scores for them."""
    fn = CALLABLES_WITHOUT_A_DERIVATIVE[case]
    with pytest.raises(ValueError, match="no usable derivative near rho"):
        from_surrogate(fn)
    with pytest.raises(ValueError, match="regularizer Omega.*no usable derivative"):
        from_surrogate("rho", regularizer=fn, lam=0.5)


@pytest.mark.parametrize(
    "fn",
    [
        lambda r: 2 * np.arcsin(np.sqrt(r)),  # infinite slope at the ends only: allowed
        lambda r: np.sqrt(r),
        lambda r: 1 - (1 - np.asarray(r)) ** 4,
        lambda r: np.tanh(50 * (np.asarray(r) - 0.5)),  # steep but smooth
        lambda r: np.log1p(9 * np.asarray(r)),
    ],
)
def test_smooth_callables_are_accepted(fn):
    shaper = from_surrogate(fn)
    a_pos, a_neg = _table(shaper, 8)
    assert np.all(np.isfinite(a_pos)) and np.all(np.isfinite(a_neg))


def test_bad_regularizer_and_lam():
    with pytest.raises(ValueError, match="lam"):
        from_surrogate("rho", regularizer=ENTROPY, lam=-1)
    with pytest.raises(ValueError, match="no regularizer"):
        from_surrogate("rho", lam=0.5)
    with pytest.raises(ValueError, match="cannot parse regularizer"):
        from_surrogate("rho", regularizer="sqrt(rho", lam=1)
    # a regulariser may decrease (that is its job): accepted
    from_surrogate("rho", regularizer="-rho**2", lam=1)


def test_lazy_top_level_export():
    assert advshape.from_surrogate is from_surrogate


def test_forward_shaper_on_torch_tensors():
    torch = pytest.importorskip("torch")
    forward = from_surrogate("2*asin(sqrt(rho))")
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 1.0]], dtype=torch.float64)
    adv = forward.advantages(rewards)
    assert isinstance(adv, torch.Tensor) and adv.dtype == torch.float64
    grpo = advshape.shaper("grpo").advantages(rewards)
    torch.testing.assert_close(adv, 4 / 3 * grpo, rtol=1e-14, atol=1e-15)  # Corollary 1
    ragged = forward.advantages(torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0]), groups=[0, 0, 1, 1, 1])
    a_pos, a_neg = forward.scores(np.array([1, 1]), np.array([2, 3]))
    expected = torch.tensor([a_pos[0], a_neg[0], a_pos[1], a_neg[1], a_neg[1]], dtype=ragged.dtype)
    torch.testing.assert_close(ragged, expected)


def test_text_surrogate_shapers_pickle_and_rebuild():
    import pickle

    s = advshape.from_surrogate("2*asin(sqrt(rho))", regularizer="rho*(1-rho)", lam=0.5)
    t = pickle.loads(pickle.dumps(s))
    assert t.spec == s.spec
    np.testing.assert_array_equal(t.scores(np.arange(9), 8), s.scores(np.arange(9), 8))


def test_docstring_examples_run():
    import doctest

    from advshape.surrogates import forward

    assert doctest.testmod(forward).failed == 0
