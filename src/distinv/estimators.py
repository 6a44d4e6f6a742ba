"""Estimators of d/dtheta E_{z ~ Cat(softmax theta)} f(z), and its exact value by enumeration."""

from __future__ import annotations

from collections.abc import Callable

import torch

from distinv.gumbel import gumbel_softmax

Objective = Callable[[torch.Tensor], torch.Tensor]  # (n, C) one-hot or relaxed -> (n,)


def exact_gradient(theta: torch.Tensor, f: Objective) -> torch.Tensor:
    """The true gradient, summing over all C categories. theta (C,) -> (C,)."""
    theta = theta.detach().clone().requires_grad_(True)
    p = torch.softmax(theta, dim=-1)
    value = (p * f(torch.eye(len(theta)))).sum()
    (grad,) = torch.autograd.grad(value, theta)
    return grad


def sample_gradients(
    theta: torch.Tensor, f: Objective, estimator: str, n: int, tau: float = 1.0
) -> torch.Tensor:
    """n independent single-sample estimates of the gradient. theta (C,) -> (n, C).

    estimator: `st_gumbel` (one-hot forward, relaxed backward), `gumbel` (relaxed both ways), or
    `reinforce` (score function, with the exact mean of f as its constant baseline).
    """
    rows = theta.detach().expand(n, -1).clone().requires_grad_(True)  # one leaf per sample
    if estimator in ("st_gumbel", "gumbel"):
        values = f(gumbel_softmax(rows, tau, hard=estimator == "st_gumbel"))
    elif estimator == "reinforce":
        dist = torch.distributions.Categorical(logits=rows)
        z = dist.sample()
        with torch.no_grad():
            fz = f(torch.nn.functional.one_hot(z, len(theta)).float())
            baseline = (torch.softmax(theta, -1) * f(torch.eye(len(theta)))).sum()
        values = (fz - baseline) * dist.log_prob(z)
    else:
        raise ValueError(f"unknown estimator {estimator!r}; known: st_gumbel, gumbel, reinforce")
    (grads,) = torch.autograd.grad(values.sum(), rows)
    return grads


def bias_variance(theta: torch.Tensor, f: Objective, estimator: str, n: int, tau: float = 1.0):
    """(|E[g] - true gradient|, E|g - E[g]|^2) of an estimator, from n samples."""
    g = sample_gradients(theta, f, estimator, n, tau)
    mean = g.mean(0)
    bias = (mean - exact_gradient(theta, f)).norm().item()
    variance = ((g - mean) ** 2).sum(-1).mean().item()
    return bias, variance
