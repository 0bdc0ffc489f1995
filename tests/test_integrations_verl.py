"""advshape.integrations.verl against the real verl package, on the CPU.

The estimators are looked up through verl's own ``get_adv_estimator_fn``; advantages are
computed by verl's own ``compute_advantage`` (the trainer's advantage step) on a
``DataProto`` whose config is composed by Hydra from verl's ``ppo_trainer.yaml`` with the same
overrides a user types on the command line. Groups are shuffled and of uneven sizes.
"""

from __future__ import annotations

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
