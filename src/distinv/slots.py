"""Slot selection: a query must pick the memory slot whose key matches it; the loss sees only the
value of the slot it picked. The discrete choice is made by one of four estimators."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from distinv.gumbel import gumbel_softmax

ESTIMATORS = ("argmax", "softmax", "st_gumbel", "reinforce")


@dataclass(frozen=True)
class SlotTask:
    """Episodes of `n_slots` random (key, value) pairs and a noisy copy of one key as the query."""

    n_slots: int = 8
    key_dim: int = 16
    value_dim: int = 8
    noise: float = 0.3

    def batch(self, size: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
        """keys (B, S, K), values (B, S, V), query (B, K), target (B,) slot index."""
        keys = torch.randn(size, self.n_slots, self.key_dim, generator=gen) / self.key_dim**0.5
        values = torch.randn(size, self.n_slots, self.value_dim, generator=gen)
        target = torch.randint(self.n_slots, (size,), generator=gen)
        query = keys[torch.arange(size), target]
        query = query + self.noise * torch.randn(query.shape, generator=gen) / self.key_dim**0.5
        return {"keys": keys, "values": values, "query": query, "target": target}


class SlotSelector(nn.Module):
    """Scores slot i by (W q) . k_i; W starts small and random: its first choices are at chance."""

    def __init__(self, key_dim: int):
        super().__init__()
        self.W = nn.Parameter(0.01 * torch.randn(key_dim, key_dim))

    def forward(self, keys: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """keys (B, S, K), query (B, K) -> logits (B, S)."""
        return torch.einsum("bsk,bk->bs", keys, query @ self.W.T)


def slot_loss(model: SlotSelector, b: dict, estimator: str, tau: float = 1.0) -> torch.Tensor:
    """Mean squared error of the chosen value against the target slot's value."""
    logits = model(b["keys"], b["query"])
    rows = torch.arange(len(logits))
    want = b["values"][rows, b["target"]]
    if estimator == "argmax":  # an integer index: no gradient reaches the scores
        chosen = b["values"][rows, logits.argmax(dim=-1)]
        return ((chosen - want) ** 2).sum(-1).mean()
    if estimator == "reinforce":  # score function with a leave-one-out baseline
        dist = torch.distributions.Categorical(logits=logits)
        idx = dist.sample()
        err = ((b["values"][rows, idx] - want) ** 2).sum(-1)
        baseline = (err.sum() - err) / max(len(err) - 1, 1)
        return (err + (err - baseline).detach() * dist.log_prob(idx)).mean()
    if estimator == "softmax":
        weights = torch.softmax(logits, dim=-1)
    elif estimator == "st_gumbel":
        weights = gumbel_softmax(logits, tau, hard=True)
    elif estimator == "gumbel":
        weights = gumbel_softmax(logits, tau, hard=False)
    else:
        raise ValueError(f"unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}, gumbel")
    chosen = torch.einsum("bs,bsv->bv", weights, b["values"])
    return ((chosen - want) ** 2).sum(-1).mean()


def slot_accuracy(model: SlotSelector, b: dict) -> float:
    """Fraction of episodes whose highest-scoring slot is the target."""
    with torch.no_grad():
        return (model(b["keys"], b["query"]).argmax(-1) == b["target"]).float().mean().item()
