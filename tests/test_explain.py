"""advshape.explain and ``advshape explain``: checks with counterexamples, exact scores, verl's own
estimators, TRL's (transcribed) formula against a real GRPOTrainer run, and the command line."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import torch

import advshape
from advshape.cli import main
from advshape.surrogates.explain import explain, nearest_registry_shaper, scale_distance
from tests import _reference as ref
from tests._registry_helpers import example_shaper


@pytest.mark.parametrize("name", advshape.names())
def test_explain_recovers_registry_scores_exactly(name):
    shaper = example_shaper(name, k=3)
    for n in (3, 4, 7, 12):
        if n < shaper.info.min_n:
            continue
        result = explain(shaper.advantages, n, name=shaper.spec)
        assert result.checks == {
            "permutation-equivariant": True,
            "count-based": True,
            "group-local": True,
        }
        assert result.counterexamples == () and result.shaper is not None
        for m in range(n + 1):
            r = ref.rewards_vector(m, n)
            params = dict(shaper.params)
            if m >= 1:
                want = float(ref.reference_advantage(name, r, 0, **params))
                assert result.a_pos[m] == pytest.approx(want, rel=1e-12, abs=1e-14), (n, m)
            else:
                assert np.isnan(result.a_pos[m])
            if m < n:
                want = float(ref.reference_advantage(name, r, n - 1, **params))
                assert result.a_neg[m] == pytest.approx(want, rel=1e-12, abs=1e-14), (n, m)
            else:
                assert np.isnan(result.a_neg[m])
        # the explained shaper's exact finite-N surrogate is the registry shaper's
        rho = np.linspace(0, 1, 7)
        np.testing.assert_allclose(
            advshape.finite_n_surrogate(result.shaper, n, rho),
            advshape.finite_n_surrogate(shaper, n, rho),
            rtol=1e-12,
            atol=1e-14,
        )


def test_nearest_registry_shaper_of_a_registry_shaper_is_itself():
    result = explain(advshape.shaper("skew_r").advantages, 10)
    best = nearest_registry_shaper(result.a_pos, result.a_neg, 10)[0]
    assert best.spec == "skew_r" and best.distance < 1e-15 and best.scale == pytest.approx(1)


def test_scale_distance_is_the_minimax_over_positive_scales():
    b = np.array([1.0, -2.0, 0.5])
    assert scale_distance(3 * b, b) == (0.0, pytest.approx(3.0))
    # a = (1, 1), b = (1, 3): max(|1 − c|, |1 − 3c|) is smallest at c = 1/2, value 1/2
    dist, c = scale_distance(np.array([1.0, 1.0]), np.array([1.0, 3.0]))
    assert c == pytest.approx(0.5) and dist == pytest.approx(0.5)
    # opposite signs: the best positive scale is c → 0, distance 1 (nothing in common)
    dist, _ = scale_distance(np.array([1.0, -1.0]), np.array([-1.0, 1.0]))
    assert dist == pytest.approx(1.0)


# --- failing checks come with counterexamples -------------------------------------------------


def by_position(rewards):
    """Not equivariant and not count-based: the advantage grows with the response's index."""
    return rewards * np.arange(1, rewards.shape[1] + 1)


def test_position_dependent_fn_is_flagged_with_counterexamples():
    result = explain(by_position, 6)
    assert not result.equivariant and not result.count_based and result.group_local
    assert result.shaper is None
    checks = {c.check: c for c in result.counterexamples}
    eq = checks["permutation-equivariant"]
    # the counterexample is real: fn on the permuted rewards is not the permuted output
    np.testing.assert_allclose(by_position(eq.rewards[None])[0], eq.got)
    assert not np.allclose(eq.got, eq.expected)
    assert "count-based" in checks


def test_stateful_fn_is_not_count_based():
    """An equivariant running baseline (EMA of past batch means): the advantage of (N⁺, N)
    changes from call to call."""
    state = {"baseline": 0.0}

    def ema_baseline(rewards):
        out = rewards - state["baseline"]
        state["baseline"] = 0.5 * state["baseline"] + 0.5 * float(rewards.mean())
        return out

    result = explain(ema_baseline, 5)
    assert not result.count_based and result.shaper is None
    (example,) = [c for c in result.counterexamples if c.check == "count-based"]
    assert "reverse order" in example.detail


def batch_whitened(rewards):
    """Group mean-centring, then whitening over the whole batch (REINFORCE++-baseline style)."""
    centred = rewards - rewards.mean(axis=1, keepdims=True)
    return (centred - centred.mean()) / (centred.std() + 1e-6)


def test_batch_whitening_is_not_group_local_and_is_explained_at_g_1():
    result = explain(batch_whitened, 8)
    assert result.equivariant and result.count_based and not result.group_local
    (example,) = result.counterexamples
    assert example.check == "group-local"
    assert not np.allclose(example.expected, example.got)
    # expected: the group alone; got: the same group inside a bigger batch (recomputed here)
    np.testing.assert_allclose(batch_whitened(example.rewards[None])[0], example.expected)
    assert "G = 1" in result.composition and "not group-local" in result.composition
    # at G = 1 it is GRPO with the population std and ε = 1e-6 on the advantages
    best = nearest_registry_shaper(result.a_pos, result.a_neg, 8)[0]
    assert best.distance < 1e-6 and best.spec.startswith("grpo")


def test_continuous_only_probe_is_skipped_for_binary_only_functions():
    result = explain(advshape.shaper("grpo_k:k=2").advantages, 6)
    assert result.equivariant and result.shaper is not None
    assert any("not probed on continuous rewards" in note for note in result.notes)


def test_complex_advantages_are_refused_not_cast():
    """The imaginary part used to be dropped silently (np.asarray(..., float64))."""
    grpo = advshape.shaper("grpo").advantages

    def numpy_complex(r):
        return grpo(r) + 1j * r

    def torch_complex(r):
        return torch.from_numpy(grpo(r)).to(torch.complex128)

    for fn in (numpy_complex, torch_complex):
        with pytest.raises(ValueError, match="complex advantages.*real numbers"):
            explain(fn, 4)


def test_a_continuous_probe_that_returns_nan_is_not_reported_as_raising():
    grpo = advshape.shaper("grpo").advantages

    def nan_off_binary(r):
        out = np.array(grpo(np.where((r == 0) | (r == 1), r, 0.0)))
        out[(r != 0) & (r != 1)] = np.nan
        return out

    result = explain(nan_off_binary, 4, name="mine")
    note = next(n for n in result.notes if "not probed on continuous" in n)
    assert "mine returned non-finite advantages" in note and "raised" not in note
    result = explain(advshape.shaper("grpo_k:k=2").advantages, 4, name="gk")
    note = next(n for n in result.notes if "not probed on continuous" in n)
    assert "gk raised ValueError: shaper 'grpo_k:k=2' needs binary rewards" in note


def test_population_surrogate_by_probing_a_numpy_function():
    result = explain(advshape.shaper("skew_r").advantages, 8)
    curve = advshape.reverse_engineer(result.shaper, resolution=512)
    rho = np.linspace(0, 1, 41)
    want = advshape.shaper("skew_r").surrogate(rho)
    # resolution 512 (fn probed at N = 512, 1024, 2048) is the coarsest reverse_engineer allows;
    # measured error for skew_r: 9.0e-5 (8.4e-6 at 1024, 7.3e-7 at 2048)
    np.testing.assert_allclose(curve.normalised(rho), want / want[-1], atol=2e-4)
    registry = advshape.reverse_engineer("skew_r", resolution=512)
    np.testing.assert_allclose(curve.normalised(rho), registry.normalised(rho), atol=1e-13)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be an integer group size >= 2"):
        explain(by_position, 1)
    with pytest.raises(ValueError, match="must be callable"):
        explain("grpo", 4)
    with pytest.raises(ValueError, match=r"returned shape \(1,\)"):
        explain(lambda r: r[:, 0], 4)
    with pytest.raises(ValueError, match="finite advantages"):
        explain(lambda r: r / (r.sum(axis=1, keepdims=True) - r.sum(axis=1, keepdims=True)), 4)


# --- verl's own estimators -------------------------------------------------------------------

verl_core = pytest.importorskip("verl.trainer.ppo.core_algos")
from advshape.integrations import probes  # noqa: E402


def grpo_sample_eps(m: int, n: int, correct: bool, eps: float) -> float:
    """(r − r̄)/(σ_sample + ε) at N⁺ = m from Fractions (verl's torch.std is Bessel-corrected)."""
    r = ref.rewards_vector(m, n)
    centred, var = ref.grpo_parts(r, 0 if correct else n - 1, std="sample")
    if var == 0:
        return 0.0
    return float(ref.exact(centred) / (mpmath.sqrt(ref.exact(var)) + mpmath.mpf(eps)))


def test_verl_grpo_equals_registry_grpo_sample_std_eps_1e6():
    for n in (2, 5, 16):
        result = explain(probes.verl_estimator("grpo"), n, rtol=1e-12, atol=1e-15)
        assert all(result.checks.values())
        registry = advshape.shaper("grpo:std=sample,eps=1e-6").scores(np.arange(n + 1), n)
        for m in range(n + 1):
            if m >= 1:
                assert result.a_pos[m] == pytest.approx(
                    grpo_sample_eps(m, n, True, 1e-6), rel=1e-14
                )
                assert result.a_pos[m] == pytest.approx(registry[0][m], rel=1e-14)
            if m < n:
                want = grpo_sample_eps(m, n, False, 1e-6)
                assert result.a_neg[m] == pytest.approx(want, rel=1e-14, abs=1e-15)
                assert result.a_neg[m] == pytest.approx(registry[1][m], rel=1e-14, abs=1e-15)
        ranked = nearest_registry_shaper(result.a_pos, result.a_neg, n)
        exact = {r.spec for r in ranked if r.distance < 1e-15 and r.scale == pytest.approx(1)}
        if n == 2:  # one mixed group: (r − ½)/(√½ + ε) is also one_sided_grpo's, to the bit
            assert exact == {"grpo:std=sample,eps=1e-06", "one_sided_grpo"}
        else:
            assert ranked[0].spec == "grpo:std=sample,eps=1e-06" and exact == {ranked[0].spec}


@pytest.mark.parametrize(
    ("name", "spec", "local"),
    [
        ("rloo", "rloo", True),
        ("rloo_vectorized", "rloo", True),
        ("grpo_passk", "grpo_passk", True),
        ("opo", "dr_grpo", True),  # equal lengths: the length-weighted baseline is the mean
        ("gpg", "maxrl", False),  # alone in its batch, GPG's batch/non-zero scale is N/N⁺
        ("reinforce_plus_plus_baseline", "grpo", False),
    ],
)
def test_verl_estimators_explained(name, spec, local):
    result = explain(probes.verl_estimator(name), 8, rtol=1e-5, atol=1e-6)
    assert result.equivariant and result.count_based and result.group_local is local
    best = nearest_registry_shaper(result.a_pos, result.a_neg, 8)[0]
    assert best.spec.split(":")[0] == spec and best.distance < 1e-6, best


@pytest.mark.parametrize("name", ["remax", "gae", "optimal_token_baseline", "nope"])
def test_verl_estimators_that_cannot_be_driven_are_refused(name):
    with pytest.raises(ValueError, match="cannot explain|has no advantage estimator"):
        probes.verl_estimator(name)


# --- the command line ------------------------------------------------------------------------


def run_cli(capsys, *argv):
    code = main(["explain", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_explains_verl_rloo_vectorized(capsys):
    code, out, _ = run_cli(capsys, "verl:rloo_vectorized", "--n", "6")
    assert code == 0
    assert "group-local              yes" in out
    assert "rloo                         distance 0.00e+00  at c = 1" in out
    assert "F normalised to F(0) = 0, F(1) = 1:  0.0000  0.1000  0.2500  0.5000" in out


def test_cli_explains_a_module_function_and_reports_failures(capsys):
    code, out, _ = run_cli(capsys, "tests.test_explain:batch_whitened", "--n", "4")
    assert code == 0
    assert "group-local              NO" in out and "counterexample (group-local)" in out
    code, out, _ = run_cli(capsys, "tests.test_explain:by_position", "--n", "4")
    assert code == 0 and "no count-based shaper" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verl:nope"], "verl has no advantage estimator 'nope'"),
        (["verl:remax"], "cannot explain verl:remax: it needs reward_baselines"),
        (["verl:"], "verl:NAME needs an estimator name"),
        (["verl:grpo", "--n", "1"], "--n must be >= 2"),
        (["trl", "--scale-rewards", "groups"], "--scale-rewards must be one of group, batch, none"),
        (["grpo", "--scale-rewards", "group"], "--scale-rewards applies to the target trl only"),
        (["nosuch"], "unknown target 'nosuch'"),
        (["no_such_module_xyz:f"], "cannot import module 'no_such_module_xyz'"),
        (["grpo", "--population", "maybe"], "--population must be auto, probe or off"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(capsys, argv, message):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err


# --- TRL: the transcription against a real GRPOTrainer run ----------------------------------

trl = pytest.importorskip("trl")


@pytest.mark.parametrize("scale_rewards", ["group", "batch", "none"])
def test_trl_transcription_matches_a_real_grpo_trainer(scale_rewards, tmp_path):
    import torch

    from tests._tiny_trl import (
        RewardRecorder,
        char_tokenizer,
        grpo_config,
        parity_reward,
        prompts_dataset,
        tiny_model,
    )

    class Recording(trl.GRPOTrainer):  # TRL's own trainer, recording what its loss used
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_rows = []

        def _compute_loss(self, model, inputs):
            for i in range(inputs["prompt_ids"].shape[0]):
                completion = inputs["completion_ids"][i][inputs["completion_mask"][i].bool()]
                self.loss_rows.append((tuple(completion.tolist()), float(inputs["advantages"][i])))
            return super()._compute_loss(model, inputs)

    tokenizer = char_tokenizer()
    reward = RewardRecorder(parity_reward, "parity_reward")
    trainer = Recording(
        model=tiny_model(len(tokenizer)),
        reward_funcs=reward,
        args=grpo_config(
            tmp_path, per_device_train_batch_size=8, max_steps=2, scale_rewards=scale_rewards
        ),
        train_dataset=prompts_dataset(),
        processing_class=tokenizer,
    )
    trainer.train()
    expected = []
    for _, completions, rewards in reward.calls:
        batch = torch.tensor(rewards, dtype=torch.float32).reshape(-1, 4)
        adv = probes.trl_grpo_advantages(batch, scale_rewards).ravel()
        expected += [(c, float(a)) for c, a in zip(completions, adv)]
    assert len(trainer.loss_rows) == len(expected) == 16
    got = sorted(trainer.loss_rows)
    want = sorted(expected)
    assert [c for c, _ in got] == [c for c, _ in want]
    np.testing.assert_allclose([a for _, a in got], [a for _, a in want], rtol=1e-6, atol=1e-6)
    assert any(a != 0 for _, a in want)


def test_table_verl_shows_where_verls_variants_disagree(capsys):
    assert main(["table", "--paper-only", "--verl", "--n", "6"]) == 0
    out = capsys.readouterr().out
    sections = {
        block.split("  [")[0]: block
        for block in out.split("\nverl:")[1:]
        for block in ["verl:" + block]
    }
    assert "group of one: A(1) = 1, A(0) = 0" in sections["verl:rloo"]
    assert "group of one: A(1) = 0, A(0) = 0" in sections["verl:rloo_vectorized"]
    assert "nearest rloo (distance" in sections["verl:rloo_vectorized"]
    assert "not group-local" in sections["verl:gpg"] and "nearest maxrl" in sections["verl:gpg"]
    assert "refused (ValueError" in sections["verl:grpo_passk"]


def test_docstring_examples_run():
    import doctest

    from advshape.surrogates import explain

    assert doctest.testmod(explain).failed == 0
