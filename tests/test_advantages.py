"""Shaper.advantages on arrays: values, libraries, dtypes, ragged groups, continuous rewards, errors."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import advshape
from tests import _reference as ref
from tests._registry_helpers import example_shaper

torch = pytest.importorskip("torch")


ALL = [example_shaper(name) for name in advshape.names()]
IDS = [s.spec for s in ALL]


@pytest.mark.parametrize("shaper", ALL, ids=IDS)
def test_advantages_match_reference_per_response_in_any_order(shaper):
    rng = np.random.default_rng(0)
    for n in (3, 5, 8, 16):
        if n < shaper.info.min_n:
            continue
        r = (rng.random((20, n)) < rng.random((20, 1))).astype(np.float64)
        adv = shaper.advantages(r)
        for row in range(20):
            rewards = [int(v) for v in r[row]]
            for i in range(n):
                want = float(ref.reference_advantage(shaper.name, rewards, i, **shaper.params))
                assert adv[row, i] == pytest.approx(want, rel=1e-12, abs=1e-14), (
                    shaper.spec,
                    rewards,
                    i,
                )


@pytest.mark.parametrize("shaper", ALL, ids=IDS)
def test_library_dtype_and_shape_are_preserved(shaper):
    r = np.array([[1, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0]], dtype=np.float64)
    want = shaper.advantages(r)
    assert want.dtype == np.float64 and want.shape == r.shape
    for dtype in (np.float32, np.int64, np.int8, np.bool_):
        out = shaper.advantages(r.astype(dtype))
        assert isinstance(out, np.ndarray)
        assert out.dtype == (np.float32 if dtype == np.float32 else np.float64)
        np.testing.assert_allclose(out, want, rtol=1e-6)
    for dtype, expect in (
        (torch.float32, torch.float32),
        (torch.float64, torch.float64),
        (torch.int64, torch.float32),
        (torch.bool, torch.float32),
    ):
        out = shaper.advantages(torch.as_tensor(r).to(dtype))
        assert isinstance(out, torch.Tensor) and out.dtype == expect and out.device.type == "cpu"
        np.testing.assert_allclose(out.double().numpy(), want, rtol=1e-6, atol=1e-7)
    batched = shaper.advantages(np.stack([r, r[::-1]]))  # [..., n] with two leading axes
    np.testing.assert_allclose(batched[0], want)
    np.testing.assert_allclose(batched[1], want[::-1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("shaper", ALL, ids=IDS)
def test_cuda_tensors_stay_on_the_device(shaper):
    r = torch.tensor(
        [[1.0, 0, 0, 1, 0, 0, 0, 1], [0.2, 0.9, 0.1, 0.4, 0.5, 0.5, 0.0, 1.0]], device="cuda"
    )
    if shaper.info.binary_only:
        r = (r > 0.45).float()
    out = shaper.advantages(r)
    assert out.device.type == "cuda"
    np.testing.assert_allclose(
        out.cpu().numpy(), shaper.advantages(r.cpu().numpy()), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("shaper", ALL, ids=IDS)
def test_ragged_groups_equal_dense_groups(shaper):
    rng = np.random.default_rng(1)
    sizes = [4, 7, 4, 12, 7, 5]
    groups = [rng.random(s) < 0.4 for s in sizes]
    dense = [shaper.advantages(g.astype(float)) for g in groups]
    ids = np.concatenate([[f"uid-{j}"] * s for j, s in enumerate(sizes)])
    flat = np.concatenate(groups).astype(float)
    perm = rng.permutation(flat.size)  # shuffled, non-contiguous groups
    out = shaper.advantages(flat[perm], groups=ids[perm])
    np.testing.assert_allclose(out, np.concatenate(dense)[perm], rtol=1e-12, atol=1e-15)
    int_ids = np.concatenate([[j * 10] * s for j, s in enumerate(sizes)])
    np.testing.assert_allclose(
        shaper.advantages(
            torch.as_tensor(flat[perm]), groups=torch.as_tensor(int_ids[perm])
        ).numpy(),
        out,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        shaper.advantages(flat[perm], groups=list(int_ids[perm])), out, rtol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(advshape.names()),
    n=st.integers(4, 12),
    rows=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_permuting_a_group_permutes_its_advantages(name, n, rows, seed):
    shaper = example_shaper(name)
    rng = np.random.default_rng(seed)
    r = (rng.random((rows, n)) < 0.5).astype(float)
    perm = rng.permutation(n)
    np.testing.assert_allclose(
        shaper.advantages(r[:, perm]), shaper.advantages(r)[:, perm], rtol=1e-12, atol=1e-15
    )


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(advshape.names()),
    sizes=st.lists(st.integers(4, 10), min_size=1, max_size=6),
    seed=st.integers(0, 2**32 - 1),
)
def test_ragged_equals_dense_property(name, sizes, seed):
    shaper = example_shaper(name)
    rng = np.random.default_rng(seed)
    groups = [(rng.random(s) < 0.5).astype(float) for s in sizes]
    ids = np.concatenate([np.full(s, j) for j, s in enumerate(sizes)])
    perm = rng.permutation(ids.size)
    out = shaper.advantages(np.concatenate(groups)[perm], groups=ids[perm])
    want = np.concatenate([shaper.advantages(g) for g in groups])[perm]
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)


# --- Continuous rewards -------------------------------------------------------------------


@pytest.mark.parametrize("name", ["reinforce", "rloo", "grpo", "dr_grpo"])
def test_reward_generic_shapers_on_continuous_rewards(name):
    rng = np.random.default_rng(2)
    for n in (2, 3, 6, 9):
        r = rng.integers(0, 5, size=(30, n)) / 4  # rationals, so the reference is exact
        r[0] = 0.3  # a constant non-binary group
        adv = advshape.shaper(name).advantages(r)
        for row in range(30):
            rewards = [Fraction(v).limit_denominator(1000) for v in r[row]]
            for i in range(n):
                if name == "reinforce":
                    want = rewards[i]
                elif name == "rloo":
                    want = ref.rloo(rewards, i)
                elif name == "dr_grpo":
                    want = rewards[i] - ref.mean(rewards)
                else:
                    want = ref.grpo(rewards, i)
                assert adv[row, i] == pytest.approx(float(ref.exact(want)), rel=1e-12, abs=1e-12)
    assert np.all(advshape.shaper("grpo").advantages(np.full((2, 5), 0.1)) == 0)


@pytest.mark.parametrize("baseline", ["none", "loo", "loo_unscaled", "loo_minus_one"])
def test_pkpo_continuous_rewards_with_ties_against_subset_enumeration(baseline):
    rng = np.random.default_rng(3)
    for n in range(2, 9):
        for k in range(1, n + 1):
            if baseline.startswith("loo_u") or baseline == "loo":
                if k > n - 1:
                    continue
                continue
            x = rng.integers(0, 4, size=(6, n)) / 3 - 0.5  # many ties, negative values too
            adv = advshape.shaper("pkpo", k=k, baseline=baseline).advantages(x)
            for row in range(6):
                values = [Fraction(v).limit_denominator(100) for v in x[row]]
                for i in range(n):
                    want = float(ref.pkpo_enumerated(values, i, k, baseline))
                    assert adv[row, i] == pytest.approx(want, rel=1e-12, abs=1e-12), (
                        n,
                        k,
                        x[row],
                        i,
                    )


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_pkpo_loo_is_walder_karkhanis_eq29(k):
    """baseline='loo' is PKPO's s^(loo) (Eq. 29, enumerated in tests/_reference.py) times n/k,
    on continuous and on binary rewards; 'loo_unscaled' is not proportional to it."""
    x = [Fraction(v) for v in (0.7, -0.2, 1.5, 0.7, 0.0, 2.25, -1.0)]  # seven rewards, a tie
    n = len(x)
    adv = advshape.shaper("pkpo", k=k, baseline="loo").advantages(np.array([float(v) for v in x]))
    want = [ref.pkpo_eq29_loo(x, i, k) * Fraction(n, k) for i in range(n)]
    np.testing.assert_allclose(adv, [float(w) for w in want], rtol=1e-13, atol=1e-14)
    if k > 1:
        other = advshape.shaper("pkpo", k=k, baseline="loo_unscaled").advantages(
            np.array([float(v) for v in x])
        )
        ratio = other / adv
        assert np.ptp(ratio) > 1e-3  # a different estimator, not a rescaling
    # binary rewards: the (N⁺, N) table against the same enumeration
    shaper = advshape.shaper("pkpo", k=k, baseline="loo")
    for n_pos in range(n + 1):
        r = [Fraction(1)] * n_pos + [Fraction(0)] * (n - n_pos)
        a_pos, a_neg = shaper.scores(n_pos, n)
        if n_pos:
            assert float(a_pos) == pytest.approx(
                float(ref.pkpo_eq29_loo(r, 0, k) * n / k), abs=1e-14
            )
        if n_pos < n:
            assert float(a_neg) == pytest.approx(
                float(ref.pkpo_eq29_loo(r, n - 1, k) * n / k), abs=1e-14
            )


def test_pkpo_loo_at_k1_is_not_rloo():
    """At k = 1 PKPO's s^(loo) is x_i − n/(n−1)·mean_{j≠i} x_j (k/n dropped), not RLOO."""
    x = np.array([1.0, 0.0, 0.0, 1.0])
    adv = advshape.shaper("pkpo:k=1,baseline=loo").advantages(x)
    np.testing.assert_allclose(
        adv, [1 - 4 / 3 * 1 / 3, -4 / 3 * 2 / 3, -4 / 3 * 2 / 3, 1 - 4 / 3 / 3]
    )
    np.testing.assert_allclose(
        advshape.shaper("pkpo:k=1,baseline=loo_unscaled").advantages(x),
        advshape.shaper("rloo").advantages(x),
    )


def test_pkpo_continuous_on_torch_and_ragged():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(10, 6))
    shaper = advshape.shaper("pkpo:k=3,baseline=loo")
    want = shaper.advantages(x)
    np.testing.assert_allclose(shaper.advantages(torch.as_tensor(x)).numpy(), want, rtol=1e-12)
    ids = np.repeat(np.arange(10), 6)
    perm = rng.permutation(60)
    np.testing.assert_allclose(
        shaper.advantages(x.ravel()[perm], groups=ids[perm]), want.ravel()[perm], rtol=1e-12
    )


# --- Bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", [n for n in advshape.names() if advshape.registry()[n].binary_only]
)
def test_binary_only_shapers_reject_other_rewards_and_point_to_pkpo(name):
    shaper = example_shaper(name)
    with pytest.raises(ValueError, match=r"needs binary rewards.*0\.5 at index \(1, 2\).*'pkpo'"):
        shaper.advantages(np.array([[1.0, 0, 0, 1], [0, 1, 0.5, 0]]))
    with pytest.raises(ValueError, match="needs binary rewards.*2"):
        shaper.advantages(torch.tensor([[1, 0, 2, 0]]))


@pytest.mark.parametrize("shaper", ALL, ids=IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_rejected(shaper, bad):
    r = np.array([[1.0, 0, 0, 1], [0, 1, bad, 0]])
    with pytest.raises(ValueError, match="finite|binary"):
        shaper.advantages(r)


def test_group_size_errors():
    with pytest.raises(ValueError, match="at least 2 responses, got a group of 1"):
        advshape.shaper("rloo").advantages(np.array([[1.0]]))
    with pytest.raises(ValueError, match="k=8 > group size n=4.*'biased_k:k=8'"):
        advshape.shaper("grpo_k:k=8").advantages(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="k=8 > group size n=4"):
        advshape.shaper("rloo_k:k=8").advantages(np.zeros(12), groups=np.repeat([0, 1, 2], 4))
    assert advshape.shaper("biased_k:k=8").advantages(np.array([[1.0, 0, 0, 0]])).shape == (1, 4)
    with pytest.raises(ValueError, match="at least 5 responses"):
        advshape.shaper("pkpo:k=4,baseline=loo").advantages(np.zeros((1, 4)))


def test_shape_errors():
    with pytest.raises(ValueError, match="at least one axis"):
        advshape.shaper("grpo").advantages(np.float64(1.0))
    with pytest.raises(ValueError, match="must be 1-D"):
        advshape.shaper("grpo").advantages(np.zeros((2, 4)), groups=np.zeros(8))
    with pytest.raises(ValueError, match="one id per reward"):
        advshape.shaper("grpo").advantages(np.zeros(8), groups=np.zeros(7))
    with pytest.raises(ValueError, match="must be an array"):
        advshape.shaper("grpo").advantages([1.0, 0.0])


@pytest.mark.parametrize(
    ("spec", "kwargs", "match"),
    [
        ("grpo_kk:k=4", {}, "unknown shaper 'grpo_kk'; did you mean 'grpo_k'"),
        ("rlo", {}, "did you mean 'rloo'"),
        ("grpo_k", {}, "needs parameter 'k'.*'grpo_k:k=4'"),
        ("grpo_k:kk=4", {}, "has no parameter 'kk' \\(its parameters: k\\)"),
        ("grpo_k:k=4.5", {}, "'k' must be an integer, got 4.5"),
        ("grpo_k", {"k": True}, "must be an integer"),
        ("grpo_k:k=0", {}, "'k' must be an integer >= 1, got 0$"),
        ("grpo:std=median", {}, "'std' must be one of population, sample; got 'median'$"),
        ("grpo:eps=-1", {}, "'eps' must be a number >= 0, got -1.0$"),
        ("entropy:lam=nan", {}, "'lam' must be a number >= 0, got nan$"),
        ("entropy:lam=inf", {}, "'lam' must be a number >= 0, got inf$"),
        ("grpo_k:k=4_0", {}, "'4_0' is not written with ASCII digits 0-9.*write 40"),
        ("grpo_k:k=４", {}, "'４' is not written with ASCII digits 0-9.*write 4"),
        ("grpo_k:k", {}, "write parameters as key=value"),
        ("grpo_k:k=4,k=5", {}, "given twice"),
        ("grpo_k:k=4", {"k": 5}, "both in the spec and as a keyword"),
        ("", {}, "non-empty string"),
    ],
)
def test_spec_and_parameter_errors(spec, kwargs, match):
    with pytest.raises(ValueError, match=match):
        advshape.shaper(spec, **kwargs)


def test_spec_round_trip_and_metadata():
    s = advshape.shaper("grpo_k", k=4)
    assert s.spec == "grpo_k:k=4" and s.params == {"k": 4}
    assert advshape.shaper(s.spec).scores(3, 16)[0] == s.scores(3, 16)[0]
    assert advshape.shaper("grpo:std=sample").spec == "grpo:std=sample"
    assert advshape.shaper("grpo:std=population").spec == "grpo"
    assert s.info.target_k == 4 and not s.info.unbiased and s.info.binary_only
    assert advshape.shaper("rloo_k:k=2").info.unbiased
    assert advshape.shaper(s) is s


def test_count_shaper_makes_a_user_shaper():
    def scores(n_pos, n):
        rho = n_pos / n
        return (1 - rho) ** 2, -rho * (1 - rho)

    mine = advshape.count_shaper("mine", scores)
    adv = mine.advantages(np.array([[1.0, 0, 0, 0]]))
    np.testing.assert_allclose(adv, [[0.5625, -0.1875, -0.1875, -0.1875]])
    with pytest.raises(ValueError, match="needs binary rewards"):
        mine.advantages(np.array([[0.5, 0, 0, 0]]))


def test_registry_shapers_pickle_as_their_spec():
    import pickle

    s = advshape.shaper("pkpo:k=4,baseline=loo")
    t = pickle.loads(pickle.dumps(s))
    assert t.spec == s.spec
    np.testing.assert_array_equal(t.scores(np.arange(9), 8), s.scores(np.arange(9), 8))
    mine = advshape.count_shaper("mine", lambda n_pos, n: (n_pos * 0.0 + 1, n_pos * 0.0))
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(mine)


def test_expected_update_rejects_rho_outside_0_1():
    with pytest.raises(ValueError, match=r"rho must lie in \[0, 1\].*1.5"):
        advshape.expected_update_coefficient(advshape.shaper("grpo"), 8, [0.5, 1.5])


@pytest.mark.parametrize("n", [1, 3, 8, 16, 24, 64, 72, 300])
def test_row_counts_every_path(n):
    from advshape._src.shaper import _row_counts

    rng = np.random.default_rng(n)
    pos = rng.random((50, n)) < 0.4
    np.testing.assert_array_equal(_row_counts(pos), pos.sum(axis=-1))
    pos[3] = True
    pos[4] = False
    np.testing.assert_array_equal(_row_counts(pos), pos.sum(axis=-1))


@pytest.mark.parametrize("shaper", ALL, ids=IDS)
def test_generic_array_api_path_equals_the_numpy_fast_path(shaper):
    """The path JAX/CuPy take (none installed here), driven through the compat NumPy namespace."""
    import array_api_compat.numpy as xp

    from advshape._src.shaper import _correct, _dense_array_api, _tables_of

    rng = np.random.default_rng(5)
    r = (rng.random((30, 8)) < 0.4).astype(np.float64)
    tables = _tables_of(shaper)
    assert tables is not None
    got = _dense_array_api(tables, xp, r, _correct(r))
    np.testing.assert_array_equal(got, shaper.advantages(r))
    assert _correct(r * 0.5) is None  # not binary: the dispatch takes the real-reward form


def test_advantages_is_the_engine_over_the_shapers_tables():
    """A reader (and go-to-definition) steps from shaper.advantages into one module-level
    function; scores and weights are the same engine over the same tables."""
    from functools import partial

    from advshape._src import shaper as engine

    s = advshape.shaper("grpo_k:k=4")
    for field, function in (
        (s.advantages, engine.count_advantages),
        (s.scores, engine.count_scores),
        (s.weights, engine.count_weights),
    ):
        assert isinstance(field, partial) and field.func is function
        assert isinstance(field.args[0], engine.CountTables)
        assert field.args[0] is s.advantages.args[0]
    assert repr(s.advantages.args[0]) == "CountTables('grpo_k:k=4')"


def test_overflow_policy_is_one_for_every_library(monkeypatch):
    """A score that overflows the output dtype raises where a group uses it and is 0 where
    none does, on NumPy, on torch's own kernels and on the Array-API path alike."""
    import array_api_strict as xps

    from advshape._src import shaper as engine

    s = advshape.shaper("entropy:lam=1e5")  # A± ≈ 1e5 at N⁺ = 1: beyond float16's 65504
    n = 8
    safe = np.zeros((3, n), dtype=np.float16)
    safe[0, :] = 1  # all correct, all wrong: the overflowing entries are never used
    want = s.advantages(safe.astype(np.float64)).astype(np.float16)
    np.testing.assert_array_equal(s.advantages(safe), want)
    bad = safe.copy()
    bad[1, 0] = 1  # N⁺ = 1: A⁺ and A⁻ overflow float16, and are used
    message = r"the score A[+-] at N\+ = 1 \(group size 8\) is .*, which overflows .*float16"
    with pytest.raises(ValueError, match=message):
        s.advantages(bad)
    monkeypatch.setattr(engine, "_numpy_view", lambda rewards: None)  # torch's own kernels
    np.testing.assert_array_equal(s.advantages(torch.from_numpy(safe)).numpy(), want)
    ragged = torch.from_numpy(safe.reshape(-1))
    got = s.advantages(ragged, groups=torch.from_numpy(np.repeat(np.arange(3), n))).numpy()
    np.testing.assert_array_equal(got, want.reshape(-1))
    with pytest.raises(ValueError, match=message):
        s.advantages(torch.from_numpy(bad))
    # float32 fits: the same batch is fine there, on the strict Array-API namespace too
    fine = s.advantages(xps.asarray(bad.astype(np.float32)))
    np.testing.assert_array_equal(np.asarray(fine), s.advantages(bad.astype(np.float32)))
