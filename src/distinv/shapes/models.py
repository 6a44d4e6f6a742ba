"""The shapes chapter's networks (torch): the attribute oracle, the autoencoder and the latent
denoiser of the generator, and the conditional-VAE baseline.

Structure given to the generator, stated here once: convolutions (so a feature means the same at
every place), two coordinate channels, and conditioning by one embedding per factor value, summed,
so that a combination never seen can still be asked for; an autoencoder built local (a latent
cell sees a 9x9-pixel window, a pixel is drawn from 4x4 latent cells); and, in
`train.Diffusion.generate`, the star sampler's hand-written rule for adding the changes each
factor makes to the split's base combination. Nothing tells it what a shape, a hue or a scale
looks like.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from distinv.shapes import world

LATENT = 4  # channels of the autoencoder's 8x8 latent


def to_tensor(images) -> torch.Tensor:
    """(N, 32, 32, 3) float array in [0, 1] -> (N, 3, 32, 32) tensor."""
    return torch.as_tensor(images, dtype=torch.float32).permute(0, 3, 1, 2).contiguous()


def to_images(x: torch.Tensor):
    return x.clamp(0, 1).permute(0, 2, 3, 1).contiguous().numpy()


def with_coords(*parts: torch.Tensor) -> torch.Tensor:
    """The channels of parts, with two holding each pixel's x and y (`coords`) after the first,
    as one (N, C, H, W) tensor laid out channels-last in memory, which cut the CPU's training
    time on the development machine by about a tenth (oracle, denoiser) and by a fifth to a
    quarter (autoencoder, conditional VAE); the convolutions' results agree with the default
    layout's to float rounding."""
    x, rest = parts[0], parts[1:]
    out = torch.cat([x, coords(len(x), x.shape[-1]), *rest], 1)
    return out.contiguous(memory_format=torch.channels_last)


def coords(n: int, size: int) -> torch.Tensor:
    """Two channels holding each pixel's x and y in [-1, 1]: (n, 2, size, size)."""
    g = torch.linspace(-1, 1, size)
    yy, xx = torch.meshgrid(g, g, indexing="ij")
    return torch.stack([xx, yy]).expand(n, 2, size, size)


class Oracle(nn.Module):
    """Reads the five factors of an image; trained on fully crossed renders, never on generated
    images, and never used to train or steer a generator."""

    def __init__(self, width: int = 32):
        super().__init__()
        w = width
        self.body = nn.Sequential(
            nn.Conv2d(5, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(4 * w, 4 * w, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(4 * w * 16, 128), nn.ReLU(),
        )  # fmt: skip
        self.heads = nn.ModuleList(nn.Linear(128, c) for c in world.CARD)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(with_coords(x))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        h = self.features(x)
        return [head(h) for head in self.heads]


class Decoder(nn.Module):
    """(N, c, 8, 8) -> (N, 3, 32, 32). local=False (the conditional VAE's): two 3x3 convolutions
    on the 8x8 grid first, so each pixel draws on the whole latent. local=True (the
    autoencoder's): a 1x1 convolution first, so each pixel is drawn from the 4x4 latent cells
    around it."""

    def __init__(self, c: int, width: int = 32, local: bool = False):
        super().__init__()
        w = width
        grid = [nn.Conv2d(c + 2, 2 * w, 1), nn.SiLU()] if local else [
            nn.Conv2d(c + 2, 2 * w, 3, padding=1), nn.SiLU(),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1), nn.SiLU()]  # fmt: skip
        self.net = nn.Sequential(
            *grid,
            nn.ConvTranspose2d(2 * w, w, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(w, w // 2, 4, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(w // 2, 3, 3, padding=1),
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # A linear output (clamped to [0, 1] only when images are made): a sigmoid here can
        # saturate early in training and stay dark.
        return self.net(with_coords(z))


class Encoder(nn.Module):
    """(N, 3, 32, 32) -> (N, out, 8, 8). Each latent cell sees a 9x9-pixel window when local,
    17x17 otherwise (a 3x3 last layer, and twice the channels before it)."""

    def __init__(self, out: int, width: int = 32, extra: int = 0, local: bool = False):
        super().__init__()
        w = width
        c, k = (w, 1) if local else (2 * w, 3)
        self.net = nn.Sequential(
            nn.Conv2d(5 + extra, w // 2, 3, padding=1), nn.SiLU(),
            nn.Conv2d(w // 2, w, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(w, c, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(c, out, k, padding=k // 2),
        )  # fmt: skip

    def forward(self, x: torch.Tensor, extra: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(with_coords(x) if extra is None else with_coords(x, extra))


class AutoEncoder(nn.Module):
    """The generator's autoencoder: local by default (`distinv.shapes.design` compares it with
    the conditional VAE's wider encoder and decoder on combinations left out of training)."""

    def __init__(self, width: int = 32, local: bool = True):
        super().__init__()
        self.encoder = Encoder(LATENT, width, local=local)
        self.decoder = Decoder(LATENT, width, local=local)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class FactorEmbedding(nn.Module):
    """One embedding per value of each factor, summed; index card(f) is the factor's 'unknown'
    (dropped during training for classifier-free guidance)."""

    def __init__(self, dim: int):
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(c + 1, dim) for c in world.CARD)

    def forward(self, factors: torch.Tensor) -> torch.Tensor:
        return sum(t(factors[:, j]) for j, t in enumerate(self.tables))

    @staticmethod
    def null(n: int) -> torch.Tensor:
        return torch.tensor(world.CARD).expand(n, len(world.CARD)).clone()


class FactorMaps(nn.Module):
    """One learned 8x8 map (MAP_CHANNELS deep) per value of each factor, summed: the same
    per-factor conditioning, laid out in space (a position's map can learn where it is)."""

    def __init__(self, channels: int = 8, size: int = 8):
        super().__init__()
        self.shape = (channels, size, size)
        self.tables = nn.ModuleList(nn.Embedding(c + 1, channels * size * size) for c in world.CARD)
        for t in self.tables:
            nn.init.normal_(t.weight, std=0.1)

    def forward(self, factors: torch.Tensor) -> torch.Tensor:
        m = sum(t(factors[:, j]) for j, t in enumerate(self.tables))
        return m.view(len(factors), *self.shape)


class Block(nn.Module):
    def __init__(self, w: int, cond: int):
        super().__init__()
        self.n1, self.n2 = nn.GroupNorm(8, w), nn.GroupNorm(8, w)
        self.c1, self.c2 = nn.Conv2d(w, w, 3, padding=1), nn.Conv2d(w, w, 3, padding=1)
        self.film = nn.Linear(cond, 2 * w)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(c)[:, :, None, None].chunk(2, 1)
        r = self.c1(F.silu(self.n1(h)))
        r = self.c2(F.silu(self.n2(r) * (1 + scale) + shift))
        return h + r


class Denoiser(nn.Module):
    """Predicts the noise in a noised 8x8 latent, given the time and the factors (FiLM)."""

    def __init__(self, width: int = 48, blocks: int = 3, cond: int = 128):
        super().__init__()
        self.embed = FactorEmbedding(cond)
        self.maps = FactorMaps()
        self.time = nn.Sequential(nn.Linear(32, cond), nn.SiLU(), nn.Linear(cond, cond))
        self.inp = nn.Conv2d(LATENT + 2 + self.maps.shape[0], width, 3, padding=1)
        self.blocks = nn.ModuleList(Block(width, cond) for _ in range(blocks))
        self.out = nn.Sequential(
            nn.GroupNorm(8, width), nn.SiLU(), nn.Conv2d(width, LATENT, 3, padding=1)
        )
        self.cond_act = nn.SiLU()

    def forward(self, z: torch.Tensor, t: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
        freqs = torch.exp(torch.arange(16) * (-math.log(1000.0) / 16))
        tt = t[:, None] * 1000 * freqs[None]
        c = self.cond_act(self.time(torch.cat([tt.sin(), tt.cos()], 1)) + self.embed(factors))
        h = self.inp(with_coords(z, self.maps(factors)))
        for b in self.blocks:
            h = b(h, c)
        return self.out(h)


def alpha_bar(t: torch.Tensor) -> torch.Tensor:
    """Cosine schedule (Nichol and Dhariwal 2021): the signal fraction at time t in [0, 1]."""
    return (torch.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2).clamp(min=1e-4)


def log_snr(t: torch.Tensor) -> torch.Tensor:
    """log(signal / noise standard deviation) at time t: 0.5 log(a / (1 - a)), a = alpha_bar(t)."""
    a = alpha_bar(t)
    return 0.5 * (a.log() - (1 - a).log())


def time_of(lam: torch.Tensor) -> torch.Tensor:
    """The time at which `log_snr` is lam (the cosine schedule inverted; above about t = 0.994,
    where alpha_bar is clamped, every time has the same log-SNR, and the smallest is returned)."""
    return (torch.atan(torch.exp(-lam)) / (math.pi / 2) * 1.008 - 0.008).clamp(0, 1)


def one_hot(factors: torch.Tensor) -> torch.Tensor:
    """Concatenated one-hot codes of each factor: (N, sum(CARD))."""
    return torch.cat([F.one_hot(factors[:, j], c).float() for j, c in enumerate(world.CARD)], 1)


class CVAE(nn.Module):
    """The baseline: a conditional VAE whose encoder and decoder both see the concatenated one-hot
    codes of each factor; its decoder (the wide design, on an 8x8 grid) also gets the
    same learned per-value maps as the denoiser."""

    def __init__(self, width: int = 32, z: int = 8):
        super().__init__()
        k = sum(world.CARD)
        self.z = z
        self.maps = FactorMaps()
        self.encoder = Encoder(2 * z, width, extra=k)
        self.decoder = Decoder(z + k + self.maps.shape[0], width)

    def encode(self, x: torch.Tensor, factors: torch.Tensor):
        code = one_hot(factors)[:, :, None, None].expand(-1, -1, *x.shape[-2:])
        mu, logvar = self.encoder(x, code).mean((2, 3)).chunk(2, 1)
        return mu, logvar.clamp(-8, 8)

    def decode(self, z: torch.Tensor, factors: torch.Tensor) -> torch.Tensor:
        h = torch.cat([z, one_hot(factors)], 1)[:, :, None, None].expand(-1, -1, 8, 8)
        return self.decoder(torch.cat([h, self.maps(factors)], 1))
