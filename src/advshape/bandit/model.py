"""Bandit models: P problems, each a softmax policy over M candidate answers.

A *problem* p has M answers; a fixed subset of them is correct (one or several). The policy
π_p = softmax(z_p) over the answers has success rate

    ρ_p = Σ_{a correct} π_p(a),        ρ_{K,p} = 1 − (1 − ρ_p)^K,

and, with c_p(a) ∈ {0, 1} the correctness of answer a, the exact logit gradient

    ∂ρ_p/∂z_p(a) = π_p(a)·(c_p(a) − ρ_p),     ∂ρ_{K,p}/∂z_p = K(1 − ρ_p)^{K−1}·∂ρ_p/∂z_p.

Two parameterisations of the logits z:

- ``tabular``: z_p is a free parameter vector per problem (θ has shape [P, M]);
- ``shared``: z_p(a) = b_p(a) + w·φ_p(a), one shared weight vector w ∈ R^D over problem/answer
  features φ_p(a) ∈ R^D, with a fixed per-problem prior b (the "pretrained" logits). Correct
  answers have features shifted along a hidden direction u, so what w learns on the training
  problems transfers to held-out ones — and so can what it over-fits (paper section 6).

Initial difficulty is set exactly: the prior logits are random, then the correct answers'
logits get a per-problem offset β_p chosen in closed form so that the initial ρ_p equals a
target drawn from the user's difficulty distribution (log-uniform by default: many hard
problems). Everything is drawn from one ``numpy.random.Generator`` seeded by the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

__all__ = [
    "BanditProblems",
    "Difficulty",
    "SharedLinearPolicy",
    "TabularPolicy",
    "make_policy",
    "make_problems",
    "pass_at_k_exact",
    "softmax",
    "success_rates",
]

MODELS = ("tabular", "shared")


@dataclass(frozen=True)
class Difficulty:
    """The distribution of the problems' initial success rates ρ_p.

    Parsed from ``"loguniform:0.002,0.5"`` (log ρ uniform: many hard problems),
    ``"uniform:0.05,0.5"`` or ``"fixed:0.1"``; ``str()`` gives the text back.

    Attributes:
        kind: ``"loguniform"``, ``"uniform"`` or ``"fixed"``.
        low: the smallest ρ, 0 < low.
        high: the largest ρ, high < 1 (= low for ``fixed``).

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import Difficulty
        >>> d = Difficulty.parse("loguniform:0.002,0.5")
        >>> d, str(d)
        (Difficulty(kind='loguniform', low=0.002, high=0.5), 'loguniform:0.002,0.5')
        >>> d.sample(np.random.default_rng(0), 3).round(6).tolist()
        [0.067364, 0.008871, 0.002508]
        >>> Difficulty.parse("fixed:1")
        Traceback (most recent call last):
        ...
        ValueError: difficulty 'fixed:1': initial success rates must satisfy 0 < LOW <= HIGH < 1 (got LOW=1.0, HIGH=1.0); a rate of 0 or 1 cannot be reached with finite logits

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (ρ_θ(x, a), the per-problem success rate, Sec. 1.1.1).
    """

    kind: str
    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> Difficulty:
        """The difficulty a text names (``KIND:LOW,HIGH`` or ``fixed:RHO``); ValueError if none."""
        kind, _, rest = str(text).partition(":")
        kind = kind.strip().lower()
        usage = (
            "write the difficulty as 'loguniform:LOW,HIGH', 'uniform:LOW,HIGH' or 'fixed:RHO' "
            "with 0 < LOW <= HIGH < 1, e.g. 'loguniform:0.002,0.5'"
        )
        try:
            values = [float(v) for v in rest.split(",")] if rest.strip() else []
        except ValueError:
            raise ValueError(f"cannot parse difficulty {text!r}: {usage}") from None
        if kind == "fixed" and len(values) == 1:
            values = values * 2
        if kind not in ("loguniform", "uniform", "fixed") or len(values) != 2:
            raise ValueError(f"cannot parse difficulty {text!r}: {usage}")
        low, high = values
        if not (0.0 < low <= high < 1.0) or not all(math.isfinite(v) for v in values):
            raise ValueError(
                f"difficulty {text!r}: initial success rates must satisfy 0 < LOW <= HIGH < 1 "
                f"(got LOW={low}, HIGH={high}); a rate of 0 or 1 cannot be reached with finite logits"
            )
        return cls(kind, low, high)

    def __str__(self) -> str:
        if self.kind == "fixed":
            return f"fixed:{self.low:g}"
        return f"{self.kind}:{self.low:g},{self.high:g}"

    def sample(self, rng: np.random.Generator, size: int) -> NDArray[np.float64]:
        """``size`` success rates drawn from the distribution with ``rng``."""
        if self.kind == "loguniform":
            return np.exp(rng.uniform(math.log(self.low), math.log(self.high), size))
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, size)
        return np.full(size, self.low)


@dataclass(frozen=True)
class BanditProblems:
    """A generated problem set: P problems of M answers each (arrays read-only).

    Made by :func:`make_problems`.

    Attributes:
        correct: [P, M] bool, which answers of each problem are correct.
        prior: [P, M] float64, the initial ("pretrained") logits.
        initial_rho: [P] float64, the exact initial success rates ρ_p under ``prior``.
        features: [P, M, D] float32 answer features (the shared model), else None.
        train: int64 indices of the training problems, sorted.
        test: int64 indices of the held-out problems, sorted (empty without a split).

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import make_problems
        >>> problems = make_problems(np.random.default_rng(0), num_problems=4, num_answers=5,
        ...                          max_correct=2, difficulty="fixed:0.1", test_fraction=0.25)
        >>> problems.num_problems, problems.num_answers, problems.initial_rho.round(12).tolist()
        (4, 5, [0.1, 0.1, 0.1, 0.1])
        >>> problems.train.tolist(), problems.test.tolist()
        ([0, 1, 3], [2])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (a training set of problem–answer pairs, Sec. 2).
    """

    correct: NDArray[np.bool_]
    prior: NDArray[np.float64]
    initial_rho: NDArray[np.float64]
    features: NDArray[np.float32] | None
    train: NDArray[np.int64]
    test: NDArray[np.int64]

    @property
    def num_problems(self) -> int:
        """P, the number of problems."""
        return int(self.correct.shape[0])

    @property
    def num_answers(self) -> int:
        """M, the number of answers of each problem."""
        return int(self.correct.shape[1])


def softmax(logits: NDArray, axis: int = -1) -> NDArray:
    """The softmax policy of logits: π(a) = exp(z(a)) / Σ_b exp(z(b)).

    In the logits' own dtype, max-subtracted so that it never overflows.

    Args:
        logits: the logits z, any shape.
        axis: the axis of the answers.

    Returns:
        π, of the logits' shape and dtype; sums to 1 along ``axis``.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import softmax
        >>> softmax(np.array([[0.0, np.log(3.0)], [1000.0, 1000.0]])).tolist()
        [[0.25, 0.75], [0.5, 0.5]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the policy π_θ(y|x), Sec. 1.1).
    """
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def pass_at_k_exact(rho: NDArray, k: int, fail: NDArray | None = None) -> NDArray[np.float64]:
    """The exact Pass@K of a policy with success rate ρ: ρ_K = 1 − (1 − ρ)^K.

    Computed as −expm1(K·log(1 − ρ)), so small ρ keeps its precision.

    Args:
        rho: the success rates ρ ∈ [0, 1], any shape.
        k: K ≥ 1.
        fail: 1 − ρ, when it is known more accurately than ``1 - rho`` (ρ near 1); None:
            computed from ``rho``.

    Returns:
        ρ_K, float64, of the shape of ``rho``.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import pass_at_k_exact
        >>> pass_at_k_exact(np.array([0.5, 0.1]), 4).round(12).tolist()  # 1 − (1 − ρ)⁴
        [0.9375, 0.3439]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (ρ_K, Sec. 1.1.2); Chen et al. 2021 (pass@k), https://arxiv.org/abs/2107.03374.
    """
    rho = np.asarray(rho, np.float64)
    fail = np.clip(1.0 - rho if fail is None else np.asarray(fail, np.float64), 0.0, 1.0)
    with np.errstate(divide="ignore"):
        return -np.expm1(k * np.log(fail))


def make_problems(
    rng: np.random.Generator,
    *,
    num_problems: int,
    num_answers: int,
    max_correct: int,
    difficulty: Difficulty | str,
    test_fraction: float = 0.0,
    features: int = 0,
    feature_signal: float = 1.5,
    prior_noise: float = 1.0,
) -> BanditProblems:
    """Draw a problem set with exactly controlled initial success rates.

    Each problem gets m_p ~ Uniform{1..max_correct} correct answers (placed at random), prior
    logits g ~ N(0, prior_noise²), and an offset β_p on its correct answers solving
    ρ_p = S⁺e^β / (S⁺e^β + S⁻) = target_p in closed form (S± = Σ e^g over correct / wrong
    answers):

        β_p = log(target_p·S⁻ / ((1 − target_p)·S⁺))

    With ``features`` = D > 0, answer features φ = ε + feature_signal·c·u (ε ~ N(0, I_D),
    u a random unit vector) are drawn for the shared model.

    Args:
        rng: the generator every draw comes from.
        num_problems: P ≥ 1.
        num_answers: M ≥ 2 answers per problem.
        max_correct: the most correct answers a problem has, 1 ≤ max_correct < M.
        difficulty: the distribution of the targets ρ_p, a :class:`Difficulty` or its text.
        test_fraction: the share of problems held out, in [0, 1) (0: no split).
        features: D, the dimension of the answer features (0: none, tabular model only).
        feature_signal: how far correct answers' features are shifted along u.
        prior_noise: the standard deviation of the prior logits, ≥ 0.

    Returns:
        The :class:`BanditProblems`, with ``initial_rho`` = the targets up to rounding.

    Raises:
        ValueError: a size, fraction or difficulty out of range, or a split that leaves the
            train or test set empty.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import make_problems
        >>> problems = make_problems(np.random.default_rng(0), num_problems=3, num_answers=4,
        ...                          max_correct=1, difficulty="uniform:0.1,0.3")
        >>> problems.initial_rho.round(6).tolist(), problems.correct.sum(axis=1).tolist()
        ([0.271481, 0.106717, 0.245931], [1, 1, 1])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (ρ_θ(x, a) per problem, Sec. 1.1.1).
    """
    difficulty = difficulty if isinstance(difficulty, Difficulty) else Difficulty.parse(difficulty)
    if num_problems < 1:
        raise ValueError(f"need at least 1 problem, got num_problems={num_problems}")
    if num_answers < 2:
        raise ValueError(
            f"need at least 2 answers per problem (one right, one wrong), got {num_answers}"
        )
    if not 1 <= max_correct < num_answers:
        raise ValueError(
            f"max_correct={max_correct} must be between 1 and num_answers - 1 = {num_answers - 1} "
            "so every problem has at least one correct and one wrong answer"
        )
    if not 0.0 <= test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in [0, 1), got {test_fraction}")
    n_test = round(test_fraction * num_problems)
    if test_fraction > 0 and (n_test < 1 or n_test >= num_problems):
        raise ValueError(
            f"test_fraction={test_fraction} of {num_problems} problems leaves an empty train or "
            "test split; use more problems or another fraction"
        )
    if prior_noise < 0 or not math.isfinite(prior_noise):
        raise ValueError(f"prior_noise must be a finite number >= 0, got {prior_noise}")
    if features < 0:
        raise ValueError(f"features must be >= 0 (0: no features), got {features}")

    p, m = num_problems, num_answers
    n_correct = rng.integers(1, max_correct + 1, size=p)
    # A random permutation per problem; the first n_correct positions are the correct answers.
    order = np.argsort(rng.random((p, m)), axis=1)
    correct = np.zeros((p, m), dtype=bool)
    np.put_along_axis(correct, order, np.arange(m)[None, :] < n_correct[:, None], axis=1)

    target = difficulty.sample(rng, p)
    g = prior_noise * rng.standard_normal((p, m))
    g -= g.max(axis=1, keepdims=True)
    eg = np.exp(g)
    s_pos = np.where(correct, eg, 0.0).sum(axis=1)
    s_neg = np.where(correct, 0.0, eg).sum(axis=1)
    beta = np.log(target * s_neg) - np.log((1.0 - target) * s_pos)
    prior = g + np.where(correct, beta[:, None], 0.0)

    feats = None
    if features:
        u = rng.standard_normal(features)
        u /= np.linalg.norm(u)
        eps = rng.standard_normal((p, m, features))
        feats = (eps + feature_signal * correct[..., None] * u).astype(np.float32)

    perm = rng.permutation(p)
    test = np.sort(perm[:n_test])
    train = np.sort(perm[n_test:])
    problems = BanditProblems(
        correct=correct,
        prior=prior,
        initial_rho=_rho_from_logits(prior, correct),
        features=feats,
        train=train,
        test=test,
    )
    for arr in (
        correct,
        prior,
        problems.initial_rho,
        train,
        test,
        *([feats] if feats is not None else []),
    ):
        arr.setflags(write=False)
    return problems


def _rho_from_logits(logits: NDArray, correct: NDArray[np.bool_]) -> NDArray[np.float64]:
    return success_and_failure(logits, correct)[0]


def success_and_failure(
    logits: NDArray, correct: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(ρ, 1 − ρ) per row, each as its own ratio S±/(S⁺ + S⁻) so neither loses precision."""
    z = np.asarray(logits, np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    s_pos = np.where(correct, e, 0.0).sum(axis=-1)
    s_neg = np.where(correct, 0.0, e).sum(axis=-1)
    total = s_pos + s_neg
    return s_pos / total, s_neg / total


def is_all_rows(rows: NDArray[np.int64] | None, num: int) -> bool:
    """True if ``rows`` is None or exactly 0..num−1 in order (then no gather is needed)."""
    if rows is None:
        return True
    return len(rows) == num and bool(np.array_equal(rows, np.arange(num)))


class TabularPolicy:
    """One free logit vector per problem: θ = z, shape [P, M], initialised at the prior.

    The exact logit gradient of ρ_p is ∂ρ_p/∂z_p(a) = π_p(a)·(c_p(a) − ρ_p), and each problem's
    logits receive only their own gradient.

    Args:
        problems: the problem set; ``params`` starts as a copy of ``problems.prior``.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import TabularPolicy, make_problems, success_rates
        >>> problems = make_problems(np.random.default_rng(0), num_problems=2, num_answers=3,
        ...                          max_correct=1, difficulty="fixed:0.25")
        >>> policy = TabularPolicy(problems)
        >>> policy.params.shape, success_rates(policy).round(12).tolist()
        ((2, 3), [0.25, 0.25])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the policy π_θ and its gradient ∇ρ_θ, Secs. 1.1 and 2).
    """

    kind = "tabular"

    def __init__(self, problems: BanditProblems):
        self.problems = problems
        self.params = problems.prior.copy()

    def logits(
        self, rows: NDArray[np.int64] | None = None, dtype: DTypeLike = np.float64
    ) -> NDArray[Any]:
        """The logits [B, M] of the problems ``rows`` (all by default), in ``dtype``."""
        z = self.params if is_all_rows(rows, len(self.params)) else self.params[rows]
        return z.astype(dtype, copy=False)

    def param_grad(self, rows: NDArray[np.int64], logit_grad: NDArray) -> NDArray[np.float64]:
        """Chain a logit gradient [B, M] of the rows to θ: scattered (summed) into [P, M].

        Each problem's own logits receive its own gradient (the objective is the sum over
        problems), so a problem's step does not shrink with the batch size.
        """
        rows = np.asarray(rows)
        if is_all_rows(rows, len(self.params)):
            return np.asarray(logit_grad, dtype=np.float64)
        grad = np.zeros_like(self.params)
        if len(rows) < 2 or np.all(rows[1:] > rows[:-1]):  # distinct rows: plain assignment
            grad[rows] = logit_grad
        else:
            np.add.at(grad, rows, logit_grad)
        return grad


class SharedLinearPolicy:
    """Logits linear in answer features with one shared weight vector: z_p(a) = b_p(a) + w·φ_p(a).

    w ∈ R^D starts at 0, so z = the prior b; what w learns on the training problems carries
    over to held-out ones (and so does what it over-fits).

    Args:
        problems: the problem set, made with ``features`` = D > 0.

    Raises:
        ValueError: the problems have no features.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import SharedLinearPolicy, make_problems, success_rates
        >>> problems = make_problems(np.random.default_rng(0), num_problems=2, num_answers=3,
        ...                          max_correct=1, difficulty="fixed:0.25", features=4)
        >>> policy = SharedLinearPolicy(problems)
        >>> policy.params.tolist(), success_rates(policy).round(12).tolist()
        ([0.0, 0.0, 0.0, 0.0], [0.25, 0.25])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (generalisation from a finite training set, Sec. 2).
    """

    kind = "shared"

    def __init__(self, problems: BanditProblems):
        if problems.features is None:
            raise ValueError(
                "the shared model needs answer features: make_problems(features=D > 0)"
            )
        self.problems = problems
        self.params = np.zeros(problems.features.shape[-1], dtype=np.float64)

    @property
    def _features(self) -> NDArray[np.float32]:
        features = self.problems.features
        assert features is not None  # checked in __init__
        return features

    def logits(
        self, rows: NDArray[np.int64] | None = None, dtype: DTypeLike = np.float64
    ) -> NDArray[Any]:
        """The logits [B, M] of the problems ``rows`` (all by default), in ``dtype``."""
        feats = self._features if rows is None else self._features[rows]
        prior = self.problems.prior if rows is None else self.problems.prior[rows]
        if dtype == np.float32:
            return prior.astype(np.float32) + feats @ self.params.astype(np.float32)
        return prior + feats.astype(np.float64) @ self.params

    def param_grad(self, rows: NDArray[np.int64], logit_grad: NDArray) -> NDArray[np.float64]:
        """∂/∂w of the batch *mean*: (1/B)·Σ_b Σ_a g_b(a)·φ_b(a)."""
        feats = self._features[rows]
        g = np.einsum("bm,bmd->d", logit_grad.astype(np.float32), feats, dtype=np.float64)
        return g / max(len(rows), 1)


Policy = TabularPolicy | SharedLinearPolicy


def make_policy(kind: str, problems: BanditProblems) -> Policy:
    """The policy of a model kind over a problem set, at its prior logits.

    Args:
        kind: ``"tabular"`` (:class:`TabularPolicy`) or ``"shared"``
            (:class:`SharedLinearPolicy`, needs features).
        problems: the problem set.

    Returns:
        The policy.

    Raises:
        ValueError: an unknown kind, or ``"shared"`` without features.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import make_policy, make_problems
        >>> problems = make_problems(np.random.default_rng(0), num_problems=2, num_answers=3,
        ...                          max_correct=1, difficulty="fixed:0.25")
        >>> make_policy("tabular", problems).kind
        'tabular'
        >>> make_policy("linear", problems)
        Traceback (most recent call last):
        ...
        ValueError: unknown model 'linear'; choose one of tabular, shared

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the policy π_θ, Sec. 1.1).
    """
    if kind == "tabular":
        return TabularPolicy(problems)
    if kind == "shared":
        return SharedLinearPolicy(problems)
    raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")


def success_rates(policy: Policy, rows: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """The exact success rates of a policy: ρ_p = Σ_{a correct} π_p(a), per problem.

    Args:
        policy: a :class:`TabularPolicy` or :class:`SharedLinearPolicy`.
        rows: the problems (indices), or None for all.

    Returns:
        ρ_p, float64, one per problem of ``rows``.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.model import make_policy, make_problems, success_rates
        >>> problems = make_problems(np.random.default_rng(0), num_problems=3, num_answers=4,
        ...                          max_correct=1, difficulty="fixed:0.05")
        >>> success_rates(make_policy("tabular", problems), np.array([0, 2])).round(12).tolist()
        [0.05, 0.05]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (ρ_θ(x, a), Sec. 1.1.1).
    """
    return success_and_failure_rates(policy, rows)[0]


def success_and_failure_rates(
    policy: Policy, rows: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Exact (ρ_p, 1 − ρ_p) (float64) for the given problems (all by default)."""
    correct = policy.problems.correct if rows is None else policy.problems.correct[rows]
    return success_and_failure(policy.logits(rows), correct)


def rho_logit_grad(
    pi: NDArray[np.float64], correct: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(ρ [B], ∂ρ/∂z [B, M]) from the policy π [B, M]: ∂ρ/∂z(a) = π(a)·(c(a) − ρ)."""
    rho = np.where(correct, pi, 0.0).sum(axis=-1)
    return rho, pi * (correct - rho[:, None])
