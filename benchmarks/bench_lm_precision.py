"""fp32 against bf16 autocast for the small-LM trainer's RL step, on the CPU, in one run.

    python benchmarks/bench_lm_precision.py            # the main job's task, model, B, N

Trains the main job's configuration (``advshape.lm.config.Args`` defaults: divisor, tiny
Llama 2 × 64, B = 32 × N = 16) for ``--steps`` steps with ``--precision fp32`` and with
``--precision bf16``, alternating over ``--repeats`` runs so drifting load hits both, from
the same cached warm start. Prints each precision's median step time and its split
(sampling, loss forward, backward + AdamW, from ``metrics.jsonl``) and the ratio. The first
two steps of every run are not counted (first-use costs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile

FIELDS = ("step_seconds", "sample_seconds", "forward_seconds", "backward_seconds")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    if args.steps < 3 or args.repeats < 1 or args.threads < 0:
        parser.error("need --steps >= 3, --repeats >= 1, --threads >= 0")

    from advshape.lm.config import Args
    from advshape.lm.train import train

    times: dict[str, dict[str, list[float]]] = {
        p: {f: [] for f in FIELDS} for p in ("fp32", "bf16")
    }
    with tempfile.TemporaryDirectory(prefix="bench_precision_") as workdir:
        for repeat in range(args.repeats):
            for precision in ("fp32", "bf16"):
                run = Args(
                    precision=precision,
                    steps=args.steps,
                    eval_every=args.steps,
                    eval_problems=8,
                    threads=args.threads,
                    progress=False,
                    cache_dir=os.path.join(workdir, "cache"),
                    out=os.path.join(workdir, f"{precision}{repeat}"),
                )
                records = [r for r in train(run)["history"] if r["kind"] == "train"][2:]
                for field in FIELDS:
                    times[precision][field] += [r[field] for r in records]
    print(f"median seconds per RL step over {args.repeats} x {args.steps - 2} steps each")
    print(f"{'precision':<10}" + "".join(f"{f.replace('_seconds', ''):>10}" for f in FIELDS))
    for precision, fields in times.items():
        print(
            f"{precision:<10}" + "".join(f"{statistics.median(v):>10.4f}" for v in fields.values())
        )
    ratio = statistics.median(times["bf16"]["step_seconds"]) / statistics.median(
        times["fp32"]["step_seconds"]
    )
    print(f"bf16 / fp32 step time: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
