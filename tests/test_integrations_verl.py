"""advshape.integrations.verl against the real verl package, on the CPU.

The estimators are looked up through verl's own ``get_adv_estimator_fn``; advantages are
computed by verl's own ``compute_advantage`` (the trainer's advantage step) on a
``DataProto`` whose config is composed by Hydra from verl's ``ppo_trainer.yaml`` with the same
overrides a user types on the command line. Groups are shuffled and of uneven sizes.
"""

from __future__ import annotations

import math
import os
import shlex
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

pytest.importorskip("verl")

import numpy as np
import torch
import verl
from hydra import compose, initialize_config_dir
from verl import DataProto
from verl.trainer.ppo import core_algos, ray_trainer

import advshape
from advshape.integrations import verl as advshape_verl
from advshape.integrations._checks import check_group_size

RESPONSE_LENGTH = 7
GROUP_SIZES = (4, 3, 5, 2, 4, 6)


def algorithm_config(*overrides: str):
    """verl's ``algorithm`` config, composed as ``python -m verl.trainer.main_ppo ...`` does."""
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        return compose(config_name="ppo_trainer", overrides=list(overrides)).algorithm


def shuffled_batch(rewards_of, seed=0, group_sizes=GROUP_SIZES):
    """A DataProto of shuffled groups (uuid ``uid`` per prompt), outcome reward on the last token."""
    rng = np.random.default_rng(seed)
    group_uids = [str(uuid.UUID(int=int(rng.integers(2**63)))) for _ in group_sizes]
    uids = np.array(np.repeat(group_uids, group_sizes).tolist(), dtype=object)
    rewards = np.asarray(rewards_of(rng, len(uids)), dtype=np.float64)
    order = rng.permutation(len(uids))
    uids, rewards = uids[order], rewards[order]
    lengths = rng.integers(1, RESPONSE_LENGTH + 1, size=len(uids))
    mask = torch.tensor(np.arange(RESPONSE_LENGTH)[None, :] < lengths[:, None], dtype=torch.float32)
    token_rewards = torch.zeros(len(uids), RESPONSE_LENGTH)
    token_rewards[torch.arange(len(uids)), torch.tensor(lengths - 1)] = torch.tensor(
        rewards, dtype=torch.float32
    )
    data = DataProto.from_dict(
        tensors={"token_level_rewards": token_rewards, "response_mask": mask},
        non_tensors={"uid": uids},
    )
    return data, uids, rewards, mask


def binary(rng, n):
    return rng.integers(0, 2, size=n)


def graded(rng, n):  # continuous verifier scores, e.g. partial credit
    return rng.integers(0, 5, size=n) / 4


def expected_advantages(shaper, uids, rewards, mask):
    """advshape's advantages computed one group at a time, placed back in row order."""
    per_row = np.zeros(len(uids))
    for uid in dict.fromkeys(uids):
        rows = np.flatnonzero(uids == uid)
        per_row[rows] = shaper.advantages(rewards[rows])
    return torch.tensor(per_row, dtype=torch.float32)[:, None] * mask


def test_every_registry_shaper_is_a_verl_estimator():
    for name in advshape.names():
        fn = core_algos.get_adv_estimator_fn(f"advshape_{name}")
        assert fn.advshape_shaper == name
    assert advshape_verl.ESTIMATORS == tuple(f"advshape_{n}" for n in advshape.names())


def test_register_is_idempotent_and_refuses_unknown_shapers():
    fn = core_algos.get_adv_estimator_fn("advshape_skew_r")
    assert advshape_verl.register_shaper("skew_r") == "advshape_skew_r"
    assert core_algos.get_adv_estimator_fn("advshape_skew_r") is fn
    with pytest.raises(ValueError, match="no shaper 'nope'"):
        advshape_verl.register_shaper("nope")


@pytest.mark.parametrize(
    ("overrides", "spec", "rewards_of"),
    [
        (
            ["algorithm.adv_estimator=advshape_grpo_k", "+algorithm.advshape_k=2"],
            "grpo_k:k=2",
            binary,
        ),
        (["algorithm.adv_estimator=advshape_skew_r"], "skew_r", binary),
        (["algorithm.adv_estimator=advshape_pkpo", "+algorithm.advshape_k=2"], "pkpo:k=2", graded),
        (
            [
                "algorithm.adv_estimator=advshape_grpo",
                "+algorithm.advshape_std=sample",
                "+algorithm.advshape_eps=0.001",
            ],
            "grpo:std=sample,eps=0.001",
            graded,
        ),
        (
            ["algorithm.adv_estimator=advshape_biased_k", "+algorithm.advshape_k=5"],
            "biased_k:k=5",
            binary,
        ),
        (  # MaxRL's order: the paper's letter T is the config key as written
            ["algorithm.adv_estimator=advshape_maclaurin", "+algorithm.advshape_T=3"],
            "maclaurin:T=3",
            binary,
        ),
        (["algorithm.adv_estimator=advshape_linear_r"], "linear_r", binary),
        (
            ["algorithm.adv_estimator=advshape_focal", "+algorithm.advshape_gamma=0.5"],
            "focal:gamma=0.5",
            binary,
        ),
        (  # the smallest group here has 2 responses, and max@K needs N ≥ K + 1
            ["algorithm.adv_estimator=advshape_maxpo", "+algorithm.advshape_k=1"],
            "maxpo:k=1",
            graded,
        ),
    ],
)
def test_verl_compute_advantage_gives_advshape_values(overrides, spec, rewards_of):
    config = algorithm_config(*overrides)
    data, uids, rewards, mask = shuffled_batch(rewards_of)
    out = ray_trainer.compute_advantage(
        data,
        adv_estimator=config.adv_estimator,
        num_repeat=4,
        norm_adv_by_std_in_grpo=config.norm_adv_by_std_in_grpo,
        config=config,
    )
    expected = expected_advantages(advshape.shaper(spec), uids, rewards, mask)
    assert torch.any(expected != 0)
    torch.testing.assert_close(out.batch["advantages"], expected, rtol=0, atol=0)
    torch.testing.assert_close(out.batch["returns"], expected, rtol=0, atol=0)


def run_advantage(overrides, rewards_of=binary, group_sizes=GROUP_SIZES):
    config = algorithm_config(*overrides)
    data, *_ = shuffled_batch(rewards_of, group_sizes=group_sizes)
    return ray_trainer.compute_advantage(data, adv_estimator=config.adv_estimator, config=config)


@pytest.mark.parametrize(
    ("overrides", "rewards_of", "group_sizes", "message"),
    [
        (  # K not given
            ["algorithm.adv_estimator=advshape_grpo_k"],
            binary,
            GROUP_SIZES,
            r"advshape_grpo_k: shaper 'grpo_k' needs parameter 'k'.*\+algorithm\.advshape_k=8",
        ),
        (  # a parameter the shaper does not have
            ["algorithm.adv_estimator=advshape_skew_r", "+algorithm.advshape_k=4"],
            binary,
            GROUP_SIZES,
            r"has no parameter 'k'.*given: \+algorithm\.advshape_k=4",
        ),
        (  # binary-only shaper, continuous verifier scores
            ["algorithm.adv_estimator=advshape_grpo_k", "+algorithm.advshape_k=2"],
            graded,
            GROUP_SIZES,
            r"advshape_grpo_k: .*needs binary rewards",
        ),
        (  # KL folded into the rewards makes them non-binary
            [
                "algorithm.adv_estimator=advshape_skew_r",
                "algorithm.use_kl_in_reward=True",
            ],
            graded,
            GROUP_SIZES,
            r"needs binary rewards.*set it to False and use actor_rollout_ref\.actor\.use_kl_loss",
        ),
        (  # K above a group's size
            ["algorithm.adv_estimator=advshape_grpo_k", "+algorithm.advshape_k=8"],
            binary,
            GROUP_SIZES,
            r"k=8 > group size n=2.*sample at least 8",
        ),
        (  # a group of 1
            ["algorithm.adv_estimator=advshape_rloo"],
            binary,
            (4, 1, 4),
            r"advshape_rloo: .*at least 2 .*actor_rollout_ref\.rollout\.n",
        ),
    ],
)
def test_bad_input_names_the_setting(overrides, rewards_of, group_sizes, message):
    with pytest.raises(ValueError, match=message):
        run_advantage(overrides, rewards_of, group_sizes)


def test_estimator_without_uid_explains():
    fn = core_algos.get_adv_estimator_fn("advshape_skew_r")
    with pytest.raises(ValueError, match="needs verl's 'uid'"):
        fn(token_level_rewards=torch.zeros(2, 3), response_mask=torch.ones(2, 3), config=None)


LOOKUP = textwrap.dedent(
    """
    import sys
    import verl
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn
    try:
        print(get_adv_estimator_fn("advshape_grpo_k").advshape_shaper)
    except ValueError:
        print("not registered")
    print("advshape.integrations.verl" in sys.modules)
    """
)


@pytest.mark.parametrize(
    ("env", "found"),
    [
        ({}, True),  # the verl.plugins entry point, loaded by `import verl`
        (
            {
                "VERL_USE_EXTERNAL_PLUGINS": "none",
                "VERL_USE_EXTERNAL_MODULES": "advshape.integrations.verl",
            },
            True,
        ),
        ({"VERL_USE_EXTERNAL_PLUGINS": "none"}, False),  # control: nothing loads it
    ],
)
def test_fresh_verl_process_finds_the_estimators(env, found):
    """What a Ray worker sees: a new interpreter that imports verl and never advshape."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    result = subprocess.run(
        [sys.executable, "-c", LOOKUP],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = result.stdout.split()
    assert lines == (["grpo_k", "True"] if found else ["not", "registered", "False"])


def test_documented_command_line_composes():
    """Every override of examples/verl_qwen2_5_gsm8k.sh exists in the installed verl's config,
    and the estimator it names builds the intended shaper for its group size."""
    script = (
        Path(__file__).resolve().parents[1] / "examples" / "verl_qwen2_5_gsm8k.sh"
    ).read_text()
    command = script[script.index("python3 -m verl.trainer.main_ppo") :].replace("\\\n", " ")
    words = shlex.split(command, comments=True)
    assert words[:3] == ["python3", "-m", "verl.trainer.main_ppo"] and words[-1] == "$@"
    overrides = [os.path.expandvars(word) for word in words[3:-1]]  # as the shell would
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        config = compose(config_name="ppo_trainer", overrides=overrides)
    fn = core_algos.get_adv_estimator_fn(config.algorithm.adv_estimator)
    shaper = advshape_verl.shaper_from_config(fn.advshape_shaper, config.algorithm)
    assert shaper.spec == "grpo_k:k=4"
    check_group_size(shaper, config.actor_rollout_ref.rollout.n, "rollout.n")


RAY_LOOKUP = textwrap.dedent(
    """
    import ray

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)

    @ray.remote
    def lookup():  # runs in a Ray worker process, which imports verl and never advshape
        from verl.trainer.ppo.core_algos import get_adv_estimator_fn
        return get_adv_estimator_fn("advshape_pkpo").advshape_shaper

    print(ray.get(lookup.remote(), timeout=180))
    ray.shutdown()
    """
)


@pytest.mark.slow
def test_ray_worker_finds_the_estimators():
    """A local Ray cluster's worker (where verl computes advantages) sees the estimators."""
    pytest.importorskip("ray")
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    result = subprocess.run(
        [sys.executable, "-c", RAY_LOOKUP],
        env={**base, "RAY_USAGE_STATS_ENABLED": "0"},
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    assert result.stdout.split()[-1] == "pkpo"


# ---- per-group diagnostics: computed by the estimator, delivered into verl's metrics ----


def direct_diagnostics(uids, rewards, advantages, padding=0):
    """The documented statistics, computed group by group with plain loops."""
    groups = {}
    for uid, r, a in zip(uids, rewards, advantages):
        groups.setdefault(uid, []).append((float(r), float(a)))
    sizes = [len(g) for g in groups.values()]
    correct = [sum(r >= 1 for r, _ in g) for g in groups.values()]
    live = [g for g in groups.values() if any(a != 0 for _, a in g)]
    ess = [sum(abs(a) for _, a in g) ** 2 / (len(g) * sum(a * a for _, a in g)) for g in live]
    out = {
        "groups": len(groups),
        "frac_all_correct": np.mean([c == n for c, n in zip(correct, sizes)]),
        "frac_all_wrong": np.mean([c == 0 for c in correct]),
        "frac_mixed": np.mean([0 < c < n for c, n in zip(correct, sizes)]),
        "frac_zero_advantage": np.mean(np.asarray(advantages) == 0),
        "ess_fraction": np.mean(ess) if ess else 0.0,
        "max_abs_group_sum": max(abs(sum(a for _, a in g)) for g in groups.values()),
        "responses": len(advantages),
        "advantage_mean": float(np.mean(advantages)),
        "advantage_std": float(np.std(advantages)),
        "advantage_abs_max": float(np.max(np.abs(advantages))),
        "padding_rows": padding,
    }
    k = 1
    while k <= min(sizes):
        out[f"pass@{k}"] = np.mean(
            [1 - math.comb(n - c, k) / math.comb(n, k) for n, c in zip(sizes, correct)]
        )
        k *= 2
    if min(sizes) & (min(sizes) - 1):  # n itself when not a power of two
        n_min = min(sizes)
        out[f"pass@{n_min}"] = np.mean(
            [1 - math.comb(n - c, n_min) / math.comb(n, n_min) for n, c in zip(sizes, correct)]
        )
    return {f"advshape/{key}": value for key, value in out.items()}


def binary_with_dead_groups(rng, n):
    """Binary rewards in group order (GROUP_SIZES): the first group all correct, the second
    all wrong, the rest random."""
    rewards = rng.integers(0, 2, size=n)
    rewards[: GROUP_SIZES[0]] = 1
    rewards[GROUP_SIZES[0] : GROUP_SIZES[0] + GROUP_SIZES[1]] = 0
    return rewards


def metrics_batch(out):
    """What verl's trainers hand compute_data_metrics: the advantage batch plus sequences."""
    rows, length = out.batch["response_mask"].shape
    out.batch["token_level_scores"] = out.batch["token_level_rewards"]
    out.batch["prompts"] = torch.ones(rows, 3, dtype=torch.long)
    out.batch["responses"] = torch.ones(rows, length, dtype=torch.long)
    out.batch["attention_mask"] = torch.cat(
        [torch.ones(rows, 3), out.batch["response_mask"]], dim=1
    ).long()
    return out


@pytest.mark.parametrize(
    ("overrides", "spec", "rewards_of"),
    [
        (["algorithm.adv_estimator=advshape_rloo"], "rloo", binary_with_dead_groups),
        (["algorithm.adv_estimator=advshape_pkpo", "+algorithm.advshape_k=2"], "pkpo:k=2", graded),
    ],
)
def test_diagnostics_reach_verls_step_metrics(overrides, spec, rewards_of):
    advshape_verl.collect_metrics()  # start from an empty channel
    config = algorithm_config(*overrides)
    data, uids, rewards, mask = shuffled_batch(rewards_of, seed=4)
    out = ray_trainer.compute_advantage(data, adv_estimator=config.adv_estimator, config=config)
    expected_adv = expected_advantages(advshape.shaper(spec), uids, rewards, mask)
    row_adv = expected_adv.sum(-1) / mask.sum(-1)
    want = direct_diagnostics(uids, rewards, row_adv.double().numpy())
    # verl's own per-step metric function, as both trainers call it, now carries them
    metrics = ray_trainer.compute_data_metrics(batch=metrics_batch(out), use_critic=False)
    assert "critic/advantages/mean" in metrics  # verl's own metrics are still there
    got = {k: v for k, v in metrics.items() if k.startswith("advshape/")}
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-7), key
    if rewards_of is binary_with_dead_groups:
        assert got["advshape/frac_all_correct"] > 0 and got["advshape/frac_all_wrong"] > 0
        assert got["advshape/frac_mixed"] > 0 and got["advshape/frac_zero_advantage"] > 0
    assert advshape_verl.collect_metrics() == {}  # delivered once


def test_collect_metrics_pools_several_calls():
    """Two advantage calls in one step (v1's parameter_sync_step = 2) report as one batch."""
    advshape_verl.collect_metrics()
    config = algorithm_config("algorithm.adv_estimator=advshape_rloo")
    pooled_uids, pooled_rewards, pooled_adv = [], [], []
    for seed, rewards_of in ((1, binary_with_dead_groups), (2, binary)):
        data, uids, rewards, mask = shuffled_batch(rewards_of, seed=seed)
        uids = np.array([f"{seed}-{u}" for u in uids], dtype=object)
        data.non_tensor_batch["uid"] = uids
        ray_trainer.compute_advantage(data, adv_estimator=config.adv_estimator, config=config)
        expected = expected_advantages(advshape.shaper("rloo"), uids, rewards, mask)
        pooled_uids += list(uids)
        pooled_rewards += list(rewards)
        pooled_adv += (expected.sum(-1) / mask.sum(-1)).double().tolist()
    got = advshape_verl.collect_metrics()
    want = direct_diagnostics(np.array(pooled_uids), pooled_rewards, pooled_adv)
    assert set(got) == set(want)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-6, abs=1e-7), key


# ---- K schedules: the step comes from verl's SkipManager, set by both trainers ----


@pytest.fixture
def verl_step():
    from verl.utils.skip.skip_manager import SkipManager

    saved = SkipManager.step
    yield SkipManager.set_step
    SkipManager.set_step(saved)


SCHEDULED = [
    "algorithm.adv_estimator=advshape_grpo_k",
    "+algorithm.advshape_k='linear(4,2)'",  # quoted: Hydra reads name(...) as its function
    "+algorithm.advshape_total_steps=3",
]


def test_scheduled_k_follows_verls_global_step(verl_step):
    # linear(4,2) over 3 steps: x = (s − 1)/2, k = 4, 3, 2
    config = algorithm_config(*SCHEDULED)
    assert config.advshape_k == "linear(4,2)"
    for step, k in ((1, 4), (2, 3), (3, 2), (9, 2)):
        verl_step(step)
        advshape_verl.collect_metrics()
        data, uids, rewards, mask = shuffled_batch(binary, seed=step, group_sizes=(4, 5, 6, 4))
        out = ray_trainer.compute_advantage(data, adv_estimator=config.adv_estimator, config=config)
        expected = expected_advantages(advshape.shaper(f"grpo_k:k={k}"), uids, rewards, mask)
        torch.testing.assert_close(out.batch["advantages"], expected, rtol=0, atol=0)
        assert advshape_verl.collect_metrics()["advshape/k"] == k


def test_every_k_of_the_schedule_is_checked_against_rollout_n():
    config = algorithm_config(*SCHEDULED)
    fn = core_algos.get_adv_estimator_fn(config.adv_estimator)
    shaper = advshape_verl.shaper_from_config(fn.advshape_shaper, config)
    assert shaper.spec == "grpo_k:k=linear(4,2)"
    with pytest.raises(ValueError, match=r"rollout.n=3 .*'grpo_k:k=4'.*k=4 > group size n=3"):
        check_group_size(shaper, 3, "rollout.n")


@pytest.mark.parametrize(
    ("overrides", "step", "message"),
    [
        (SCHEDULED[:2], 1, r"needs the run's length.*\+algorithm\.advshape_total_steps=T"),
        (SCHEDULED, -1, r"no verl trainer has started a step"),
        ([*SCHEDULED[:2], "+algorithm.advshape_total_steps=0"], 1, r"advshape_total_steps must"),
    ],
)
def test_schedule_errors_name_the_setting(overrides, step, message, verl_step):
    verl_step(step)
    with pytest.raises(ValueError, match=r"algorithm.adv_estimator=advshape_grpo_k: .*" + message):
        run_advantage(overrides, group_sizes=(4, 4))


def test_step_schedule_needs_no_total(verl_step):
    verl_step(2)
    advshape_verl.collect_metrics()
    run_advantage(
        ["algorithm.adv_estimator=advshape_rloo_k", "+algorithm.advshape_k='steps(4@1,2@2)'"],
        group_sizes=(4, 4),
    )
    assert advshape_verl.collect_metrics()["advshape/k"] == 2


@pytest.mark.parametrize(
    "trainer",
    ["verl.trainer.ppo.ray_trainer:RayPPOTrainer", "verl.trainer.ppo.v1.trainer_base"],
)
def test_verl_trainers_record_the_global_step(trainer):
    """The contract the schedule relies on: each trainer sets SkipManager's step to its
    global_steps before a step (and after restoring global_steps from a checkpoint)."""
    import importlib
    import inspect

    module_name, _, cls = trainer.partition(":")
    module = importlib.import_module(module_name)
    source = inspect.getsource(getattr(module, cls) if cls else module)
    assert source.count("SkipManager.set_step(self.global_steps)") >= 2
    assert "self.global_steps = int(global_step_folder.split(" in source


# ---- verl's v1 trainer: sessions with several outputs ----


def multi_turn_batch(seed=0, prompts=3, sessions=4):
    """A v1 advantage batch: per prompt (uid) `sessions` agent sessions of 1-3 outputs each,
    keys '{uid}_{session}_{index}', rows shuffled; each output has its own reward (only the
    session's final output's reward counts)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(prompts):
        uid = str(uuid.UUID(int=int(rng.integers(2**63))))
        for s in range(sessions):
            turns = int(rng.integers(1, 4))
            for t in range(turns):
                rows.append((uid, f"{uid}_{s}_{t}", float(rng.integers(0, 2)), t == turns - 1))
    rows = [rows[i] for i in rng.permutation(len(rows))]
    uids = np.array([r[0] for r in rows], dtype=object)
    keys = [r[1] for r in rows]
    rewards = np.array([r[2] for r in rows])
    lengths = rng.integers(1, RESPONSE_LENGTH + 1, size=len(rows))
    mask = torch.tensor(np.arange(RESPONSE_LENGTH)[None, :] < lengths[:, None], dtype=torch.float32)
    token_rewards = torch.zeros(len(rows), RESPONSE_LENGTH)
    token_rewards[torch.arange(len(rows)), torch.tensor(lengths - 1)] = torch.tensor(
        rewards, dtype=torch.float32
    )
    data = DataProto.from_dict(
        tensors={"token_level_rewards": token_rewards, "response_mask": mask},
        non_tensors={"uid": uids},
    )
    return data, keys, uids, rewards, mask


def expected_session_advantages(shaper, keys, uids, rewards, mask):
    """Each session's advantage, from its final output's reward among its prompt's sessions."""
    final = {}
    for row, key in enumerate(keys):
        session, _, index = key.rpartition("_")
        if session not in final or final[session][0] < int(index):
            final[session] = (int(index), row)
    per_session = {}
    for uid in dict.fromkeys(uids):
        sessions = [s for s, (_, row) in final.items() if uids[row] == uid]
        adv = shaper.advantages(np.array([rewards[final[s][1]] for s in sessions]))
        per_session.update(zip(sessions, adv))
    per_row = [per_session[key.rpartition("_")[0]] for key in keys]
    return torch.tensor(per_row, dtype=torch.float32)[:, None] * mask


@pytest.mark.parametrize(
    ("overrides", "spec"),
    [
        (["algorithm.adv_estimator=advshape_grpo_k", "+algorithm.advshape_k=2"], "grpo_k:k=2"),
        (["algorithm.adv_estimator=advshape_rloo"], "rloo"),
    ],
)
def test_v1_multi_trajectory_batches_shape_sessions(overrides, spec):
    from verl.trainer.ppo.v1 import trainer_base
    from verl.trainer.ppo.v1 import utils as v1_utils

    # the v1 trainer calls the wrapped function (bound by name at its import)
    assert trainer_base.compute_advantage_for_multi_trajectories is (
        v1_utils.compute_advantage_for_multi_trajectories
    )
    config = algorithm_config(*overrides)
    data, keys, uids, rewards, mask = multi_turn_batch()
    assert len(keys) > len(set(k.rpartition("_")[0] for k in keys))  # some sessions have turns
    advshape_verl.collect_metrics()
    out = v1_utils.compute_advantage_for_multi_trajectories(
        data,
        batch_keys=keys,
        adv_estimator=config.adv_estimator,
        num_repeat=4,
        norm_adv_by_std_in_grpo=config.norm_adv_by_std_in_grpo,
        config=config,
    )
    expected = expected_session_advantages(advshape.shaper(spec), keys, uids, rewards, mask)
    assert torch.any(expected != 0)
    torch.testing.assert_close(out.batch["advantages"], expected, rtol=0, atol=0)
    torch.testing.assert_close(out.batch["returns"], expected, rtol=0, atol=0)
    assert advshape_verl.collect_metrics()["advshape/groups"] == 3  # groups of 4 sessions
    # verl's own function, unwrapped, hands every output to the estimator as a response:
    # groups of 4-12 outputs, other advantages.
    original = v1_utils.compute_advantage_for_multi_trajectories.__advshape_wrapped__
    data, *_ = multi_turn_batch()
    wrong = original(data, batch_keys=keys, adv_estimator=config.adv_estimator, config=config)
    assert not torch.equal(wrong.batch["advantages"], expected)


def test_v1_other_estimators_go_to_verl_unchanged():
    from verl.trainer.ppo.v1 import utils as v1_utils

    original = v1_utils.compute_advantage_for_multi_trajectories.__advshape_wrapped__
    config = algorithm_config("algorithm.adv_estimator=grpo")
    got = v1_utils.compute_advantage_for_multi_trajectories(
        multi_turn_batch()[0], batch_keys=multi_turn_batch()[1], adv_estimator="grpo", config=config
    )
    want = original(
        multi_turn_batch()[0], batch_keys=multi_turn_batch()[1], adv_estimator="grpo", config=config
    )
    torch.testing.assert_close(got.batch["advantages"], want.batch["advantages"], rtol=0, atol=0)


def test_v1_bad_batch_key_explains():
    from verl.trainer.ppo.v1 import utils as v1_utils

    config = algorithm_config("algorithm.adv_estimator=advshape_rloo")
    data, keys, *_ = multi_turn_batch()
    keys[0] = "no-session-part"
    with pytest.raises(ValueError, match=r"batch key 'no-session-part' is not of the form"):
        v1_utils.compute_advantage_for_multi_trajectories(
            data, batch_keys=keys, adv_estimator=config.adv_estimator, config=config
        )


PATCHED = textwrap.dedent(
    """
    import verl  # loads the advshape plugin, which only installs an import hook
    import sys
    print("verl.trainer.ppo.ray_trainer" in sys.modules)
    from verl.trainer.ppo import ray_trainer
    from verl.trainer.ppo.v1 import trainer_base
    print(hasattr(ray_trainer.compute_data_metrics, "__advshape_wrapped__"))
    print(hasattr(trainer_base.compute_data_metrics, "__advshape_wrapped__"))
    print(hasattr(trainer_base.compute_advantage_for_multi_trajectories, "__advshape_wrapped__"))
    """
)


def test_fresh_verl_process_gets_the_wrappers_on_import():
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    result = subprocess.run(
        [sys.executable, "-c", PATCHED],
        env=base,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    assert result.stdout.split() == ["False", "True", "True", "True"]


# ---- verl v1's padding rows (_balance_batch -> upsample_batch_to_divisible_size) ----


def padded_multi_turn_batch(pad, seed=0):
    """multi_turn_batch plus `pad` rows built exactly as verl's upsample_batch_to_divisible_size
    builds them: construct_minimal_padding_template's fields (1-token response, zero response
    mask, zero rm_scores) under one 'pad<hex>' uid, keys '{pad_uid}_{i}_0'."""
    from verl.trainer.ppo.padding_utils import construct_minimal_padding_template

    data, keys, uids, rewards, mask = multi_turn_batch(seed=seed)
    template, tag = construct_minimal_padding_template(
        {"response_mask": torch.ones(RESPONSE_LENGTH, dtype=torch.int64)}, {}, eos_token_id=1
    )
    assert tag["is_padding"] and not template["response_mask"].any()
    pad_uid = f"pad{uuid.UUID(int=seed + 1).hex}"
    pad_rows = DataProto.from_dict(
        tensors={
            "token_level_rewards": torch.zeros(pad, RESPONSE_LENGTH),
            "response_mask": torch.zeros(pad, RESPONSE_LENGTH),
        },
        non_tensors={"uid": np.array([pad_uid] * pad, dtype=object)},
    )
    padded = DataProto.concat([data, pad_rows])
    pad_keys = [f"{pad_uid}_{i}_0" for i in range(pad)]
    return padded, keys + pad_keys, uids, rewards, mask


@pytest.mark.parametrize("name", advshape.names())
def test_v1_padding_rows_get_zero_and_count_nowhere(name):
    """Every estimator, any pad size: verl's own grpo handles these; so must advshape's."""
    from verl.trainer.ppo.v1 import utils as v1_utils

    from tests._registry_helpers import example_shaper

    shaper = example_shaper(name, k=3)
    overrides = [f"algorithm.adv_estimator=advshape_{name}"] + [
        f"+algorithm.advshape_{key}={value}" for key, value in shaper.params.items()
    ]
    config = algorithm_config(*overrides)
    for pad in (1, 2, 3, 8):
        data, keys, uids, rewards, mask = padded_multi_turn_batch(pad, seed=pad)
        advshape_verl.collect_metrics()
        out = v1_utils.compute_advantage_for_multi_trajectories(
            data, batch_keys=keys, adv_estimator=config.adv_estimator, config=config
        )
        real = len(keys) - pad
        expected = expected_session_advantages(shaper, keys[:real], uids, rewards, mask)
        torch.testing.assert_close(out.batch["advantages"][:real], expected, rtol=0, atol=0)
        assert torch.all(out.batch["advantages"][real:] == 0)
        metrics = advshape_verl.collect_metrics()
        final = {}
        for row, key in enumerate(keys[:real]):
            session, _, index = key.rpartition("_")
            if session not in final or final[session][0] < int(index):
                final[session] = (int(index), row)
        session_rows = [row for _, row in final.values()]
        want = direct_diagnostics(
            uids[session_rows],
            rewards[session_rows],
            (expected[session_rows].sum(-1) / mask[session_rows].sum(-1)).double().numpy(),
            padding=pad,
        )
        assert metrics["advshape/groups"] == 3 and metrics["advshape/padding_rows"] == pad
        for key, value in want.items():  # `expected` holds float32 advantages: 1e-6
            assert metrics[key] == pytest.approx(value, rel=1e-6, abs=1e-6), (pad, key)


def test_padding_needs_both_of_verls_markers():
    pad_uid = "pad" + "ab" * 16
    mask = torch.tensor([[0, 0], [1, 0], [0, 0]])
    got = advshape_verl.padding_rows(np.array([pad_uid, pad_uid, "pad-not-hex"]), mask)
    assert got.tolist() == [True, False, False]  # a pad uid with a response is not padding


@pytest.mark.slow
def test_v1_padding_through_verls_balance_batch(tmp_path):
    """verl's own _balance_batch pads a batch stored in a real TransferQueue (local Ray), and
    its own _compute_advantage shapes it: 1, 2, 3 and 8 padding rows, for every estimator."""
    pytest.importorskip("transfer_queue")
    from tests._registry_helpers import example_shaper

    specs = [example_shaper(name, k=3).spec for name in advshape.names()]
    out = tmp_path / "padding.json"
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    subprocess.run(
        [sys.executable, "-m", "tests._verl_v1_padding", str(out), *specs],
        cwd=Path(__file__).resolve().parents[1],
        env=base,
        capture_output=True,
        timeout=480,
        check=True,
    )
    import json

    cases = json.loads(out.read_text())
    assert len(cases) == 4 * len(specs)
    for case in cases:
        shaper = advshape.shaper(case["spec"])
        rows = {key: (uid, reward) for key, uid, reward, _ in case["rows"]}
        pads = [key for key, tag in zip(case["keys"], case["padding_tags"]) if tag]
        assert len(pads) == len(case["keys"]) - len(rows) > 0
        assert all(advshape_verl.PAD_UID.fullmatch(k.split("_")[0]) for k in pads)
        final = {}
        for key in rows:
            session, _, index = key.rpartition("_")
            final[session] = max(final.get(session, -1), int(index))
        session_adv = {}
        for uid in dict.fromkeys(u for u, _ in rows.values()):
            sessions = [s for s in final if rows[f"{s}_0"][0] == uid]
            adv = shaper.advantages(np.array([rows[f"{s}_{final[s]}"][1] for s in sessions]))
            session_adv.update(zip(sessions, adv.tolist()))
        for key, advantages in zip(case["keys"], case["advantages"]):
            if key in rows:
                want = session_adv[key.rpartition("_")[0]]
                assert advantages == pytest.approx([want] * len(advantages), abs=1e-6), key
            else:
                assert advantages == [0.0], key
        assert case["metrics"]["advshape/groups"] == 3
        assert case["metrics"]["advshape/padding_rows"] == len(pads)


# ---- up-front checks: every K of a schedule against rollout.n, before the first update ----


def trainer_config(*overrides):
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        return compose(config_name="ppo_trainer", overrides=list(overrides))


@pytest.mark.parametrize(
    ("overrides", "total", "message"),
    [
        (  # the case: K reaches 8 at step 4 of a run with groups of 4
            [
                "algorithm.adv_estimator=advshape_grpo_k",
                "+algorithm.advshape_k='linear(2,8)'",
                "actor_rollout_ref.rollout.n=4",
            ],
            10,
            r"actor_rollout_ref\.rollout\.n=4 does not suit shaper 'grpo_k:k=linear\(2,8\)'.*"
            r"becomes 'grpo_k:k=8'.*k=8 > group size n=4",
        ),
        (
            ["algorithm.adv_estimator=advshape_grpo_k", "+algorithm.advshape_k=2"],
            None,
            r"rollout\.n=1 does not suit shaper 'grpo_k:k=2'",
        ),
        (
            ["algorithm.adv_estimator=advshape_grpo_k", "actor_rollout_ref.rollout.n=4"],
            None,
            r"needs parameter 'k'",
        ),
        (
            [
                "algorithm.adv_estimator=advshape_grpo_k",
                "+algorithm.advshape_k='linear(4,1)'",
                "actor_rollout_ref.rollout.n=4",
            ],
            None,
            r"places its schedule by percentage and needs the run's length",
        ),
        (
            [
                "algorithm.adv_estimator=advshape_grpo_k",
                "+algorithm.advshape_k='linear(4,1)'",
                "+algorithm.advshape_total_steps=50",
                "actor_rollout_ref.rollout.n=4",
            ],
            60,
            r"advshape_total_steps=50 but verl's trainer runs 60 steps",
        ),
    ],
)
def test_trainer_config_is_checked_up_front(overrides, total, message):
    advshape_verl._TRAINER_TOTAL_STEPS.clear()
    with pytest.raises(ValueError, match=message):
        advshape_verl.check_trainer_config(trainer_config(*overrides), total)


def test_trainer_length_stands_in_for_total_steps(verl_step):
    advshape_verl._TRAINER_TOTAL_STEPS.clear()
    overrides = [
        "algorithm.adv_estimator=advshape_grpo_k",
        "+algorithm.advshape_k='linear(4,2)'",
        "actor_rollout_ref.rollout.n=4",
    ]
    advshape_verl.check_trainer_config(trainer_config(*overrides), 3)  # what fit() records
    try:
        verl_step(2)
        advshape_verl.collect_metrics()
        run_advantage(overrides[:2], group_sizes=(4, 4))
        assert advshape_verl.collect_metrics()["advshape/k"] == 3  # linear(4,2) over 3 steps
    finally:
        advshape_verl._TRAINER_TOTAL_STEPS.clear()


def test_other_estimators_are_not_checked():
    advshape_verl.check_trainer_config(trainer_config("algorithm.adv_estimator=grpo"), None)


@pytest.mark.parametrize(
    ("module", "cls"),
    [
        ("verl.trainer.ppo.ray_trainer", "RayPPOTrainer"),
        ("verl.trainer.ppo.v1.trainer_base", "PPOTrainer"),
    ],
)
def test_both_trainers_check_at_init_and_fit(module, cls):
    """The wrappers run the check on the trainer's own config, after __init__ and before fit."""
    import importlib
    import types

    trainer_cls = getattr(importlib.import_module(module), cls)
    assert hasattr(trainer_cls.__init__, "__advshape_wrapped__")
    assert hasattr(trainer_cls.fit, "__advshape_wrapped__")
    bad = trainer_config(
        "algorithm.adv_estimator=advshape_grpo_k",
        "+algorithm.advshape_k='linear(2,8)'",
        "actor_rollout_ref.rollout.n=4",
        "trainer.total_training_steps=10",
    )
    trainer = types.SimpleNamespace(config=bad, total_training_steps=10)
    with pytest.raises(ValueError, match=r"k=8 > group size n=4"):
        trainer_cls.fit(trainer)  # raises before verl's fit touches anything
    # __init__: the wrapper checks once verl's own __init__ (here a stand-in) has run
    built = []

    def verl_init(self, config):
        built.append(config)
        self.config, self.total_training_steps = config, 10

    with pytest.raises(ValueError, match=r"k=8 > group size n=4"):
        advshape_verl._checked_init(verl_init)(types.SimpleNamespace(), bad)
    assert built == [bad]
    # the v1 trainer computes its length in init(), after __init__: a percentage schedule
    # without a length passes __init__ and is refused at fit if still unknown
    unknown = trainer_config(
        "algorithm.adv_estimator=advshape_grpo_k",
        "+algorithm.advshape_k='linear(4,2)'",
        "actor_rollout_ref.rollout.n=4",
    )
    advshape_verl._TRAINER_TOTAL_STEPS.clear()

    def v1_init(self, config):
        self.config = config

    v1 = types.SimpleNamespace()
    advshape_verl._checked_init(v1_init)(v1, unknown)
    with pytest.raises(ValueError, match=r"needs the run's length"):
        trainer_cls.fit(v1)


def test_a_renamed_verl_function_is_loud(monkeypatch):
    import types

    module = types.ModuleType("verl.trainer.ppo.metric_utils")  # without compute_data_metrics
    monkeypatch.setattr(advshape_verl, "_MISSING_PATCHES", set())
    with pytest.warns(RuntimeWarning, match=r"has no verl\.trainer\.ppo\.metric_utils\.compute"):
        advshape_verl._patch(module)
    with pytest.raises(ValueError, match=r"no longer has .*would be silently wrong.*verl>=0\.9"):
        run_advantage(["algorithm.adv_estimator=advshape_rloo"], group_sizes=(4, 4))


BROKEN = textwrap.dedent(
    """
    import sys
    sys.modules["advshape.integrations.verl"] = None  # its import now fails, as a broken install's
    import torch
    import verl
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn
    estimator = get_adv_estimator_fn("advshape_grpo_k")
    try:
        estimator(token_level_rewards=torch.zeros(2, 3), response_mask=torch.ones(2, 3))
    except ValueError as err:
        print("RAISED", err)
    """
)


def test_a_plugin_that_fails_to_load_says_why():
    """verl swallows a plugin's import error; advshape's entry point reports it on stderr and
    its estimators raise the cause instead of verl's 'Unknown advantage estimator'."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("VERL_USE_EXTERNAL")}
    result = subprocess.run(
        [sys.executable, "-c", BROKEN],
        env=base,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    assert "advshape: the verl plugin failed to load (ModuleNotFoundError" in result.stderr
    assert "pip install 'advshape[verl]'" in result.stderr
    assert result.stdout.startswith("RAISED advshape: the verl plugin failed to load")


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(
        advshape_verl, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0 and result.failed == 0


def test_explain_advshapes_own_verl_estimator(capsys):
    """`advshape explain verl:advshape_grpo_k:k=4` probes it through verl; without k, the
    error says how to give it on the command line."""
    from advshape.cli import main

    assert main(["explain", "verl:advshape_grpo_k:k=4", "--n", "8", "--population", "off"]) == 0
    assert "grpo_k:k=4                   distance 0.00e+00" in capsys.readouterr().out
    assert main(["explain", "verl:advshape_grpo_k", "--n", "8"]) == 2
    err = capsys.readouterr().err
    assert "needs parameter 'k'" in err and "verl:advshape_grpo_k:k=4" in err
    assert "+algorithm.advshape_k=4" in err
