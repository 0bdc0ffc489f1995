"""K schedules in shaper specs: parsing, exact values at given steps, round trips, errors.

Expected values are written out by hand from the rule in ``advshape._src.schedule``:
progress x = (s − 1)/(T − 1), linear interpolation between points, integers rounded half up.
"""

from __future__ import annotations

import pickle
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import advshape
from advshape import Schedule, ScheduledShaper


def ks(spec, total, steps=None):
    s = advshape.scheduled(spec)
    return [s.at(t, total).params["k"] for t in (steps or range(1, total + 1))]


def test_linear_over_the_run():
    # x = (t−1)/9; k = 16 − 15x: 16, 14.33, 12.67, 11, 9.33, 7.67, 6, 4.33, 2.67, 1
    assert ks("grpo_k:k=linear(16,1)", 10) == [16, 14, 13, 11, 9, 8, 6, 4, 3, 1]


def test_linear_rounds_half_up_exactly():
    # k = 1 + 3x over 7 steps: x = (t−1)/6 gives 1, 1.5, 2, 2.5, 3, 3.5, 4: halves round up.
    assert ks("grpo_k:k=linear(1,4)", 7) == [1, 2, 2, 3, 3, 4, 4]


def test_linear_to_a_percentage_then_constant():
    # 16 → 1 over x ∈ [0, 0.8] of 11 steps (x = (t−1)/10): 16 − 15·x/0.8
    x = [min(Fraction(t - 1, 10), Fraction(4, 5)) for t in range(1, 12)]
    expected = [16 - 15 * xi / Fraction(4, 5) for xi in x]
    expected = [int(np.floor(v + Fraction(1, 2))) for v in expected]
    assert expected == [16, 14, 12, 10, 9, 7, 5, 3, 1, 1, 1]
    assert ks("grpo_k:k=linear(16@0%,1@80%)", 11) == expected


def test_steps_by_step_number_needs_no_total():
    s = advshape.scheduled("rloo_k:k=steps(8@1,4@51,1@101)")
    assert not s.needs_total
    got = {t: s.at(t).params["k"] for t in (1, 50, 51, 100, 101, 5000)}
    assert got == {1: 8, 50: 8, 51: 4, 100: 4, 101: 1, 5000: 1}
    assert s.at(60, 1000).params["k"] == 4  # a total is allowed and changes nothing


def test_steps_evenly_spread():
    # three values, a third of the run each: x = (t−1)/8 ≥ 1/3 from t = 4, ≥ 2/3 from t = 7
    assert ks("rloo_k:k=steps(8,4,1)", 9) == [8, 8, 8, 4, 4, 4, 1, 1, 1]


def test_before_first_and_after_last_point_hold():
    s = advshape.scheduled("grpo_k:k=linear(8@11,2@21)")
    assert [s.at(t).params["k"] for t in (1, 11, 16, 21, 99)] == [8, 8, 5, 2, 2]
    # a step past the run's end resolves like the last step
    assert advshape.scheduled("grpo_k:k=linear(16,1)").at(12, 10).params["k"] == 1


def test_single_step_run_is_at_the_start():
    assert ks("grpo_k:k=linear(16,1)", 1) == [16]


def test_float_parameter_schedule_is_exact():
    s = advshape.scheduled("entropy:lam=linear(0.5,0.05)")
    assert [s.at(t, 3).params["lam"] for t in (1, 2, 3)] == [0.5, 0.275, 0.05]
    assert float(Fraction("0.5") + (Fraction("0.05") - Fraction("0.5")) / 2) == 0.275


def test_resolved_shaper_is_the_registry_shaper():
    s = advshape.scheduled("grpo_k:k=linear(8,2)").at(2, 3)  # k = 5
    direct = advshape.shaper("grpo_k:k=5")
    assert s.spec == "grpo_k:k=5"
    n_pos = np.arange(9)
    np.testing.assert_array_equal(s.scores(n_pos, 8)[0], direct.scores(n_pos, 8)[0])
    np.testing.assert_array_equal(s.scores(n_pos, 8)[1], direct.scores(n_pos, 8)[1])


def test_keyword_and_other_parameters():
    s = advshape.scheduled("pkpo", k="steps(4@1,2@3)", baseline="loo")
    assert isinstance(s, ScheduledShaper)
    assert s.spec == "pkpo:k=steps(4@1,2@3),baseline=loo"
    assert s.at(3).params == {"k": 2, "baseline": "loo"}
    assert (
        advshape.scheduled("grpo_k", k=Schedule.parse("linear(4,2)")).spec == "grpo_k:k=linear(4,2)"
    )


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("linear(16,1)", "linear(16,1)"),
        ("linear( 16 , 1.0 )", "linear(16,1)"),
        ("LINEAR(16,8,1)", "linear(16,8,1)"),
        ("linear(16@0%,1@80.0%)", "linear(16@0%,1@80%)"),
        ("steps(8@1,4@51,1@101)", "steps(8@1,4@51,1@101)"),
        ("steps(8,4,1)", "steps(8,4,1)"),
        ("steps(8@0%,4@12.5%,2@33.25%)", "steps(8@0%,4@12.5%,2@33.25%)"),
        ("linear(0.5@1,1e-3@10)", "linear(0.5@1,0.001@10)"),
    ],
)
def test_schedule_text_round_trips(text, canonical):
    schedule = Schedule.parse(text)
    assert str(schedule) == canonical
    assert Schedule.parse(canonical) == schedule
    assert str(Schedule.parse(canonical)) == canonical


def test_spec_round_trips_through_every_layer():
    s = advshape.scheduled("rloo_k:k=linear(16@0%,1@80%)")
    again = advshape.scheduled(s.spec)
    assert again.spec == s.spec == "rloo_k:k=linear(16@0%,1@80%)"
    assert [again.at(t, 50).spec for t in range(1, 51)] == [s.at(t, 50).spec for t in range(1, 51)]
    assert pickle.loads(pickle.dumps(s)) == s
    assert advshape.parse_spec(s.spec) == ("rloo_k", {"k": "linear(16@0%,1@80%)"})


def test_scheduled_wraps_fixed_shapers():
    fixed = advshape.shaper("grpo_k:k=4")
    constant = advshape.scheduled(fixed)
    assert constant.is_constant and constant.spec == "grpo_k:k=4"
    assert constant.at(1, 10) is fixed and constant.at(7) is fixed
    assert constant.variants() == (fixed,)
    assert pickle.loads(pickle.dumps(constant)).at(2).spec == "grpo_k:k=4"
    sched = advshape.scheduled("grpo_k:k=linear(4,2)")
    assert advshape.scheduled(sched) is sched
    assert [v.params["k"] for v in sched.variants()] == [4, 3, 2]  # largest first


def test_variants_cover_every_value_of_the_run():
    s = advshape.scheduled("grpo_k:k=linear(16,1)")
    reached = {s.at(t, 97).params["k"] for t in range(1, 98)}
    assert reached == {v.params["k"] for v in s.variants()} == set(range(1, 17))


def test_shaper_refuses_a_scheduled_spec_and_names_scheduled():
    """advshape.shaper always returns one Shaper: a schedule is advshape.scheduled's."""
    with pytest.raises(
        ValueError,
        match=r"^shaper 'grpo_k:k=linear\(16,1\)' follows a schedule \(k\), so it is not one "
        r"shaper: build it with advshape.scheduled\('grpo_k:k=linear\(16,1\)'\)",
    ):
        advshape.shaper("grpo_k:k=linear(16,1)")
    with pytest.raises(ValueError, match=r"'grpo_k:k=linear\(4,2\)' follows a schedule \(k\)"):
        advshape.shaper("grpo_k", k=Schedule.parse("linear(4,2)"))
    with pytest.raises(ValueError, match=r"ScheduledShaper's shaper of one step is \.at\("):
        advshape.shaper(advshape.scheduled("grpo_k:k=linear(16,1)"))  # type: ignore[arg-type]
    s = advshape.scheduled("grpo_k:k=linear(16,1)")
    assert not hasattr(s, "advantages") and not hasattr(s, "scores")
    assert s.info.target_k == 16  # the first step's metadata


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("grpo_k:k=linear(16)", r"needs at least two comma-separated points"),
        ("grpo_k:k=linear(16,)", r"needs at least two comma-separated points"),
        ("grpo_k:k=cosine(16,1)", r"unknown schedule 'cosine'.*linear\(\.\.\.\) or steps"),
        ("grpo_k:k=linear(16,1", r"unbalanced '\('"),
        ("grpo_k:k=linear16,1)", r"unbalanced '\)'"),
        ("grpo_k:k=linear(sixteen,1)", r"value 'sixteen' is not a decimal number"),
        ("entropy:lam=linear(1/3,0)", r"value '1/3' is not a decimal number"),
        ("entropy:lam=linear(nan,0)", r"value 'nan' is not a decimal number"),
        ("grpo_k:k=steps(4@1,2@x%)", r"percentage 'x' is not a decimal number"),
        (
            "grpo_k:k=linear(16,0)",
            r"'k' must be an integer >= 1, got 0, in schedule 'linear\(16,0\)'",
        ),
        ("grpo_k:k=linear(16,1.5)", r"'k' is an integer, but schedule .* has the value 1.5"),
        ("grpo_k:k=steps(4@1,2)", r"mixes points with and without '@'"),
        ("grpo_k:k=steps(4@1,2@50%)", r"mixes step numbers and percentages"),
        ("grpo_k:k=steps(4@5,2@5)", r"strictly increasing order .*got 5 then 5"),
        ("grpo_k:k=steps(4@50%,2@10%)", r"strictly increasing order .*got 50% then 10%"),
        ("grpo_k:k=steps(4@0,2@5)", r"step '0' must be an integer >= 1"),
        ("grpo_k:k=steps(4@1.5,2@5)", r"step '1.5' must be an integer >= 1"),
        ("grpo_k:k=steps(4@0%,2@120%)", r"120% is outside 0%..100%"),
        ("grpo:std=linear(1,2)", r"'std' is a str and cannot follow a schedule"),
        ("grpo_k:kk=linear(2,1)", r"has no parameter 'kk'"),
    ],
)
def test_bad_schedules_name_the_problem(spec, message):
    with pytest.raises(ValueError, match=message):
        advshape.scheduled(spec)


@pytest.mark.parametrize(
    ("step", "total", "message"),
    [
        (0, 10, r"step must be >= 1"),
        (1.5, 10, r"step must be an integer"),
        (1, None, r"needs the run's length: pass total_steps"),
        (1, 0, r"total_steps must be >= 1"),
    ],
)
def test_bad_steps_name_the_problem(step, total, message):
    with pytest.raises(ValueError, match=r"shaper 'grpo_k:k=linear\(16,1\)': .*" + message):
        advshape.scheduled("grpo_k:k=linear(16,1)").at(step, total)


def test_check_group_size_names_the_most_demanding_value():
    s = advshape.scheduled("grpo_k:k=linear(8,1)")
    s.check_group_size(8)
    with pytest.raises(
        ValueError,
        match=r"^shaper 'grpo_k:k=linear\(8,1\)' becomes 'grpo_k:k=8' during the run: .*"
        r"k=8 > group size n=5",
    ):
        s.check_group_size(5)
    with pytest.raises(ValueError, match=r"^shaper 'rloo' needs groups of at least 2"):
        advshape.scheduled("rloo").check_group_size(1)  # a fixed shaper: its own message


@given(
    kind=st.sampled_from(["linear", "steps"]),
    values=st.lists(st.integers(1, 64), min_size=2, max_size=5),
    gaps=st.lists(st.integers(1, 40), min_size=5, max_size=5),
    total=st.integers(1, 300),
)
@settings(max_examples=200, deadline=None)
def test_random_step_schedules_round_trip_and_hit_their_points(kind, values, gaps, total):
    places = [1 + sum(gaps[:i]) for i in range(len(values))]
    text = f"{kind}(" + ",".join(f"{v}@{p}" for v, p in zip(values, places)) + ")"
    schedule = Schedule.parse(text)
    assert str(schedule) == text and Schedule.parse(str(schedule)) == schedule
    for v, p in zip(values, places):  # at its own step a point's value holds exactly
        assert schedule.value(p) == v
    s = advshape.scheduled(f"biased_k:k={text}")
    for step in range(1, places[-1] + 3):
        k = s.at(step).params["k"]
        if step <= places[0]:
            assert k == values[0]
        elif step >= places[-1]:
            assert k == values[-1]
        else:  # between its two neighbouring points, never outside their values
            i = max(j for j, p in enumerate(places) if p <= step)
            assert min(values[i], values[i + 1]) <= k <= max(values[i], values[i + 1])
            if kind == "steps":
                assert k == values[i]
    assert {s.at(t, total).params["k"] for t in range(1, total + 1)} <= {
        v.params["k"] for v in s.variants()
    }
