"""How the generator was chosen, rerunnable: leave training combinations out (the autoencoder),
and a development split around another base combination (the sampler).

The held-out combinations of the chapter may not choose a design, and the training split cannot
hold any of its own combinations out without losing a value altogether (every hue but red is seen
on one combination only). So the check is harsher than the test: an autoencoder is trained on the
training split without LEFT_OUT (one combination per factor, whose value is then never seen), and
the oracle reads its reconstructions of true renders of those combinations, whose hue, shape or
scale it never saw. The settings are the chapter's defaults (12,000 training renders, 800 steps,
its latent noise; an oracle on N_ORACLE renders).

The sampler check (--sampler) builds a development split of the same kind as the chapter's around
DEV_BASE, under the coupling rule alone (a hue or shape rule would remove some of its
distance-1 combinations), trains the chapter's generator recipe on it (guidance fixed at 2, the
strength the chapter's validation chose at seeds 0 and 1) and reads the star and joint samplers'
images of the split's own distance-2 and distance-3 combinations, from the same noise. It shares
no model, image or number with the chapter: its training combinations happen to be 12 of the
chapter's held-out ones, and its held-out ones include the chapter's training combinations.

Usage: python -m distinv.shapes.design [--seed 0] [--steps 800] [--oracle-steps 1000]
       [--latent-noise 0.1] [--sampler]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from distinv import report
from distinv.shapes import experiment as ex
from distinv.shapes import models, rules, world
from distinv.shapes import train as st

LATENT_NOISE = 0.1  # the chapter's ae_noise
N_ORACLE = 20000  # the chapter's n_oracle: the oracle's fully crossed training renders
LEFT_OUT = (
    (0, 4, 1),
    (3, 0, 1),
    (0, 0, 3),
)  # blue medium square, red medium heart, red huge square


DEV_BASE = (1, 2, 2)  # the development split's base: a green large ellipse
DEV_RULES = "size grows with x"


def _name(c) -> str:
    return f"{world.HUES[c[1]]} {world.SCALES[c[2]]} {world.SHAPES[c[0]]}"


@torch.no_grad()
def reconstructed(ae, oracle, F: np.ndarray, seed: int) -> float:
    """Product accuracy of the oracle's reading of ae's reconstructions of true renders of F."""
    out = models.to_images(ae(models.to_tensor(world.render(F, seed))))
    return ex.accuracy(st.read(oracle, out)[0], F)[1]


def leave_out(oracle, local: bool, seed: int, n: int = 12000, steps: int = 800,
              per_combo: int = 100, **kw) -> dict:  # fmt: skip
    """{'validation': accuracy on kept combinations, <left-out combination>: accuracy}."""
    dist = rules.distribution(rules.BASE_RULES, max_distance=1)
    X, F = rules.sample(dist, n, seed)
    left = np.array(LEFT_OUT)
    kept = ~(F[:, None, :3] == left[None]).all(2).any(1)
    ae, _ = st.train_autoencoder(X[kept], steps, seed + 1, local=local, **kw)
    Fv = dist.sample(4 * per_combo, np.random.default_rng(seed + 2))
    Fv = Fv[~(Fv[:, None, :3] == left[None]).all(2).any(1)]
    out = {"validation": reconstructed(ae, oracle, Fv, seed + 3)}
    rng = np.random.default_rng(seed + 4)
    for c in LEFT_OUT:
        Fc = np.concatenate([np.tile(c, (per_combo, 1)),
                             rng.integers(0, world.GRID, (per_combo, 2))], 1)  # fmt: skip
        out[_name(c)] = reconstructed(ae, oracle, Fc, seed + 5)
    return out


def sampler_check(oracle, seed: int, n: int = 12000, ae_steps: int = 800, steps: int = 3000,
                  per_combo: int = 10, guidance: float = 2.0, sample_steps: int = 10,
                  latent_noise: float = LATENT_NOISE) -> dict:  # fmt: skip
    """Product accuracy on the development split: {'validation', 'star d2', 'joint d2',
    'star d3', 'joint d3'}, with the chapter's recipe (its learning rates and batch) and its
    default sampler (`Diffusion.generate`'s solver and spacing; the star sampler was chosen when
    both were solved by DDIM in 50 steps uniform in time). 'validation' is a sanity reading of
    4 x per_combo fresh requests of the split's own training distribution."""
    dist = rules.distribution(DEV_RULES, max_distance=1, base=DEV_BASE)
    X, F = rules.sample(dist, n, seed)
    ae, _ = st.train_autoencoder(X, ae_steps, seed + 1, latent_noise=latent_noise)
    diffusion = st.train_diffusion(ae, X, F, steps, seed + 2, lr=0.003)
    Fv = dist.sample(4 * per_combo, np.random.default_rng(seed + 3))
    out = {}
    for name, R in [("validation", Fv)] + [
        (f"d{d}", ex.requests(d, per_combo, seed + 3 + d, DEV_BASE)) for d in (2, 3)
    ]:
        for sampler in ("star", "joint") if name != "validation" else ("star",):
            # the same seed for both samplers: each request starts from the same noise
            images = diffusion.generate(R, seed + 6, guidance, sample_steps, sampler=sampler,
                                        base=DEV_BASE)  # fmt: skip
            key = name if name == "validation" else f"{sampler} {name}"
            out[key] = ex.accuracy(st.read(oracle, images)[0], R)[1]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=800, help="autoencoder training steps")
    p.add_argument("--oracle-steps", type=int, default=1000)
    p.add_argument(
        "--latent-noise",
        type=float,
        default=LATENT_NOISE,
        help="the autoencoder's training noise (the chapter's default)",
    )
    p.add_argument("--sampler", action="store_true",
                   help="the sampler check on the development split instead")  # fmt: skip
    args = p.parse_args()
    oracle = st.train_oracle(N_ORACLE, args.oracle_steps, args.seed + 100)
    if args.sampler:
        r = sampler_check(oracle, args.seed, ae_steps=args.steps, latent_noise=args.latent_noise)
        print(f"development split around a {_name(DEV_BASE)}, {DEV_RULES}")
        print(report.table(list(r), [list(r.values())], {i: ".1%" for i in range(len(r))}))
        return
    rows = []
    for local in (True, False):
        r = leave_out(oracle, local, args.seed, steps=args.steps, latent_noise=args.latent_noise)
        rows.append(["local" if local else "wide (the conditional VAE's)", *r.values()])
    heads = ["autoencoder", "validation", *(f"left out: {_name(c)}" for c in LEFT_OUT)]
    print(report.table(heads, rows, {i: ".1%" for i in range(1, len(heads))}))


if __name__ == "__main__":
    main()
