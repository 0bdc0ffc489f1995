"""The 8×8 digits bundled with scikit-learn, split into train and held-out images.

``sklearn.datasets.load_digits`` reads a file shipped inside scikit-learn (1,797 images of
8×8 pixels with values 0–16, ten classes), so nothing is downloaded. Pixels are scaled to
[0, 1]. The held-out split is stratified: the same fraction of every class, drawn by a
seeded permutation within each class, so one ``data_seed`` fixes the split for every run.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["CLASSES", "DigitsSplit", "load_split"]

CLASSES = 10
"""The number of labels, 0–9: a "response" of the policy is one of them."""


class DigitsSplit(NamedTuple):
    """Train and held-out images (float32 in [0, 1], 64 pixels each) with their labels.

    Attributes:
        x_train: ``[train images, 64]`` pixels.
        y_train: ``[train images]`` labels 0–9.
        x_test: ``[held-out images, 64]`` pixels.
        y_test: ``[held-out images]`` labels 0–9.

    Example:
        >>> from advshape.digits.data import load_split
        >>> split = load_split()
        >>> float(split.x_train.min()), float(split.x_train.max()), split.y_test.dtype
        (0.0, 1.0, dtype('int64'))

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049;
        image classification as RL: Tajwar et al. 2026 (MaxRL),
        https://arxiv.org/abs/2602.02710.
    """

    x_train: NDArray[np.float32]
    y_train: NDArray[np.int64]
    x_test: NDArray[np.float32]
    y_test: NDArray[np.int64]


def load_split(seed: int = 0, test_fraction: float = 0.3) -> DigitsSplit:
    """scikit-learn's 8×8 digits, split into train and held-out images, stratified by class.

    Within each class c with n_c images, ⌊test_fraction · n_c⌉ images, chosen by a permutation
    seeded from ``(seed, c)``, are held out. The split depends only on ``seed`` and
    ``test_fraction``; images keep their order in the bundled file within each split.

    Args:
        seed: seed of the split (the frontier's paired design holds it fixed for every run).
        test_fraction: fraction of each class held out, in (0, 1).

    Returns:
        A :class:`DigitsSplit`; pixels scaled from 0–16 to [0, 1].

    Raises:
        ValueError: ``test_fraction`` outside (0, 1).

    Example:
        >>> from advshape.digits.data import load_split
        >>> split = load_split(seed=0, test_fraction=0.3)
        >>> split.x_train.shape, split.x_test.shape
        ((1258, 64), (539, 64))
        >>> sorted(set(split.y_test.tolist())) == list(range(10))
        True

    References:
        Advantage Shaping as Surrogate Reward Maximization, https://arxiv.org/abs/2510.23049.
        The harness rebuilt here treats image classification as RL: Tajwar et al. 2026
        (MaxRL), https://arxiv.org/abs/2602.02710. Data: the UCI optical digits as bundled by
        scikit-learn (``sklearn.datasets.load_digits``).
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(
            f"test_fraction must be in (0, 1), got {test_fraction!r}; e.g. 0.3 holds out 30%"
        )
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.data, dtype=np.float32) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    held = np.zeros(len(y), dtype=bool)
    for c in range(CLASSES):
        rows = np.flatnonzero(y == c)
        n_test = int(np.floor(test_fraction * len(rows) + 0.5))
        order = np.random.default_rng([seed, c]).permutation(len(rows))
        held[rows[order[:n_test]]] = True
    return DigitsSplit(x[~held], y[~held], x[held], y[held])
