"""verl's v1 advantage step with its own padding, on a local Ray + TransferQueue (CPU).

Run as ``python -m tests._verl_v1_padding OUT.json SPEC [SPEC ...]`` (the worker of
``test_v1_padding_through_verls_balance_batch``): for each shaper spec and each case of CASES
(a data-parallel size and a row count), it stores a multi-turn batch in a real TransferQueue, runs verl's own
``PPOTrainer._balance_batch`` (which calls ``padding_utils.upsample_batch_to_divisible_size``
and appends padding sessions) and ``PPOTrainer._compute_advantage`` (which calls the wrapped
``compute_advantage_for_multi_trajectories``), and reads the advantages back from the queue.
The trainer object is a namespace holding exactly the attributes those two methods read.
"""

from __future__ import annotations

import os

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

import json
import sys
import types
import uuid

import numpy as np

PROMPTS, SESSIONS = 3, 4  # 12 sessions, `extra` of them with two outputs: 12 + extra rows
# (data-parallel size, sessions with two outputs): verl pads the rows to a multiple of
# lcm(dp, rollout.n · ppo_mini_batch_size) = lcm(dp, 4), so 1, 2, 3 and 8 padding rows
CASES = ((1, 3), (1, 2), (1, 1), (5, 0))


def batch_rows(seed: int, extra: int):
    """Rows (key, uid, reward, response length) of PROMPTS prompts × SESSIONS sessions."""
    rng = np.random.default_rng(seed)
    two = set(rng.choice(PROMPTS * SESSIONS, size=extra, replace=False).tolist())
    rows = []
    for p in range(PROMPTS):
        uid = str(uuid.UUID(int=int(rng.integers(2**63))))
        for s in range(SESSIONS):
            for t in range(2 if p * SESSIONS + s in two else 1):
                rows.append((f"{uid}_{s}_{t}", uid, float(rng.integers(0, 2)), int(rng.integers(2, 5))))
    return rows


def main(out_path: str, specs: list[str]) -> None:
    import ray
    import torch
    import transfer_queue as tq
    import verl
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf
    from transfer_queue import KVBatchMeta
    from verl.trainer.ppo.v1.trainer_base import PPOTrainer
    from verl.utils.tensordict_utils import list_of_dict_to_tensordict

    from advshape.integrations import verl as advshape_verl

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    tq.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1}}}))
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    results = []
    for case, spec in enumerate(specs):
        name, _, params = spec.partition(":")
        overrides = [
            f"algorithm.adv_estimator=advshape_{name}",
            f"actor_rollout_ref.rollout.n={SESSIONS}",
            "actor_rollout_ref.actor.ppo_mini_batch_size=1",
        ]
        overrides += [f"+algorithm.advshape_{p}" for p in params.split(",") if p]
        with initialize_config_dir(config_dir=config_dir, version_base=None):
            config = compose(config_name="ppo_trainer", overrides=overrides)
        for dp, extra in CASES:
            trainer = types.SimpleNamespace(
                config=config,
                use_critic=False,
                global_steps=1,
                tokenizer=types.SimpleNamespace(eos_token_id=1),
                actor_rollout_wg=types.SimpleNamespace(_dispatch_info={"actor": list(range(dp))}),
            )
            trainer._get_required_batch_multiple = types.MethodType(
                PPOTrainer._get_required_batch_multiple, trainer
            )
            rows = batch_rows(seed=100 * case + extra, extra=extra)
            fields, tags = [], []
            for _, uid, reward, length in rows:
                scores = torch.zeros(length)
                scores[-1] = reward
                fields.append(
                    {
                        "uid": uid,
                        "prompts": torch.full((3,), 5, dtype=torch.int64),
                        "responses": torch.full((length,), 6, dtype=torch.int64),
                        "input_ids": torch.full((3 + length,), 5, dtype=torch.int64),
                        "attention_mask": torch.ones(3 + length, dtype=torch.int64),
                        "position_ids": torch.arange(3 + length),
                        "response_mask": torch.ones(length, dtype=torch.int64),
                        "rm_scores": scores,
                        "old_log_probs": torch.zeros(length),
                    }
                )
                tags.append({"seq_len": 3 + length})
            partition = f"train-{case}-{dp}-{extra}"
            keys = [r[0] for r in rows]
            tq.kv_batch_put(
                keys=keys,
                partition_id=partition,
                fields=list_of_dict_to_tensordict(fields),
                tags=tags,
            )
            batch = KVBatchMeta(keys=keys, tags=tags, partition_id=partition, extra_info={})
            batch = PPOTrainer._balance_batch(trainer, batch, metrics={})
            advshape_verl.collect_metrics()
            batch = PPOTrainer._compute_advantage(trainer, batch, metrics={})
            metrics = advshape_verl.collect_metrics()
            got = tq.kv_batch_get(
                keys=batch.keys, partition_id=partition, select_fields=["advantages", "uid"]
            )
            advantages = [a.tolist() for a in got["advantages"].unbind(0)]
            results.append(
                {
                    "spec": spec,
                    "dp": dp,
                    "rows": rows,
                    "keys": list(batch.keys),
                    "uids": list(got["uid"]),
                    "padding_tags": [bool(t.get("is_padding", False)) for t in batch.tags],
                    "advantages": advantages,
                    "metrics": metrics,
                }
            )
            tq.kv_clear(keys=batch.keys, partition_id=partition)
    tq.close()
    ray.shutdown()
    with open(out_path + ".tmp", "w") as f:
        json.dump(results, f)
    os.replace(out_path + ".tmp", out_path)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
