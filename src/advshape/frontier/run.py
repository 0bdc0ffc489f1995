"""``advshape frontier``: plan, check, run (resumably) and report a frontier.

Layout of ``out/``:

- ``settings.json``: the testbed and every start's settings that decide the numbers; a rerun
  into the same folder must match them (new starts, specs and seeds may be added);
- ``runs/<start>/<spec>/seed<s>/result.json``: one finished run each (written atomically
  when the run returns; the language model's run folder, with its checkpoint, lives beside
  it, so a killed run resumes from its last evaluation);
- ``frontier.json``: every number and verdict (schema in docs/frontier.md);
- ``report.html`` with ``pareto-<start>.png`` and ``curves-<start>.png``.

A rerun skips every run whose ``result.json`` exists: a killed frontier resumes, and a
finished one rerun with one more spec (``--extra``) runs only that spec's runs.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Sequence
from typing import Any

from advshape._files import check_output_dir, read_json, write_json_atomic
from advshape._options import OneOf, check_options, count, field_checks, option
from advshape.frontier.executors import EXECUTORS, Job, execute
from advshape.frontier.families import Family, default_families, parse_family
from advshape.frontier.stats import BOOTSTRAP_RESAMPLES
from advshape.frontier.testbeds import TESTBEDS, get_testbed

__all__ = ["FrontierConfig", "Plan", "plan", "run_frontier"]

_SCHEMA = 1


def _check_families(option_name: str, texts: Sequence[str]) -> None:
    for text in texts:
        parse_family(text, option_name)  # the syntax; the specs: with the testbed's settings


def _check_pairs(option_name: str, pairs: Sequence[str]) -> None:
    _options(pairs)


def _no_check(option_name: str, value: Any) -> None:
    """Checked where its meaning is known: by the testbed (the names of its starts)."""


def _check_address(option_name: str, value: str | None) -> None:
    if value is not None and not value.strip():
        raise ValueError(
            f"{option_name} is empty; give the Ray cluster's address (auto, or HOST:6379)"
        )


def _default_or(check: Any) -> Any:
    """A check of an option whose default ``None`` means "the testbed's default"."""

    def checked(option_name: str, value: Any) -> None:
        if value is not None:
            check.check(option_name, value)

    return checked


@dataclasses.dataclass
class FrontierConfig:
    """``advshape frontier``: every option (each field is ``--field-name``).

    Each field is documented below; :func:`plan` checks them all before anything is written.

    Example:
        >>> from advshape.frontier.run import FrontierConfig, plan
        >>> config = FrontierConfig(testbed="digits")
        >>> config.seeds, config.executor, config.out
        (3, 'local', 'runs/frontier')
        >>> plan(FrontierConfig(testbed="digits", seeds=1))
        Traceback (most recent call last):
        ...
        ValueError: --seeds must be an integer in [2, 1000], got 1; ...

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K and RLOO_K, Eqs. 15–17, whose fixed-K runs make the frontier).
    """

    testbed: str = option("lm", OneOf(tuple(TESTBEDS)))
    """where to train: lm (the small language model), digits (classification as RL) or bandit"""
    family: tuple[str, ...] = option((), _check_families)
    """shaper families, each a spec with one knob list such as 'grpo_k:k={1,2,4,8}', or single specs (default: the default set)"""
    extra: tuple[str, ...] = option((), _check_families)
    """families added to --family (or to the default set)"""
    seeds: int = option(3, count(2, 1000, why="the bootstrap resamples seeds: give at least 2"))
    """paired RL seeds per spec"""
    first_seed: int = option(0, count(0, 2**31))
    """the seeds are FIRST_SEED .. FIRST_SEED + SEEDS - 1"""
    starts: tuple[str, ...] = option((), _no_check)
    """starting policies, e.g. weak strong (default: the testbed's)"""
    k: int | None = option(None, _default_or(count(1, 100_000)))
    """the K of the pass@K axis (default: the testbed's, 16 on lm and bandit, 4 on digits)"""
    steps: int | None = option(None, _default_or(count(1, 10**7)))
    """RL steps per run (default: the testbed's)"""
    eval_points: int = option(8, count(1, 10_000))
    """held-out evaluations over a run, besides the start"""
    set: tuple[str, ...] = option((), _check_pairs)
    """testbed settings KEY=VALUE, e.g. --set lr=1e-3 eval_problems=512 (fields of the testbed's settings dataclass)"""
    quick: bool = option(False, OneOf((False, True)))
    """a smaller frontier of the same families: fewer knob values, steps and problems"""
    jobs: int = option(0, count(0, 256, why="runs at once, one process each; 0 = one per core"))
    """local processes running runs at once (0: one per usable CPU core, at most 8)"""
    executor: str = option("local", OneOf(EXECUTORS))
    """local processes, or one Ray task per run on an existing cluster (ray)"""
    address: str | None = option(None, _check_address)
    """the Ray cluster's address, for --executor ray (e.g. auto, or HOST:6379)"""
    resamples: int = option(BOOTSTRAP_RESAMPLES, count(100, 1_000_000))
    """bootstrap resamples of the intervals"""
    out: str = option("runs/frontier", check_output_dir)
    """the frontier's folder (resumed if it holds this frontier's runs)"""
    progress: bool = option(True, OneOf((False, True)))
    """show a progress bar"""


@dataclasses.dataclass(frozen=True)
class Plan:
    """A checked frontier: its families, specs, starts' settings and run folders.

    Attributes:
        config: the options it was planned from.
        families: the families, their specs in canonical form.
        specs: every distinct canonical spec, in the order of the families.
        k: the K of the pass@K axis.
        settings: each start's testbed settings.
        seeds: the RL seeds.
        folders: the run folder of each (start, spec, seed) that runs (aliases have none).
        aliases: spec -> the earlier spec with the same advantage scores A±(N⁺) at the
            testbed's N, whose runs it shares.

    Example:
        >>> from advshape.frontier.run import FrontierConfig, plan
        >>> p = plan(FrontierConfig(testbed="digits", family=("grpo_k:k={1,4}",),
        ...                         starts=("weak",), out="unwritten"))
        >>> p.seeds, p.folders[("weak", "grpo_k:k=1", 0)]
        ((0, 1, 2), 'unwritten/runs/weak/grpo_k__k=1/seed0')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K and RLOO_K, Eqs. 15–17, whose fixed-K runs make the frontier).
    """

    config: FrontierConfig
    families: tuple[Family, ...]
    specs: tuple[str, ...]
    k: int
    settings: dict[str, Any]
    seeds: tuple[int, ...]
    folders: dict[tuple[str, str, int], str]
    aliases: dict[str, str] = dataclasses.field(default_factory=dict)

    def keys(self) -> dict[str, Any]:
        """Each start's settings that decide the numbers (what a resumed frontier must match)."""
        bed = get_testbed(self.config.testbed)
        return {start: bed.key(s) for start, s in self.settings.items()}


def default_jobs() -> int:
    """The local processes of ``--jobs 0``: one per CPU core this process may use, at most 8.

    At most 8 because each process holds its own copy of torch and the testbed (a few hundred
    MB); a larger machine is better served by ``--jobs`` given explicitly or by Ray.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def _options(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise ValueError(f"--set {pair!r}: write KEY=VALUE, e.g. --set lr=1e-3")
        if key in out:
            raise ValueError(f"--set {key} is given twice")
        out[key] = value.strip()
    return out


def _slug(spec: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", spec.replace(":", "__"))


def _canonical(spec: str, text: str, option_name: str) -> str:
    from advshape._shaper_option import canonical_spec

    try:
        return canonical_spec(spec)
    except (ValueError, ImportError) as err:
        raise ValueError(f"{option_name} {text!r}: {spec!r}: {err}") from None


def plan(config: FrontierConfig) -> Plan:
    """Check every option, family, spec and start's settings; write nothing.

    Args:
        config: the frontier's options.

    Returns:
        The :class:`Plan`: families, canonical specs, each start's settings, the seeds, one
        run folder per (start, spec, seed) and the specs that share another's runs.

    Raises:
        ValueError: a bad option, family, spec, start or setting, or an ``out`` folder that
            holds something else, naming it and the fix.

    Example:
        >>> from advshape.frontier.run import FrontierConfig, plan
        >>> p = plan(FrontierConfig(testbed="digits", family=("grpo_k:k={1,4}", "grpo"),
        ...                         starts=("weak",), out="unwritten"))
        >>> p.specs, p.aliases, p.k, len(p.folders)
        (('grpo_k:k=1', 'grpo_k:k=4', 'grpo'), {'grpo': 'grpo_k:k=1'}, 4, 6)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K and RLOO_K, Eqs. 15–17, whose fixed-K runs make the frontier).
    """
    check_options(config, field_checks(FrontierConfig))
    bed = get_testbed(config.testbed)
    texts = [(t, "--family") for t in config.family or default_families(quick=config.quick)]
    texts += [(t, "--extra") for t in config.extra]
    families = []
    seen: dict[str, str] = {}
    specs: list[str] = []
    for text, option_name in texts:
        family = parse_family(text, option_name)
        canonical = tuple(_canonical(s, text, option_name) for s in family.specs)
        for spec in canonical:
            if spec not in seen:
                seen[spec] = text
                specs.append(spec)
        families.append(family._replace(specs=canonical))
    steps = config.steps or (bed.quick_steps if config.quick else bed.default_steps)
    k = config.k or bed.default_k
    options = _options(config.set)
    starts = config.starts or bed.default_starts
    if len(set(starts)) != len(starts):
        raise ValueError(f"--starts lists a start twice: {list(starts)}")
    settings = {
        start: bed.settings(
            start, steps=steps, eval_points=config.eval_points, options=options, quick=config.quick
        )
        for start in starts
    }
    for _start, s in settings.items():
        for spec in specs:
            bed.check(s, spec)
        if config.testbed == "lm" and k > s.eval_samples:
            raise ValueError(
                f"--k {k} exceeds the {s.eval_samples} samples per held-out problem; raise "
                f"--set eval_samples={k} or lower --k"
            )
    if config.executor == "ray" and config.address is None:
        raise ValueError(
            "--executor ray needs --address of a running Ray cluster (e.g. --address auto)"
        )
    seeds = tuple(range(config.first_seed, config.first_seed + config.seeds))
    slugs: dict[str, str] = {}
    for spec in specs:
        slug = _slug(spec)
        if slug in slugs.values():  # two specs that read alike as folder names
            import hashlib

            slug += "-" + hashlib.sha256(spec.encode()).hexdigest()[:6]
        slugs[spec] = slug
    aliases = _aliases(bed, settings, specs)
    folders = {
        (start, spec, seed): os.path.join(config.out, "runs", start, slugs[spec], f"seed{seed}")
        for start in settings
        for spec in specs
        if spec not in aliases
        for seed in seeds
    }
    result = Plan(config, tuple(families), tuple(specs), k, settings, seeds, folders, aliases)
    _check_folder(result)
    return result


def _aliases(bed, settings: dict[str, Any], specs: Sequence[str]) -> dict[str, str]:
    """Specs that are the same shaper at the testbed's group size N — the same A⁺ and A⁻ for
    every N⁺ (e.g. skew_r = biased_k:k=2 = focal:gamma=1, grpo = grpo_k:k=1) — run once; each
    later one is an alias of the first. Only fixed, count-based shapers on 0/1 rewards."""
    import numpy as np

    import advshape

    sizes = {bed.group_size(s) for s in settings.values()}
    if len(sizes) != 1:
        return {}
    (n,) = sizes
    counts = np.arange(n + 1)
    first: dict[tuple[float, ...], str] = {}
    aliases: dict[str, str] = {}
    for spec in specs:
        if not all(bed.binary_rewards(s, spec) for s in settings.values()):
            continue  # the raw score (pkpo on the language model): its own runs
        try:
            shaper = advshape.shaper(spec)
        except (ValueError, ImportError):
            continue  # a surrogate: spec, never aliased
        if isinstance(shaper, advshape.ScheduledShaper) or shaper.scores is None:
            continue
        a_pos, a_neg = shaper.scores(counts, np.full(n + 1, n))
        # A⁺ matters when N⁺ ≥ 1, A⁻ when N⁺ ≤ N − 1 (the others never reach a response)
        key = tuple(np.round(np.concatenate([a_pos[1:], a_neg[:-1]]), 12).tolist())
        if key in first:
            aliases[spec] = first[key]
        else:
            first[key] = spec
    return aliases


def _settings_path(config: FrontierConfig) -> str:
    return os.path.join(config.out, "settings.json")


def _check_folder(p: Plan) -> None:
    """Can ``--out`` take this frontier? Reads only. An empty or new folder can; one holding
    files but no frontier cannot; a frontier's folder can when every start it already holds
    was run with the same settings (:func:`advshape._run_folder.differences`): new starts,
    specs and seeds are added to it."""
    from advshape._run_folder import differences

    out = p.config.out
    path = _settings_path(p.config)
    if not os.path.exists(path):
        if os.path.isdir(out) and any(not name.startswith(".") for name in os.listdir(out)):
            raise ValueError(
                f"--out {out!r} holds files but no frontier (settings.json is missing); choose "
                "a new or empty folder for --out"
            )
        return
    saved = read_json(path, fix="delete the folder or choose another --out")
    if not isinstance(saved, dict) or saved.get("schema") != _SCHEMA:
        raise ValueError(
            f"--out {out!r} holds no frontier this version can read; choose another --out"
        )
    if saved.get("testbed") != p.config.testbed:
        raise ValueError(
            f"--out {out!r} holds a {saved.get('testbed')} frontier, not {p.config.testbed}; "
            "choose another --out"
        )
    for start, key in p.keys().items():
        old = saved.get("starts", {}).get(start)
        differ = differences(old, key) if old is not None else []
        if differ:
            raise ValueError(
                f"--out {out!r} holds start {start!r} run with other settings (differ: "
                f"{', '.join(differ)}); use the same settings or another --out"
            )


def _write_settings(p: Plan) -> None:
    path = _settings_path(p.config)
    saved = read_json(path) if os.path.exists(path) else {}
    starts = {**saved.get("starts", {}), **p.keys()}
    write_json_atomic(path, {"schema": _SCHEMA, "testbed": p.config.testbed, "starts": starts})


def _result_path(folder: str) -> str:
    return os.path.join(folder, "result.json")


def _load_result(p: Plan, start: str, spec: str, seed: int) -> dict[str, Any]:
    path = _result_path(p.folders[(start, spec, seed)])
    result = read_json(path, fix="delete it and rerun the frontier to redo this run")
    if result.get("spec") != spec or result.get("seed") != seed or result.get("start") != start:
        raise ValueError(
            f"{path!r} holds run {result.get('spec')!r} seed {result.get('seed')}, not {spec!r} "
            f"seed {seed}; delete it and rerun the frontier"
        )
    return result


def run_frontier(config: FrontierConfig) -> str:
    """Run (or resume) a frontier and write its report; returns ``report.html``'s path.

    Args:
        config: the frontier (see :class:`FrontierConfig` and ``advshape frontier --help``).

    Returns:
        The path of ``report.html`` in ``config.out``.

    Raises:
        ValueError: whatever :func:`plan` refuses, before anything is written; a stored run
            that does not match its folder.

    Example:
        >>> import os, tempfile
        >>> from advshape.frontier.run import FrontierConfig, run_frontier
        >>> out = tempfile.mkdtemp()
        >>> path = run_frontier(FrontierConfig(testbed="digits", family=("grpo_k:k={1,4}",
        ...     "maxrl"), starts=("weak",), steps=4, eval_points=2, resamples=100, out=out,
        ...     progress=False, jobs=1))
        >>> os.path.basename(path), sorted(os.listdir(out))[:2]
        ('report.html', ['curves-weak.png', 'frontier.json'])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (GRPO_K and RLOO_K, Eqs. 15–17, whose fixed-K runs make the frontier).
    """
    began = time.perf_counter()
    p = plan(config)  # every check first: nothing is written before this passes
    jobs = config.jobs or default_jobs()
    bed = get_testbed(config.testbed)
    os.makedirs(config.out, exist_ok=True)
    _write_settings(p)
    todo = [
        Job(key, config.testbed, p.settings[key[0]], key[1], key[2], folder)
        for key, folder in p.folders.items()
        if not os.path.exists(_result_path(folder))
    ]
    for start in {job.key[0] for job in todo}:
        bed.prepare(p.settings[start], progress=config.progress)
    bar = None
    if config.progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(p.folders), initial=len(p.folders) - len(todo), desc="runs", unit="run"
        )

    def done(job: Job, result: dict[str, Any]) -> None:
        start, spec, seed = job.key
        record = {"start": start, "spec": spec, "seed": seed, **result}
        write_json_atomic(_result_path(job.folder), record)
        if bar is not None:
            bar.update(1)

    try:
        execute(todo, done, executor=config.executor, workers=jobs, address=config.address)
    finally:
        if bar is not None:
            bar.close()
    runs = {
        start: {
            spec: [_load_result(p, start, p.aliases.get(spec, spec), seed) for seed in p.seeds]
            for spec in p.specs
        }
        for start in p.settings
    }
    from advshape.frontier.analysis import analyse
    from advshape.frontier.report import write_report

    results = analyse(runs, p.families, k=p.k, design=bed.design, resamples=config.resamples)
    first = runs[next(iter(runs))][p.specs[0]][0]
    summary = {
        "schema": _SCHEMA,
        "testbed": config.testbed,
        "k": p.k,
        "seeds": list(p.seeds),
        "families": [
            {"text": f.text, "knob": f.knob, "values": list(f.values), "specs": list(f.specs)}
            for f in p.families
        ],
        "settings": p.keys(),
        "aliases": p.aliases,
        "versions": first.get("versions", {}),
        "bootstrap": {"resamples": config.resamples, "confidence": 0.95, "design": bed.design},
        "timing": {
            "seconds": time.perf_counter() - began,
            "runs": len(p.folders),
            "runs_made": len(todo),
            "jobs": jobs,
            "executor": config.executor,
        },
        **results,
    }
    write_json_atomic(os.path.join(config.out, "frontier.json"), summary)
    return write_report(summary, config.out)
