"""Where every run of the small-LM testbed starts: shared by ``train``, ``probe`` and ``compare``.

- :func:`set_threads`: torch's CPU threads, and quiet transformers without progress bars;
- :func:`make_task`: the task's train and held-out problems, from ``--task``/``--task-seed``;
- :func:`starting_checkpoint`: the model RL starts from, a tiny Llama or a local checkpoint,
  warm-started and cached (:mod:`advshape.lm.warmstart`), so every run of a comparison and
  the probe start from the very same weights;
- :func:`step_seed`: the seed of one random stream of one step, so step t's draws depend only
  on (seed, t) and a resumed run equals an uninterrupted one;
- :func:`autocast`: the ``--precision`` of sampling and the loss pass;
- :func:`package_versions`: the versions that decide a run's sampling trajectory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import torch
import transformers

from advshape.lm.config import Args
from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer, load_pretrained
from advshape.lm.tasks import Task
from advshape.lm.warmstart import WarmStartConfig, warm_start_cached


def set_threads(threads: int, *, progress: bool = True) -> None:
    """Pin torch's CPU threads (0 leaves torch's default); silence transformers' progress
    bars unless ``progress``."""
    if threads:
        torch.set_num_threads(threads)
    if not progress:
        transformers.utils.logging.disable_progress_bar()


def make_task(args: Args) -> Task:
    """The task of ``args``: its train problems and ``--eval-problems`` held-out ones."""
    return Task(args.task, seed=args.task_seed, n_train=args.n_train, n_eval=args.eval_problems)


def step_seed(seed: int, step: int, stream: int) -> int:
    """A seed for one random stream of one step, independent of everything before it."""
    return int(np.random.SeedSequence([seed, step, stream]).generate_state(1)[0])


def starting_checkpoint(args: Args, task: Task, *, progress: bool) -> tuple[str, dict[str, Any]]:
    """(path of the warm-started checkpoint, warm-start stats): built, or read from the cache
    in ``--cache-dir``. The start is ``--model`` if given, else a tiny Llama of the sizes in
    ``args`` with random weights seeded by ``--task-seed``."""
    if args.model:
        base_model, tokenizer = load_pretrained(args.model, args.device)
        description: dict[str, Any] = {"path": os.path.abspath(args.model)}

        def make_model():
            return base_model

    else:
        tokenizer = build_tokenizer(task.alphabet)
        tiny = TinyModelConfig(
            hidden_size=args.hidden_size,
            intermediate_size=3 * args.hidden_size,
            num_hidden_layers=args.num_layers,
            num_attention_heads=args.num_heads,
        )
        description = {"tiny": dataclasses.asdict(tiny), "alphabet": task.alphabet}

        def make_model():
            return build_model(tokenizer, tiny, seed=args.task_seed).to(args.device)

    config = WarmStartConfig(
        steps=args.warmstart_steps,
        batch_size=args.warmstart_batch_size,
        lr=args.warmstart_lr,
        seed=args.task_seed,
    )
    return warm_start_cached(
        task=task,
        tokenizer=tokenizer,
        make_model=make_model,
        model_description=description,
        config=config,
        cache_dir=args.cache_dir,
        progress=progress,
    )


def autocast(args: Args) -> contextlib.AbstractContextManager[Any]:
    """bf16 autocast for --precision bf16, nothing otherwise."""
    if args.precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=args.device.split(":")[0], dtype=torch.bfloat16)


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a run's sampling trajectory."""
    out = {}
    for name in ("advshape", "torch", "transformers", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out
