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

__all__ = [
    "autocast",
    "make_task",
    "package_versions",
    "set_threads",
    "starting_checkpoint",
    "step_seed",
]


def set_threads(threads: int, *, progress: bool = True) -> None:
    """Pin torch's CPU threads, and silence transformers' progress bars unless ``progress``.

    Args:
        threads: torch's CPU threads (0 leaves torch's default).
        progress: keep transformers' progress bars.

    Example:
        >>> import torch
        >>> from advshape.lm.setup import set_threads
        >>> before = torch.get_num_threads()
        >>> set_threads(0)  # 0: torch's default stays
        >>> torch.get_num_threads() == before
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLVR of a language model, Sec. 1.1).
    """
    if threads:
        torch.set_num_threads(threads)
    if not progress:
        transformers.utils.logging.disable_progress_bar()


def make_task(args: Args) -> Task:
    """The task of a run: its train problems and ``--eval-problems`` held-out ones.

    Args:
        args: the run's options (``task``, ``task_seed``, ``n_train``, ``eval_problems``).

    Returns:
        The :class:`advshape.lm.tasks.Task`.

    Example:
        >>> from advshape.lm.config import Args
        >>> from advshape.lm.setup import make_task
        >>> task = make_task(Args(task="palindrome", n_train=8, eval_problems=4))
        >>> len(task.train), len(task.heldout)
        (8, 4)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLVR of a language model, Sec. 1.1).
    """
    return Task(args.task, seed=args.task_seed, n_train=args.n_train, n_eval=args.eval_problems)


def step_seed(seed: int, step: int, stream: int) -> int:
    """A seed for one random stream of one step, independent of everything before it.

    Step t's draws depend only on (seed, t, stream), so a resumed run draws exactly what an
    uninterrupted one does.

    Args:
        seed: the run's seed.
        step: the step.
        stream: which of the step's random streams (sampling, evaluation, ...).

    Returns:
        A 32-bit seed, from NumPy's ``SeedSequence([seed, step, stream])``.

    Example:
        >>> from advshape.lm.setup import step_seed
        >>> step_seed(0, 1, 0), step_seed(0, 1, 1)
        (3964924996, 901243215)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLVR of a language model, Sec. 1.1).
    """
    return int(np.random.SeedSequence([seed, step, stream]).generate_state(1)[0])


def starting_checkpoint(args: Args, task: Task, *, progress: bool) -> tuple[str, dict[str, Any]]:
    """The checkpoint RL starts from: warm-started, or read from the cache in ``--cache-dir``.

    The start is ``--model`` if given, else a tiny Llama of the sizes in ``args`` with random
    weights seeded by ``--task-seed``; it is fine-tuned on reference answers for
    ``--warmstart-steps`` and cached under a hash of everything that decides it, so every run
    of a comparison and the probe start from the very same weights.

    Args:
        args: the run's options.
        task: its task (:func:`make_task`).
        progress: show progress bars.

    Returns:
        ``(path, stats)``: the checkpoint folder and the warm start's description and loss.

    Example:
        >>> import os
        >>> from advshape.lm.config import Args
        >>> from advshape.lm.setup import make_task, starting_checkpoint
        >>> args = Args(task="palindrome", n_train=8, eval_problems=4, warmstart_steps=0,
        ...             cache_dir="cache")
        >>> path, stats = starting_checkpoint(args, make_task(args), progress=False)
        >>> os.path.basename(path)[:10], stats["final_loss"], "model.safetensors" in os.listdir(path)
        ('warmstart-', None, True)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RL starts from a pretrained model, Sec. 1.1).
    """
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
    """The ``--precision`` of sampling and the loss pass: bf16 autocast, or nothing for fp32.

    Args:
        args: the run's options (``precision``, ``device``).

    Returns:
        A context manager.

    Example:
        >>> import torch
        >>> from advshape.lm.config import Args
        >>> from advshape.lm.setup import autocast
        >>> with autocast(Args(precision="bf16")):
        ...     (torch.ones(2, 2) @ torch.ones(2, 2)).dtype
        torch.bfloat16

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLVR of a language model, Sec. 1.1).
    """
    if args.precision != "bf16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=args.device.split(":")[0], dtype=torch.bfloat16)


def package_versions() -> dict[str, str]:
    """The versions of the packages that decide a run's sampling trajectory (saved with it).

    Returns:
        ``{package: version}`` for advshape, torch, transformers and NumPy (``"absent"``
        where one is not installed).

    Example:
        >>> from advshape.lm.setup import package_versions
        >>> sorted(package_versions())
        ['advshape', 'numpy', 'torch', 'transformers']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (RLVR of a language model, Sec. 1.1).
    """
    out = {}
    for name in ("advshape", "torch", "transformers", "numpy"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out
