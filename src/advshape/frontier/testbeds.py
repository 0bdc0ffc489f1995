"""One thin adapter per testbed: settings, starts, checks, and one run as a plain result.

A frontier calls each testbed through the same four operations, so the frontier's code knows
nothing about language models, bandits or digits:

- ``settings(start, steps, eval_points, options)``: the testbed's own settings dataclass for
  one start, with the frontier's defaults and the user's ``--set KEY=VALUE`` options;
- ``check(settings, spec)``: every check the testbed makes of a (settings, shaper) pair,
  before anything is written (``ValueError`` naming the problem);
- ``prepare(settings)``: build what every run of a start shares (the cached warm start and
  its evaluation), once, before the runs;
- ``run(settings, spec, seed, folder)``: one RL run; returns a JSON-able result whose
  ``evals`` hold, at every evaluation step, the held-out problems' data: ``fail`` (exact
  failure probabilities 1 − ρ_i, so Pass@k_i = 1 − fail_i^k) or ``counts`` of correct
  samples out of ``n`` (Pass@k_i by the unbiased estimator of the seed paper's Eq. 11).

Starts are named presets of settings: ``weak`` (RL from a weak policy: from scratch on the
digits, a short warm start on the language model, hard problems on the bandit) and
``strong`` (after SFT, or easier problems). ``--set`` applies on top of the testbed's
frontier defaults, and a start's preset on top of that.

Each adapter calls its testbed's public entry point: :func:`advshape.lm.train.train`,
:func:`advshape.bandit.dynamics.simulate`, :func:`advshape.digits.train.train`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["TESTBEDS", "Testbed", "get_testbed", "per_problem_pass_at_k", "run_one"]


def per_problem_pass_at_k(problems: Mapping[str, Any], k: int) -> NDArray[np.float64]:
    """Pass@k of every held-out problem from one evaluation's stored data.

        Pass@k_i = 1 − q_i^k (exact, from the failure probability q_i = 1 − ρ_i), or
        Pass@k_i = 1 − C(n − c_i, k)/C(n, k) (unbiased, from c_i correct of n samples).

    Args:
        problems: ``{"fail": [...]}`` (exact failure probabilities) or ``{"counts": [...],
            "n": n}`` (correct samples out of n).
        k: the k of Pass@k (k ≤ n for counts).

    Returns:
        A float64 array: 1 − fail^k, or the unbiased estimate 1 − C(n − c, k)/C(n, k).

    Example:
        >>> from advshape.frontier.testbeds import per_problem_pass_at_k
        >>> per_problem_pass_at_k({"fail": [0.5, 1.0]}, 2).tolist()
        [0.75, 0.0]
        >>> per_problem_pass_at_k({"counts": [1, 0], "n": 4}, 2).tolist()
        [0.5, 0.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Pass@K ρ_K = 1 − (1 − ρ)^K, Sec. 1.1.2; its unbiased estimator, Eq. 11); Chen et al.
        2021, https://arxiv.org/abs/2107.03374.
    """
    if "fail" in problems:
        return 1.0 - np.asarray(problems["fail"], dtype=np.float64) ** k
    import advshape

    counts = np.asarray(problems["counts"], dtype=np.int64)
    return np.asarray(advshape.pass_at_k(int(problems["n"]), counts, k), dtype=np.float64)


def _fingerprint(values: Any) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def _apply(settings: Any, options: Mapping[str, Any], where: str) -> Any:
    """``dataclasses.replace`` with values typed as the fields are (from ``--set`` text)."""
    fields = {f.name: f for f in dataclasses.fields(settings)}
    values = {}
    for key, value in options.items():
        if key not in fields:
            valid = ", ".join(sorted(fields))
            raise ValueError(
                f"{where}: {type(settings).__name__} has no setting {key!r}; valid: {valid}"
            )
        default = getattr(settings, key)
        values[key] = _typed(value, default, f"{where} {key}")
    return dataclasses.replace(settings, **values)


def _typed(value: Any, like: Any, where: str) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if isinstance(like, bool):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return value.lower() in ("true", "1")
        if isinstance(like, int):
            return int(value)
        if isinstance(like, float):
            return float(value)
        if isinstance(like, tuple):
            return tuple(int(v) for v in value.replace(",", " ").split())
    except ValueError:
        raise ValueError(
            f"{where}={value!r}: expected {type(like).__name__}, like {like!r}"
        ) from None
    return value


@dataclasses.dataclass(frozen=True)
class Testbed:
    """A testbed as the frontier sees it: its starts, defaults and four operations.

    The operations (module doc) are :meth:`settings`, :meth:`check`, :meth:`prepare` and
    :meth:`run`; the frontier knows nothing else of the testbed.

    Attributes:
        name: ``lm``, ``bandit`` or ``digits``.
        design: the bootstrap design of its problems (:data:`advshape.frontier.stats.DESIGNS`):
            ``crossed`` (shared by the seeds) or ``nested`` (drawn per seed).
        starts: named presets of settings (``weak``, ``strong``, …).
        default_starts: the starts a frontier runs by default.
        default_k: the default K of the pass@K axis.
        default_steps: RL steps of the default frontier.
        quick_steps: RL steps of ``--quick``.
        defaults: settings the frontier sets, before ``--set``.
        quick: settings ``--quick`` adds.
        group_field: the settings field holding N, the group size.
        free: settings that do not change a run's numbers (left out of the resume check).

    Example:
        >>> from advshape.frontier.testbeds import get_testbed
        >>> bandit = get_testbed("bandit")
        >>> s = bandit.settings("weak", steps=100, eval_points=4, options={"n": "8"})
        >>> s.difficulty, s.log_every, bandit.group_size(s), bandit.design
        ('loguniform:0.001,0.05', 25, 8, 'nested')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
        weak and strong starts: Heckel, Soltanolkotabi & Thrampoulidis 2026,
        https://arxiv.org/abs/2602.11128.
    """

    name: str
    design: str
    starts: Mapping[str, Mapping[str, Any]]
    default_starts: tuple[str, ...]
    default_k: int
    default_steps: int
    quick_steps: int
    defaults: Mapping[str, Any]
    quick: Mapping[str, Any]
    group_field: str = "n"
    free: tuple[str, ...] = ()

    # The operations are module functions named _<name>_<operation>, looked up here, so the
    # Testbed value itself pickles by its fields (for process pools and Ray).
    def _op(self, operation: str):
        return globals()[f"_{self.name}_{operation}"]

    def settings(
        self,
        start: str,
        *,
        steps: int,
        eval_points: int,
        options: Mapping[str, Any],
        quick: bool = False,
    ) -> Any:
        """The settings of one start (frontier defaults, then --quick, --set, the start)."""
        if start not in self.starts:
            raise ValueError(
                f"--starts {start!r}: the {self.name} testbed has the starts "
                f"{', '.join(self.starts)}"
            )
        preset = self.starts[start]
        clash = sorted(set(preset) & set(options))
        if clash:
            raise ValueError(
                f"--set {clash[0]} is fixed by the start {start!r} ({clash[0]}={preset[clash[0]]!r}); "
                "drop it from --set or choose other --starts"
            )
        base = self._op("base")()
        merged = {**self.defaults, **(self.quick if quick else {}), **options, **preset}
        return self._op("schedule")(_apply(base, merged, "--set"), steps, eval_points)

    def check(self, settings: Any, spec: str) -> None:
        """Every check of a (settings, shaper) pair, before anything is written (ValueError)."""
        self._op("check")(settings, spec)

    def prepare(self, settings: Any, progress: bool = False) -> None:
        """Build what every run of a start shares (the cached warm start), once."""
        self._op("prepare")(settings, progress)

    def run(self, settings: Any, spec: str, seed: int, folder: str) -> dict[str, Any]:
        """One RL run; a JSON-able result with its ``evals`` (module doc)."""
        return self._op("run")(settings, spec, seed, folder)

    def group_size(self, settings: Any) -> int:
        """N, the responses sampled per problem."""
        return int(getattr(settings, self.group_field))

    def binary_rewards(self, settings: Any, spec: str) -> bool:
        """Does this spec see 0/1 rewards here (the language model gives pkpo the raw score)?"""
        return self._op("binary")(settings, spec)

    def key(self, settings: Any) -> dict[str, Any]:
        """The settings that decide the numbers (what a resumed frontier must match)."""
        values = dataclasses.asdict(settings)
        for name in self.free:
            values.pop(name, None)
        return json.loads(json.dumps(values, default=list))

    def describe(self) -> str:
        """One line per setting with its default, for --help."""
        base = self._op("base")()
        merged = _apply(base, self.defaults, "defaults")
        rows = [f"{f.name}={getattr(merged, f.name)!r}" for f in dataclasses.fields(merged)]
        return ", ".join(rows)


def _eval_every(steps: int, eval_points: int) -> int:
    """The interval of ``eval_points`` evaluations after step 0: every ⌈T/points⌉ steps, and
    the last step (8 points over 100 steps: 13, 26, …, 91, 100)."""
    return max(1, -(-steps // eval_points))


# ----------------------------------------------------------------------------- lm

_LM_FREE = (
    "shaper",
    "seed",
    "out",
    "resume",
    "stop_after",
    "progress",
    "threads",
    "cache_dir",
    "report",
)


def _lm_base():
    from advshape.lm.config import Args

    return Args()


def _lm_schedule(settings, steps: int, eval_points: int):
    # eval_ks only name the means the trainer logs (the frontier keeps the counts): those <= n
    ks = tuple(k for k in settings.eval_ks if k <= settings.eval_samples) or (1,)
    return dataclasses.replace(
        settings, steps=steps, eval_every=_eval_every(steps, eval_points), eval_ks=ks
    )


def _lm_check(settings, spec: str) -> None:
    from advshape.lm.config import validate

    validate(dataclasses.replace(settings, shaper=spec), shaper_option_name="--family")


def _lm_binary(settings, spec: str) -> bool:
    from advshape._shaper_option import shaper_option
    from advshape.lm.config import resolve_reward_mode

    return resolve_reward_mode(settings, shaper_option(spec, "--family")) == "binary"


def _lm_prepare(settings, progress: bool) -> None:
    """The warm start and its held-out evaluation, built (or found) in the cache once."""
    from advshape.lm.config import check_task_fits
    from advshape.lm.evaluate import heldout_eval
    from advshape.lm.model import load_pretrained
    from advshape.lm.setup import make_task, set_threads, starting_checkpoint

    set_threads(settings.threads, progress=progress)
    task = make_task(settings)
    check_task_fits(settings, task)
    path, _ = starting_checkpoint(settings, task, progress=progress)
    model, tokenizer = load_pretrained(path, settings.device)
    heldout_eval(
        dataclasses.replace(settings, progress=progress),
        model,
        tokenizer,
        task,
        step=0,
        temperature=settings.temperature,
        cache_dir=path,
    )


def _lm_run(settings, spec: str, seed: int, folder: str) -> dict[str, Any]:
    from advshape._files import read_jsonl
    from advshape.lm.setup import set_threads
    from advshape.lm.train import train

    args = dataclasses.replace(settings, shaper=spec, seed=seed, out=folder, resume=True)
    set_threads(args.threads, progress=False)
    train(args)
    records = read_jsonl(os.path.join(folder, "metrics.jsonl"))
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    evals = [
        {
            "step": r["step"],
            "samples": r["samples"],
            "problems": {"counts": r["counts"], "n": settings.eval_samples},
        }
        for r in records
        if r["kind"] == "eval"
    ]
    train_records = [r for r in records if r["kind"] == "train"]
    return {
        "evals": evals,
        "problem_set": _fingerprint([settings.task, settings.task_seed, settings.eval_problems]),
        "classes": config["heldout_classes"],
        "seconds": sum(r["step_seconds"] for r in train_records),
        "train_reward": [r["train_reward"] for r in train_records],
        "versions": config.get("versions", {}),
    }


# ----------------------------------------------------------------------------- bandit


def _bandit_base():
    from advshape.bandit.dynamics import BanditConfig

    return BanditConfig()


def _bandit_schedule(settings, steps: int, eval_points: int):
    return dataclasses.replace(settings, steps=steps, log_every=_eval_every(steps, eval_points))


def _bandit_check(settings, spec: str) -> None:
    from advshape.bandit.run import resolve_shaper

    settings.validate()
    if settings.model != "shared":
        raise ValueError(
            "--set model=tabular: the frontier evaluates held-out problems, which only the "
            "shared model has; use the default model=shared"
        )
    try:
        shaper = resolve_shaper(spec, settings.k, "--family")
        from advshape.digits.train import check_shaper

        check_shaper(shaper, settings.n, option="--family")
    except ValueError as err:
        raise ValueError(str(err)) from None


def _bandit_binary(settings, spec: str) -> bool:
    return True  # the bandit's rewards are 0/1


def _bandit_prepare(settings, progress: bool) -> None:
    """Nothing to share: each seed makes its own problems."""


def _bandit_run(settings, spec: str, seed: int, folder: str) -> dict[str, Any]:
    import time

    from advshape.bandit import model as bandit_model
    from advshape.bandit.dynamics import simulate
    from advshape.bandit.run import resolve_shaper

    evals: list[dict[str, Any]] = []
    test_problems: list[int] = []

    def capture(step: int, policy) -> None:
        if step == 0 or step % settings.log_every == 0 or step == settings.steps:
            rows = policy.problems.test
            if not test_problems:
                test_problems.extend(int(i) for i in rows)
            _, fail = bandit_model.success_and_failure_rates(policy, rows)
            evals.append(
                {
                    "step": step,
                    "samples": step * settings.batch * settings.n,
                    "problems": {"fail": fail.tolist()},
                }
            )

    began = time.perf_counter()
    records = simulate(
        settings,
        resolve_shaper(spec, settings.k),
        seed,
        on_step=capture,
        on_start=lambda policy: capture(0, policy),
    )
    return {
        "evals": evals,
        # each seed draws its own problems: the bootstrap nests problems in seeds
        "problem_set": _fingerprint([seed, test_problems, dataclasses.asdict(settings)]),
        "seconds": time.perf_counter() - began,
        "train_reward": [],
        "zero_group_frac": [r["zero_group_frac"] for r in records[1:]],
        "versions": _versions("advshape", "numpy"),
    }


# ----------------------------------------------------------------------------- digits


def _digits_base():
    from advshape.digits.train import DigitsConfig

    return DigitsConfig()


def _digits_schedule(settings, steps: int, eval_points: int):
    return dataclasses.replace(settings, steps=steps, eval_every=_eval_every(steps, eval_points))


def _digits_check(settings, spec: str) -> None:
    from advshape.digits.train import check_shaper

    settings.validate()
    check_shaper(spec, settings.samples_per_image, option="--family")


def _digits_binary(settings, spec: str) -> bool:
    return True  # reward 1{a = y}


def _digits_prepare(settings, progress: bool) -> None:
    from advshape.digits.train import start_model

    start_model(settings)  # the SFT start, cached for every run


def _digits_run(settings, spec: str, seed: int, folder: str) -> dict[str, Any]:
    from advshape.digits.train import train

    result = train(settings, spec, seed)
    return {
        "evals": [
            {"step": e["step"], "samples": e["samples"], "problems": {"fail": e["fail"]}}
            for e in result["evals"]
        ],
        "problem_set": _fingerprint([settings.data_seed, settings.test_fraction]),
        "seconds": result["seconds"],
        "train_reward": [r["train_reward"] for r in result["train"]],
        "versions": _versions("advshape", "numpy", "torch", "scikit-learn"),
    }


def _versions(*names: str) -> dict[str, str]:
    """The versions of the packages that decide a run's numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


TESTBEDS: dict[str, Testbed] = {
    "lm": Testbed(
        name="lm",
        design="crossed",
        starts={"strong": {}, "weak": {"warmstart_steps": 30}},
        default_starts=("strong",),
        default_k=16,
        default_steps=100,
        quick_steps=30,
        defaults={
            "lr": 1e-3,
            "lr_schedule": "cosine",
            "eval_problems": 256,
            "progress": False,
            "report": False,  # the frontier's report covers every run; no plots per run
        },
        quick={"eval_problems": 128, "eval_samples": 16},
        group_field="samples_per_prompt",
        free=_LM_FREE,
    ),
    "bandit": Testbed(
        name="bandit",
        design="nested",
        starts={
            "default": {},
            "weak": {"difficulty": "loguniform:0.001,0.05"},
            "strong": {"difficulty": "loguniform:0.05,0.5"},
        },
        default_starts=("default",),
        default_k=16,
        default_steps=800,
        quick_steps=200,
        defaults={},
        quick={"problems": 1024},
    ),
    "digits": Testbed(
        name="digits",
        design="crossed",
        starts={"weak": {"start": "scratch"}, "strong": {"start": "sft"}},
        default_starts=("weak", "strong"),
        default_k=4,
        default_steps=800,
        quick_steps=200,
        defaults={},
        quick={},
        group_field="samples_per_image",
        free=("cache_dir",),
    ),
}
"""The testbeds a frontier can run, by name: the language model, the bandit, the digits."""


def get_testbed(name: str) -> Testbed:
    """The testbed called ``name``.

    Args:
        name: ``lm``, ``bandit`` or ``digits``.

    Returns:
        Its :class:`Testbed`.

    Raises:
        ValueError: an unknown name, listing the valid ones.

    Example:
        >>> from advshape.frontier.testbeds import get_testbed
        >>> bed = get_testbed("digits")
        >>> bed.design, bed.default_starts, bed.default_k
        ('crossed', ('weak', 'strong'), 4)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    if name not in TESTBEDS:
        raise ValueError(f"--testbed must be one of {', '.join(TESTBEDS)}, got {name!r}")
    return TESTBEDS[name]


def run_one(testbed: str, settings: Any, spec: str, seed: int, folder: str) -> dict[str, Any]:
    """One run, as executors call it (a module-level function: it pickles by name).

    Args:
        testbed: the testbed's name (``lm``, ``bandit``, ``digits``).
        settings: its settings dataclass for the run's start.
        spec: the shaper spec.
        seed: the RL seed.
        folder: the run's working folder (the language model writes its run folder there).

    Returns:
        The run's result (see the module doc).

    Example:
        >>> from advshape.frontier.testbeds import get_testbed, run_one
        >>> digits = get_testbed("digits")
        >>> settings = digits.settings("weak", steps=2, eval_points=2, options={})
        >>> result = run_one("digits", settings, "grpo", 0, "unused")
        >>> [e["step"] for e in result["evals"]]
        [0, 1, 2]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """
    return get_testbed(testbed).run(settings, spec, seed, folder)
