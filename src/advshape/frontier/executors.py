"""Where a frontier's runs execute: this process, local processes, or a Ray cluster.

Every executor takes the same jobs (one per start × spec × seed: a call of
:func:`advshape.frontier.testbeds.run_one`) and hands each result to ``done`` as soon as it
arrives, in the order runs finish, so the caller writes it to disk at once: a frontier killed
midway keeps every run that finished.

- ``local`` with ``jobs = 1``: one run after another in this process;
- ``local`` with ``jobs = J > 1``: J worker processes (``spawn``, so no forked torch thread
  pools), each run pinned to one CPU thread;
- ``ray``: each run is a Ray task (``num_cpus=1``) on an existing cluster,
  ``ray.init(address=ADDR)``; Ray schedules them over the cluster's CPUs. The runs' working
  folders are written on the worker that runs them; their results come back to this process,
  which writes them. advshape and its extras must be installed on the cluster's workers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

__all__ = ["EXECUTORS", "Job", "execute"]

EXECUTORS = ("local", "ray")
"""Where :func:`execute` can run jobs: this machine's processes, or a Ray cluster."""


class Job(NamedTuple):
    """One run: its key (start, spec, seed) and the arguments of ``run_one``.

    Attributes:
        key: ``(start, spec, seed)``, how the caller files the result.
        testbed: the testbed's name (``lm``, ``bandit``, ``digits``).
        settings: the testbed's settings dataclass for the run's start.
        spec: the shaper spec.
        seed: the RL seed.
        folder: the run's working folder.

    Example:
        >>> from advshape.frontier.executors import Job
        >>> job = Job(("weak", "grpo", 0), "digits", None, "grpo", 0, "runs/weak/grpo/seed0")
        >>> job.key, job.spec
        (('weak', 'grpo', 0), 'grpo')

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
    """

    key: tuple[str, str, int]
    testbed: str
    settings: Any
    spec: str
    seed: int
    folder: str


def _run(job: Job) -> dict[str, Any]:
    from advshape.frontier.testbeds import run_one

    return run_one(job.testbed, job.settings, job.spec, job.seed, job.folder)


def execute(
    jobs: Sequence[Job],
    done: Callable[[Job, dict[str, Any]], None],
    *,
    executor: str = "local",
    workers: int = 1,
    address: str | None = None,
) -> None:
    """Run every job, calling ``done(job, result)`` as each finishes.

    Args:
        jobs: the runs to make.
        done: receives each finished run (in the calling process).
        executor: ``local`` or ``ray``.
        workers: processes for ``local`` (1: in this process).
        address: the Ray cluster's address (``ray``; e.g. ``auto`` or ``HOST:6379``); when
            Ray is already initialised in this process, that connection is used.

    Raises:
        ValueError: an unknown executor, or ``ray`` without Ray installed, without an
            address, or with an address no cluster answers at.

    Example:
        >>> from advshape.frontier.executors import Job, execute
        >>> from advshape.frontier.testbeds import get_testbed
        >>> s = get_testbed("digits").settings("weak", steps=2, eval_points=1, options={})
        >>> got = []
        >>> execute([Job(("weak", "grpo", 0), "digits", s, "grpo", 0, "unused")],
        ...         lambda job, result: got.append(len(result["evals"])))
        >>> got
        [2]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
        Ray: Moritz et al. 2018, https://arxiv.org/abs/1712.05889.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if not jobs:
        return
    if executor == "ray":
        _execute_ray(jobs, done, address)
    elif workers <= 1 or len(jobs) == 1:
        for job in jobs:
            done(job, _run(job))
    else:
        _execute_processes(jobs, done, workers)


def _execute_processes(jobs: Sequence[Job], done, workers: int) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        pending = {pool.submit(_run, job): job for job in jobs}
        try:
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    job = pending.pop(future)
                    done(job, future.result())  # a run's error is raised here
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _execute_ray(jobs: Sequence[Job], done, address: str | None) -> None:
    try:
        import ray
    except ImportError as err:
        raise ValueError(
            "--executor ray needs Ray in this environment (pip install 'advshape[ray]')"
        ) from err
    if not ray.is_initialized():
        if not address:
            raise ValueError(
                "--executor ray needs --address of a running Ray cluster (e.g. --address auto, "
                "or HOST:6379 as printed by `ray start --head`)"
            )
        try:
            ray.init(address=address, log_to_driver=False)
        except (ConnectionError, ValueError, RuntimeError) as err:
            raise ValueError(
                f"--address {address!r}: cannot connect to a Ray cluster ({err}); start one with "
                "`ray start --head` and pass the address it prints"
            ) from None
    remote = ray.remote(num_cpus=1, max_retries=0)(_run)
    pending = {remote.remote(job): job for job in jobs}
    try:
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                job = pending.pop(ref)
                done(job, ray.get(ref))  # a run's error (RayTaskError) is raised here
    except BaseException:
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
