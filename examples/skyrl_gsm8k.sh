#!/usr/bin/env bash
# GRPO_K (Pass@K advantage shaping, K annealed 8 -> 2) for Qwen2.5-1.5B-Instruct on GSM8K with
# SkyRL, 4 GPUs, in the form of SkyRL's own examples.
#
#   pip install 'advshape[skyrl]' 'skyrl[fsdp]'            # Python >= 3.12
#   python -m examples.gsm8k.gsm8k_dataset --output_dir $HOME/data/gsm8k   # from SkyRL's repo
#   bash examples/skyrl_gsm8k.sh [more overrides]
#
# Every advshape shaper is an estimator trainer.algorithm.advantage_estimator=advshape_<name>,
# its parameters trainer.algorithm.advshape_<param>=<value> (the K schedule's step is SkyRL's
# global_step; every K is checked against generator.n_samples_per_prompt when the trainer is
# built). tests/test_integrations_skyrl.py::test_documented_command_line_parses parses every
# override below with the installed SkyRL's config.
set -euo pipefail
DATA_DIR=${DATA_DIR:-$HOME/data/gsm8k}
NUM_GPUS=${NUM_GPUS:-4}

python3 -m examples.skyrl_main \
  trainer.algorithm.advantage_estimator=advshape_grpo_k \
  "trainer.algorithm.advshape_k=linear(8,2)" \
  generator.n_samples_per_prompt=8 \
  data.train_data="['$DATA_DIR/train.parquet']" \
  data.val_data="['$DATA_DIR/validation.parquet']" \
  trainer.policy.model.path=Qwen/Qwen2.5-1.5B-Instruct \
  trainer.placement.colocate_all=true \
  trainer.strategy=fsdp \
  trainer.placement.policy_num_gpus_per_node=$NUM_GPUS \
  trainer.placement.ref_num_gpus_per_node=$NUM_GPUS \
  generator.inference_engine.num_engines=$NUM_GPUS \
  generator.inference_engine.tensor_parallel_size=1 \
  trainer.epochs=20 \
  trainer.train_batch_size=1024 \
  trainer.policy_mini_batch_size=256 \
  trainer.micro_forward_batch_size_per_gpu=64 \
  trainer.micro_train_batch_size_per_gpu=64 \
  trainer.max_prompt_length=512 \
  generator.sampling_params.max_generate_length=1024 \
  trainer.policy.optimizer_config.lr=1.0e-6 \
  trainer.algorithm.use_kl_loss=true \
  generator.inference_engine.backend=vllm \
  generator.inference_engine.run_engines_locally=true \
  environment.env_class=gsm8k \
  trainer.logger=console \
  trainer.project_name=advshape_gsm8k \
  trainer.run_name=grpo_k_linear_8_2 \
  "$@"
