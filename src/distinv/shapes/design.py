"""How the generator's autoencoder was chosen, rerunnable: leave training combinations out.

The held-out combinations of the chapter may not choose a design, and the training split cannot
hold any of its own combinations out without losing a value altogether (every hue but red is seen
on one combination only). So the check is harsher than the test: an autoencoder is trained on the
training split without LEFT_OUT (one combination per factor, whose value is then never seen), and
the oracle reads its reconstructions of true renders of those combinations, whose hue, shape or
scale it never saw. The settings are the chapter's defaults (12,000 training renders, 800 steps,
its latent noise).

Usage: python -m distinv.shapes.design [--seed 0] [--steps 800] [--oracle-steps 1000]
       [--latent-noise 0.1]
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
LEFT_OUT = (
    (0, 4, 1),
    (3, 0, 1),
    (0, 0, 3),
)  # blue medium square, red medium heart, red huge square


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
    args = p.parse_args()
    oracle = st.train_oracle(10000, args.oracle_steps, args.seed + 100)
    rows = []
    for local in (True, False):
        r = leave_out(oracle, local, args.seed, steps=args.steps, latent_noise=args.latent_noise)
        rows.append(["local" if local else "wide (the conditional VAE's)", *r.values()])
    heads = ["autoencoder", "validation", *(f"left out: {_name(c)}" for c in LEFT_OUT)]
    print(report.table(heads, rows, {i: ".1%" for i in range(1, len(heads))}))


if __name__ == "__main__":
    main()
