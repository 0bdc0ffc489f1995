"""Throughput of the bandit simulator's sampled step against a naive NumPy step, same run.

One sampled step = draw N answers for each of P problems from their M-way softmax, score
them with the shaper, form the policy-gradient update of every problem's logits and apply
it. Both versions do exactly that on the same tabular model:

- ``advshape.bandit`` (``dynamics.parameter_update`` + optimiser, the code ``simulate``
  runs): float32 policy, inverse-CDF sampling by vectorised binary search on one uniform
  matrix [P, N], advantages from the shaper's score table by N⁺, one weighted ``bincount``;
- naive: float64 policy, inverse-CDF by a [P, N, M] comparison tensor, one-hot responses
  [P, N, M], ``shaper.advantages`` on the [P, N] rewards, an einsum over the one-hots.

    python benchmarks/bench_bandit.py                  # P=4096, M=64, N=16, grpo
    python benchmarks/bench_bandit.py --shaper grpo_k:k=8 --steps 200
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import advshape
from advshape.bandit import dynamics, model


def naive_step(policy, shaper, n, rng, lr):
    z = policy.logits()  # float64
    pi = np.exp(z - z.max(axis=1, keepdims=True))
    pi /= pi.sum(axis=1, keepdims=True)
    cdf = np.cumsum(pi, axis=1)
    u = rng.random((pi.shape[0], n))
    answers = np.minimum((cdf[:, None, :] <= u[:, :, None]).sum(axis=-1), pi.shape[1] - 1)
    onehot = np.eye(pi.shape[1])[answers]  # [P, N, M]
    rewards = np.take_along_axis(policy.problems.correct, answers, axis=1).astype(np.float64)
    adv = shaper.advantages(rewards)
    update = np.einsum("pn,pnm->pm", adv, onehot - pi[:, None, :]) / n
    policy.params += lr * update


def fast_step(policy, shaper, n, rng, optimizer, rows, table):
    grad, *_ = dynamics.parameter_update(policy, rows, shaper, n, "sampled", rng, table)
    optimizer.step(policy.params, grad)


def time_steps(step, steps: int, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` (wall-clock, CPU-time) steps per second over ``steps`` steps.

    CPU time (``time.process_time``) is what the step costs this process; on a machine shared
    with other jobs it is the better estimate of the wall-clock rate on an idle one (these
    NumPy kernels run on one thread).
    """
    step()  # warm-up
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return steps / best_wall, steps / best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=4096)
    parser.add_argument("--answers", type=int, default=64)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--shaper", default="grpo")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    shaper = advshape.shaper(args.shaper)
    problems = model.make_problems(
        np.random.default_rng(0),
        num_problems=args.problems,
        num_answers=args.answers,
        max_correct=3,
        difficulty="loguniform:0.001,0.5",
    )
    rows = problems.train
    table = dynamics.score_table(shaper, args.n)
    fast_policy = model.make_policy("tabular", problems)
    naive_policy = model.make_policy("tabular", problems)
    rng_fast, rng_naive = np.random.default_rng(1), np.random.default_rng(1)
    sgd = dynamics.Sgd(0.1)

    fast = time_steps(
        lambda: fast_step(fast_policy, shaper, args.n, rng_fast, sgd, rows, table),
        args.steps,
        args.repeats,
    )
    naive = time_steps(
        lambda: naive_step(naive_policy, shaper, args.n, rng_naive, 0.1),
        max(args.steps // 4, 5),
        args.repeats,
    )
    per_step = args.problems * args.n
    print(
        f"P={args.problems} M={args.answers} N={args.n} shaper={shaper.spec} "
        f"cores={os.cpu_count()} load={os.getloadavg()[0]:.1f} numpy={np.__version__}"
    )
    print("                  sampled steps/s        M responses/s")
    print("                  wall-clock  CPU-time   wall-clock  CPU-time")
    for name, (wall, cpu) in (("advshape.bandit", fast), ("naive NumPy", naive)):
        print(
            f"{name:16s}  {wall:9.1f}  {cpu:8.1f}   {wall * per_step / 1e6:9.2f}  "
            f"{cpu * per_step / 1e6:8.2f}"
        )
    print(
        f"speed-up          {fast[0] / naive[0]:8.2f}x {fast[1] / naive[1]:8.2f}x"
        "   (advshape.bandit / naive, same run)"
    )


if __name__ == "__main__":
    main()
