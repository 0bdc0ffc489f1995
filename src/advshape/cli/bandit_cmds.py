"""``advshape simulate``: compare shapers on the exact bandit testbed.

The options are the fields of :class:`SimulateArgs`: every field of
:class:`advshape.bandit.dynamics.BanditConfig`, then the study's shapers, seeds and target,
its output folder and how it runs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from advshape._files import check_output_dir
from advshape._options import OneOf, check_options, count, field_checks, option
from advshape.bandit.dynamics import BanditConfig
from advshape.bandit.run import DEFAULT_SHAPERS, SEEDS, TARGET, StudyConfig, check_shapers


@dataclasses.dataclass
class SimulateArgs(BanditConfig):
    """``advshape simulate``: one bandit configuration, several shapers, several seeds."""

    shapers: tuple[str, ...] = option(DEFAULT_SHAPERS, check_shapers)
    """shaper specs (registry names, e.g. grpo grpo_k:k=8 entropy:lam=0.5, or surrogate:...); shapers that take k and are given none get --k"""
    seeds: int = option(3, SEEDS)
    """number of seeds 0..S-1"""
    target: float = option(0.44, TARGET)
    """target train pass@K for 'samples to target'"""
    out: str = option("runs/simulate", check_output_dir)
    """run folder (resumed if it holds this study)"""
    workers: int = option(0, count(0, 1024, why="0 = min(2, CPU cores)"))
    """processes that run the (shaper, seed) pairs; 0 = min(2, CPU cores)"""
    plots: bool = option(True, OneOf((False, True)))
    """draw the PNG plots"""
    progress: bool = option(True, OneOf((False, True)))
    """show a progress bar"""

    def study(self) -> StudyConfig:
        bandit = {f.name: getattr(self, f.name) for f in dataclasses.fields(BanditConfig)}
        return StudyConfig(BanditConfig(**bandit), self.shapers, self.seeds, self.target)


OPTIONS = {"simulate": SimulateArgs}


def run_simulate(args: SimulateArgs) -> int:
    from advshape.bandit.run import default_workers, run_study

    check_options(args, field_checks(SimulateArgs, beyond=BanditConfig))
    result = run_study(
        args.study(),
        args.out,
        workers=args.workers or default_workers(),
        progress=args.progress,
        plots=args.plots,
    )
    print((Path(result["out"]) / "summary.md").read_text())
    print(f"run folder: {result['out']}")
    return 0
