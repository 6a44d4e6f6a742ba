"""Gumbel-Softmax and its straight-through variant, for torch tensors and MLX arrays alike.

One function, `gumbel_softmax`, dispatches on the type of `logits`; both backends compute
y = softmax((logits + g) / tau) over the last axis, with g standard Gumbel noise, and in the hard
variant return the one-hot of argmax(y) forward with the gradient of y backward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _check(logits, tau: float) -> None:
    if not (isinstance(tau, int | float) and math.isfinite(tau) and tau > 0):
        raise ValueError(f"temperature tau must be a finite number > 0, got {tau!r}")
    if len(logits.shape) == 0 or logits.shape[-1] == 0:
        raise ValueError(f"logits need a non-empty category axis (the last), got {logits.shape}")
    if _is_torch(logits):
        import torch

        bad = bool(torch.isnan(logits).any())
    else:
        import mlx.core as mx

        bad = bool(mx.any(mx.isnan(logits)).item())
    if bad:
        raise ValueError("logits contain NaN")


def gumbel_noise(like):
    """Standard Gumbel noise shaped like `like`, from the backend's seeded generator.

    For torch this is the draw torch.nn.functional.gumbel_softmax makes, -log(Exp(1)), so the same
    seed gives the same noise.
    """
    if _is_torch(like):
        import torch

        return -torch.empty_like(like).exponential_().log()
    import mlx.core as mx

    return mx.random.gumbel(like.shape)


def gumbel_softmax(logits, tau: float = 1.0, hard: bool = False, noise=None):
    """A relaxed sample (hard=True: straight-through one-hot). logits (..., C) -> (..., C)."""
    _check(logits, tau)
    g = gumbel_noise(logits) if noise is None else noise
    if tuple(g.shape) != tuple(logits.shape):
        raise ValueError(f"noise shape {tuple(g.shape)} differs from logits {tuple(logits.shape)}")
    if _is_torch(logits):
        import torch

        y = torch.softmax((logits + g) / tau, dim=-1)
        if not hard:
            return y
        one_hot = torch.zeros_like(y).scatter_(-1, y.argmax(dim=-1, keepdim=True), 1.0)
        return one_hot - y.detach() + y
    import mlx.core as mx

    y = mx.softmax((logits + g) / tau, axis=-1)
    if not hard:
        return y
    idx = mx.argmax(y, axis=-1, keepdims=True)
    one_hot = (mx.arange(y.shape[-1]) == idx).astype(y.dtype)
    return mx.stop_gradient(one_hot - y) + y


@dataclass(frozen=True)
class Temperature:
    """tau(step) = max(tau0 exp(-rate step), tau_min) (Jang et al. 2017); rate 0 is constant."""

    tau0: float = 1.0
    rate: float = 0.0
    tau_min: float = 0.5

    def __post_init__(self):
        if not (self.tau0 > 0 and self.tau_min > 0 and self.rate >= 0):
            raise ValueError(f"need tau0 > 0, tau_min > 0 and rate >= 0, got {self}")

    def __call__(self, step: int) -> float:
        if self.rate == 0:
            return self.tau0
        return max(self.tau0 * math.exp(-self.rate * step), self.tau_min)
