"""Rollout throughput of the LM trainer: KV-cached batched sampling vs no cache, same run.

The RL step's cost on CPU is mostly sampling B·N responses. ``advshape.lm.rollout.sample``
generates all rows of a step in one batched ``generate`` call with the KV cache; the
baseline is the same call with ``use_cache=False`` (every new token re-reads the whole
prefix). Both draw from the same warm-started-size tiny Llama with the same seed, so the
texts are identical and the ratio is pure speed. Also times one policy-gradient
forward/backward on the sampled batch.

    python benchmarks/bench_lm_rollout.py                  # B=16 prompts x N=16, countdown
    python benchmarks/bench_lm_rollout.py --prompts 32 --samples 16 --repeats 5
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    import torch

    from advshape.lm.model import TinyModelConfig, build_model, build_tokenizer, n_parameters
    from advshape.lm.rollout import sample, token_logprobs
    from advshape.lm.tasks import Task

    torch.set_num_threads(args.threads)
    task = Task("countdown", seed=0, n_train=args.prompts, n_eval=1)
    tokenizer = build_tokenizer(task.alphabet)
    model = build_model(tokenizer, TinyModelConfig(), seed=0).eval()
    prompts = [p.prompt for p in task.train]
    rows = args.prompts * args.samples
    max_new = task.spec.max_answer_chars + 1

    def timed(use_cache: bool):
        original = model.generate

        def generate(**kw):
            return original(**{**kw, "use_cache": use_cache})

        model.generate = generate
        best, texts = float("inf"), None
        for _ in range(args.repeats):
            start = time.perf_counter()
            out = sample(model, tokenizer, prompts, n=args.samples, max_new_tokens=max_new, seed=1)
            best = min(best, time.perf_counter() - start)
            texts = out[4]
        model.generate = original
        return best, texts, out

    cached, texts_cached, batch = timed(True)
    uncached, texts_uncached, _ = timed(False)
    same = texts_cached == texts_uncached
    start = time.perf_counter()
    logp = token_logprobs(model, *batch[:4])
    (-logp.sum()).backward()
    backward = time.perf_counter() - start
    print(f"tiny Llama, {n_parameters(model) / 1e6:.2f}M parameters, {args.threads} threads")
    print(f"{rows} rows, up to {max_new} new tokens each (best of {args.repeats})")
    print(f"sample, KV cache   : {cached:.3f} s  ({rows / cached:.0f} samples/s)")
    print(f"sample, no cache   : {uncached:.3f} s  ({rows / uncached:.0f} samples/s)")
    print(f"ratio no-cache / cache: {uncached / cached:.2f}x  (identical texts: {same})")
    print(f"policy-gradient forward+backward on the batch: {backward:.3f} s")


if __name__ == "__main__":
    main()
