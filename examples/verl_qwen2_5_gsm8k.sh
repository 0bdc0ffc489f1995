#!/usr/bin/env bash
# GRPO_K (Pass@K advantage shaping, K=4) for Qwen2.5-3B-Instruct on GSM8K with verl, 8 GPUs.
#
#   pip install 'advshape[verl]' 'verl[vllm]'
#   python3 examples/data_preprocess/gsm8k.py --local_save_dir ~/data/gsm8k   # from verl's repo
#   bash examples/verl_qwen2_5_gsm8k.sh [more hydra overrides]
#
# advshape registers its estimators through verl's "verl.plugins" entry point (verl >= 0.9,
# < 0.10), so `algorithm.adv_estimator=advshape_<shaper>` works in the driver and every Ray
# worker. Shaper parameters: +algorithm.advshape_<param>=<value>; every K is checked against
# actor_rollout_ref.rollout.n when the trainer is built.
# Every override below is checked against the installed verl's config by
# tests/test_integrations_verl.py::test_documented_command_line_composes.
set -euo pipefail

python3 -m verl.trainer.main_ppo \
    algorithm.adv_estimator=advshape_grpo_k \
    +algorithm.advshape_k=4 \
    algorithm.use_kl_in_reward=False \
    data.train_files="$HOME/data/gsm8k/train.parquet" \
    data.val_files="$HOME/data/gsm8k/test.parquet" \
    data.train_batch_size=512 \
    data.max_prompt_length=512 \
    data.max_response_length=1024 \
    data.filter_overlong_prompts=True \
    data.truncation=error \
    actor_rollout_ref.model.path=Qwen/Qwen2.5-3B-Instruct \
    actor_rollout_ref.model.use_remove_padding=True \
    actor_rollout_ref.model.enable_gradient_checkpointing=True \
    actor_rollout_ref.actor.optim.lr=1e-6 \
    actor_rollout_ref.actor.ppo_mini_batch_size=128 \
    actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu=16 \
    actor_rollout_ref.actor.use_kl_loss=True \
    actor_rollout_ref.actor.kl_loss_coef=0.001 \
    actor_rollout_ref.actor.kl_loss_type=low_var_kl \
    actor_rollout_ref.actor.entropy_coeff=0 \
    actor_rollout_ref.actor.fsdp_config.param_offload=False \
    actor_rollout_ref.actor.fsdp_config.optimizer_offload=False \
    actor_rollout_ref.rollout.name=vllm \
    actor_rollout_ref.rollout.n=8 \
    actor_rollout_ref.rollout.tensor_model_parallel_size=2 \
    actor_rollout_ref.rollout.gpu_memory_utilization=0.6 \
    actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu=32 \
    actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu=32 \
    actor_rollout_ref.ref.fsdp_config.param_offload=True \
    trainer.critic_warmup=0 \
    trainer.logger='["console"]' \
    trainer.project_name=advshape_gsm8k \
    trainer.experiment_name=qwen2_5_3b_grpo_k4 \
    trainer.n_gpus_per_node=8 \
    trainer.nnodes=1 \
    trainer.save_freq=20 \
    trainer.test_freq=5 \
    trainer.total_epochs=15 "$@"
