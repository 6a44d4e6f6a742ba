"""Intervals for the book's numbers: percentile bootstrap intervals."""

from __future__ import annotations

import numpy as np


def ratio_interval(num, den, seed: int = 0, n_boot: int = 2000, level: float = 0.95,
                   paired: bool = False):  # fmt: skip
    """Percentile bootstrap interval of mean(num) / mean(den), resampled with replacement `n_boot`
    times with one seeded generator: two independent samples, or with `paired` (num[i] and den[i]
    measured on the same item) one set of resampled indices for both."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if num.ndim != 1 or den.ndim != 1 or len(num) < 2 or len(den) < 2:
        raise ValueError("need two 1-d samples of at least 2 values each")
    if paired and num.shape != den.shape:
        raise ValueError("paired samples need the same length")
    if not (np.isfinite(num).all() and np.isfinite(den).all()) or not 0 < level < 1:
        raise ValueError("samples must be finite and level in (0, 1)")
    rng = np.random.default_rng(seed)
    i_num = rng.integers(0, len(num), (n_boot, len(num)))
    i_den = i_num if paired else rng.integers(0, len(den), (n_boot, len(den)))
    ratios = num[i_num].mean(1) / np.maximum(den[i_den].mean(1), np.finfo(float).tiny)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def mean_interval(values, seed: int = 0, n_boot: int = 2000, level: float = 0.95):
    """Percentile bootstrap interval of the mean of `values` (at least 2 finite numbers), resampled
    with replacement `n_boot` times with one seeded generator."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2:
        raise ValueError("need a 1-d sample of at least 2 values")
    if not np.isfinite(values).all() or not 0 < level < 1:
        raise ValueError("values must be finite and level in (0, 1)")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (n_boot, len(values)))].mean(1)
    lo, hi = np.quantile(means, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)
