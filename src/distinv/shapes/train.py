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
CHUNK = 256  # images per forward pass when reading, encoding or sampling (1024, up to five times
# as many rows through the denoiser with the star sampler's terms, sampled 1.6 times slower on the
# development machine)


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


def train_oracle(n: int, steps: int, seed: int, batch: int = 128, lr: float = 2e-3,
                 width: int = 32, desc: str = "oracle"):  # fmt: skip
    """The attribute oracle, on n fully crossed renders (its own seed stream); `width` its
    convolutions' (chapter 10 trains its shapes critic's reader here at a smaller one)."""
    torch.manual_seed(seed)
    Fs = uniform_cells(n, seed)
    X = models.to_tensor(world.render(Fs, seed + 1))
    Y = torch.as_tensor(Fs)
    net = models.Oracle(width)
    gen = torch.Generator().manual_seed(seed)
    batches = _batches(n, batch, steps, gen)

    def loss_of(_):
        idx = next(batches)
        out = net(X[idx])
        return sum(F.cross_entropy(o, Y[idx, j]) for j, o in enumerate(out))

    _fit(net.parameters(), loss_of, steps, lr, desc)
    return net.eval()


@torch.no_grad()
def read(oracle, images, batch: int = CHUNK) -> tuple[np.ndarray, np.ndarray]:
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


def train_autoencoder(images, steps: int, seed: int, batch: int = 128, lr: float = 2e-3,
                      local: bool = True, latent_noise: float = 0.0):  # fmt: skip
    """The autoencoder, by squared error; with latent_noise > 0, Gaussian noise of that many
    standard deviations of the batch's latent is added before decoding (a decoder that tolerates
    the small errors a sampled latent has)."""
    if not latent_noise >= 0:
        raise ValueError(f"latent_noise must be at least 0, got {latent_noise}")
    torch.manual_seed(seed)
    X = models.to_tensor(images)
    net = models.AutoEncoder(local=local)
    gen = torch.Generator().manual_seed(seed)
    batches = _batches(len(X), batch, steps, gen)

    def loss_of(_):
        x = X[next(batches)]
        z = net.encoder(x)
        if latent_noise:
            z = z + latent_noise * z.detach().std() * torch.randn(z.shape, generator=gen)
        return F.mse_loss(net.decoder(z), x)

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
    def generate(self, factors, seed: int = 0, guidance: float = 1.0, steps: int = 10,
                 batch: int = CHUNK, denoiser=None, sampler: str = "star",
                 base=rules.BASE_COMBO, solver: str = "dpm2m",
                 spacing: str = "log_snr"):  # fmt: skip
        """Images for factor rows (N, 5): the probability-flow ODE solved from seeded noise in
        `steps` steps, with classifier-free guidance of strength `guidance` (1: conditional only)
        around the sampler's estimate.

        solver="dpm2m" is DPM-Solver++(2M) (Lu et al. 2022; one network evaluation per step, the
        previous step's clean-latent estimate for a second-order update); solver="ddim" is DDIM
        with eta 0 (its first-order form where the clean-latent estimate is not clipped).
        spacing="log_snr" places the steps uniformly in log signal-to-noise ratio
        (`models.log_snr`), spacing="time" uniformly in t, where the cosine schedule's noisiest
        stretch gets few steps.

        sampler="joint" asks the denoiser for all five factors at once. sampler="star" composes
        the estimate from the training split's own combinations: the estimate for the base
        combination plus, for each of shape, hue and scale that differs from it, the change that
        factor's value makes to the base (the estimate at the base with that one factor set,
        minus the base estimate), all at the requested position. On a training combination the
        two are the same estimate; for a combination never seen, "star" never asks about one.
        `base` is the split's base (shape, hue, scale): the chapter's, unless the denoiser was
        trained on a split around another (`distinv.shapes.design.sampler_check`)."""
        check_choice("sampler", sampler, SAMPLERS)
        check_choice("solver", solver, SOLVERS)
        check_choice("spacing", spacing, SPACINGS)
        if isinstance(steps, bool) or not (isinstance(steps, (int, np.integer)) and steps >= 1):
            raise ValueError(f"steps must be a positive integer; got {steps!r}")
        ts = _times(steps, spacing)
        _base(base)  # a bad base fails here, whichever the sampler
        net = denoiser or self.denoiser
        Fs = torch.as_tensor(world.check(factors))
        gen = torch.Generator().manual_seed(seed)
        noise = torch.randn(len(Fs), models.LATENT, 8, 8, generator=gen)  # whatever the batch
        out = []
        for s in range(0, len(Fs), batch):
            f, z = Fs[s : s + batch], noise[s : s + batch]
            terms = [(r, c, guidance * w) for r, c, w in _terms(f, sampler, base)]
            if guidance != 1.0:
                every = torch.arange(len(f))
                terms.insert(0, (every, models.FactorEmbedding.null(len(f)),
                                 torch.full((len(f),), 1.0 - guidance)))  # fmt: skip
            rows = torch.cat([r for r, _, _ in terms])
            conds = torch.cat([c for _, c, _ in terms])
            weights = torch.cat([w for _, _, w in terms])[:, None, None, None]

            def eps_of(z, t, rows=rows, conds=conds, weights=weights):
                each = net(z[rows], torch.full((len(rows),), float(t)), conds)
                return torch.zeros_like(z).index_add_(0, rows, weights * each)

            z = solve(eps_of, z, ts, solver)
            out.append(self.ae.decoder(z * self.std + self.mean))
        return models.to_images(torch.cat(out)) if out else np.zeros((0, 32, 32, 3), np.float32)


SAMPLERS = ("joint", "star")
SOLVERS = {"dpm2m": "DPM-Solver++(2M) (Lu et al. 2022)", "ddim": "DDIM"}  # name -> what it is
SPACINGS = {"log_snr": "log signal-to-noise ratio", "time": "time"}  # steps uniform in ...


def check_choice(name: str, value, allowed) -> None:
    """A one-line ValueError unless value is one of `allowed`."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def solve(eps_of, z: torch.Tensor, ts: torch.Tensor, solver: str = "dpm2m") -> torch.Tensor:
    """The probability-flow ODE integrated from latents z at time ts[0] through ts to ts[-1];
    eps_of(z, t) is the noise estimate. The clean-latent estimate of each step is clipped to
    X0_CLIP. solver: "dpm2m" (DPM-Solver++(2M)) or "ddim" (its first-order form where nothing
    is clipped)."""
    check_choice("solver", solver, SOLVERS)
    x0_before = h_before = None
    for t, t_next in zip(ts[:-1], ts[1:], strict=True):
        eps = eps_of(z, t)
        a, a_next = models.alpha_bar(t), models.alpha_bar(t_next)
        x0 = ((z - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-X0_CLIP, X0_CLIP)
        if solver == "ddim":
            z = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps
            continue
        h = models.log_snr(t_next) - models.log_snr(t)
        d = x0  # first order on the first step, then the two-step (2M) estimate
        if x0_before is not None:
            r = h_before / h
            d = (1 + 0.5 / r) * x0 - 0.5 / r * x0_before
        z = ((1 - a_next) / (1 - a)).sqrt() * z - a_next.sqrt() * torch.expm1(-h) * d
        x0_before, h_before = x0, h
    return z


def _times(steps: int, spacing: str) -> torch.Tensor:
    """steps + 1 times from 1 (pure noise) to 0, uniform in t or in log-SNR."""
    if spacing == "time":
        return torch.linspace(1, 0, steps + 1)
    one, zero = torch.tensor(1.0), torch.tensor(0.0)
    ts = models.time_of(torch.linspace(float(models.log_snr(one)), float(models.log_snr(zero)),
                                       steps + 1))  # fmt: skip
    ts[0], ts[-1] = 1.0, 0.0  # the ends exactly (t = 1 has the clamped start's log-SNR)
    return ts


def _base(base) -> torch.Tensor:
    """A split's base (shape, hue, scale) as a checked index tensor, or a one-line ValueError."""
    try:
        return torch.as_tensor(world.check(np.array([[*base, 0, 0]]))[0, :3])
    except (ValueError, TypeError) as e:
        raise ValueError(f"base must be (shape, hue, scale) indices; got {base!r}: {e}") from None


def _terms(f: torch.Tensor, sampler: str, base_combo=rules.BASE_COMBO):
    """A sampler's noise estimate for rows f as a weighted sum of the denoiser's estimates: terms
    (rows, their conditions, weights), each covering the rows it concerns."""
    if sampler == "joint":
        return [(torch.arange(len(f)), f, torch.ones(len(f)))]
    base = f.clone()
    base[:, :3] = _base(base_combo)
    changed = f[:, :3] != base[:, :3]
    d = changed.sum(1)
    r = torch.nonzero(d != 1).squeeze(1)  # at distance 1 the base's weight 1 - d is zero
    terms = [(r, base[r], (1 - d[r]).float())]
    for j in range(3):
        r = torch.nonzero(changed[:, j]).squeeze(1)
        c = base[r].clone()
        c[:, j] = f[r, j]
        terms.append((r, c, torch.ones(len(r))))
    return terms


def train_diffusion(
    ae, images, factors, steps: int, seed: int, batch: int = 128, lr: float = 2e-3,
    p_uncond: float = 0.1, snapshots: int = 0,
) -> Diffusion:  # fmt: skip
    """The denoiser on the autoencoder's latents of the training images, conditioned on their
    factors; each factor's embedding is replaced by its 'unknown' with probability p_uncond
    (all together), for guidance. `snapshots` copies of the denoiser along training."""
    torch.manual_seed(seed)
    with torch.no_grad():
        Z = torch.cat([ae.encoder(models.to_tensor(images[s : s + CHUNK]))
                       for s in range(0, len(images), CHUNK)])  # fmt: skip
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
    def generate(self, factors, seed: int = 0, temperature: float = 1.0, batch: int = CHUNK):
        """Images for factor rows: the decoder on prior samples scaled by `temperature`."""
        Fs = torch.as_tensor(world.check(factors))
        noise = torch.randn(len(Fs), self.net.z, generator=torch.Generator().manual_seed(seed))
        out = [self.net.decode(temperature * e, f)
               for f, e in zip(Fs.split(batch), noise.split(batch), strict=True)]  # fmt: skip
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
