"""``explain``: what does an arbitrary advantage function optimise?

``fn`` maps the rewards of a batch of groups, an array ``[G, N]`` (one group per row), to
advantages of the same shape — a trainer's estimator, a research idea, anything. The paper's
lens (Lemma 2, Sec. 5.1) applies to every *count-based* estimator, so :func:`explain` first
checks, by probing ``fn`` on the reward patterns it needs, that

- it is **permutation-equivariant**: permuting the responses of a group permutes their
  advantages (checked on 0/1 rewards and, if ``fn`` accepts them, on continuous rewards);
- it is **count-based**: on 0/1 rewards a response's advantage depends only on its own reward
  and on (N⁺, N) — the same value for every correct (every wrong) response of a group, for
  every arrangement of the group and on every call (no dependence on positions or on state);
- it is **group-local**: a group's advantages do not depend on the other groups in the batch
  (batch whitening, batch-level scales and token-count weights are not).

Every failed check comes with a counterexample. The scores table A±(N⁺) is read off ``fn``
applied to each group *alone* (a batch of G = 1): for a group-local ``fn`` that is its
definition; for one that is not, it is the stated batch composition at which it is explained.
When ``fn`` is equivariant and count-based the result carries a count-based
:class:`advshape.Shaper` whose scores at any group size come from probing ``fn`` again, so
:func:`advshape.reverse_engineer` gives its population surrogate F and the exact finite-N c_N
and F_N follow (:func:`advshape.expected_update_coefficient`, :func:`advshape.finite_n_surrogate`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from advshape._src.registry import registry, shaper
from advshape._src.shaper import Shaper, ShaperInfo, count_shaper

__all__ = [
    "Counterexample",
    "Explanation",
    "NearestShaper",
    "explain",
    "nearest_registry_shaper",
    "scale_distance",
]

AdvantageFn = Callable[[np.ndarray], Any]

CHECKS = ("permutation-equivariant", "count-based", "group-local")


class Counterexample(NamedTuple):
    """Why one check of :func:`explain` failed: the probe, what was expected, what ``fn`` gave.

    Attributes:
        check: the check, ``"permutation-equivariant"``, ``"count-based"`` or
            ``"group-local"``.
        detail: one human-readable line.
        rewards: the probed group (1-D) or batch (2-D).
        expected: the advantages the check expected.
        got: the advantages ``fn`` returned.

    Example:
        >>> import numpy as np, advshape
        >>> def whiten(rewards):  # one mean and std for the whole batch
        ...     return (rewards - rewards.mean()) / (rewards.std() + 1e-6)
        >>> (bad,) = advshape.explain(whiten, 4).counterexamples
        >>> bad.check, bad.rewards.tolist(), np.round(bad.got, 4).tolist()
        ('group-local', [1.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, -1.0])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Lemma 2 and Sec. 5.1 apply to count-based, group-local estimators).
    """

    check: str
    detail: str
    rewards: np.ndarray
    expected: np.ndarray
    got: np.ndarray


class NearestShaper(NamedTuple):
    """A registry shaper near a scores table, and how near (see :func:`scale_distance`).

    Attributes:
        spec: the shaper's canonical spec (``"grpo_k:k=4"``).
        distance: the relative max distance between the table and c·(its scores), minimised
            over the scale c > 0; 0: equal up to scale.
        scale: that c.

    Example:
        >>> import numpy as np, advshape
        >>> from advshape.surrogates.explain import nearest_registry_shaper
        >>> a_pos, a_neg = advshape.shaper("grpo_k:k=2").scores(np.arange(9), 8)
        >>> nearest = nearest_registry_shaper(3 * a_pos, 3 * a_neg, 8)[0]
        >>> nearest.spec, round(nearest.distance, 12), round(nearest.scale, 12)
        ('grpo_k:k=2', 0.0, 3.0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1: the scores of the paper's shapers).
    """

    spec: str
    distance: float
    scale: float


class Explanation(NamedTuple):
    """What :func:`explain` found: the checks, their counterexamples and the scores table.

    Attributes:
        name: how the explained function is named.
        n: the group size N it was probed at.
        equivariant: whether permuting a group's responses permutes their advantages.
        count_based: whether on 0/1 rewards each advantage depends only on its own reward and
            (N⁺, N).
        group_local: whether a group's advantages do not depend on the other groups.
        counterexamples: one :class:`Counterexample` per failed check.
        a_pos: A⁺ at N⁺ = m, m = 0..N, float64 (NaN at m = 0: no correct response).
        a_neg: A⁻ at N⁺ = m, m = 0..N, float64 (NaN at m = N: no wrong response).
        composition: the batch composition the scores table was read at.
        shaper: a count-based :class:`advshape.Shaper` that probes ``fn`` at any group size,
            or None unless ``fn`` is equivariant and count-based.
        notes: remarks on the result, one line each.

    Example:
        >>> import numpy as np, advshape
        >>> def centred(rewards):  # Dr. GRPO's advantage: r − mean of the group
        ...     return rewards - rewards.mean(axis=1, keepdims=True)
        >>> found = advshape.explain(centred, 4)
        >>> found.checks
        {'permutation-equivariant': True, 'count-based': True, 'group-local': True}
        >>> found.a_pos.tolist()  # A⁺ = 1 − ρ̂ (NaN: no correct response at N⁺ = 0)
        [nan, 0.75, 0.5, 0.25, 0.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Lemma 2, Sec. 5.1); Liu et al. 2025 (Dr. GRPO), https://arxiv.org/abs/2503.20783.
    """

    name: str
    n: int
    equivariant: bool
    count_based: bool
    group_local: bool
    counterexamples: tuple[Counterexample, ...]
    a_pos: np.ndarray
    a_neg: np.ndarray
    composition: str
    shaper: Shaper | None
    notes: tuple[str, ...] = ()

    @property
    def checks(self) -> dict[str, bool]:
        """Each check's name -> whether ``fn`` passed it."""
        return dict(zip(CHECKS, (self.equivariant, self.count_based, self.group_local)))

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Exact effective weights w⁺ = ρ̂·A⁺, w⁻ = −(1 − ρ̂)·A⁻ at N (0 where undefined)."""
        m = np.arange(self.n + 1)
        rho = m / self.n
        return rho * np.nan_to_num(self.a_pos) + 0.0, -(1 - rho) * np.nan_to_num(self.a_neg) + 0.0


class _NonFinite(ValueError):
    """``fn`` returned NaN or ±inf (it did not raise)."""


def _call(fn: AdvantageFn, rewards: np.ndarray) -> np.ndarray:
    out = fn(rewards.copy())
    if hasattr(out, "detach"):  # torch: a host copy (complex stays complex, checked below)
        out = out.detach().cpu()
        out = out.numpy() if out.is_complex() else out.double().numpy()
    raw = np.asarray(out)
    if raw.dtype.kind == "c":
        raise ValueError(
            f"the advantage function returned complex advantages (dtype {raw.dtype}) for rewards "
            f"of shape {rewards.shape}; it must return real numbers (return .real explicitly "
            "if the imaginary part is meant to be dropped)"
        )
    out = np.asarray(raw, dtype=np.float64)
    if out.shape != rewards.shape:
        raise ValueError(
            f"the advantage function returned shape {out.shape} for rewards of shape "
            f"{rewards.shape}; it must map [G, N] rewards to [G, N] advantages"
        )
    if not np.all(np.isfinite(out)):
        row, col = np.argwhere(~np.isfinite(out))[0]
        raise _NonFinite(
            f"the advantage function returned {out[row, col]} for rewards {rewards[row].tolist()} "
            f"(group {row}, response {col}); it must return finite advantages"
        )
    return out


def _patterns(n: int) -> np.ndarray:
    """Row m: N⁺ = m correct responses first, then N − m wrong ones (m = 0..N)."""
    return (np.arange(n)[None, :] < np.arange(n + 1)[:, None]).astype(np.float64)


def _fmt(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.6g}" for v in np.ravel(values)) + "]"


class _Close:
    def __init__(self, rtol: float, atol: float) -> None:
        self.rtol, self.atol = rtol, atol

    def __call__(self, a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.allclose(a, b, rtol=self.rtol, atol=self.atol))


def _class_values(row_rewards: np.ndarray, row_adv: np.ndarray):
    """(A of the correct responses, A of the wrong ones) of one group."""
    pos = row_rewards == 1
    return row_adv[pos], row_adv[~pos]


def explain(
    fn: AdvantageFn,
    n: int,
    *,
    name: str = "fn",
    rtol: float = 1e-9,
    atol: float = 1e-12,
    seed: int = 0,
    continuous: bool = True,
) -> Explanation:
    """Probe ``fn`` at group size ``n``, check it, and read off its scores (see module docstring).

    For a count-based ``fn`` the scores table is A⁺(N⁺) = fn's advantage of a correct response
    and A⁻(N⁺) of a wrong one in a group with N⁺ correct (paper Sec. 5.1, Lemma 2), from which
    the weights w⁺ = ρ̂A⁺, w⁻ = −(1 − ρ̂)A⁻ and the surrogate follow.

    Args:
        fn: rewards ``[G, N]`` (a float64 NumPy array) -> advantages ``[G, N]`` (NumPy, a torch
            tensor or anything ``np.asarray`` takes); real and finite.
        n: the group size N ≥ 2 to probe at.
        name: how ``fn`` is named in the result and the notes.
        rtol: relative tolerance of every comparison (loosen it for float32 code).
        atol: absolute tolerance of every comparison.
        seed: seed of the random permutations and continuous probes.
        continuous: False skips the equivariance probe on real-valued rewards (for functions
            that accept only 0/1).

    Returns:
        An :class:`Explanation`: the checks, counterexamples, scores table and, for an
        equivariant count-based ``fn``, a count-based :class:`advshape.Shaper`.

    Raises:
        ValueError: bad ``n`` or ``fn``; ``fn`` returns the wrong shape, non-finite values on
            0/1 rewards, or complex advantages (whose imaginary part would be dropped).

    Example:
        >>> import advshape
        >>> from advshape.surrogates.explain import explain
        >>> result = explain(advshape.shaper("rloo").advantages, 4)
        >>> result.checks["count-based"], [round(float(a), 6) for a in result.a_pos[1:]]
        (True, [1.0, 0.666667, 0.333333, 0.0])

    References:
        Advantage Shaping as Surrogate Reward Maximization, arXiv 2510.23049
        (https://arxiv.org/abs/2510.23049): Sec. 5.1, Lemma 2.
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n must be an integer group size >= 2, got {n!r}")
    if not callable(fn):
        raise ValueError(f"fn must be callable rewards[G, N] -> advantages[G, N], got {fn!r}")
    n = int(n)
    close = _Close(rtol, atol)
    rng = np.random.default_rng(seed)
    patterns = _patterns(n)
    found: list[Counterexample] = []
    notes: list[str] = []

    def fail(check: str, detail: str, rewards, expected, got) -> None:
        if not any(c.check == check for c in found):  # one counterexample per check
            found.append(
                Counterexample(
                    check, detail, np.asarray(rewards), np.asarray(expected), np.asarray(got)
                )
            )

    # 1. each group alone (G = 1): the scores table, sorted and reversed arrangements
    alone = np.stack([_call(fn, patterns[m : m + 1])[0] for m in range(n + 1)])
    reversed_alone = np.stack([_call(fn, patterns[m : m + 1, ::-1])[0][::-1] for m in range(n + 1)])
    a_pos = np.full(n + 1, np.nan)
    a_neg = np.full(n + 1, np.nan)
    for m in range(n + 1):
        pos, neg = _class_values(patterns[m], alone[m])
        if m > 0:
            a_pos[m] = pos[0]
        if m < n:
            a_neg[m] = neg[0]
        for values, label in ((pos, "correct"), (neg, "wrong")):
            if values.size and not close(values, values[0]):
                fail(
                    "count-based",
                    f"N+ = {m}: the {label} responses of one group get different advantages "
                    f"{_fmt(values)} (they depend on more than (r_i, N+, N), e.g. on positions)",
                    patterns[m],
                    np.full(values.shape, values[0]),
                    values,
                )
        if not close(reversed_alone[m], alone[m]):
            fail(
                "count-based",
                f"N+ = {m}: the same group in reverse order gets {_fmt(reversed_alone[m][::-1])}"
                f" (in that order) instead of {_fmt(alone[m][::-1])}",
                patterns[m, ::-1],
                alone[m][::-1],
                reversed_alone[m][::-1],
            )

    # 2. equivariance: permute within every group of a batch (each group's multiset, and so the
    #    batch's, is unchanged: batch-level statistics cannot cause a failure here)
    probes = [patterns]
    if continuous:
        probes.append(np.round(rng.normal(size=(4, n)), 3))
    for batch_index, batch in enumerate(probes):
        try:
            base = _call(fn, batch)
        except Exception as err:  # any refusal of real-valued rewards: judge on 0/1 only
            if batch_index == 0:
                raise
            # a function for 0/1 rewards only: equivariance is judged on 0/1 rewards
            how = (
                f"{name} returned non-finite advantages: {err}"
                if isinstance(err, _NonFinite)
                else f"{name} raised {type(err).__name__}: {err}"
            )
            notes.append(f"not probed on continuous rewards ({how})")
            continue
        for _ in range(3):
            perms = np.stack([rng.permutation(n) for _ in range(batch.shape[0])])
            permuted = np.take_along_axis(batch, perms, axis=1)
            got = _call(fn, permuted)
            want = np.take_along_axis(base, perms, axis=1)
            if not close(got, want):
                row = int(np.argmax(np.any(~np.isclose(got, want, rtol=rtol, atol=atol), axis=1)))
                fail(
                    "permutation-equivariant",
                    f"rewards {_fmt(batch[row])} give {_fmt(base[row])}; permuted to "
                    f"{_fmt(permuted[row])} they give {_fmt(got[row])}, not the permuted "
                    f"{_fmt(want[row])}",
                    permuted[row],
                    want[row],
                    got[row],
                )
                break

    # 3. group-local: the same groups inside two other batches
    together = _call(fn, patterns)
    extra = np.concatenate([patterns[::-1], np.repeat(patterns[1:2], 3, axis=0)])
    mixed = _call(fn, extra)[: n + 1][::-1]
    for batch_out, how in (
        (together, f"in one batch with the other {n} count patterns"),
        (mixed, "in a batch with the other patterns and 3 more groups with N+ = 1"),
    ):
        bad = [m for m in range(n + 1) if not close(batch_out[m], alone[m])]
        if bad:
            m = bad[len(bad) // 2]
            fail(
                "group-local",
                f"N+ = {m}: alone in its batch the group gets {_fmt(alone[m])}, {how} it gets "
                f"{_fmt(batch_out[m])}",
                patterns[m],
                alone[m],
                batch_out[m],
            )

    failed = {c.check for c in found}
    equivariant = "permutation-equivariant" not in failed
    count_based = "count-based" not in failed
    group_local = "group-local" not in failed
    composition = "each group alone in its batch (G = 1)" + (
        "" if group_local else "; fn is not group-local: other batches give other advantages"
    )
    built = None
    if equivariant and count_based:
        built = _probed_shaper(fn, name, n, a_pos, a_neg, group_local, composition)
    return Explanation(
        name=name,
        n=n,
        equivariant=equivariant,
        count_based=count_based,
        group_local=group_local,
        counterexamples=tuple(found),
        a_pos=a_pos,
        a_neg=a_neg,
        composition=composition,
        shaper=built,
        notes=tuple(notes),
    )


def _probed_shaper(fn, name, n, a_pos, a_neg, group_local: bool, composition: str) -> Shaper:
    """A count-based Shaper whose table at size N is ``fn``'s, probed once per group size."""
    tables: dict[int, tuple[np.ndarray, np.ndarray]] = {
        n: (np.nan_to_num(a_pos), np.nan_to_num(a_neg))
    }

    def table(size: int) -> tuple[np.ndarray, np.ndarray]:
        if size not in tables:
            pats = _patterns(size)
            if group_local:  # one batch of all N + 1 patterns, in slices of ~2²⁰ rewards
                step = max(1, (1 << 20) // size)
                out = np.concatenate(
                    [_call(fn, pats[i : i + step]) for i in range(0, size + 1, step)]
                )
            else:  # the stated composition: each group alone
                out = np.stack([_call(fn, pats[m : m + 1])[0] for m in range(size + 1)])
            pos = np.where(np.arange(size + 1) > 0, out[:, 0], 0.0)
            neg = np.where(np.arange(size + 1) < size, out[:, -1], 0.0)
            tables[size] = (pos, neg)
        return tables[size]

    def scores(n_pos, n_):
        n_pos, n_ = np.broadcast_arrays(np.asarray(n_pos, np.int64), np.asarray(n_, np.int64))
        out_pos = np.empty(n_pos.shape)
        out_neg = np.empty(n_pos.shape)
        for size in np.unique(n_):
            sel = n_ == size
            pos, neg = table(int(size))
            out_pos[sel] = pos[n_pos[sel]]
            out_neg[sel] = neg[n_pos[sel]]
        return out_pos, out_neg

    info = ShaperInfo(
        summary=f"{name}, explained by probing ({composition})",
        paper="advshape.explain",
        equation="",
        formula=f"A± read off {name} at each group size",
        target_k=1,
        unbiased=False,
        binary_only=True,
        count_based=True,
        min_n=2,
        k_le_n=False,
    )
    return count_shaper(f"explained:{name}", scores, spec=f"explained:{name}", info=info)


# --- nearest registry shaper ---------------------------------------------------------------


def scale_distance(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The distance between two score tables up to a positive scale, and that scale.

        d(a, b) = min_{c > 0} max_i |aᵢ − c·bᵢ| / max_i |aᵢ|

    A positive scale is a learning-rate factor: 0 means equal up to scale; the distance is
    relative to the largest |A| of ``a``. The objective is convex and piecewise linear in c,
    so its minimum sits where two of the lines ±(aᵢ − c·bᵢ) cross, or at c → 0: every such c
    is tried.

    Args:
        a: the scores table to match, 1-D.
        b: the candidate's table, of the same length.

    Returns:
        ``(distance, c)``: the minimum and the minimising scale (``(0.0, 1.0)`` if both tables
        are zero).

    Example:
        >>> import numpy as np
        >>> from advshape.surrogates.explain import scale_distance
        >>> scale_distance(np.array([2.0, -1.0]), np.array([1.0, -0.5]))  # a = 2·b
        (0.0, 2.0)

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (a shaper is defined by its scores up to the step size, Sec. 2).
    """
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    top = float(np.max(np.abs(a)))
    if top == 0.0:
        return (0.0 if not np.any(b) else 1.0), 1.0
    i, j = np.triu_indices(a.size, k=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cands = np.concatenate(
            [(a[i] - a[j]) / (b[i] - b[j]), (a[i] + a[j]) / (b[i] + b[j]), a / b, [1e-300]]
        )
    cands = np.unique(cands[np.isfinite(cands) & (cands > 0)])

    def worst(c: float) -> float:
        return float(np.max(np.abs(a - c * b)))

    # a convex function sampled at sorted points is unimodal (flat only at its minimum):
    # ternary search, O(log M) evaluations instead of M
    lo, hi = 0, cands.size - 1
    while hi - lo > 2:
        m1 = lo + (hi - lo) // 3
        m2 = hi - (hi - lo) // 3
        if worst(cands[m1]) <= worst(cands[m2]):
            hi = m2
        else:
            lo = m1
    errs = [worst(c) for c in cands[lo : hi + 1]]
    best = int(np.argmin(errs))
    return errs[best] / top, float(cands[lo + best])


def _k_grid(n: int) -> list[int]:
    """K = 1..16, powers of two up to N, and N itself (every K when N ≤ 16)."""
    ks = set(range(1, min(n, 16) + 1)) | {2**j for j in range(n.bit_length()) if 2**j <= n} | {n}
    return sorted(ks)


def _candidate_specs(n: int) -> list[str]:
    specs = []
    for name, entry in registry().items():
        names = {p.name for p in entry.params}
        if name == "grpo":
            specs += [
                f"grpo:std={std},eps={eps}" if eps else f"grpo:std={std}"
                for std in ("population", "sample")
                for eps in (0.0, 1e-6, 1e-4)
            ]
        elif name == "pkpo":
            specs += [
                f"pkpo:k={k},baseline={b}"
                for k in _k_grid(n)
                for b in ("none", "loo", "loo_minus_one")
                if not (b == "loo" and k + 1 > n)
            ]
        elif name == "maxpo":
            specs += [f"maxpo:k={k}" for k in _k_grid(n) if k + 1 <= n]
        elif "k" in names:
            specs += [f"{name}:k={k}" for k in _k_grid(n)]
        elif "T" in names:  # the Maclaurin orders
            specs += [f"{name}:T={t}" for t in _k_grid(n)]
        elif name == "focal":
            specs += [f"focal:gamma={g}" for g in (0.25, 0.5, 1.0, 1.5, 2.0, 3.0)]
        elif name in ("p_normalization", "one_sided_grpo"):
            specs += [f"{name}:eps={eps}" for eps in (0.0, 1e-6)]
        elif name == "clipped_pnorm":
            specs += [f"clipped_pnorm:floor={c}" for c in (0.0625, 0.125, 0.25)]
        elif "lam" in names:
            specs += [f"{name}:lam={lam}" for lam in (0.1, 0.25, 0.5, 1.0, 2.0)]
        elif name == "grpo_passk":
            specs += ["grpo_passk", "grpo_passk:std=none"]
        else:
            specs.append(name)
    return specs


def _used(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the table entries that ever multiply a response: A⁺ at N⁺ ≥ 1, A⁻ at N⁺ < N."""
    m = np.arange(n + 1)
    return m >= 1, m < n


def nearest_registry_shaper(
    a_pos: np.ndarray, a_neg: np.ndarray, n: int, specs: Sequence[str] | None = None
) -> list[NearestShaper]:
    """Registry shapers sorted by how near their scores are to a table, up to scale.

    Each shaper of the registry, with its parameters tried over a grid (K = 1..16, powers of
    two and N), is compared with the table by :func:`scale_distance` on the scores a group of
    N uses: A⁺ at N⁺ = 1..N and A⁻ at N⁺ = 0..N−1. Ties (equal up to scale, such as dr_grpo and
    rloo) are ordered by the scale nearest 1.

    Args:
        a_pos: A⁺ at N⁺ = 0..N (entry 0 unused).
        a_neg: A⁻ at N⁺ = 0..N (entry N unused).
        n: the group size N.
        specs: the candidate specs (default: the registry over the parameter grid).

    Returns:
        A :class:`NearestShaper` per candidate defined at N, nearest first.

    Example:
        >>> import numpy as np, advshape
        >>> from advshape.surrogates.explain import nearest_registry_shaper
        >>> a_pos, a_neg = advshape.shaper("rloo").scores(np.arange(5), 4)
        >>> [r.spec for r in nearest_registry_shaper(a_pos, a_neg, 4, ["grpo", "rloo", "dr_grpo"])]
        ['rloo', 'dr_grpo', 'grpo']

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Table 1).
    """
    use_pos, use_neg = _used(n)
    target = np.concatenate([np.asarray(a_pos)[use_pos], np.asarray(a_neg)[use_neg]])
    out = []
    for spec in specs if specs is not None else _candidate_specs(n):
        s = shaper(spec)
        if n < s.info.min_n or (s.info.k_le_n and s.info.target_k > n):
            continue
        assert s.scores is not None  # registry shapers are count-based
        pos, neg = s.scores(np.arange(n + 1), n)
        dist, scale = scale_distance(target, np.concatenate([pos[use_pos], neg[use_neg]]))
        out.append(
            NearestShaper(s.spec, dist, scale)
        )  # canonical: "grpo", not "grpo:std=population"
    # ties (equal up to scale: dr_grpo and rloo, grpo_k:k=1 and grpo, ...): the scale nearest 1
    out.sort(key=lambda r: (round(r.distance, 12), round(abs(np.log(r.scale)), 9), len(r.spec)))
    return out
