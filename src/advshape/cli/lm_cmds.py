"""``advshape train``, ``advshape compare`` and ``advshape probe``: RLVR of a small LM.

Arguments only here (no torch at import time); the work is in ``advshape.lm``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys

# The default comparison (the README's main job), sized to finish in under eight minutes
# on two CPU cores, warm start included.
COMPARE_STEPS = 60
COMPARE_EVAL_EVERY = 30


def _task_epilog(parser: argparse.ArgumentParser) -> None:
    """List the tasks, one line each, under --help."""
    from advshape.lm.tasks import TASKS

    width = max(len(name) for name in TASKS)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = "tasks (--task):\n" + "\n".join(
        f"  {spec.name:<{width}}  {spec.summary}" for spec in TASKS.values()
    )


def _add_run_arguments(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    from advshape.lm.tasks import task_names
    from advshape.lm.train import add_arguments

    add_arguments(parser, skip=skip)
    for action in parser._actions:
        if action.dest == "task":  # the choices, without argparse's multi-line refusal
            action.metavar = "{" + ",".join(task_names()) + "}"
    _task_epilog(parser)


def configure_train(parser: argparse.ArgumentParser) -> None:
    _add_run_arguments(parser)


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
    from advshape.lm.compare import DEFAULT_SEEDS, DEFAULT_SHAPERS

    parser.add_argument(
        "--shapers",
        nargs="+",
        default=list(DEFAULT_SHAPERS),
        help=f"shaper specs to compare (default: {' '.join(DEFAULT_SHAPERS)}); grpo, if "
        "present, is the reference of the paired differences",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=DEFAULT_SEEDS,
        help=f"paired RL seeds per shaper (default: {DEFAULT_SEEDS})",
    )
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="the seeds are FIRST_SEED .. FIRST_SEED + SEEDS - 1 (default: 0)",
    )
    _add_run_arguments(parser, skip=("shaper", "seed", "out", "resume", "stop_after"))
    parser.set_defaults(steps=COMPARE_STEPS, eval_every=COMPARE_EVAL_EVERY)
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


def run_compare(ns: argparse.Namespace) -> int:
    import advshape
    from advshape._options import count
    from advshape.lm.compare import compare, run_dir
    from advshape.lm.train import Args, args_from_namespace, check_run_folder
    from advshape.lm.train import validate as validate_args

    count(1, 256, why="runs trained at once, one process each").check("--jobs", ns.jobs)
    count(1, 10_000, why="paired RL seeds per shaper").check("--seeds", ns.seeds)
    count(0, 10**9, why="the first RL seed").check("--first-seed", ns.first_seed)
    base = args_from_namespace(ns, Args, shaper=ns.shapers[0], seed=0, resume=True)
    # Every option of every run is checked before any work starts; specs are compared in
    # their canonical form, so 'grpo_k:k=8' and 'grpo_k: k=8' are the same shaper.
    for spec in ns.shapers:
        validate_args(dataclasses.replace(base, shaper=spec), shaper_option="--shapers")
    canonical = [advshape.scheduled(spec).spec for spec in ns.shapers]
    twice = sorted({c for c in canonical if canonical.count(c) > 1})
    if twice:
        raise ValueError(
            f"--shapers lists the same shaper twice: {', '.join(twice)} (as {ns.shapers}); "
            "drop the repeat"
        )
    for spec in canonical:  # a folder holding another comparison's run: refused now, not later
        for seed in range(ns.first_seed, ns.first_seed + ns.seeds):
            check_run_folder(
                dataclasses.replace(base, shaper=spec, seed=seed, out=run_dir(ns.out, spec, seed))
            )
    path = compare(base, canonical, ns.seeds, ns.out, jobs=ns.jobs, first_seed=ns.first_seed)
    with open(os.path.join(ns.out, "summary.json")) as f:
        summary = json.load(f)
    for claim in summary["claims"]:
        verdict = "holds" if claim["holds"] else "does NOT hold"
        print(f"- {claim['claim']}: {verdict}. {claim['evidence']}", file=sys.stderr)
    print(path)
    return 0


# ----------------------------------------------------------------------------- probe

_PROBE_FIELDS = (
    "task",
    "task_seed",
    "n_train",
    "eval_problems",
    "eval_samples",
    "eval_ks",
    "max_new_tokens",
    "model",
    "hidden_size",
    "num_layers",
    "num_heads",
    "warmstart_steps",
    "warmstart_lr",
    "warmstart_batch_size",
    "cache_dir",
    "device",
    "threads",
    "progress",
)


def configure_probe(parser: argparse.ArgumentParser) -> None:
    from advshape.lm.probe import PROBE_TEMPERATURES
    from advshape.lm.train import Args

    skip = tuple(f.name for f in dataclasses.fields(Args) if f.name not in _PROBE_FIELDS)
    _add_run_arguments(parser, skip=skip)
    parser.add_argument(
        "--temperatures",
        type=float,
        nargs="+",
        default=list(PROBE_TEMPERATURES),
        help=f"sampling temperatures to evaluate (default: {list(PROBE_TEMPERATURES)})",
    )
    parser.add_argument(
        "--format", choices=("table", "json"), default="table", help="output format"
    )


def run_probe(ns: argparse.Namespace) -> int:
    import math

    from advshape.lm.probe import format_probe, probe
    from advshape.lm.train import Args, args_from_namespace, set_threads
    from advshape.lm.train import validate as validate_args

    bad = [t for t in ns.temperatures if not (math.isfinite(t) and 0 < t <= 100)]
    if bad or len(ns.temperatures) < 2:
        raise ValueError(
            f"--temperatures needs at least two values in (0, 100], got {ns.temperatures}"
        )
    # The RL options do not apply to the probe: the smallest valid values stand in for them.
    args = args_from_namespace(ns, Args, prompts_per_step=1)
    validate_args(args)
    set_threads(args.threads, progress=args.progress)
    result = probe(args, ns.temperatures)
    print(json.dumps(result, indent=2) if ns.format == "json" else format_probe(result))
    return 0
