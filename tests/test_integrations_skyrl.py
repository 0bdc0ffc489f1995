"""advshape.integrations.skyrl against the real SkyRL package, on the CPU.

SkyRL needs its own environment (``.venv-skyrl``, made by ``scripts/integration_envs.sh``):
skyrl 0.3.0 pins transformers <= 5.8, below what the main environment's verl and lm tests use,
and skyrl 0.4 needs Python >= 3.12, which this machine lacks. skyrl 0.3.0 declares Python 3.11
but its ``skyrl.tinker.types`` do not import there: pydantic refuses ``typing.TypedDict``
before Python 3.12. This module (and the Ray workers it starts, through ``sitecustomize``)
therefore gives ``typing.TypedDict`` pydantic's accepted ``typing_extensions.TypedDict``
before importing SkyRL (``tests/_skyrl_shim.py``); nothing of advshape's or SkyRL's code is
changed.

Advantages are computed by SkyRL's own calls: ``ppo_utils.compute_advantages_and_returns``
(the registry lookup and call) and the trainer's ``RayPPOTrainer.compute_advantages_and_returns``
(its step-wise multi-turn branch and its padding), on a stand-in trainer object holding just
the attributes that method reads.
"""

import os
import subprocess
import sys
import textwrap
import types
import uuid
from pathlib import Path

import pytest

pytest.importorskip("skyrl")

from tests._skyrl_shim import SHIM  # before SkyRL: see the module docstring

# isort: split
import numpy as np
import torch
from skyrl.backends.skyrl_train.training_batch import TrainingInputBatch, pad_training_input_batch
from skyrl.backends.skyrl_train.utils import ppo_utils
from skyrl.train import trainer as skyrl_trainer

import advshape
from advshape.integrations import skyrl as advshape_skyrl
from tests._registry_helpers import example_shaper

RESPONSE_LENGTH = 5


def config(*overrides):
    return advshape_skyrl.AdvshapeConfig.from_cli_overrides(list(overrides))


def shuffled_rows(group_sizes, seed=0):
    """(uids, rewards) of shuffled groups with binary rewards."""
    rng = np.random.default_rng(seed)
    names = [str(uuid.UUID(int=int(rng.integers(2**63)))) for _ in group_sizes]
    uids = np.repeat(names, group_sizes)
    rewards = rng.integers(0, 2, size=uids.size).astype(float)
    order = rng.permutation(uids.size)
    return uids[order], rewards[order]


def token_rewards(rewards, lengths):
    out = torch.zeros(len(rewards), RESPONSE_LENGTH)
    out[torch.arange(len(rewards)), torch.tensor(lengths) - 1] = torch.tensor(
        rewards, dtype=torch.float32
    )
    mask = (torch.arange(RESPONSE_LENGTH)[None, :] < torch.tensor(lengths)[:, None]).float()
    return out, mask


def per_group(shaper, uids, rewards):
    """advshape's advantages computed one group at a time, in row order."""
    out = np.zeros(len(uids))
    for uid in dict.fromkeys(uids):
        rows = np.flatnonzero(uids == uid)
        out[rows] = shaper.advantages(np.asarray(rewards)[rows])
    return out


def test_every_shaper_is_in_skyrls_registry():
    available = ppo_utils.AdvantageEstimatorRegistry.list_available()
    assert advshape_skyrl.ESTIMATORS == tuple(f"advshape_{n}" for n in advshape.names())
    assert set(advshape_skyrl.ESTIMATORS) <= set(available)
    assert advshape_skyrl.register_shaper("rloo") == "advshape_rloo"  # idempotent
    assert {"grpo", "rloo", "maxrl"} <= set(available)  # SkyRL's own are untouched


@pytest.mark.parametrize("name", advshape.names())
def test_skyrls_own_advantage_call_gives_advshape_values(name):
    shaper = example_shaper(name, k=2)
    cfg = config(
        f"trainer.algorithm.advantage_estimator=advshape_{name}",
        *(f"trainer.algorithm.advshape_{k}={v}" for k, v in shaper.params.items()),
    )
    uids, rewards = shuffled_rows((4, 3, 5, 3, 4))  # uneven; ≥ 3, which maxpo:k=2 needs
    lengths = np.random.default_rng(1).integers(1, RESPONSE_LENGTH + 1, size=uids.size)
    tokens, mask = token_rewards(rewards, lengths)
    advantages, returns = ppo_utils.compute_advantages_and_returns(
        token_level_rewards=tokens,
        response_mask=mask,
        index=list(uids),
        adv_estimator=cfg.trainer.algorithm.advantage_estimator,
        config=cfg.trainer.algorithm,
    )
    expected = torch.tensor(per_group(shaper, uids, rewards), dtype=torch.float32)[:, None] * mask
    torch.testing.assert_close(advantages, expected, rtol=0, atol=0)
    torch.testing.assert_close(returns, expected, rtol=0, atol=0)


def stand_in_trainer(cfg, step=1, total=10):
    return types.SimpleNamespace(cfg=cfg, global_step=step, total_training_steps=total, all_metrics={})


def training_batch(uids, rewards, lengths, is_last_step=None, pad=0):
    """A TrainingInputBatch as SkyRL's convert_to_training_input makes it, padded by SkyRL's
    own pad_training_input_batch."""
    tokens, mask = token_rewards(rewards, lengths)
    data = TrainingInputBatch(
        {
            "rewards": tokens,
            "response_mask": mask,
            "loss_mask": mask.clone(),
            "values": None,
            "sequences": torch.ones(len(rewards), RESPONSE_LENGTH + 2, dtype=torch.long),
        }
    )
    data.metadata = {"uids": list(uids), "avg_response_length": float(np.mean(lengths))}
    if is_last_step is not None:
        data.metadata["is_last_step"] = list(is_last_step)
    return pad_training_input_batch(data, pad)


@pytest.mark.parametrize("pad", [0, 1, 3])
def test_trainer_padding_gets_zero_and_counts_nowhere(pad):
    """SkyRL pads after the uids with 'pad0', 'pad1', … (copies of row 0, loss-masked): each
    is a group of one, which RLOO cannot shape; advshape leaves them out."""
    cfg = config("trainer.algorithm.advantage_estimator=advshape_rloo")
    uids, rewards = shuffled_rows((4, 4, 4), seed=pad)
    lengths = np.full(uids.size, 3)
    data = training_batch(uids, rewards, lengths, pad=pad)
    trainer = stand_in_trainer(cfg)
    out = skyrl_trainer.RayPPOTrainer.compute_advantages_and_returns(trainer, data)
    want = per_group(advshape.shaper("rloo"), uids, rewards)
    got = out["advantages"][:, 0].double().numpy()
    np.testing.assert_allclose(got[: uids.size], want, rtol=0, atol=1e-7)
    assert np.all(out["advantages"][uids.size :].numpy() == 0)
    metrics = trainer.all_metrics
    assert metrics["advshape/groups"] == 3 and metrics["advshape/padding_rows"] == pad
    correct = [rewards[uids == u].sum() for u in dict.fromkeys(uids)]
    assert metrics["advshape/frac_all_wrong"] == np.mean([c == 0 for c in correct])


def test_step_wise_multi_turn_path():
    """generator.step_wise_trajectories: SkyRL gives the estimator each trajectory's last
    step and broadcasts its advantage over the trajectory's steps."""
    cfg = config(
        "trainer.algorithm.advantage_estimator=advshape_grpo_k",
        "trainer.algorithm.advshape_k=2",
        "generator.step_wise_trajectories=true",
    )
    rng = np.random.default_rng(5)
    uids, rewards, last, traj = [], [], [], []
    for prompt in range(3):
        for t in range(4):  # 4 trajectories per prompt, 1-3 steps each
            steps = int(rng.integers(1, 4))
            for s in range(steps):
                uids.append(f"prompt-{prompt}")
                rewards.append(float(rng.integers(0, 2)))  # only the last step's counts
                last.append(s == steps - 1)
                traj.append((prompt, t))
    lengths = rng.integers(1, RESPONSE_LENGTH + 1, size=len(uids))
    data = training_batch(uids, rewards, lengths, is_last_step=last, pad=2)
    trainer = stand_in_trainer(cfg)
    out = skyrl_trainer.RayPPOTrainer.compute_advantages_and_returns(trainer, data)
    final = {traj[i]: rewards[i] for i in range(len(uids)) if last[i]}
    shaper = advshape.shaper("grpo_k:k=2")
    per_traj = {}
    for prompt in range(3):
        keys = [key for key in final if key[0] == prompt]
        per_traj.update(zip(keys, shaper.advantages(np.array([final[k] for k in keys])).tolist()))
    _, mask = token_rewards(rewards, lengths)
    want = torch.tensor([per_traj[t] for t in traj], dtype=torch.float32)[:, None] * mask
    torch.testing.assert_close(out["advantages"][: len(uids)], want, rtol=0, atol=1e-7)
    assert torch.all(out["advantages"][len(uids) :] == 0)
    assert trainer.all_metrics["advshape/groups"] == 3  # groups of 4 trajectories, not steps


def test_k_schedule_follows_skyrls_global_step():
    cfg = config(
        "trainer.algorithm.advantage_estimator=advshape_grpo_k",
        "trainer.algorithm.advshape_k=linear(4,2)",
        "generator.n_samples_per_prompt=4",
    )
    uids, rewards = shuffled_rows((4, 4, 4), seed=2)
    for step, k in ((1, 4), (2, 3), (3, 2)):  # linear(4,2) over the trainer's 3 steps
        data = training_batch(uids, rewards, np.full(uids.size, 2))
        trainer = stand_in_trainer(cfg, step=step, total=3)
        out = skyrl_trainer.RayPPOTrainer.compute_advantages_and_returns(trainer, data)
        want = per_group(advshape.shaper(f"grpo_k:k={k}"), uids, rewards)
        np.testing.assert_allclose(out["advantages"][:, 0].double().numpy(), want, atol=1e-7)
        assert trainer.all_metrics["advshape/k"] == k


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            [
                "trainer.algorithm.advantage_estimator=advshape_grpo_k",
                "trainer.algorithm.advshape_k=linear(2,8)",
                "generator.n_samples_per_prompt=4",
            ],
            r"generator\.n_samples_per_prompt=4 does not suit shaper 'grpo_k:k=linear\(2,8\)'.*"
            r"becomes 'grpo_k:k=8'.*k=8 > group size n=4",
        ),
        (
            ["trainer.algorithm.advantage_estimator=advshape_grpo_k"],
            r"needs parameter 'k'.*trainer\.algorithm\.advshape_<param>=<value>",
        ),
    ],
)
def test_trainer_checks_the_config_when_built(overrides, message):
    assert hasattr(skyrl_trainer.RayPPOTrainer.__init__, "__advshape_wrapped__")
    cfg = config(*overrides)

    def skyrl_init(self, cfg):  # stands in for SkyRL's own __init__, which needs GPUs
        self.cfg, self.total_training_steps = cfg, 10

    with pytest.raises(ValueError, match=message):
        advshape_skyrl._checked_init(skyrl_init)(types.SimpleNamespace(), cfg)


def test_skyrls_own_estimators_are_left_alone():
    advshape_skyrl.check_trainer_config(config("trainer.algorithm.advantage_estimator=grpo"))


RAY_SYNC = textwrap.dedent(
    """
    import ray, torch, numpy as np
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    import advshape.integrations.skyrl  # registers in the driver
    from skyrl.backends.skyrl_train.utils.ppo_utils import sync_registries
    sync_registries()  # what SkyRL's initialize_ray does

    @ray.remote
    def worker():  # a fresh Ray worker: it never imported advshape
        import sys
        before = "advshape.integrations.skyrl" in sys.modules
        from skyrl.backends.skyrl_train.utils.ppo_utils import AdvantageEstimatorRegistry
        fn = AdvantageEstimatorRegistry.get("advshape_rloo")
        adv, _ = fn(
            token_level_rewards=torch.tensor([[1.0], [0.0], [0.0], [1.0]]),
            response_mask=torch.ones(4, 1),
            index=np.array(["a", "a", "a", "a"]),
        )
        return before, adv[:, 0].tolist()

    print(ray.get(worker.remote(), timeout=240))
    ray.shutdown()
    """
)


@pytest.mark.slow
def test_ray_actor_sync_reaches_a_fresh_worker(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SHIM)  # the TypedDict shim, for Ray workers too
    env = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).resolve().parents[1])]),
    }
    result = subprocess.run(
        [sys.executable, "-c", RAY_SYNC],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    before, advantages = eval(result.stdout.strip().splitlines()[-1])
    assert before is False
    assert advantages == pytest.approx([2 / 3, -2 / 3, -2 / 3, 2 / 3])  # RLOO: r − mean(others)


def test_documented_command_line_parses():
    """Every override of examples/skyrl_gsm8k.sh exists in the installed SkyRL's config, and
    the estimator it names builds the intended shaper, checked against its group size."""
    import shlex

    script = (Path(__file__).resolve().parents[1] / "examples" / "skyrl_gsm8k.sh").read_text()
    command = script[script.index("python3 -m examples.skyrl_main") :].replace("\\\n", " ")
    words = shlex.split(command, comments=True)
    assert words[:3] == ["python3", "-m", "examples.skyrl_main"] and words[-1] == "$@"
    env = {**os.environ, "DATA_DIR": "/data", "NUM_GPUS": "4"}
    overrides = [
        word.replace("$DATA_DIR", env["DATA_DIR"]).replace("$NUM_GPUS", env["NUM_GPUS"])
        for word in words[3:-1]
    ]
    cfg = config(*overrides)
    shaper = advshape_skyrl.shaper_from_config("grpo_k", cfg.trainer.algorithm)
    assert shaper.spec == "grpo_k:k=linear(8,2)"
    advshape_skyrl.check_trainer_config(cfg, total_training_steps=100)
    with pytest.raises(ValueError, match=r"k=8 > group size n=4"):
        advshape_skyrl.check_trainer_config(config(*overrides, "generator.n_samples_per_prompt=4"))


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(
        advshape_skyrl, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0 and result.failed == 0
