"""A VAE with K categorical latents of C classes (Jang, Gu & Poole 2017) for binarised digits."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from distinv.gumbel import gumbel_softmax

ESTIMATORS = ("st_gumbel", "gumbel", "reinforce")


@dataclass(frozen=True)
class CatVAEConfig:
    n_pixels: int = 64
    n_latents: int = 8  # K
    n_classes: int = 8  # C
    hidden: int = 256


class CategoricalVAE(nn.Module):
    """MLP encoder to K x C logits; MLP decoder from a one-hot or relaxed K x C code to pixels."""

    def __init__(self, cfg: CatVAEConfig):
        super().__init__()
        self.cfg = cfg
        k, c, h = cfg.n_latents, cfg.n_classes, cfg.hidden
        self.encoder = nn.Sequential(nn.Linear(cfg.n_pixels, h), nn.ReLU(), nn.Linear(h, k * c))
        self.decoder = nn.Sequential(nn.Linear(k * c, h), nn.ReLU(), nn.Linear(h, cfg.n_pixels))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, P) in {0, 1} -> logits (B, K, C)."""
        return self.encoder(x).view(len(x), self.cfg.n_latents, self.cfg.n_classes)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, K, C) -> pixel logits (B, P)."""
        return self.decoder(z.flatten(1))


def _recon_nll(model: CategoricalVAE, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(model.decode(z), x, reduction="none").sum(-1)


def _kl_uniform(logits: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || uniform prior), exact, summed over latents. (B, K, C) -> (B,)."""
    logq = torch.log_softmax(logits, -1)
    return (logq.exp() * logq).sum((-1, -2)) + logits.shape[1] * math.log(logits.shape[2])


def vae_loss(model: CategoricalVAE, x: torch.Tensor, estimator: str, tau: float = 1.0):
    """The training objective of one estimator: a negative ELBO (relaxed for `gumbel`). Scalar."""
    logits = model.encode(x)
    kl = _kl_uniform(logits)
    if estimator in ("st_gumbel", "gumbel"):
        z = gumbel_softmax(logits, tau, hard=estimator == "st_gumbel")
        return (_recon_nll(model, x, z) + kl).mean()
    if estimator == "reinforce":
        dist = torch.distributions.Categorical(logits=logits)
        idx = dist.sample()
        nll = _recon_nll(model, x, F.one_hot(idx, model.cfg.n_classes).float())
        baseline = (nll.sum() - nll) / max(len(nll) - 1, 1)  # leave-one-out
        score = (nll - baseline).detach() * dist.log_prob(idx).sum(-1)
        return (nll + score + kl).mean()
    raise ValueError(f"unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}")


@torch.no_grad()
def negative_elbo(model: CategoricalVAE, x: torch.Tensor, n_samples: int = 10) -> float:
    """The discrete model's negative ELBO in nats per image, with one-hot samples from q (no
    relaxation), averaged over n_samples draws: the same yardstick for every estimator."""
    logits = model.encode(x)
    dist = torch.distributions.Categorical(logits=logits)
    nll = torch.stack(
        [
            _recon_nll(model, x, F.one_hot(dist.sample(), model.cfg.n_classes).float())
            for _ in range(n_samples)
        ]
    ).mean(0)
    return (nll + _kl_uniform(logits)).mean().item()


@torch.no_grad()
def reconstruct(model: CategoricalVAE, x: torch.Tensor) -> torch.Tensor:
    """Pixel probabilities decoded from the most likely code. (B, P)."""
    idx = model.encode(x).argmax(-1)
    return torch.sigmoid(model.decode(F.one_hot(idx, model.cfg.n_classes).float()))


@torch.no_grad()
def sample_images(model: CategoricalVAE, n: int, gen: torch.Generator) -> torch.Tensor:
    """Pixel probabilities decoded from codes drawn from the uniform prior. (n, P)."""
    k, c = model.cfg.n_latents, model.cfg.n_classes
    idx = torch.randint(c, (n, k), generator=gen)
    return torch.sigmoid(model.decode(F.one_hot(idx, c).float()))
