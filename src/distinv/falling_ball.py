"""A ball falling under constant gravity, in closed form: the toy of the hull chapter. SI units."""

from __future__ import annotations

import numpy as np

GRAVITY = {"moon": 1.62, "mars": 3.71, "earth": 9.81, "jupiter": 24.79}  # m/s^2


def states(
    g: float,
    n_drops: int,
    rng: np.random.Generator,
    dt: float = 0.05,
    steps: int = 20,
    height: tuple[float, float] = (2.0, 20.0),
    speed: tuple[float, float] = (-5.0, 5.0),
) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets): states (height m, vertical velocity m/s) and the state dt seconds later.

    Each drop starts at a uniform height and vertical velocity and is sampled every dt seconds for
    `steps` steps, up to the step before it reaches the ground. Shapes (M, 2) and (M, 2).
    """
    if not (np.isfinite(g) and g > 0):
        raise ValueError(f"gravity must be a positive finite number, got {g}")
    y0 = rng.uniform(*height, size=(n_drops, 1))
    v0 = rng.uniform(*speed, size=(n_drops, 1))
    t = dt * np.arange(steps + 1)[None, :]
    y, v = y0 + v0 * t - 0.5 * g * t**2, v0 - g * t
    above = np.cumprod(y >= 0, axis=1).astype(bool)  # up to the first contact with the ground
    keep = above[:, :-1] & above[:, 1:]
    x = np.stack([y[:, :-1][keep], v[:, :-1][keep]], axis=1)
    target = np.stack([y[:, 1:][keep], v[:, 1:][keep]], axis=1)
    return x, target
