"""``advshape train`` and ``advshape compare``: RLVR of a small language model.

Arguments only here (no torch at import time); the work is in ``advshape.lm``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys

# The default comparison (the README's main job): sized to finish in under ten minutes
# on two CPU cores, warm start included. See docs/readme/issue5.md for the measurement.
DEFAULT_SHAPERS = ("grpo", "grpo_k:k=8", "skew_r")
DEFAULT_SEEDS = 2
COMPARE_STEPS = 40


def configure_train(parser: argparse.ArgumentParser) -> None:
    from advshape.lm.train import add_arguments

    add_arguments(parser)


def run_train(args: argparse.Namespace) -> int:
    from advshape.lm.train import args_from_namespace, train

    result = train(args_from_namespace(args))
    final = result["final"]
    ks = [k for k in final if k.startswith("pass@")]
    print(
        f"step {final['step']}: " + ", ".join(f"{k} = {final[k]:.3f}" for k in ks),
        file=sys.stderr,
    )
    if result["finished"]:
        print(os.path.join(args.out, "report.html"))
    return 0


def configure_compare(parser: argparse.ArgumentParser) -> None:
    from advshape.lm.train import add_arguments

    parser.add_argument(
        "--shapers",
        nargs="+",
        default=list(DEFAULT_SHAPERS),
        help=f"shaper specs to compare (default: {' '.join(DEFAULT_SHAPERS)})",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=DEFAULT_SEEDS,
        help=f"RL seeds per shaper, 0..S-1 (default: {DEFAULT_SEEDS})",
    )
    add_arguments(parser, skip=("shaper", "seed", "out", "resume", "stop_after"))
    parser.set_defaults(steps=COMPARE_STEPS)
    parser.add_argument(
        "--out", default="runs/compare", help="comparison folder (default: 'runs/compare')"
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs trained at once, one process each (default: 1); with --threads 1, "
        "--jobs 2 uses both cores of a 2-core machine",
    )


def _train_in_parallel(todo, jobs: int, *, progress: bool) -> None:
    """Each run in its own process (runs are independent; each seeds its own draws)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm.auto import tqdm

    from advshape.lm.train import train

    quiet = [dataclasses.replace(a, progress=False) for a in todo]
    context = multiprocessing.get_context("spawn")  # no forked torch thread pools
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(train, a) for a in quiet]
        for future in tqdm(
            as_completed(futures), total=len(futures), desc="runs", disable=not progress
        ):
            future.result()  # re-raises a run's error here


def _slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", spec.replace(":", "__"))


def run_compare(ns: argparse.Namespace) -> int:
    from advshape._options import count
    from advshape.lm.report import load_run, write_report
    from advshape.lm.tasks import Task
    from advshape.lm.train import (
        Args,
        args_from_namespace,
        check_run_folder,
        check_task_fits,
        prepare_model,
        read_jsonl,
        set_threads,
        train,
    )
    from advshape.lm.train import validate as validate_args
    from advshape.surrogates.forward import canonical_spec

    count(1, 256, why="runs trained at once, one process each").check("--jobs", ns.jobs)
    count(1, 10_000, why="RL seeds 0..S-1 per shaper").check("--seeds", ns.seeds)
    base = args_from_namespace(ns, Args, shaper=ns.shapers[0], seed=0, resume=True)
    # Every option of every run is checked before any work starts.
    for spec in ns.shapers:
        validate_args(dataclasses.replace(base, shaper=spec), shaper_option="--shapers")
    canonical = [canonical_spec(spec) for spec in ns.shapers]
    twice = sorted({c for c in canonical if canonical.count(c) > 1})
    if twice:
        raise ValueError(
            f"--shapers lists the same shaper twice: {', '.join(twice)} (as {ns.shapers}); "
            "drop the repeat"
        )
    runs = [
        dataclasses.replace(
            base, shaper=spec, seed=seed, out=os.path.join(ns.out, _slug(spec), f"seed{seed}")
        )
        for spec in ns.shapers
        for seed in range(ns.seeds)
    ]
    for run_args in runs:  # a folder holding another comparison's run: refused now, not later
        check_run_folder(run_args)
    set_threads(base.threads)

    task = Task(base.task, seed=base.task_seed, n_train=base.n_train, n_eval=base.eval_problems)
    check_task_fits(base, task)
    os.makedirs(ns.out, exist_ok=True)
    _, warm = prepare_model(base, task, progress=base.progress)  # shared by every run
    print(
        "warm start: "
        + ", ".join(f"{k} = {v:.3f}" for k, v in warm["heldout"].items() if k.startswith("pass@")),
        file=sys.stderr,
    )

    todo = []
    for run_args in runs:
        records = read_jsonl(os.path.join(run_args.out, "metrics.jsonl"))
        done = records and records[-1]["kind"] == "eval" and records[-1]["step"] == base.steps
        if not done:
            todo.append(run_args)
    if ns.jobs == 1:
        for run_args in todo:
            train(run_args)
    else:
        _train_in_parallel(todo, ns.jobs, progress=base.progress)
    groups = {
        spec: [load_run(os.path.join(ns.out, _slug(spec), f"seed{s}")) for s in range(ns.seeds)]
        for spec in ns.shapers
    }
    notes = (
        f"<p>task <b>{base.task}</b>, B = {base.prompts_per_step} prompts × N = "
        f"{base.samples_per_prompt} samples per step, {base.steps} steps, lr {base.lr}, "
        f"loss aggregation {base.loss_aggregation}, ppo epochs {base.ppo_epochs}; "
        f"held-out: {base.eval_problems} problems × n = {base.eval_samples} samples. "
        f"Warm start ({base.warmstart_steps} SFT steps) Pass@K: "
        + ", ".join(f"{k} = {v:.3f}" for k, v in warm["heldout"].items() if k.startswith("pass@"))
        + "</p>"
    )
    path = write_report(groups, ns.out, "advshape compare", notes)
    print(path)
    return 0
