"""Training dynamics on the bandit: sampled (N responses per problem) or expected (exact).

One step on a batch of problems b with logits z_b and policy π_b:

- **sampled**: draw N answers y_1..y_N ~ π_b per problem, reward r_i = c_b(y_i), advantages
  A_i from the shaper's scores (A⁺ or A⁻ by correctness, functions of N⁺), and the logit
  update (1/N)·Σ_i A_i·∇_z log π_b(y_i) = (1/N)·[Σ_i A_i·e_{y_i} − (Σ_i A_i)·π_b];
- **expected**: its exact expectation over the N responses, c_N(ρ_b)·∂ρ_b/∂z
  (``advshape.expected_update_coefficient``; no sampling noise).

The logit update is chained to the parameters (per problem for the tabular model, batch mean
for the shared one) and applied by SGD or Adam (gradient *ascent*). Problems are drawn
uniformly or by prioritised sampling (Kimi k1.5: P(p) ∝ 1 − tracked success rate, which
paper section 6.2 equates with skew-R at the example level). Everything is vectorised over
problems and responses; the only Python loops run over the M answers (building a CDF) and
the log2(M) binary-search steps, each a vector operation over all problems.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

import advshape
from advshape._options import OneOf, check_options, count, field_checks, option, real
from advshape._shaper_option import shaper_option
from advshape._src.expectation import CountBased
from advshape._src.scheduled import ScheduledShaper
from advshape._src.shaper import Shaper
from advshape.bandit import model as bandit_model

__all__ = [
    "Adam",
    "BanditConfig",
    "ProblemSampler",
    "Sgd",
    "expected_logit_update",
    "sample_answers",
    "sampled_logit_update",
    "simulate",
]

DYNAMICS = ("sampled", "expected")
OPTIMIZERS = ("adam", "sgd")
SAMPLINGS = ("uniform", "prioritised")


# Upper ends of the sizes: far above any study that fits in memory, low enough that an absurd
# value is refused up front rather than failing (or swapping) inside the run.
_MAX_COUNT = 10**7
_MAX_STEPS = 10**9
# Problems x answers x features of the shared model's float32 feature tensor.
_MAX_FEATURE_ENTRIES = 2**30


def _check_difficulty(option_name: str, text: str) -> None:
    try:
        bandit_model.Difficulty.parse(text)
    except ValueError as err:
        raise ValueError(f"{option_name}: {err}") from None


@dataclass
class BanditConfig:
    """One bandit training run (the model, the data and the optimiser), minus the shaper.

    Each field is an option of ``advshape simulate`` (``--field-name``), its valid values
    declared beside it and its meaning in the string under it; :meth:`validate` checks them
    all, and their relations, before anything runs.

    Example:
        >>> from advshape.bandit import BanditConfig
        >>> config = BanditConfig(model="tabular", problems=8, answers=4, max_correct=1, n=4,
        ...                       k=2, batch=8, steps=3)
        >>> config.validate()  # passes silently
        >>> BanditConfig(model="tabular", problems=8, batch=16).validate()
        Traceback (most recent call last):
        ...
        ValueError: --batch 16 exceeds the 8 training problems; lower --batch or raise --problems

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses per problem, the group size of Sec. 2; Pass@K, Sec. 1.1.2); Kimi Team 2025
        (prioritised sampling), https://arxiv.org/abs/2501.12599.
    """

    model: str = option("shared", OneOf(bandit_model.MODELS))
    """policy parameterisation"""
    problems: int = option(2048, count(1, _MAX_COUNT))
    """number of problems P (train + test)"""
    test_fraction: float = option(
        0.25,
        real(0.0, 1.0, high_open=True, why="0 holds out none; some must stay for training"),
    )
    """fraction of problems held out (shared model only)"""
    answers: int = option(
        32, count(2, 100_000, why="each problem needs one right and one wrong answer")
    )
    """candidate answers M per problem"""
    max_correct: int = option(3, count(1, 100_000))
    """each problem has 1..max_correct correct answers"""
    difficulty: str = option("loguniform:0.001,0.5", _check_difficulty)
    """initial success rates: loguniform:LOW,HIGH | uniform:LOW,HIGH | fixed:RHO"""
    features: int = option(16, count(0, 100_000))
    """feature dimension D of the shared model"""
    feature_signal: float = option(
        1.0,
        real(
            0.0,
            100.0,
            why="0: features carry no signal (a negative shift only flips the random hidden "
            "direction); features are standard normal, so larger shifts overflow float32 logits",
        ),
    )
    """shift of correct answers' features along the hidden direction"""
    prior_noise: float = option(
        1.0,
        real(0.0, 30.0, why="larger spreads underflow exp() when the initial success rates are set"),
    )
    """std of the random prior logits"""
    n: int = option(16, count(1, 100_000))
    """group size N: responses sampled per problem per step"""
    k: int = option(8, count(1, 100_000))
    """the K of the reported Pass@K (and of k-shapers without an explicit k)"""
    dynamics: str = option("sampled", OneOf(DYNAMICS))
    """sampled responses or exact expected update"""
    optimizer: str = option("adam", OneOf(OPTIMIZERS))
    """gradient-ascent optimiser"""
    lr: float = option(0.01, real(0.0, 1e6, low_open=True, why="a step size > 0"))
    """learning rate"""
    steps: int = option(800, count(1, _MAX_STEPS))
    """optimisation steps"""
    batch: int = option(64, count(1, _MAX_COUNT))
    """problems per step (samples per step = batch * N)"""
    sampling: str = option("uniform", OneOf(SAMPLINGS))
    """problem sampling"""
    log_every: int = option(5, count(1, _MAX_STEPS))
    """record metrics every this many steps"""

    def validate(self) -> None:
        """Every option's range, then the relations between options; names the option.

        Checks everything :func:`simulate` and :func:`bandit_model.make_problems` would
        refuse, so a study fails here, before its folder is written.
        """

        def need(ok: bool, msg: str) -> None:
            if not ok:
                raise ValueError(msg)

        check_options(self, field_checks(BanditConfig))
        need(
            self.max_correct < self.answers,
            f"--max-correct {self.max_correct} must be at most --answers - 1 = {self.answers - 1}, "
            "so every problem has a wrong answer too; lower --max-correct or raise --answers",
        )
        if self.model == "shared":
            need(
                self.features >= 1,
                f"--features must be >= 1 for the shared model, got {self.features}; "
                "or use --model tabular",
            )
            need(
                self.problems * self.answers * self.features <= _MAX_FEATURE_ENTRIES,
                f"--problems x --answers x --features = {self.problems} x {self.answers} x "
                f"{self.features} features exceed {_MAX_FEATURE_ENTRIES:,} float32 numbers "
                "(4 GiB); lower one of them",
            )
            n_test = round(self.test_fraction * self.problems)
            need(
                self.test_fraction == 0 or 1 <= n_test < self.problems,
                f"--test-fraction {self.test_fraction} of --problems {self.problems} leaves an "
                f"empty train or test split ({n_test} held out); use more problems or another "
                "fraction",
            )
            n_train = self.problems - n_test
        else:
            need(
                self.problems * self.answers <= _MAX_FEATURE_ENTRIES,
                f"--problems x --answers = {self.problems} x {self.answers} logits exceed "
                f"{_MAX_FEATURE_ENTRIES:,}; lower one of them",
            )
            n_train = self.problems
        need(
            self.batch <= n_train,
            f"--batch {self.batch} exceeds the {n_train} training problems; lower --batch or "
            "raise --problems",
        )
        need(
            self.batch * self.n <= _MAX_FEATURE_ENTRIES // 4,
            f"--batch x --n = {self.batch * self.n:,} responses per step is too many; lower one",
        )

    def to_dict(self) -> dict[str, Any]:
        """The options as a plain dict (a study's saved settings)."""
        return asdict(self)


def reported_ks(n: int, k: int) -> tuple[int, ...]:
    """k = 1, 2, 4, 8, 16, … up to max(16, N, K), plus K itself."""
    top = max(16, n, k)
    ks = {2**i for i in range(int(math.log2(top)) + 1)} | {k}
    return tuple(sorted(ks))


# --------------------------------------------------------------------------- sampling


def sample_answers(pi: NDArray, rng: np.random.Generator, n: int) -> NDArray[np.int32]:
    """N answers per row of π [B, M] by inverse-CDF sampling: y_i ~ π, i = 1..N.

    One uniform matrix [B, N]. Rows need not be normalised: the uniforms are scaled by each
    row's total. The row CDFs (float32, padded with +inf to a power-of-two width) are built by
    M − 1 column additions (vectorised over rows; ``np.cumsum`` along the short axis is several
    times slower) and searched by a vectorised binary search — log2 M gathers over [B, N] —
    which beats both a [B, N, M] comparison tensor and ``Generator.multinomial``. Answer a is
    returned with probability π(a) up to float32 rounding of the CDF (relative error ~1e-7).

    Args:
        pi: [B, M] answer probabilities (or unnormalised non-negative weights), one problem
            per row.
        rng: the generator of the uniforms.
        n: N, the answers drawn per row.

    Returns:
        [B, N] int32 answer indices.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.dynamics import sample_answers
        >>> pi = np.array([[0.25, 0.75], [1.0, 0.0]])
        >>> sample_answers(pi, np.random.default_rng(0), 8).tolist()
        [[1, 1, 1, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (N responses y_i ~ π_θ(·|x) per problem, Sec. 1.1.1).
    """
    return _sample_answers(pi, rng, n)[0]


def _sample_answers(
    pi: NDArray, rng: np.random.Generator, n: int
) -> tuple[NDArray[np.int32], NDArray[np.float32]]:
    """:func:`sample_answers`, also returning the row totals (the CDFs' last entries)."""
    b, m = pi.shape
    width = 1 << max(m - 1, 0).bit_length()  # next power of two >= m
    cdf = np.empty((b, width), dtype=np.float32)
    cdf[:, 0] = pi[:, 0]
    for a in range(1, m):  # a loop over answers, each step vectorised over all problems
        np.add(cdf[:, a - 1], pi[:, a], out=cdf[:, a])
    cdf[:, m:] = np.inf
    u = rng.random((b, n), dtype=np.float32)
    u *= cdf[:, m - 1 : m]
    flat = cdf.ravel()
    # answer index = #{a : CDF[a] <= u}; the search probes CDF[idx + step − 1]
    base = (np.arange(b, dtype=np.intp) * width - 1)[:, None]
    idx = np.zeros((b, n), dtype=np.intp)
    step = width // 2
    while step:
        idx += (flat[base + (idx + step)] <= u) * step
        step //= 2
    np.minimum(idx, m - 1, out=idx)  # u rounded up onto the row total
    return idx.astype(np.int32), cdf[:, m - 1]


def score_table(shaper, n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(A⁺[N⁺], A⁻[N⁺]) for N⁺ = 0..N from the shaper's own score function."""
    scores = getattr(shaper, "scores", None)
    if scores is None:
        raise ValueError(
            f"shaper {shaper.spec!r} is not count-based (no scores(n_pos, n)); the bandit "
            "needs advantages that depend on the rewards only through N+ and N"
        )
    return scores(np.arange(n + 1), np.full(n + 1, n))


def sampled_logit_update(
    pi: NDArray,
    correct: NDArray[np.bool_],
    answers: NDArray[np.int32],
    table: tuple[NDArray[np.float64], NDArray[np.float64]],
    totals: NDArray | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The sampled logit update of each problem, from its N answers and the shaper's scores.

        Ĝ = (1/N)·Σ_i A_i·∇_z log π(y_i) = (1/N)·[Σ_i A_i·e_{y_i} − (Σ_i A_i)·π]

    (∇_z log π(y) = e_y − π), with A_i = A⁺(N⁺, N) for a correct answer and A⁻(N⁺, N) for a
    wrong one; the first term is one weighted ``bincount`` over all rows at once.

    Args:
        pi: [B, M] the policy of each problem; with ``totals``, unnormalised (π = pi/totals),
            which saves a normalisation pass.
        correct: [B, M] bool, the correct answers.
        answers: [B, N] the sampled answer indices.
        table: ``(A⁺, A⁻)``, the shaper's scores for N⁺ = 0..N (``shaper.scores``).
        totals: [B] the row totals of an unnormalised ``pi``, or None.

    Returns:
        ``(update, n_pos)``: [B, M] float64 logit updates and [B] int64 counts N⁺.

    Example:
        >>> import numpy as np, advshape
        >>> from advshape.bandit.dynamics import sampled_logit_update
        >>> pi, correct = np.array([[0.25, 0.75]]), np.array([[False, True]])
        >>> answers = np.array([[1, 1, 1, 1, 1, 0, 0, 0]], dtype=np.int32)  # N⁺ = 5 of 8
        >>> table = advshape.shaper("rloo").scores(np.arange(9), 8)
        >>> update, n_pos = sampled_logit_update(pi, correct, answers, table)
        >>> update.round(6).tolist(), n_pos.tolist()
        ([[-0.267857, 0.267857]], [5])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (the update (1/N)·Σ A_i ∇log π(y_i), Eq. RLOO and Sec. 2).
    """
    b, m = pi.shape
    n = answers.shape[1]
    flat = answers + (np.arange(b, dtype=np.int64) * m)[:, None]
    is_correct = correct.ravel()[flat]
    n_pos = is_correct.sum(axis=1)
    a_pos, a_neg = table
    # the 1/N is folded into the [B, N] advantages and the [B] coefficients, not the [B, M] result
    adv = np.where(is_correct, (a_pos / n)[n_pos][:, None], (a_neg / n)[n_pos][:, None])
    # with weights, bincount returns float64 (NumPy's stubs say intp)
    update = cast(
        NDArray[np.float64],
        np.bincount(flat.ravel(), weights=adv.ravel(), minlength=b * m).reshape(b, m),
    )
    coef = adv.sum(axis=1) if totals is None else adv.sum(axis=1) / totals
    # The π term in π's own dtype: with a float32 π, a float64 product was ~10x slower here
    # (3 ms of a 12 ms step at P = 4096, M = 64) for no accuracy the float32 π could carry.
    update -= coef.astype(pi.dtype)[:, None] * pi
    return update, n_pos


def expected_logit_update(
    shaper: CountBased, n: int, pi: NDArray[np.float64], correct: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The exact expected logit update of each problem: E[Ĝ] = c_N(ρ)·∂ρ/∂z.

    With ∂ρ/∂z(a) = π(a)·(c(a) − ρ) and c_N from ``advshape.expected_update_coefficient``
    (the paper's Lemma 2, exact at finite N): no sampling noise.

    Args:
        shaper: a count-based shaper.
        n: the group size N the expectation is over.
        pi: [B, M] float64 policies, normalised.
        correct: [B, M] bool, the correct answers.

    Returns:
        ``(update, rho)``: [B, M] float64 expected logit updates and [B] success rates ρ.

    Example:
        >>> import numpy as np, advshape
        >>> from advshape.bandit.dynamics import expected_logit_update
        >>> pi, correct = np.array([[0.25, 0.75]]), np.array([[False, True]])
        >>> update, rho = expected_logit_update(advshape.shaper("rloo"), 8, pi, correct)
        >>> update.round(12).tolist(), rho.tolist()  # RLOO: c_N = 1, the update is ∂ρ/∂z
        ([[-0.1875, 0.1875]], [0.75])

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Lemma 2).
    """
    rho, grad = bandit_model.rho_logit_grad(pi, correct)
    coef = advshape.expected_update_coefficient(shaper, n, rho)
    return coef[:, None] * grad, rho


# --------------------------------------------------------------------------- optimisers


class Sgd:
    """Plain gradient ascent: θ ← θ + lr·g.

    Args:
        lr: the step size.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.dynamics import Sgd
        >>> params = np.zeros(2)
        >>> Sgd(0.5).step(params, np.array([1.0, -2.0]))
        >>> params.tolist()
        [0.5, -1.0]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (θ_{t+1} = θ_t + η·Ĝ, Sec. 1.1.1).
    """

    def __init__(self, lr: float):
        self.lr = lr

    def step(
        self,
        params: NDArray[np.float64],
        grad: NDArray[np.float64],
        rows: NDArray[np.int64] | None = None,
    ) -> None:
        """One ascent step on ``params`` in place; ``rows`` is accepted for symmetry with
        :class:`Adam` (other rows have zero gradient)."""
        params += self.lr * grad


class Adam:
    """Adam for gradient ascent: θ ← θ + lr·m̂/(√v̂ + ε), bias-corrected moments.

    With ``rows`` (the tabular model) it is *lazy*, like ``torch.optim.SparseAdam``: only
    the rows of the batch update their moments and take a step, each with its own step
    count. Dense Adam would keep moving every problem on stale momentum between its visits.

    Args:
        lr: the step size.
        beta1: the decay of the first moment m.
        beta2: the decay of the second moment v.
        eps: added to √v̂.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.dynamics import Adam
        >>> params = np.zeros(2)
        >>> Adam(0.1).step(params, np.array([1.0, -2.0]))  # the first step is ≈ lr·sign(g)
        >>> params.round(6).tolist()
        [0.1, -0.1]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
        Kingma & Ba 2015 (Adam), https://arxiv.org/abs/1412.6980.
    """

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m: NDArray[np.float64] | None = None
        self.v: NDArray[np.float64] | None = None
        self.t: NDArray[np.int64] | int = 0

    def step(
        self,
        params: NDArray[np.float64],
        grad: NDArray[np.float64],
        rows: NDArray[np.int64] | None = None,
    ) -> None:
        """One ascent step on ``params`` in place (lazy: only ``rows``, when given)."""
        if self.m is None:
            self.m = np.zeros_like(params)
            self.v = np.zeros_like(params)
            if rows is not None:
                self.t = np.zeros(len(params), dtype=np.int64)
        moment1, moment2 = self.m, self.v  # the same arrays, updated in place
        assert moment1 is not None and moment2 is not None
        if rows is None:
            self.t += 1
            moment1 *= self.beta1
            moment1 += (1 - self.beta1) * grad
            moment2 *= self.beta2
            moment2 += (1 - self.beta2) * grad * grad
            m_hat = moment1 / (1 - self.beta1**self.t)
            v_hat = moment2 / (1 - self.beta2**self.t)
            params += self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
            return
        if len(np.unique(rows)) != len(rows):
            raise ValueError("lazy Adam needs distinct rows in a batch")
        steps = self.t
        assert isinstance(steps, np.ndarray)  # per-row step counts, made with the moments
        steps[rows] += 1
        t = steps[rows][:, None]
        g = grad[rows]
        m = self.beta1 * moment1[rows] + (1 - self.beta1) * g
        v = self.beta2 * moment2[rows] + (1 - self.beta2) * g * g
        moment1[rows], moment2[rows] = m, v
        m_hat = m / (1 - self.beta1**t)
        v_hat = v / (1 - self.beta2**t)
        params[rows] += self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


def make_optimizer(name: str, lr: float) -> Sgd | Adam:
    if name == "sgd":
        return Sgd(lr)
    if name == "adam":
        return Adam(lr)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


# --------------------------------------------------------------------------- problem sampling


class ProblemSampler:
    """Draws a batch of distinct training problems per step.

    ``uniform``: every training problem equally likely. ``prioritised``: weighted sampling
    without replacement with weight 1 − s_p, s_p the tracked success rate of problem p (the
    ρ̂ of its latest group; 0 before it is first seen) — Kimi k1.5's prioritized sampling,
    which the paper's Sec. 6.2 relates to skew-R. Weighted draws use Efraimidis–Spirakis keys
    log(u)/w (top B), so problems with weight 0 are only taken when fewer than B have
    positive weight.

    Args:
        kind: ``"uniform"`` or ``"prioritised"``.
        train: the indices of the training problems.
        batch: B, the problems per step.
        num_problems: P, the size of the tracked success-rate table.

    Raises:
        ValueError: an unknown kind.

    Example:
        >>> import numpy as np
        >>> from advshape.bandit.dynamics import ProblemSampler
        >>> sampler = ProblemSampler("prioritised", np.arange(4), batch=2, num_problems=4)
        >>> sampler.observe(np.array([0, 1]), np.array([1.0, 1.0]))  # 0 and 1 are solved
        >>> sampler.draw(np.random.default_rng(0)).tolist()
        [2, 3]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Sec. 6.2); Kimi Team 2025 (Kimi k1.5), https://arxiv.org/abs/2501.12599.
    """

    def __init__(self, kind: str, train: NDArray[np.int64], batch: int, num_problems: int):
        if kind not in SAMPLINGS:
            raise ValueError(f"unknown problem sampling {kind!r}; choose one of {SAMPLINGS}")
        self.kind, self.train, self.batch = kind, np.asarray(train), int(batch)
        self.tracked = np.zeros(num_problems, dtype=np.float64)

    def draw(self, rng: np.random.Generator) -> NDArray[np.int64]:
        """The next batch: B distinct training problems, sorted."""
        t = len(self.train)
        if self.batch == t:
            return self.train
        if self.kind == "uniform":
            return np.sort(rng.choice(self.train, self.batch, replace=False))
        weight = 1.0 - self.tracked[self.train]
        with np.errstate(divide="ignore"):
            keys = np.log(rng.random(t)) / weight  # −inf where weight = 0
        keys = np.where(weight > 0, keys, -np.inf)
        # ties among −inf keys: break by a random permutation
        order = np.lexsort((rng.random(t), keys))
        return np.sort(self.train[order[-self.batch :]])

    def observe(self, rows: NDArray[np.int64], success: NDArray[np.float64]) -> None:
        """Track the success rates just seen (ρ̂ of each group, or the exact ρ)."""
        self.tracked[rows] = success


# --------------------------------------------------------------------------- one step


def parameter_update(
    policy,
    rows: NDArray[np.int64],
    shaper,
    n: int,
    dynamics: str,
    rng: np.random.Generator,
    table: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, float]:
    """One update direction for the batch ``rows``: (parameter gradient, success per row,
    fraction of all-equal groups, fraction of all-zero-advantage groups).

    ``sampled``: success = ρ̂ = N⁺/N of the drawn group (float32 policy for speed);
    ``expected``: success = exact ρ, fractions are exact probabilities (float64 throughout).
    """
    table = score_table(shaper, n) if table is None else table
    zero_update = _zero_update_mask(table, n)
    all_rows = bandit_model.is_all_rows(rows, policy.problems.num_problems)
    correct = policy.problems.correct if all_rows else policy.problems.correct[rows]
    if dynamics == "sampled":
        weights = policy.logits(rows, dtype=np.float32)
        if weights is policy.params:  # never exponentiate the parameters in place
            weights = weights.copy()
        weights -= weights.max(axis=1, keepdims=True)
        np.exp(weights, out=weights)  # the softmax up to its row totals
        answers, totals = _sample_answers(weights, rng, n)
        update, n_pos = sampled_logit_update(weights, correct, answers, table, totals)
        success = n_pos / n
        zero_group = float(np.mean((n_pos == 0) | (n_pos == n)))
        zero_upd = float(np.mean(zero_update[n_pos]))
    elif dynamics == "expected":
        pi = bandit_model.softmax(policy.logits(rows))
        update, success = expected_logit_update(shaper, n, pi, correct)
        pmf = advshape.binomial_pmf(n, success)
        zero_group = float(np.mean(pmf[:, 0] + pmf[:, n]))
        zero_upd = float(np.mean(pmf @ zero_update))
    else:
        raise ValueError(f"unknown dynamics {dynamics!r}; choose one of {DYNAMICS}")
    return policy.param_grad(rows, update), success, zero_group, zero_upd


# --------------------------------------------------------------------------- one run


def _zero_update_mask(table, n: int) -> NDArray[np.bool_]:
    """For each N⁺ = 0..N: does a group with N⁺ correct give all-zero advantages?"""
    a_pos, a_neg = table
    counts = np.arange(n + 1)
    pos_zero = (counts == 0) | (a_pos == 0)
    neg_zero = (counts == n) | (a_neg == 0)
    return pos_zero & neg_zero


def evaluate(policy, ks: tuple[int, ...]) -> dict[str, float]:
    """Exact mean pass@k on the train and test problems (float64, no sampling)."""
    rho, fail = bandit_model.success_and_failure_rates(policy)
    out: dict[str, float] = {}
    for split in ("train", "test"):
        rows = getattr(policy.problems, split)
        if len(rows) == 0:
            continue
        for k in ks:
            pass_k = bandit_model.pass_at_k_exact(rho[rows], k, fail=fail[rows])
            out[f"{split}_pass@{k}"] = float(pass_k.mean())
    return out


def simulate(
    config: BanditConfig,
    shaper: str | Shaper | ScheduledShaper,
    seed: int,
    *,
    on_step: Callable[[int, Any], None] | None = None,
    on_start: Callable[[Any], None] | None = None,
) -> list[dict[str, Any]]:
    """Train one policy with one shaper from one seed; return the metric records.

    Each step draws a batch of problems and ascends θ ← θ + lr·Ĝ (SGD or Adam) with the
    sampled update (1/N)·Σ_i A_i·∇log π(y_i) or its exact expectation c_N(ρ)·∇ρ.

    Seeds: the problems come from ``default_rng([seed, 0])`` (the same for every shaper, so
    shapers are compared on the same problems), the training randomness from
    ``default_rng([seed, 1])``. Records (every ``log_every`` steps and at the last step) hold
    ``step``, ``samples`` (responses drawn so far: step·batch·N, also counted under expected
    dynamics, where each step stands for that many samples), exact mean pass@k on train and
    test, and, for the step just taken, ``zero_group_frac`` (groups all correct or all wrong)
    and ``zero_update_frac`` (groups whose advantages are all zero) — exact probabilities
    under expected dynamics. ``on_step(step, policy)`` is called after every update,
    ``on_start(policy)`` once before the first.

    Args:
        config: the run's options (checked first).
        shaper: a spec (shapers that take k get the config's K unless the spec gives one), a
            :class:`advshape.Shaper` or a :class:`advshape.ScheduledShaper` (its shaper of
            each step).
        seed: the seed of the problems and of the training randomness.
        on_step: called as ``on_step(step, policy)`` after every update, or None.
        on_start: called as ``on_start(policy)`` once before the first update, or None (the
            frontier evaluates the starting policy with it).

    Returns:
        The records, one dict per logged step (step 0 first).

    Raises:
        ValueError: bad options or shaper, or a group size the shaper refuses (K > N).
        FloatingPointError: the parameters overflowed (lower the learning rate).

    Example:
        >>> from advshape.bandit import BanditConfig, simulate
        >>> config = BanditConfig(model="tabular", problems=8, answers=4, max_correct=1, n=4,
        ...                       k=2, dynamics="expected", optimizer="sgd", lr=1.0, steps=3,
        ...                       batch=8, log_every=3, difficulty="fixed:0.25")
        >>> records = simulate(config, "rloo", seed=0)
        >>> [(r["step"], round(r["train_pass@1"], 6)) for r in records]
        [(0, 0.25), (3, 0.461896)]

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049
        (Lemma 2 for the expected dynamics; Pass@K, Sec. 1.1.2).
    """
    config.validate()
    if isinstance(shaper, str):  # any spec form; shapers that take k get --k unless given
        shaper = shaper_option(shaper, "shaper", default_k=config.k)
    n = config.n
    # A K schedule (grpo_k:k=linear(8,1)) gives the shaper of each step, schedule.at(step,
    # steps); every value it reaches is checked against N before the run.
    schedule = advshape.scheduled(shaper)
    schedule.check_group_size(n)  # e.g. every K <= N
    tables = {id(s): (s, score_table(s, n)) for s in schedule.variants()}
    problems = bandit_model.make_problems(
        np.random.default_rng([seed, 0]),
        num_problems=config.problems,
        num_answers=config.answers,
        max_correct=config.max_correct,
        difficulty=config.difficulty,
        test_fraction=config.test_fraction if config.model == "shared" else 0.0,
        features=config.features if config.model == "shared" else 0,
        feature_signal=config.feature_signal,
        prior_noise=config.prior_noise,
    )
    policy = bandit_model.make_policy(config.model, problems)
    rng = np.random.default_rng([seed, 1])
    optimizer = make_optimizer(config.optimizer, config.lr)
    sampler = ProblemSampler(config.sampling, problems.train, config.batch, problems.num_problems)
    ks = reported_ks(n, config.k)
    records: list[dict[str, Any]] = [
        {
            "step": 0,
            "samples": 0,
            **evaluate(policy, ks),
            "zero_group_frac": None,
            "zero_update_frac": None,
        }
    ]
    if on_start is not None:
        on_start(policy)
    for step in range(1, config.steps + 1):
        rows = sampler.draw(rng)
        step_shaper, table = tables[id(schedule.at(step, config.steps))]
        grad, success, zero_group, zero_upd = parameter_update(
            policy, rows, step_shaper, n, config.dynamics, rng, table
        )
        sampler.observe(rows, success)
        optimizer.step(policy.params, grad, rows if policy.kind == "tabular" else None)
        if on_step is not None:
            on_step(step, policy)
        if step % config.log_every == 0 or step == config.steps:
            records.append(
                {
                    "step": step,
                    "samples": step * config.batch * n,
                    **evaluate(policy, ks),
                    "zero_group_frac": zero_group,
                    "zero_update_frac": zero_upd,
                }
            )
    if not all(np.isfinite(policy.params).ravel()):
        raise FloatingPointError(
            f"shaper {schedule.spec!r}, seed {seed}: the parameters overflowed to inf/NaN with "
            f"--optimizer {config.optimizer} --lr {config.lr:g}; lower --lr"
        )
    return records
