"""advshape.integrations.trl against the real TRL GRPOTrainer, on the CPU, offline.

A tiny Qwen2 model (a few thousand parameters, built from a config) and a character-level
tokenizer made here train for a few optimisation steps. The reward functions record what
they scored; ``_compute_loss`` records what the loss used. The tests then check, row by row,
that the advantages inside TRL's loss are advshape's advantages of the scored rewards.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

pytest.importorskip("trl")

import numpy as np
import torch
from transformers import AutoTokenizer, TrainerCallback

import advshape
from advshape.integrations.trl import GRPOTrainer, shaped_advantages
from tests._tiny_trl import (
    RecordingTrainer,
    RewardRecorder,
    char_tokenizer,
    graded_reward,
    grpo_config,
    parity_reward,
    prompts_dataset,
    tiny_model,
)

NUM_GENERATIONS = 4
PROMPTS_PER_STEP = 2
STEPS = 3
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tokenizer_dir(tmp_path_factory):
    """The character-level tokenizer, saved and reloaded like a local checkpoint."""
    path = tmp_path_factory.mktemp("tokenizer")
    char_tokenizer().save_pretrained(path)
    return path


def expected_rows(shaper, calls):
    """advshape's advantages of each scored group, computed one group at a time."""
    rows, batches = [], []
    for prompts, completions, rewards in calls:
        assert len(rewards) == PROMPTS_PER_STEP * NUM_GENERATIONS
        batch = []
        for start in range(0, len(rewards), NUM_GENERATIONS):
            group = slice(start, start + NUM_GENERATIONS)
            # TRL's contract, which the integration relies on: a group is a run of one prompt.
            assert len(set(prompts[group])) == 1
            adv = shaper.advantages(torch.tensor(rewards[group], dtype=torch.float64))
            batch.extend(adv.to(torch.float32).tolist())
        rows.extend(zip(prompts, completions, batch))
        batches.append(batch)
    return rows, batches


@pytest.mark.parametrize(
    ("spec", "score"),
    [
        ("grpo_k:k=2", parity_reward),
        ("skew_r", parity_reward),
        ("pkpo:k=2", graded_reward),
    ],
)
def test_trl_uses_advshape_advantages(spec, score, tokenizer_dir, tmp_path):
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    model = tiny_model(len(tokenizer))
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    reward = RewardRecorder(score, "recorded_reward")
    trainer = RecordingTrainer(
        model=model,
        reward_funcs=reward,
        args=grpo_config(
            tmp_path / "out",
            per_device_train_batch_size=PROMPTS_PER_STEP * NUM_GENERATIONS,
            num_generations=NUM_GENERATIONS,
            max_steps=STEPS,
        ),
        train_dataset=prompts_dataset(),
        processing_class=tokenizer,
        shaper=spec,
    )
    trainer.train()

    shaper = advshape.shaper(spec)
    assert len(reward.calls) == STEPS  # one generation batch per optimisation step
    expected, batches = expected_rows(shaper, reward.calls)
    assert Counter(trainer.loss_rows) == Counter(expected)

    # The run must exercise shaping: some group had mixed rewards, hence non-zero advantages,
    # and they are not the ones TRL computes by default, (r − mean)/(sample std + 1e-4).
    all_expected = np.array([adv for batch in batches for adv in batch])
    assert np.any(all_expected != 0.0)
    trl_default = advshape.shaper("grpo:std=sample,eps=0.0001")
    default_values = np.concatenate(
        [
            trl_default.advantages(np.array(rewards).reshape(-1, NUM_GENERATIONS)).ravel()
            for _, _, rewards in reward.calls
        ]
    )
    assert not np.allclose(all_expected, default_values)

    # Completions table and metrics show the shaped values.
    assert list(trainer._logs["advantages"]) == batches[-1]
    logged = [h for h in trainer.state.log_history if "advshape/advantage_mean" in h]
    assert len(logged) == STEPS
    for entry, batch in zip(logged, batches):
        assert entry["advshape/advantage_mean"] == pytest.approx(np.mean(batch), abs=1e-6)
        assert entry["advshape/advantage_abs_max"] == pytest.approx(np.max(np.abs(batch)), abs=1e-6)

    changed = [name for name, p in model.named_parameters() if not torch.equal(p, before[name])]
    assert len(changed) == len(before)
    assert_diagnostics_logged(trainer, reward.calls, batches)


def direct_stats(groups, advantages, **counts):
    """The documented advshape/* statistics of pooled groups (lists of rewards, of
    advantages), computed with plain NumPy, one group at a time."""
    sizes = np.array([len(g) for g in groups])
    correct = np.array([sum(r >= 1 for r in g) for g in groups])
    adv = [np.array(a, dtype=np.float64) for a in advantages]
    flat = np.concatenate(adv)
    live = [a for a in adv if np.any(a != 0)]
    out = {
        "groups": len(groups),
        "frac_all_correct": np.mean(correct == sizes),
        "frac_all_wrong": np.mean(correct == 0),
        "frac_mixed": np.mean((correct > 0) & (correct < sizes)),
        "frac_zero_advantage": np.mean(flat == 0),
        "ess_fraction": np.mean(
            [np.abs(a).sum() ** 2 / (len(a) * (a**2).sum()) for a in live] or [0.0]
        ),
        "max_abs_group_sum": max(abs(a.sum()) for a in adv),
        "responses": flat.size,
        "advantage_mean": np.mean(flat),
        "advantage_std": np.std(flat),
        "advantage_abs_max": np.max(np.abs(flat)),
        **counts,
    }
    k = 1
    while k <= sizes.min():
        out[f"pass@{k}"] = np.mean(
            [1 - math.comb(n - c, k) / math.comb(n, k) for n, c in zip(sizes, correct)]
        )
        k *= 2
    return out


def assert_diagnostics_logged(trainer, calls, batches):
    """The advshape/* diagnostics of each step equal a direct per-group computation."""
    logged = [h for h in trainer.state.log_history if "advshape/frac_mixed" in h]
    assert len(logged) == len(calls)
    for entry, (_, _, rewards), batch in zip(logged, calls, batches):
        n = NUM_GENERATIONS
        groups = [rewards[i : i + n] for i in range(0, len(rewards), n)]
        adv = [batch[i : i + n] for i in range(0, len(batch), n)]
        direct = direct_stats(groups, adv, skipped_groups=0)
        logged_keys = {k for k in entry if k.startswith("advshape/")}
        assert logged_keys == {f"advshape/{k}" for k in direct}  # one definition per key
        for key, value in direct.items():
            # TRL logs float32-rounded means; the advantages in `batch` are float32 too
            assert entry[f"advshape/{key}"] == pytest.approx(value, rel=1e-5, abs=1e-6), key


class StopAt(TrainerCallback):
    """Ends training after ``step`` optimisation steps (an interruption, for resume tests)."""

    def __init__(self, step):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True
        return control


def scheduled_trainer(tokenizer_dir, out, reward, spec, **config):
    """A RecordingTrainer of PROMPTS_PER_STEP groups of NUM_GENERATIONS per step (4 steps)."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    return RecordingTrainer(
        model=tiny_model(len(tokenizer)),
        reward_funcs=reward,
        args=grpo_config(
            out,
            per_device_train_batch_size=PROMPTS_PER_STEP * NUM_GENERATIONS,
            num_generations=NUM_GENERATIONS,
            **{"max_steps": 4, **config},
        ),
        train_dataset=prompts_dataset(),
        processing_class=tokenizer,
        shaper=spec,
    )


def test_k_schedule_follows_trl_global_step_and_survives_resume(tokenizer_dir, tmp_path):
    # k = linear(4, 1) over 4 steps: x = (s − 1)/3, k = ⌊4 − 3x + ½⌋ = 4, 3, 2, 1
    spec = "grpo_k:k=linear(4,1)"
    reward = RewardRecorder(parity_reward, "recorded_reward")
    trainer = scheduled_trainer(tokenizer_dir, tmp_path / "full", reward, spec)
    trainer.train()
    logged = [h["advshape/k"] for h in trainer.state.log_history if "advshape/k" in h]
    assert logged == [4, 3, 2, 1]
    expected = []
    for k, (prompts, completions, rewards) in zip((4, 3, 2, 1), reward.calls):
        shaper = advshape.shaper(f"grpo_k:k={k}")
        adv = shaper.advantages(torch.tensor(rewards, dtype=torch.float64).view(-1, 4))
        expected += zip(prompts, completions, adv.reshape(-1).to(torch.float32).tolist())
    assert Counter(trainer.loss_rows) == Counter(expected)
    assert any(a != 0 for *_, a in expected)

    # Interrupted after step 2 (checkpoint), then resumed: steps 3 and 4 use k = 2 and 1.
    out = tmp_path / "resumed"
    first = scheduled_trainer(
        tokenizer_dir,
        out,
        RewardRecorder(parity_reward, "recorded_reward"),
        spec,
        save_strategy="steps",
        save_steps=2,
    )
    first.add_callback(StopAt(2))
    first.train()
    assert [h["advshape/k"] for h in first.state.log_history if "advshape/k" in h] == [4, 3]
    second = scheduled_trainer(
        tokenizer_dir, out, RewardRecorder(parity_reward, "recorded_reward"), spec
    )
    second.train(resume_from_checkpoint=str(out / "checkpoint-2"))
    resumed = [(h["step"], h["advshape/k"]) for h in second.state.log_history if "advshape/k" in h]
    assert resumed[-2:] == [(3, 2), (4, 1)]


def test_schedule_reaching_k_above_n_fails_at_start_up(tokenizer_dir, tmp_path):
    with pytest.raises(ValueError, match=r"num_generations=4 .*'grpo_k:k=8'.*k=8 > group size"):
        make_trainer(tokenizer_dir, tmp_path, "grpo_k:k=linear(8,1)")


def test_generation_batch_shuffled_and_split_over_steps(tokenizer_dir, tmp_path):
    """steps_per_generation=2: TRL shuffles each generation batch of 2 groups and spreads it
    over 2 optimisation steps of 4 rows; every row still carries its whole group's advantage."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    reward = RewardRecorder(parity_reward, "recorded_reward")
    trainer = RecordingTrainer(
        model=tiny_model(len(tokenizer)),
        reward_funcs=reward,
        args=grpo_config(
            tmp_path / "out",
            per_device_train_batch_size=NUM_GENERATIONS,
            steps_per_generation=2,
            num_generations=NUM_GENERATIONS,
            max_steps=4,
        ),
        train_dataset=prompts_dataset(),
        processing_class=tokenizer,
        shaper="rloo",
    )
    trainer.train()
    assert len(reward.calls) == 2
    expected, _ = expected_rows(advshape.shaper("rloo"), reward.calls)
    assert len(trainer.loss_rows) == 16
    assert Counter(trainer.loss_rows) == Counter(expected)
    assert any(adv != 0.0 for _, _, adv in expected)


def test_shaped_advantages_drops_unscored_rows_and_weights_functions():
    # Two reward functions, weights (1, 0.5); row 2 unscored by both (NaN): advantage 0, and
    # its group is shaped as a group of 3.
    nan = float("nan")
    per_func = torch.tensor(
        [[1, 0], [0, 0], [nan, nan], [1, nan], [0, 2], [0, 0], [0, 0], [1, 0]],
        dtype=torch.float32,
    )
    shaper = advshape.shaper("rloo")
    got = shaped_advantages(shaper, per_func, torch.tensor([1.0, 0.5]), 4)
    # rewards: group 0 = (1, 0, ·, 1), group 1 = (1, 0, 0, 1); RLOO: r_i − mean of the others.
    expected = torch.tensor(
        [1 - 0.5, 0 - 1, 0, 1 - 0.5, 1 - 1 / 3, 0 - 2 / 3, 0 - 2 / 3, 1 - 1 / 3],
        dtype=torch.float64,
    )
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-15)


# ---- bad input: each fails at start-up or on the first batch, naming the setting ----


def make_trainer(tokenizer_dir, tmp_path, shaper, reward=parity_reward, **config):
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    reward_fn = RewardRecorder(reward, reward.__name__)
    return GRPOTrainer(
        model=tiny_model(len(tokenizer)),
        reward_funcs=reward_fn,
        args=grpo_config(tmp_path / "out", **config),
        train_dataset=prompts_dataset(),
        eval_dataset=prompts_dataset() if config.get("eval_strategy") else None,
        processing_class=tokenizer,
        shaper=shaper,
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("grpo_k:k", r"shaper=\.\.\.\)='grpo_k:k'.*key=value"),
        ("grpo_kk:k=2", r"unknown shaper 'grpo_kk'.*did you mean 'grpo_k'"),
        ("grpo_k", r"needs parameter 'k'"),
    ],
)
def test_bad_spec_fails_at_start_up(spec, message, tokenizer_dir, tmp_path):
    with pytest.raises(ValueError, match=message):
        make_trainer(tokenizer_dir, tmp_path, spec)


def test_k_above_num_generations_fails_at_start_up(tokenizer_dir, tmp_path):
    with pytest.raises(ValueError, match=r"GRPOConfig\.num_generations=4 .*k=8 > group size n=4"):
        make_trainer(tokenizer_dir, tmp_path, "grpo_k:k=8")


def test_settings_are_checked_before_the_model_loads(tmp_path):
    # The model path does not exist: the shaper/config error must come first.
    with pytest.raises(ValueError, match=r"GRPOConfig\.num_generations=4 .*k=8"):
        GRPOTrainer(
            model=str(tmp_path / "no-such-checkpoint"),
            reward_funcs=parity_reward,
            args=grpo_config(tmp_path / "out"),
            shaper="grpo_k:k=8",
        )


def test_group_size_one_fails_at_start_up(tokenizer_dir, tmp_path):
    # TRL itself refuses num_generations=1 for training; evaluation may use groups of 1.
    with pytest.raises(ValueError, match=r"GRPOConfig\.num_generations_eval=1 .*at least 2"):
        make_trainer(
            tokenizer_dir,
            tmp_path,
            "rloo",
            eval_strategy="steps",
            eval_steps=1,
            num_generations_eval=1,
            per_device_eval_batch_size=2,
        )


def test_normalize_then_sum_is_refused(tokenizer_dir, tmp_path):
    with pytest.raises(ValueError, match="multi_objective_aggregation='sum_then_normalize'"):
        make_trainer(
            tokenizer_dir, tmp_path, "skew_r", multi_objective_aggregation="normalize_then_sum"
        )


def test_scale_rewards_is_reported_as_ignored(tokenizer_dir, tmp_path):
    with pytest.warns(UserWarning, match="scale_rewards='batch' is ignored"):
        make_trainer(tokenizer_dir, tmp_path, "skew_r", scale_rewards="batch")


def test_binary_only_shaper_fails_on_first_non_binary_batch(tokenizer_dir, tmp_path):
    trainer = make_trainer(tokenizer_dir, tmp_path, "grpo_k:k=2", reward=graded_reward, max_steps=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"graded_reward.*needs binary rewards.*'pkpo'"):
            trainer.train()
    assert trainer.state.global_step == 0


@pytest.mark.slow
def test_two_processes_shape_groups_split_across_ranks(tmp_path):
    """torchrun, 2 CPU processes (gloo), 2 completions per rank: every group of 4 is split 2 + 2.

    Shaping each rank's half on its own would be wrong; the advantages in each rank's loss
    must be those of the whole group, as gathered.
    """
    spec = "grpo_k:k=2"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
    ]
    subprocess.run(
        [*command, "-m", "tests._tiny_trl", str(tmp_path), spec],
        cwd=REPO,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in ranks] == [2, 2]
    shaper = advshape.shaper(spec)

    whole_groups = Counter(rows_shaped_per_prompt(shaper, ranks[0]["calls"] + ranks[1]["calls"]))
    assert Counter(prompt for prompt, _, _ in whole_groups.elements()) == Counter(
        {prompt: NUM_GENERATIONS for prompt, _, _ in whole_groups}
    )
    used = Counter((p, tuple(c), a) for rank in ranks for p, c, a in rank["loss_rows"])
    assert used == whole_groups
    # Every rank scored 2 completions per step, so each group was split 2 + 2, and shaping
    # each rank's half on its own would have given other advantages.
    assert all(len(prompts) == 2 for rank in ranks for prompts, _, _ in rank["calls"])
    halves = Counter(row for rank in ranks for row in rows_shaped_per_prompt(shaper, rank["calls"]))
    assert halves != whole_groups


def rows_shaped_per_prompt(shaper, calls):
    """(prompt, completion, advantage) rows, the calls' completions grouped by prompt."""
    by_prompt: dict[str, list[tuple[tuple[int, ...], float]]] = {}
    for prompts, completions, rewards in calls:
        for prompt, completion, reward in zip(prompts, completions, rewards):
            by_prompt.setdefault(prompt, []).append((tuple(completion), reward))
    rows = []
    for prompt, members in by_prompt.items():
        adv = shaper.advantages(torch.tensor([r for _, r in members], dtype=torch.float64))
        rows += [(prompt, c, a) for (c, _), a in zip(members, adv.to(torch.float32).tolist())]
    return rows


# ---- unscored completions (a verifier returning None) and logging over several steps ----


class PartialVerifier:
    """A verifier that cannot score everything: None for every completion of the prompts
    '0+b=' and '3+b=' (no reference answer), and None for a completion whose token ids sum
    to a multiple of 5 (a timeout, say); otherwise the parity reward. Records every call."""

    __name__ = "partial_verifier"

    def __init__(self):
        self.calls = []

    def __call__(self, prompts, completions, completion_ids, **kwargs):
        rewards = [
            None if p[0] in "03" or sum(ids) % 5 == 0 else float(parity_reward(ids))
            for p, ids in zip(prompts, completion_ids)
        ]
        self.calls.append((list(prompts), [tuple(i) for i in completion_ids], rewards))
        return rewards


@pytest.mark.parametrize(("spec", "needed"), [("rloo", 2), ("grpo_k:k=4", 4)])
def test_unscored_completions_train_on_like_plain_trl(spec, needed, tokenizer_dir, tmp_path):
    """Training goes on; a group with fewer scored completions than the shaper needs gets
    advantage 0 (TRL gives 0 below two), the others are shaped over their scored ones, the
    skipped groups are counted per step, and a warning names the reward function."""
    verifier = PartialVerifier()
    trainer = scheduled_trainer(tokenizer_dir, tmp_path / "out", verifier, spec, max_steps=6)
    with pytest.warns(UserWarning, match=r"partial_verifier returned None.*advantage 0"):
        trainer.train()
    assert trainer.state.global_step == 6

    shaper = advshape.shaper(spec)
    expected, skipped_per_step, partly = [], [], 0
    for prompts, completions, rewards in verifier.calls:
        skipped = 0
        for start in range(0, len(rewards), NUM_GENERATIONS):
            group = rewards[start : start + NUM_GENERATIONS]
            scored = [i for i, r in enumerate(group) if r is not None]
            adv = [0.0] * NUM_GENERATIONS
            if len(scored) >= needed:
                partly += len(scored) < NUM_GENERATIONS
                values = shaper.advantages(np.array([group[i] for i in scored]))
                for i, a in zip(scored, values.tolist()):
                    adv[i] = float(np.float32(a))
            else:
                skipped += 1
            expected += zip(
                prompts[start : start + NUM_GENERATIONS],
                completions[start : start + NUM_GENERATIONS],
                adv,
            )
        skipped_per_step.append(skipped)
    assert sum(skipped_per_step) > 0 and any(a != 0 for *_, a in expected)
    if spec == "rloo":
        assert partly > 0  # some groups were shaped over a subset of their completions
    assert Counter(trainer.loss_rows) == Counter(expected)
    logged = [
        h["advshape/skipped_groups"]
        for h in trainer.state.log_history
        if "advshape/skipped_groups" in h
    ]
    assert logged == skipped_per_step


def test_metrics_pool_correctly_over_logging_steps(tokenizer_dir, tmp_path):
    """logging_steps=2: each log entry is the two batches pooled (counts summed, maxima
    maximised, fractions over all their groups), not an average of per-batch values."""
    reward = RewardRecorder(parity_reward, "recorded_reward")
    trainer = scheduled_trainer(
        tokenizer_dir, tmp_path / "out", reward, "grpo_k:k=linear(4,2)", logging_steps=2
    )
    trainer.train()
    _, batches = expected_rows(advshape.shaper("grpo_k:k=4"), reward.calls[:1])
    logged = [h for h in trainer.state.log_history if "advshape/groups" in h]
    assert [h["step"] for h in logged] == [2, 4]
    n = NUM_GENERATIONS
    ks = (4, 3, 3, 2)  # linear(4,2) over 4 steps: ⌊4 − 2(s−1)/3 + ½⌋
    for entry, window in zip(logged, ((0, 1), (2, 3))):
        groups, adv = [], []
        for step in window:
            rewards = reward.calls[step][2]
            shaper = advshape.shaper(f"grpo_k:k={ks[step]}")
            for i in range(0, len(rewards), n):
                groups.append(rewards[i : i + n])
                values = shaper.advantages(np.array(rewards[i : i + n]))
                adv.append(values.astype(np.float32).tolist())
        direct = direct_stats(groups, adv, skipped_groups=0, k=np.mean([ks[s] for s in window]))
        assert direct["groups"] == 2 * PROMPTS_PER_STEP
        assert {k for k in entry if k.startswith("advshape/")} == {f"advshape/{k}" for k in direct}
        for key, value in direct.items():
            assert entry[f"advshape/{key}"] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert batches  # the first batch was shaped with K = 4


def test_docstring_examples_run():
    import doctest

    from advshape.integrations import trl as advshape_trl

    result = doctest.testmod(
        advshape_trl, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted > 0 and result.failed == 0
