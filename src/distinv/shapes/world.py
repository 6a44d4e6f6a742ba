"""A world of one-object images whose every factor is known: a renderer, rules, distributions.

An image is 32x32 RGB with one object. Its factors are a shape, a hue, a scale and a position on
an 8x8 grid; each is an index into the tables below. Nuisance variation that no rule names (a
small rotation, jitter of hue, saturation and brightness, background noise) makes an image a
sample, not a function of its factors. Rendering is exact and anti-aliased (each pixel averages
SUPER x SUPER sub-pixels of the shape's indicator).
"""

from __future__ import annotations

import colorsys

import numpy as np

SIZE = 32  # pixels per side
SUPER = 4  # sub-pixels per pixel side, for anti-aliasing
SHAPES = ("square", "ellipse", "triangle", "heart")
HUES = ("red", "yellow", "green", "cyan", "blue", "magenta")
HUE_DEGREES = (0.0, 60.0, 120.0, 180.0, 240.0, 300.0)
SCALES = ("small", "medium", "large", "huge")
RADII = (3.5, 4.8, 6.1, 7.4)  # half-width in pixels: the smallest object is about 6 pixels across
GRID = 8  # positions per axis
LOW, HIGH = 8.0, 24.0  # centre of the first and last grid position, in pixels
FACTORS = ("shape", "hue", "scale", "x", "y")
VALUES = {
    "shape": SHAPES,
    "hue": HUES,
    "scale": SCALES,
    "x": tuple(f"x{i}" for i in range(GRID)),
    "y": tuple(f"y{i}" for i in range(GRID)),
}
CARD = tuple(len(VALUES[f]) for f in FACTORS)  # (4, 6, 4, 8, 8)
MAX_ROTATION = 10.0  # degrees, either way
HUE_JITTER = 4.0  # degrees, either way
SV_JITTER = 0.05  # saturation and value, either way, around 0.85
BACKGROUND = 0.08
NOISE = 0.02  # standard deviation of per-pixel background noise


def check(factors) -> np.ndarray:
    """Factors as an int array (N, 5) of valid indices, or ValueError naming the bad factor.

    Accepts an (N, 5) or (5,) array of indices, or a dict (or list of dicts) from factor name to
    index or value name ({"shape": "heart", "hue": "blue", "scale": 0, "x": 3, "y": "y5"}).
    """
    if isinstance(factors, dict):
        factors = [factors]
    if isinstance(factors, (list, tuple)) and factors and isinstance(factors[0], dict):
        return np.array([[_index(f, d) for f in FACTORS] for d in map(_keys, factors)], dtype=int)
    arr = np.asarray(factors)
    arr = arr[None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != len(FACTORS):
        raise ValueError(f"factors must have shape (N, {len(FACTORS)}) in the order "
                         f"{', '.join(FACTORS)}; got {arr.shape}")  # fmt: skip
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"factor indices must be integers, got dtype {arr.dtype}")
    for j, f in enumerate(FACTORS):
        bad = (arr[:, j] < 0) | (arr[:, j] >= CARD[j])
        if bad.any():
            raise ValueError(f"{f} must be an index 0..{CARD[j] - 1} or one of "
                             f"{', '.join(VALUES[f])}; got {arr[bad, j][0]}")  # fmt: skip
    return arr.astype(int)


def _keys(d: dict) -> dict:
    extra = set(d) - set(FACTORS)
    missing = set(FACTORS) - set(d)
    if extra or missing:
        raise ValueError(f"factors must name exactly {', '.join(FACTORS)}; "
                         f"unknown: {sorted(extra)}, missing: {sorted(missing)}")  # fmt: skip
    return d


def _index(factor: str, d: dict) -> int:
    v = d[factor]
    names = VALUES[factor]
    if isinstance(v, str):
        if v not in names:
            raise ValueError(f"{factor} must be one of {', '.join(names)}; got {v!r}")
        return names.index(v)
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not 0 <= v < len(names):
        raise ValueError(f"{factor} must be an index 0..{len(names) - 1} or one of "
                         f"{', '.join(names)}; got {v!r}")  # fmt: skip
    return int(v)


def describe(f) -> str:
    """'blue heart, small, at (x3, y5)' for one factor row."""
    s, h, c, x, y = (int(v) for v in f)
    return f"{HUES[h]} {SHAPES[s]}, {SCALES[c]}, at (x{x}, y{y})"


def centre(i) -> np.ndarray:
    """Pixel coordinate of grid position i."""
    return LOW + (HIGH - LOW) * np.asarray(i, dtype=float) / (GRID - 1)


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Indicator of a unit shape at local coordinates (u right, v up), radius 1."""
    if shape == 0:  # square
        return np.maximum(np.abs(u), np.abs(v)) <= 0.82
    if shape == 1:  # ellipse, wider than tall
        return u * u + (v / 0.6) ** 2 <= 1.0
    if shape == 2:  # triangle pointing up, centred on its centroid
        w = v + 0.4
        return (w >= 0) & (np.abs(u) * 1.7 + w <= 1.4)
    # heart: (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, scaled to radius about 1
    x, y = u * 1.15, v * 1.15 + 0.15
    return (x * x + y * y - 1) ** 3 - x * x * y**3 <= 0


def _colour(hue_deg: np.ndarray, sat: np.ndarray, val: np.ndarray) -> np.ndarray:
    rgb = [
        colorsys.hsv_to_rgb((h % 360) / 360, s, v)
        for h, s, v in zip(hue_deg, sat, val, strict=True)
    ]
    return np.array(rgb, dtype=np.float32)


def render(
    factors, seed: int | np.random.Generator | None = 0, nuisance: bool = True
) -> np.ndarray:
    """Images (N, 32, 32, 3) float32 in [0, 1] for factors (see `check`); (32, 32, 3) for one dict.

    `seed` draws the nuisance variation; `nuisance=False` gives the exact render of the factors
    (no rotation, no jitter, no noise).
    """
    one = isinstance(factors, dict)
    F = check(factors)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    n = len(F)
    if nuisance:
        rot = np.deg2rad(rng.uniform(-MAX_ROTATION, MAX_ROTATION, n))
        hue = np.array(HUE_DEGREES)[F[:, 1]] + rng.uniform(-HUE_JITTER, HUE_JITTER, n)
        sat = 0.85 + rng.uniform(-SV_JITTER, SV_JITTER, n)
        val = 0.85 + rng.uniform(-SV_JITTER, SV_JITTER, n)
    else:
        rot = np.zeros(n)
        hue = np.array(HUE_DEGREES)[F[:, 1]]
        sat = val = np.full(n, 0.85)
    colour = _colour(hue, sat, val)
    sub = (np.arange(SIZE * SUPER) + 0.5) / SUPER  # sub-pixel centres, in pixels
    px, py = np.meshgrid(sub, sub)  # py grows downwards
    out = np.empty((n, SIZE, SIZE, 3), dtype=np.float32)
    for i in range(n):
        s, _, c, gx, gy = F[i]
        r = RADII[c]
        dx, dy = (px - centre(gx)) / r, (centre(gy) - py) / r
        cos, sin = np.cos(rot[i]), np.sin(rot[i])
        u, v = cos * dx + sin * dy, -sin * dx + cos * dy
        cov = _inside(s, u, v).reshape(SIZE, SUPER, SIZE, SUPER).mean(axis=(1, 3))
        out[i] = BACKGROUND + cov[..., None] * (colour[i] - BACKGROUND)
    if nuisance:
        out += rng.normal(0, NOISE, out.shape).astype(np.float32)
    np.clip(out, 0, 1, out=out)
    return out[0] if one else out
