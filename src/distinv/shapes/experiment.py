"""The shapes chapter's measures: held-out combinations, rule edits, image quality, novelty.

Every generator is judged by the oracle's reading of its images; the oracle never trains or
steers a generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

from distinv import hull
from distinv.shapes import rules, world
from distinv.shapes import train as st

MODELS = ("latent_diffusion", "cvae", "nearest")
# Anchors quoted in the chapter (published figures, not measured here).
SCHOTT_R2 = 0.67  # Schott et al. (ICLR 2022): best R^2 on extrapolated factors, dSprites/Shapes3D


def requests(d: int, per_combo: int, seed: int, base=rules.BASE_COMBO) -> np.ndarray:
    """per_combo factor rows for each (shape, hue, scale) combination at distance d, at positions
    drawn uniformly: (K * per_combo, 5)."""
    rng = np.random.default_rng(seed)
    C = np.repeat(rules.combos(d, base), per_combo, axis=0)
    pos = rng.integers(0, world.GRID, (len(C), 2))
    return np.concatenate([C, pos], 1)


def accuracy(read: np.ndarray, requested: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-factor accuracy (5,) and product accuracy (every factor right)."""
    ok = read == requested
    if not len(ok):
        return np.full(len(world.FACTORS), np.nan), float("nan")
    return ok.mean(0), float(ok.all(1).mean())


def frechet(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, k)."""
    mu = a.mean(0) - b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(ca @ cb)
    root = root.real if np.iscomplexobj(root) else root
    return float(mu @ mu + np.trace(ca + cb - 2 * root))


def pixel_error(images: np.ndarray, factors: np.ndarray) -> float:
    """Mean squared pixel error against the exact render (no nuisance) of the requested factors."""
    return float(((images - world.render(factors, nuisance=False)) ** 2).mean())


@dataclass(frozen=True)
class Generated:
    """What a generator made for a request: images, the factors asked for, the oracle's reading."""

    images: np.ndarray
    requested: np.ndarray
    read: np.ndarray
    features: np.ndarray


def generate(make, oracle, rule, n: int, seed: int = 0, base=None) -> Generated:
    """n images from a generator's `make(factors, seed)` for a rule (a request string, rules or a
    Distribution over the whole world), with the oracle's reading of each. With `base` (rules or
    a request string, e.g. rules.BASE_RULES), `rule` is an edit request applied to it."""
    if base is not None:
        rule = rules.edit(base, rule)
    d = rule if isinstance(rule, rules.Distribution) else rules.distribution(rule)
    F = d.sample(n, np.random.default_rng(seed))
    return judge(make(F, seed + 1), F, oracle)


def judge(images: np.ndarray, requested: np.ndarray, oracle) -> Generated:
    if not np.isfinite(images).all():
        raise ValueError("generated images contain NaN or infinite values")
    R, H = st.read(oracle, images)
    return Generated(images, requested, R, H)


@dataclass(frozen=True)
class EditResult:
    request: str
    obeyed: dict  # changed per-sample rule -> fraction of the samples it concerns that obey it
    tv: dict  # changed distribution-level rule -> total variation to the requested histogram
    intact: float  # fraction of samples obeying every untouched per-sample rule
    intact_tv: dict  # untouched distribution-level rule -> total variation


def grade_edit(g: Generated, request: str, base: str = rules.BASE_RULES) -> EditResult:
    """Grade samples of the edited world on the changed rules and on the untouched ones."""
    changed = rules.parse(request)
    new = rules.edit(base, request)
    dist = rules.distribution(new)
    untouched = [r for r in new if r not in changed]
    obeyed, tv = {}, {}
    for r in changed:
        if r.per_sample:
            c = r.concerns(g.requested)
            obeyed[str(r)] = float(r.obeyed(g.read[c]).mean()) if c.any() else float("nan")
        else:
            tv[str(r)] = rules.tv(r.histogram(g.read), dist.marginal(r))
    keep = [r for r in untouched if r.per_sample]
    ok = np.ones(len(g.read), dtype=bool)
    for r in keep:
        ok &= r.holds(g.read)
    intact_tv = {str(r): rules.tv(r.histogram(g.read), dist.marginal(r))
                 for r in untouched if not r.per_sample}  # fmt: skip
    return EditResult(request, obeyed, tv, float(ok.mean()), intact_tv)


def project(features: np.ndarray, basis: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean, comps = basis
    return (features - mean) @ comps.T


def pca(features: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, top-k principal directions) of features (N, d)."""
    mean = features.mean(0)
    _, _, vt = np.linalg.svd(features - mean, full_matrices=False)
    return mean, vt[:k]


def outside(train_points: np.ndarray, points: np.ndarray) -> float:
    """Fraction of points outside the convex hull of train_points (exact, `distinv.hull`)."""
    if not len(points):
        return float("nan")
    return float((~hull.inside(train_points, points)).mean())
