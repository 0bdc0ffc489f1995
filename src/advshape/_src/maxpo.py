"""max@K with a leave-two-out baseline (MaxPO; Takashiro, Nishimori, Parmas et al. 2026,
arXiv 2606.06080), for binary and continuous rewards.

The max@K signal of response i is PKPO's s̄_i, the mean of max r over the K-subsets of the group
that contain i ((1/N)·Σ_i s̄_i·∇log π(y_i) has expectation ∇max@K/K). The leave-two-out baseline
of i averages, over every other response j, the same signal of j computed in the group *without
i*, i.e. from the responses other than i and j:

    b_i = (1/(N−1))·Σ_{j≠i} s̄_j^{(−i)} = ρ̂₋ᵢ(K),   the max@K estimate of the other N − 1

(the mean over j of mean-max-of-the-K-subsets-containing-j is the mean max over all K-subsets).
b_i does not depend on y_i, so the estimator stays unbiased; and Σ_i s̄_i = N·ρ̂(K) =
Σ_i ρ̂₋ᵢ(K), so the advantages of every group sum to exactly 0, for any real rewards. Computed
in O(N log N) per group (sorted prefix sums, :mod:`advshape._src.pkpo`), not the O(N²) of the
pairwise definition.

Provenance: only the paper's abstract was available to us. It states the properties (unbiased,
exactly centred, quadratic time, starting from PKPO's non-centred leave-one-out estimator), not
the formula; the construction above is our reading of "leave-two-out", and it coincides with
advshape's ``pkpo:baseline=loo_unscaled``. tests/test_maxpo.py checks centring and unbiasedness
exactly; that this is the paper's own L2O baseline is not checked.
"""

from __future__ import annotations

from numpy.typing import ArrayLike

from advshape._src.arrays import Array, DType, Namespace
from advshape._src.closed_forms import Array as Floats
from advshape._src.closed_forms import pass_at_k_population
from advshape._src.pkpo import pkpo_dense
from advshape._src.scores import Scores
from advshape._src.scores import pkpo as pkpo_scores

__all__ = ["maxpo", "maxpo_continuous", "maxpo_surrogate"]

BASELINE = "loo_unscaled"  # PKPO's signal minus the others' max@K: see the module docstring


def maxpo(n_pos: ArrayLike, n: ArrayLike, k: int) -> Scores:
    """max@K with the leave-two-out baseline on binary rewards: A = s̄ − ρ̂₋ᵢ(K), K ≤ N − 1.

    With 0/1 rewards s̄⁺ = 1, s̄⁻ = 1 − f̂⁻_{K−1} and ρ̂₋ᵢ(K) is the Pass@K estimate of the others,
    so A⁺ = C(N⁻, K)/C(N − 1, K) and A⁻ = −f̂⁻_{K−1} + C(N⁻ − 1, K)/C(N − 1, K).

    Args:
        n_pos: N⁺ (broadcasts with ``n``).
        n: N ≥ K + 1.
        k: the K of max@K (Pass@K on binary rewards).

    Returns:
        (A⁺, A⁻) as float64 arrays; N⁺·A⁺ + N⁻·A⁻ = 0 in every group.

    Example:
        >>> from advshape._src.maxpo import maxpo
        >>> [v.round(4).tolist() for v in maxpo([1, 2], 4, k=2)]
        [[1.0, 0.3333], [-0.3333, -0.3333]]

    References:
        arXiv 2510.23049 (the seed paper, Eq. 37, App. C.4); Takashiro et al. 2026, On Advantage
        Estimates for Max@K Policy Gradients, arXiv 2606.06080 (MaxPO); Walder & Karkhanis 2025,
        arXiv 2505.15201 (PKPO).
    """
    return pkpo_scores(n_pos, n, k, baseline=BASELINE)


def maxpo_continuous(xp: Namespace, rewards: Array, dtype: DType, k: int) -> Array:
    """The same on real rewards ``[..., N]`` (any Array-API library), O(N log N) per group.

    Args:
        xp: the rewards' array namespace.
        rewards: real rewards, one group per row along the last axis.
        dtype: the output dtype.
        k: the K of max@K.

    Returns:
        Advantages of the shape of ``rewards``, summing to 0 along the last axis.

    Example:
        >>> import numpy as np, array_api_compat
        >>> from advshape._src.maxpo import maxpo_continuous
        >>> x = np.array([[0.1, 0.7, 0.4]])
        >>> maxpo_continuous(array_api_compat.array_namespace(x), x, np.float64, 2).round(4)
        array([[-0.15,  0.3 , -0.15]])

    References:
        arXiv 2510.23049 (the seed paper); Takashiro et al. 2026, arXiv 2606.06080.
    """
    return pkpo_dense(xp, rewards, k, BASELINE, dtype)


def maxpo_surrogate(rho: ArrayLike, k: int) -> Floats:
    """On binary rewards the population surrogate is Pass@K, ρ_K = 1 − (1 − ρ)^K (up to 1/K).

    Args:
        rho: ρ in [0, 1].
        k: K.

    Returns:
        ρ_K as float64.

    Example:
        >>> from advshape._src.maxpo import maxpo_surrogate
        >>> float(maxpo_surrogate(0.5, 2))
        0.75

    References:
        arXiv 2510.23049 (the seed paper, Eq. 11); Takashiro et al. 2026, arXiv 2606.06080.
    """
    return pass_at_k_population(rho, k)
