"""``advshape train``, ``advshape compare`` and ``advshape probe``: RLVR of a small LM.

Their options are the dataclasses of :mod:`advshape.lm.config` (no torch at import time);
the work is in :mod:`advshape.lm`, imported when a command runs:

- ``train``: one run, :func:`advshape.lm.train.train`;
- ``compare``: every option and run folder checked (:func:`advshape.lm.config.validate_compare`),
  the shared warm start probed (:mod:`advshape.lm.probe`), the runs not finished yet trained
  (:func:`advshape.lm.train.train_runs`), then the comparison written
  (:mod:`advshape.lm.compare`);
- ``probe``: the warm start evaluated at lower temperatures.
"""

from __future__ import annotations

import json
import os
import sys

from advshape.lm.config import Args, CompareArgs, ProbeArgs
from advshape.lm.tasks import TASKS

OPTIONS = {"train": Args, "compare": CompareArgs, "probe": ProbeArgs}


def _tasks() -> str:
    """The tasks, one line each, for --help."""
    width = max(len(name) for name in TASKS)
    return "tasks (--task):\n" + "\n".join(
        f"  {spec.name:<{width}}  {spec.summary}" for spec in TASKS.values()
    )


def describe_train() -> str:
    return "RLVR of a small language model on a verifiable task with one shaper.\n\n" + _tasks()


def describe_compare() -> str:
    return (
        "Train several shapers x paired seeds from one warm start; write the report "
        "(report.html, summary.json, summary.md, PNG curves). Finished runs are skipped, "
        "unfinished ones resumed.\n\n" + _tasks()
    )


def describe_probe() -> str:
    return (
        "Evaluate a task's warm start at lower temperatures: is there room for RL to sharpen, "
        "and for the Pass@K trade-off?\n\n" + _tasks()
    )


def run_train(args: Args) -> int:
    from advshape.lm.train import train  # torch: only when a run starts

    result = train(args)
    final = result["final"]
    ks = [k for k in final if k.startswith("pass@")]
    print(
        f"step {final['step']}: " + ", ".join(f"{k} = {final[k]:.3f}" for k in ks),
        file=sys.stderr,
    )
    if result["finished"]:
        print(os.path.join(args.out, "report.html"))
    return 0


def run_compare(args: CompareArgs) -> int:
    from advshape.lm.compare import pending_runs, write_comparison
    from advshape.lm.config import check_task_fits, validate_compare
    from advshape.lm.probe import probe
    from advshape.lm.setup import make_task, set_threads
    from advshape.lm.train import train_runs

    shapers = validate_compare(args)  # every option of every run, before any work
    set_threads(args.threads, progress=args.progress)
    task = make_task(args)
    check_task_fits(args, task)
    os.makedirs(args.out, exist_ok=True)
    headroom = probe(args, task=task)  # builds (or finds) the warm start every run shares
    train_runs(pending_runs(args, shapers), jobs=args.jobs, progress=args.progress)
    path = write_comparison(args, shapers, headroom)
    with open(os.path.join(args.out, "summary.json")) as f:
        summary = json.load(f)
    for claim in summary["claims"]:
        verdict = "holds" if claim["holds"] else "does NOT hold"
        print(f"- {claim['claim']}: {verdict}. {claim['evidence']}", file=sys.stderr)
    print(path)
    return 0


def run_probe(args: ProbeArgs) -> int:
    from advshape.lm.config import validate_probe
    from advshape.lm.probe import format_probe, probe
    from advshape.lm.setup import set_threads

    run = validate_probe(args)
    set_threads(run.threads, progress=run.progress)
    result = probe(run, args.temperatures)
    print(json.dumps(result, indent=2) if args.format == "json" else format_probe(result))
    return 0
