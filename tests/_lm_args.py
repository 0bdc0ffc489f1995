"""The tiny RL run the small-LM tests train and check: seconds on a CPU."""

from __future__ import annotations

from advshape.lm.config import Args


def tiny_args(tmp_path, **overrides) -> Args:
    """A run of 4 steps of 4 problems x 4 samples on a one-layer model, in ``tmp_path``."""
    base = dict(
        task="countdown",
        shaper="grpo",
        steps=4,
        prompts_per_step=4,
        samples_per_prompt=4,
        n_train=40,
        eval_problems=4,
        eval_samples=4,
        eval_ks=(1, 2, 4),
        eval_every=2,
        hidden_size=16,
        num_layers=1,
        num_heads=2,
        warmstart_steps=3,
        warmstart_batch_size=8,
        cache_dir=str(tmp_path / "cache"),
        out=str(tmp_path / "run"),
        progress=False,
        threads=1,
        lr=1e-2,
    )
    base.update(overrides)
    return Args(**base)
