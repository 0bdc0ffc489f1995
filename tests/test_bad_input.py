"""Bad and edge-case input gets a clear ValueError (or TypeError for pickling) or the right number."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import advshape

# --- Pickling --------------------------------------------------------------------------------


def test_text_surrogate_pickles_exactly_with_its_name():
    s = advshape.from_surrogate(
        "2*asin(sqrt(rho))", name="mine", regularizer="rho*(1-rho)", lam=0.123456789
    )
    t = pickle.loads(pickle.dumps(s))
    assert t.name == "mine"
    assert t.params["lam"] == 0.123456789
    assert t.spec == s.spec and "lam=0.123456789" in t.spec
    n_pos = np.arange(13)
    for a, b in zip(t.scores(n_pos, 12), s.scores(n_pos, 12)):
        np.testing.assert_array_equal(a, b)


def test_sympy_surrogate_pickles():
    sympy = pytest.importorskip("sympy")
    x = sympy.Symbol("x")
    s = advshape.from_surrogate(2 * sympy.asin(sympy.sqrt(x)))
    t = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(t.scores(np.arange(9), 8)[0], s.scores(np.arange(9), 8)[0])


def test_callable_surrogate_is_refused_at_dumps():
    s = advshape.from_surrogate(lambda r: 2 * np.arcsin(np.sqrt(r)))
    with pytest.raises(TypeError, match="cannot be pickled.*give from_surrogate a string"):
        pickle.dumps(s)
    text_f = advshape.from_surrogate("rho", regularizer=lambda r: r * (1 - r), lam=0.5)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(text_f)


def test_count_shaper_with_a_registry_info_is_not_pickled_as_the_registry_shaper():
    grpo = advshape.shaper("grpo")
    mine = advshape.count_shaper("grpo", lambda m, n: grpo.scores(m, n), info=grpo.info)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(mine)
    # a registry shaper with a replaced score function is not the registry shaper either
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(grpo._replace(scores=advshape.shaper("rloo").scores))
    assert pickle.loads(pickle.dumps(grpo)).spec == "grpo"


def test_core_imports_nothing_above_it():
    """The core (advshape._src) imports no layer above it, also when unpickling; it names one
    module above it, in one place: the builder of "surrogate:" specs, imported on first use."""
    import ast
    import pathlib

    import advshape._src as core
    from advshape._src import registry

    code = (
        "import sys, advshape, pickle\n"
        "s = pickle.loads(pickle.dumps(advshape.shaper('grpo_k:k=2')))\n"
        "advshape.scheduled('grpo_k:k=linear(4,1)').check_group_size(4)\n"
        "print([m for m in sys.modules if m.startswith('advshape.surrogates')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    layers = tuple(
        f"advshape.{layer}"
        for layer in ("surrogates", "bandit", "lm", "cli", "plots", "integrations")
    )
    named = []
    for path in pathlib.Path(core.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                imported = [node.module or ""]
            else:
                imported = []
            assert not [m for m in imported if m.startswith(layers)], (path.name, imported)
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value.startswith(layers):
                    named.append((path.name, node.value))
    assert named == [("registry.py", "advshape.surrogates.forward")]
    assert registry._BUILDERS == {"surrogate": ("advshape.surrogates.forward", "from_surrogate")}


# --- Group ids ---------------------------------------------------------------------------------

GRPO = advshape.shaper("grpo")
R4 = np.array([1.0, 0.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "groups",
    [
        np.array([0, np.nan, 0, np.nan]),
        [0.0, float("nan"), 0.0, float("nan")],
        ["a", None, "a", None],
        np.array(["a", float("nan"), "a", "b"], dtype=object),
    ],
)
def test_nan_and_none_group_ids_are_refused(groups):
    with pytest.raises(ValueError, match="must not be NaN or None"):
        GRPO.advantages(R4, groups=groups)
    with pytest.raises(ValueError, match="must not be NaN or None"):
        GRPO.advantages(torch.from_numpy(R4), groups=groups)


def test_nan_group_ids_in_a_torch_tensor_are_refused():
    with pytest.raises(ValueError, match="must not be NaN or None"):
        GRPO.advantages(torch.from_numpy(R4), groups=torch.tensor([0.0, float("nan"), 0, 1]))


def test_unhashable_and_misshapen_group_ids():
    with pytest.raises(ValueError, match="hashable"):
        GRPO.advantages(R4, groups=[{"a": 1}, {"a": 2}, {"a": 1}, {"a": 2}])
    with pytest.raises(ValueError, match="one id per reward"):
        GRPO.advantages(R4, groups=[0, 0, 1])
    with pytest.raises(ValueError, match="masked"):
        GRPO.advantages(R4, groups=np.ma.array([0, 0, 1, 1]))


def test_group_ids_of_every_kind_give_the_same_advantages():
    rng = np.random.default_rng(0)
    r = (rng.random(60) < 0.5).astype(np.float64)
    base = rng.permutation(np.repeat(np.arange(6), [4, 4, 8, 16, 16, 12]))
    want = advshape.shaper("grpo_k:k=2").advantages(r, groups=base)
    names = np.array([f"prompt-{i}" for i in range(6)])
    kinds = [
        base * 10**15,  # large ints: factorised, not used as codes
        base - 3,  # negative ints
        base.astype(np.float64) + 0.5,  # float ids
        names[base],  # fixed-width strings
        np.array([str(x) for x in names[base].tolist()], dtype=object),
        # equal strings that are distinct objects (as after a round trip through pickle)
        np.array(["".join(["prompt-", str(b)]) for b in base], dtype=object),
        [tuple(["t", int(b)]) for b in base],
        torch.from_numpy(base),
    ]
    for ids in kinds:
        np.testing.assert_array_equal(advshape.shaper("grpo_k:k=2").advantages(r, groups=ids), want)
    got = advshape.shaper("grpo_k:k=2").advantages(torch.from_numpy(r), groups=names[base])
    np.testing.assert_array_equal(got.numpy(), want)


# --- Empty, masked, complex ---------------------------------------------------------------------


def test_empty_ragged_input_gives_an_empty_result():
    for spec in ("grpo", "rloo", "pkpo:k=2", "grpo_k:k=2"):
        out = advshape.shaper(spec).advantages(np.array([]), groups=[])
        assert out.shape == (0,) and out.dtype == np.float64
        out = advshape.shaper(spec).advantages(torch.tensor([]), groups=[])
        assert out.shape == (0,) and isinstance(out, torch.Tensor)
        out = advshape.shaper(spec).advantages(np.zeros(0, np.float32), groups=np.zeros(0, int))
        assert out.shape == (0,) and out.dtype == np.float32


def test_masked_rewards_are_refused():
    with pytest.raises(ValueError, match="masked array"):
        GRPO.advantages(np.ma.array(R4, mask=[0, 1, 0, 0]))
    with pytest.raises(ValueError, match="masked array"):
        GRPO.advantages(np.ma.array(R4, mask=[0, 1, 0, 0]), groups=[0, 0, 1, 1])
    with pytest.raises(ValueError, match="masked"):
        GRPO.scores(np.ma.array([1, 2], mask=[0, 1]), 4)


@pytest.mark.parametrize("spec", ["grpo", "pkpo:k=2", "reinforce"])
def test_complex_rewards_are_refused_everywhere(spec):
    shaper = advshape.shaper(spec)
    for rewards in (
        np.array([[1 + 0j, 0, 1, 0]]),
        torch.tensor([[1 + 0j, 0, 1, 0]]),
        torch.tensor([[0.5 + 1j, 0, 1, 0]]),
    ):
        with pytest.raises(ValueError, match="real numbers.*complex"):
            shaper.advantages(rewards)
        with pytest.raises(ValueError, match="real numbers.*complex"):
            shaper.advantages(rewards[0], groups=[0, 0, 1, 1])
    with pytest.raises(ValueError, match="counts"):
        shaper.scores(np.array([1 + 0j]), 4)


def test_complex_surrogates_and_scores_are_refused():
    with pytest.raises(ValueError, match="complex"):
        advshape.from_surrogate("rho + I")
    with pytest.raises(ValueError, match="complex|real number"):
        advshape.from_surrogate(lambda r: r + 0j)
    mine = advshape.count_shaper(
        "c", lambda m, n: (np.ones(np.shape(n)) + 1j, np.zeros(np.shape(n)))
    )
    with pytest.raises(ValueError, match="non-real A\\+"):
        mine.advantages(np.array([[1.0, 0.0]]))


# --- Caches ------------------------------------------------------------------------------------


def test_cached_tables_are_read_only():
    for d in (0, 1, 3):
        table = advshape.binom_ratio_table(10, d)
        with pytest.raises(ValueError, match="read-only"):
            table[0] = 5.0
    from advshape._src.pkpo import pkpo_matrix, pkpo_position_weights

    with pytest.raises(ValueError, match="read-only"):
        pkpo_matrix(6, 2, "loo")[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        pkpo_position_weights(6, 2, "none")["self"][0] = 1.0
    a_pos, _ = advshape.shaper("grpo_k:k=1").scores(np.arange(5), 4)
    a_pos[1] = 66.4  # the caller's copy: harmless
    assert advshape.shaper("grpo_k:k=1").scores(1, 4)[0] == pytest.approx(np.sqrt(3))


def test_caches_are_bounded_by_bytes():
    from advshape._src import combinatorics

    combinatorics._binom_ratio_table_cached.cache_clear()
    advshape.pass_at_k(np.arange(10**6, 10**6 + 100), 1, 1)
    for top in range(10**5, 10**5 + 200):
        advshape.binom_ratio_table(top, 2)
    held = combinatorics._binom_ratio_table_cached.cache_bytes()
    assert 0 < held <= combinatorics.CACHE_BYTES


# --- Sizes -------------------------------------------------------------------------------------


def test_huge_group_sizes_use_an_o_k_path():
    from fractions import Fraction
    from math import comb

    n, n_pos, k = 10**12, 3, 4
    a_pos, a_neg = advshape.shaper("grpo_k:k=4").scores(n_pos, n)
    # exact: f̂⁺ = C(N⁻, K−1)/C(N−1, K−1), A⁺_GRPO = √((1−ρ̂)/ρ̂)
    f_pos = Fraction(comb(n - n_pos, k - 1), comb(n - 1, k - 1))
    assert a_pos == pytest.approx(float(f_pos) * np.sqrt((n - n_pos) / n_pos), rel=1e-12)
    f_neg = Fraction(comb(n - n_pos - 1, k - 1), comb(n - 1, k - 1))
    assert a_neg == pytest.approx(-float(f_neg) * np.sqrt(n_pos / (n - n_pos)), rel=1e-12)
    assert advshape.pass_at_k(10**15, 10**9, 3) == pytest.approx(
        float(1 - Fraction(comb(10**15 - 10**9, 3), comb(10**15, 3))), rel=1e-12
    )
    # once refused ("out of reach", k > 2²²): 1 − ∏_{i<5} (n − k − i)/(n − i), exactly
    n, c, k = 10**12, 5, 10**9
    fail = Fraction(1)
    for i in range(c):
        fail *= Fraction(n - k - i, n - i)
    assert advshape.pass_at_k(n, c, k) == pytest.approx(float(1 - fail), rel=1e-15)
    with pytest.raises(ValueError, match="would hold"):
        advshape.binom_ratio_table(10**12, 3)


def test_counts_beyond_2_53_are_refused():
    for n in (2**63, 2**64 + 5, 2**53 + 1, np.uint64(2**63)):
        with pytest.raises(ValueError, match="at most 2\\*\\*53"):
            advshape.pass_at_k(n, 1, 1)


@pytest.mark.parametrize("n", [8.7, 8.0, "8", True, 0])
def test_non_integer_group_size_is_refused(n):
    shaper = advshape.shaper("rloo")
    with pytest.raises(ValueError, match="positive integer group size"):
        advshape.expected_update_coefficient(shaper, n, 0.5)
    with pytest.raises(ValueError, match="positive integer group size"):
        advshape.finite_n_surrogate(shaper, n, 0.5)


# --- from_surrogate and user score functions -----------------------------------------------------


@pytest.mark.parametrize(
    ("surrogate", "match"),
    [
        ("floor(4*rho)", "no usable derivative.*step functions"),
        ("Heaviside(rho-0.5)", "no usable derivative.*DiracDelta"),
        ("sign(rho)", "no usable derivative"),
        ("zoo", "not a finite expression"),
        ("rho + oo", "not a finite expression"),
        (lambda r: None, "must return a real number.*NoneType"),
        (lambda r: "high", "must return a real number.*str"),
        (lambda r: np.zeros(3), "must return a real number.*shape \\(3,\\)"),
        (lambda r: [r, r], "must return a real number"),
    ],
)
def test_from_surrogate_errors_are_clear(surrogate, match):
    with pytest.raises(ValueError, match=match):
        advshape.from_surrogate(surrogate)


def test_from_surrogate_callable_that_only_takes_floats_still_works():
    import math

    s = advshape.from_surrogate(lambda r: 2 * math.asin(math.sqrt(r)))
    want = advshape.from_surrogate("2*asin(sqrt(rho))").scores(np.arange(9), 8)
    np.testing.assert_allclose(s.scores(np.arange(9), 8), want, rtol=1e-8, atol=1e-10)


def test_user_score_function_of_the_wrong_length_is_refused():
    wrong = advshape.count_shaper("w", lambda m, n: (np.zeros(3), np.zeros(3)))
    with pytest.raises(ValueError, match="shape \\(3,\\) for counts of shape \\(9,\\)"):
        wrong.advantages(np.zeros((2, 8)))
    with pytest.raises(ValueError, match="must return a pair"):
        advshape.count_shaper("w", lambda m, n: np.zeros(3)).scores(1, 2)
    with pytest.raises(ValueError, match="non-real"):
        advshape.count_shaper("w", lambda m, n: ("a", "b")).scores(1, 2)
    constant = advshape.count_shaper("c", lambda m, n: (1.0, -1.0))  # scalars broadcast
    np.testing.assert_array_equal(constant.advantages(np.array([[1, 0, 0]])), [[1, -1, -1]])


@pytest.mark.parametrize(
    "rho", [0.5 + 0j, np.array([0.5 + 1j]), np.ma.array([0.5, 0.2], mask=[0, 1]), "half"]
)
def test_complex_masked_or_text_rho_is_refused(rho):
    shaper = advshape.shaper("rloo")
    with pytest.raises(ValueError, match="rho"):
        advshape.expected_update_coefficient(shaper, 8, rho)
    with pytest.raises(ValueError, match="rho"):
        shaper.surrogate(rho)


def test_fixed_width_string_ids_survive_hash_collisions(monkeypatch):
    """String ids are grouped through a 64-bit hash, verified exactly: with every id hashed to
    the same value, the exact fallback still groups them right."""
    from advshape._src import arrays

    ids = np.array(["b", "a", "b", "", "a", "a"])
    rewards = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    want = advshape.shaper("grpo").advantages(rewards, groups=ids.astype(object))
    monkeypatch.setattr(arrays, "_WORD_MULTIPLIERS", np.zeros(64, dtype=np.uint64))
    codes, _ = arrays.codes_numpy(ids)
    assert codes[0] == codes[2] and codes[1] == codes[4] == codes[5] and len(set(codes)) == 3
    np.testing.assert_array_equal(advshape.shaper("grpo").advantages(rewards, groups=ids), want)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("maclaurin", "needs parameter 'T'"),
        ("maclaurin:T=0", "'T' must be an integer >= 1, got 0"),
        ("maclaurin:T=2.5", "must be an integer"),
        ("maclaurin:k=3", "has no parameter 'k'"),
        ("maclaurin:T=linear(8,0)", "'T' must be an integer >= 1, got 0, in schedule"),
        ("clipped_pnorm:floor=-0.1", "'floor' must be a number >= 0, got -0.1"),
        ("focal", "needs parameter 'gamma'"),
        ("focal:gamma=-1", "'gamma' must be a number >= 0, got -1.0"),
        ("sqrt_r:w=2", "no parameter"),
        ("maxpo", "needs parameter 'k'"),
    ],
)
def test_bad_specs_of_the_2026_shapers_name_the_problem(spec, message):
    with pytest.raises(ValueError, match=message):
        advshape.scheduled(spec)  # every spec, scheduled or not, is checked whole here
