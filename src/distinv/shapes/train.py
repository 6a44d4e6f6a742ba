"""Training the shapes chapter's networks, and the three generators they make.

Every function takes a seed that fixes its data order, noise and initialisation. Training runs a
fixed number of steps (not a time budget), on one thread per process.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from distinv.progress import progress
from distinv.shapes import models, rules, world

X0_CLIP = 12.0  # the predicted clean latent is clipped to this many standard deviations


def _batches(n: int, batch: int, steps: int, gen: torch.Generator):
    """Indices for each step: shuffled epochs over n items."""
    order = torch.empty(0, dtype=torch.long)
    for _ in range(steps):
        if len(order) < batch:
            order = torch.cat([order, torch.randperm(n, generator=gen)])
        idx, order = order[:batch], order[batch:]
        yield idx


def _fit(params, loss_of, steps: int, lr: float, desc: str, on_step=None) -> list[float]:
    """Adam with a half-cosine decay to a tenth; returns the loss per step."""
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * min(s, steps) / max(1, steps)))
    )
    losses = []
    for step in progress(range(1, steps + 1), desc=desc):
        loss = loss_of(step)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{desc}: loss became {loss.item()} at step {step}")
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if on_step is not None:
            on_step(step)
    return losses


def uniform_cells(n: int, seed: int) -> np.ndarray:
    """n factor rows drawn uniformly over every cell (fully crossed)."""
    return rules.CELLS[np.random.default_rng(seed).integers(0, len(rules.CELLS), n)]


def train_oracle(n: int, steps: int, seed: int, batch: int = 128, lr: float = 2e-3):
    """The attribute oracle, on n fully crossed renders (its own seed stream)."""
    torch.manual_seed(seed)
    Fs = uniform_cells(n, seed)
    X = models.to_tensor(world.render(Fs, seed + 1))
    Y = torch.as_tensor(Fs)
    net = models.Oracle()
    gen = torch.Generator().manual_seed(seed)
    batches = _batches(n, batch, steps, gen)

    def loss_of(_):
        idx = next(batches)
        out = net(X[idx])
        return sum(F.cross_entropy(o, Y[idx, j]) for j, o in enumerate(out))

    _fit(net.parameters(), loss_of, steps, lr, "oracle")
    return net.eval()


@torch.no_grad()
def read(oracle, images, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The oracle's reading of images: factors (N, 5) and its features (N, 128)."""
    facs, feats = [], []
    for s in range(0, len(images), batch):
        x = models.to_tensor(images[s : s + batch])
        h = oracle.features(x)
        facs.append(torch.stack([hd(h).argmax(1) for hd in oracle.heads], 1).numpy())
        feats.append(h.numpy())
    if not facs:
        return np.zeros((0, 5), int), np.zeros((0, 128), np.float32)
    return np.concatenate(facs), np.concatenate(feats)


def train_autoencoder(images, steps: int, seed: int, batch: int = 128, lr: float = 2e-3):
    torch.manual_seed(seed)
    X = models.to_tensor(images)
    net = models.AutoEncoder()
    batches = _batches(len(X), batch, steps, torch.Generator().manual_seed(seed))

    def loss_of(_):
        x = X[next(batches)]
        return F.mse_loss(net(x), x)

    losses = _fit(net.parameters(), loss_of, steps, lr, "autoencoder")
    return net.eval(), losses


@dataclass
class Diffusion:
    """Latent diffusion: the autoencoder, a latent scale, the denoiser, and snapshots of it."""

    ae: models.AutoEncoder
    mean: torch.Tensor
    std: torch.Tensor
    denoiser: models.Denoiser
    snapshots: dict = field(default_factory=dict)  # step -> denoiser state

    @torch.no_grad()
    def generate(self, factors, seed: int = 0, guidance: float = 1.0, steps: int = 25,
                 batch: int = 1024, denoiser=None) -> np.ndarray:  # fmt: skip
        """Images for factor rows (N, 5): DDIM (eta 0) from seeded noise, with classifier-free
        guidance of strength `guidance` (1: conditional only)."""
        net = denoiser or self.denoiser
        Fs = torch.as_tensor(world.check(factors))
        gen = torch.Generator().manual_seed(seed)
        out = []
        for s in range(0, len(Fs), batch):
            f = Fs[s : s + batch]
            z = torch.randn(len(f), models.LATENT, 8, 8, generator=gen)
            null = models.FactorEmbedding.null(len(f))
            ts = torch.linspace(1, 0, steps + 1)
            for t, t_next in zip(ts[:-1], ts[1:], strict=True):
                tt = torch.full((len(f),), float(t))
                eps = net(z, tt, f)
                if guidance != 1.0:
                    free = net(z, tt, null)
                    eps = free + guidance * (eps - free)
                a, a_next = models.alpha_bar(t), models.alpha_bar(t_next)
                x0 = ((z - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-X0_CLIP, X0_CLIP)
                z = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps
            out.append(self.ae.decoder(z * self.std + self.mean))
        return models.to_images(torch.cat(out)) if out else np.zeros((0, 32, 32, 3), np.float32)


def train_diffusion(
    ae, images, factors, steps: int, seed: int, batch: int = 128, lr: float = 2e-3,
    p_uncond: float = 0.1, snapshots: int = 0,
) -> Diffusion:  # fmt: skip
    """The denoiser on the autoencoder's latents of the training images, conditioned on their
    factors; each factor's embedding is replaced by its 'unknown' with probability p_uncond
    (all together), for guidance. `snapshots` copies of the denoiser along training."""
    torch.manual_seed(seed)
    with torch.no_grad():
        Z = torch.cat([ae.encoder(models.to_tensor(images[s : s + 1024]))
                       for s in range(0, len(images), 1024)])  # fmt: skip
    mean, std = Z.mean(), Z.std()
    Z = (Z - mean) / std
    Y = torch.as_tensor(world.check(factors))
    net = models.Denoiser()
    gen = torch.Generator().manual_seed(seed)
    batches = _batches(len(Z), batch, steps, gen)
    null = models.FactorEmbedding.null(batch)
    keep = (
        {int(round(steps * (i + 1) / snapshots)) for i in range(snapshots)} if snapshots else set()
    )
    snaps = {}

    def loss_of(_):
        idx = next(batches)
        z0, f = Z[idx], Y[idx]
        drop = torch.rand(len(idx), generator=gen) < p_uncond
        f = torch.where(drop[:, None], null[: len(idx)], f)
        t = torch.rand(len(idx), generator=gen)
        noise = torch.randn(z0.shape, generator=gen)
        a = models.alpha_bar(t)[:, None, None, None]
        zt = a.sqrt() * z0 + (1 - a).sqrt() * noise
        return F.mse_loss(net(zt, t, f), noise)

    def on_step(step):
        if step in keep:
            snaps[step] = copy.deepcopy(net.state_dict())

    _fit(net.parameters(), loss_of, steps, lr, "denoiser", on_step)
    return Diffusion(ae, mean, std, net.eval(), snaps)


@dataclass
class ConditionalVAE:
    net: models.CVAE

    @torch.no_grad()
    def generate(self, factors, seed: int = 0, temperature: float = 1.0, batch: int = 1024):
        """Images for factor rows: the decoder on prior samples scaled by `temperature`."""
        Fs = torch.as_tensor(world.check(factors))
        gen = torch.Generator().manual_seed(seed)
        out = [self.net.decode(temperature * torch.randn(len(f), self.net.z, generator=gen), f)
               for f in Fs.split(batch)]  # fmt: skip
        return models.to_images(torch.cat(out)) if out else np.zeros((0, 32, 32, 3), np.float32)


def train_cvae(images, factors, steps: int, seed: int, beta: float = 1.0, batch: int = 128,
               lr: float = 2e-3) -> ConditionalVAE:  # fmt: skip
    """The conditional VAE: summed squared error per image plus beta times the KL term."""
    torch.manual_seed(seed)
    X = models.to_tensor(images)
    Y = torch.as_tensor(world.check(factors))
    net = models.CVAE()
    gen = torch.Generator().manual_seed(seed)
    batches = _batches(len(X), batch, steps, gen)

    def loss_of(_):
        idx = next(batches)
        x, f = X[idx], Y[idx]
        mu, logvar = net.encode(x, f)
        z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=gen)
        rec = ((net.decode(z, f) - x) ** 2).sum((1, 2, 3)).mean()
        kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1).mean()
        return rec + beta * kl

    _fit(net.parameters(), loss_of, steps, lr, "conditional VAE")
    return ConditionalVAE(net.eval())


@dataclass
class Nearest:
    """The floor: for each request, a training image whose factors are nearest (fewest of shape,
    hue and scale different, then the nearest position); it can only copy."""

    images: np.ndarray
    factors: np.ndarray

    def generate(self, factors, seed: int = 0) -> np.ndarray:
        Fs = world.check(factors)
        rng = np.random.default_rng(seed)
        out = np.empty((len(Fs), *self.images.shape[1:]), np.float32)
        T = self.factors
        for i, f in enumerate(Fs):
            cost = 100 * (T[:, :3] != f[:3]).sum(1) + np.abs(T[:, 3:] - f[3:]).sum(1)
            best = np.flatnonzero(cost == cost.min())
            out[i] = self.images[rng.choice(best)]
        return out


def seconds(fn, *args, **kwargs):
    """(result, wall seconds) of one call."""
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t
