"""Reverse-engineering cost and accuracy, against baselines measured in the same run.

For each shaper prints:
  (a) the floor: one table of effective weights at N = 2²⁰ (what any N → ∞ route must read);
  (b) the naive route: the exact finite-N surrogate F_N at N = 1024 on 201 values of ρ — the
      obvious "take N large" approach — with its error against the closed form;
  (c) ``advshape.reverse_engineer`` (default resolution), time as a ratio to (a) and (b), and
      its error against the closed form (normalised F(0) = 0, F(1) = 1, ρ grid with the ends).

    python benchmarks/bench_surrogates.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import advshape
from advshape.surrogates.verify import RHO_GRID, sup_normalised_error

SPECS = (
    "grpo",
    "skew_r",
    "grpo_k:k=4",
    "grpo_k_chen:k=4",
    "entropy:lam=1",
    "pkpo:k=4,baseline=none",
)


def best_of(repeats: int, fn, *args, **kwargs):
    """(best wall time, last result) over ``repeats`` runs, after one warm-up."""
    result = fn(*args, **kwargs)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n_big = 2**20
    print(
        f"{'shaper':<24} {'floor':>8} {'F_1024':>8} {'reverse':>8} {'÷floor':>7} {'÷F_1024':>8}"
        f" {'err F_1024':>11} {'err reverse':>12}"
    )
    for spec in SPECS:
        s = advshape.shaper(spec)
        counts = np.arange(n_big + 1)
        t_floor, _ = best_of(args.repeats, s.weights, counts, np.full(n_big + 1, n_big))
        t_naive, naive = best_of(args.repeats, advshape.finite_n_surrogate, s, 1024, RHO_GRID)
        t_rev, curve = best_of(args.repeats, advshape.reverse_engineer, s)
        err_naive = sup_normalised_error(lambda r, v=naive: v, s.surrogate)
        err_rev = sup_normalised_error(curve, s.surrogate)
        print(
            f"{spec:<24} {t_floor:8.3f} {t_naive:8.3f} {t_rev:8.3f} {t_rev / t_floor:7.1f}"
            f" {t_rev / t_naive:8.1f} {err_naive:11.1e} {err_rev:12.1e}"
        )
    print(
        "times in seconds (best of --repeats); errors: sup over ρ of |F − closed form|, normalised"
    )


if __name__ == "__main__":
    main()
