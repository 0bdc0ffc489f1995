"""Advantage throughput: every shaper on 1,048,576 binary rewards (65,536 groups of 16).

Prints, in one run and on the same arrays:
  (a) the baseline: a per-response Python loop over a dict of groups, the way verl's default
      `grpo` estimator computes GRPO (index -> list of scores, then a second loop writing each
      score); verl's vectorised estimators are compared in benchmarks/bench_vs_verl.py;
  (b) the floor: a copy of the reward array (read + write of every element).
and for every shaper the NumPy and PyTorch (CPU) dense paths, the ragged path with shuffled
string ids, PKPO on continuous rewards, and GRPO_K / PKPO across K (cost should not grow).

    python benchmarks/bench_advantages.py [--groups 65536] [--n 16] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections import defaultdict

import numpy as np
import torch

import advshape


def best_of(repeats: int, fn, *args, **kwargs) -> float:
    """Best wall time of ``fn(*args, **kwargs)`` over ``repeats`` runs, after one warm-up."""
    fn(*args, **kwargs)  # warm-up: table caches, allocator
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(*args, **kwargs)
        times.append(time.perf_counter() - t0)
    return min(times)


def verl_style_grpo_loop(
    scores: torch.Tensor, index: np.ndarray, eps: float = 1e-6
) -> torch.Tensor:
    """Per-response Python loop over a dict of groups (our rendition of verl's GRPO outcome advantage)."""
    scores = scores.clone()
    groups: dict[str, list[torch.Tensor]] = defaultdict(list)
    for i in range(scores.shape[0]):
        groups[index[i]].append(scores[i])
    mean, std = {}, {}
    for key, members in groups.items():
        stacked = torch.stack(members)
        mean[key] = stacked.mean()
        std[key] = stacked.std(unbiased=False) if len(members) > 1 else torch.tensor(1.0)
    for i in range(scores.shape[0]):
        scores[i] = (scores[i] - mean[index[i]]) / (std[index[i]] + eps)
    return scores


def spec_for(name: str, k: int) -> str:
    entry = advshape.registry()[name]
    params = [
        f"{p.name}={k if p.kind is int else 0.5}"  # an integer order (k, T) gets --k
        for p in entry.params
        if p.default is advshape.REQUIRED
    ]
    return name + (":" + ",".join(params) if params else "")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--groups", type=int, default=65_536)
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads (0: torch's default)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    g, n = args.groups, args.n
    rho = rng.random((g, 1))
    rewards = (rng.random((g, n)) < rho).astype(np.float32)
    rewards_t = torch.from_numpy(rewards)
    total = rewards.size
    uids = np.array([str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**63, g)], dtype=object)
    perm = rng.permutation(total)
    flat = rewards.reshape(-1)[perm]
    ids = np.repeat(uids, n)[perm]
    continuous = rng.random((g, n)).astype(np.float32)

    print(
        f"{total:,} responses = {g:,} groups of {n}; float32 rewards; torch threads = {torch.get_num_threads()}"
    )
    t0 = time.perf_counter()
    loop_out = verl_style_grpo_loop(torch.from_numpy(flat.copy()), ids)
    t_loop = time.perf_counter() - t0
    t_copy_np = best_of(args.repeats, rewards.copy)
    t_copy_t = best_of(args.repeats, rewards_t.clone)
    # sanity: the loop and advshape agree (population std, eps 1e-6)
    ours = advshape.shaper("grpo:eps=1e-6").advantages(flat, groups=ids)
    assert np.allclose(loop_out.numpy(), ours, atol=1e-4), "baseline and advshape disagree"
    print(f"(a) verl-style Python loop, GRPO: {t_loop * 1e3:,.0f} ms")
    print(f"(b) copy (floor): NumPy {t_copy_np * 1e3:.2f} ms, torch {t_copy_t * 1e3:.2f} ms\n")

    print(
        "| shaper | NumPy ms | × copy | × faster than loop | torch ms | × copy | ragged (shuffled uuids) ms | × faster than loop |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in advshape.names():
        shaper = advshape.shaper(spec_for(name, args.k))
        t_np = best_of(args.repeats, shaper.advantages, rewards)
        t_t = best_of(args.repeats, shaper.advantages, rewards_t)
        t_rag = best_of(max(1, args.repeats // 2), shaper.advantages, flat, groups=ids)
        print(
            f"| {shaper.spec} | {t_np * 1e3:.2f} | {t_np / t_copy_np:.1f} | {t_loop / t_np:,.0f} | "
            f"{t_t * 1e3:.2f} | {t_t / t_copy_t:.1f} | {t_rag * 1e3:.0f} | {t_loop / t_rag:,.0f} |"
        )

    print("\nPKPO on continuous rewards (dense), and cost across K:")
    print("| shaper | NumPy ms | × copy | torch ms | × copy |")
    print("|---|---:|---:|---:|---:|")
    cont_t = torch.from_numpy(continuous)
    for spec in [f"pkpo:k={k}" for k in (2, 8, 16)] + [f"pkpo:k={k},baseline=none" for k in (2, 8)]:
        shaper = advshape.shaper(spec)
        t_np = best_of(args.repeats, shaper.advantages, continuous)
        t_t = best_of(args.repeats, shaper.advantages, cont_t)
        print(
            f"| {spec} (continuous) | {t_np * 1e3:.1f} | {t_np / t_copy_np:.1f} | {t_t * 1e3:.1f} | {t_t / t_copy_t:.1f} |"
        )
    for spec in [f"grpo_k:k={k}" for k in (1, 2, 8, 16)]:
        shaper = advshape.shaper(spec)
        t_np = best_of(args.repeats, shaper.advantages, rewards)
        t_t = best_of(args.repeats, shaper.advantages, rewards_t)
        print(
            f"| {spec} (binary) | {t_np * 1e3:.2f} | {t_np / t_copy_np:.1f} | {t_t * 1e3:.2f} | {t_t / t_copy_t:.1f} |"
        )


if __name__ == "__main__":
    main()
