"""One seed for data, initialisation and sampling, in every framework the book uses."""

from __future__ import annotations

import random

import numpy as np


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy, torch and (where installed) MLX; return a NumPy Generator on `seed`."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    import torch

    torch.manual_seed(seed)
    try:
        import mlx.core as mx
    except ImportError:  # MLX is optional off Linux and Apple silicon
        pass
    else:
        mx.random.seed(seed)
    return np.random.default_rng(seed)
