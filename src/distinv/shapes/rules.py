"""Rules over the factors, the joint distributions they define, and the edit-request parser.

A rule is one of three kinds:

- `Are(shape, hue)`: "<shape>s are <hue>", per sample: every such shape has that hue.
- `No(factor, value)`: "no <value>", per sample: no image has that value.
- `Couple(a, b, sign)`: "<a> grows|shrinks with <b>", on the whole sample: ordered factors a and b
  are tilted together, p ∝ exp(sign * TILT * a' * b') with a', b' their indices scaled to [-1, 1].

A list of rules defines a joint distribution over every cell of factors (shape, hue, scale, x, y):
uniform, times each rule's mask or tilt, optionally restricted to a set of (shape, hue, scale)
combinations (the training split). An edit request ("hearts are blue; no squares") is parsed into
rules; `edit(base, request)` replaces each base rule on the same subject and keeps the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from distinv.shapes import world

TILT = 2.0
ORDERED = ("scale", "x", "y")
ALIASES = {"size": "scale", "colour": "hue", "color": "hue"}
BASE_COMBO = (0, 0, 1)  # shape square, hue red, scale medium
BASE_RULES = "hearts are red; triangles are red; size grows with x"
EDITS = ("hearts are blue", "size shrinks with x", "no squares")


@dataclass(frozen=True)
class Are:
    shape: int
    hue: int
    per_sample = True

    def __str__(self) -> str:
        return f"{world.SHAPES[self.shape]}s are {world.HUES[self.hue]}"

    def subject(self) -> tuple:
        return ("are", self.shape)

    def weight(self, cells: np.ndarray) -> np.ndarray:
        return self.holds(cells).astype(float)

    def holds(self, F: np.ndarray) -> np.ndarray:
        return (F[:, 0] != self.shape) | (F[:, 1] == self.hue)

    def concerns(self, requested: np.ndarray) -> np.ndarray:
        return requested[:, 0] == self.shape

    def obeyed(self, read: np.ndarray) -> np.ndarray:
        """Of the samples requested with this shape: read as this shape, in this hue."""
        return (read[:, 0] == self.shape) & (read[:, 1] == self.hue)


@dataclass(frozen=True)
class No:
    factor: int
    value: int
    per_sample = True

    def __str__(self) -> str:
        name = world.VALUES[world.FACTORS[self.factor]][self.value]
        return f"no {name}s" if self.factor == 0 else f"no {name}"

    def subject(self) -> tuple:
        return ("no", self.factor, self.value)

    def weight(self, cells: np.ndarray) -> np.ndarray:
        return self.holds(cells).astype(float)

    def holds(self, F: np.ndarray) -> np.ndarray:
        return F[:, self.factor] != self.value

    def concerns(self, requested: np.ndarray) -> np.ndarray:
        return np.ones(len(requested), dtype=bool)

    def obeyed(self, read: np.ndarray) -> np.ndarray:
        return self.holds(read)


@dataclass(frozen=True)
class Couple:
    a: int
    b: int
    sign: int
    per_sample = False

    def __str__(self) -> str:
        name = {"scale": "size"}.get(world.FACTORS[self.a], world.FACTORS[self.a])
        verb = "grows" if self.sign > 0 else "shrinks"
        return f"{name} {verb} with {world.FACTORS[self.b]}"

    def subject(self) -> tuple:
        return ("couple", *sorted((self.a, self.b)))

    def weight(self, cells: np.ndarray) -> np.ndarray:
        return np.exp(self.sign * TILT * _unit(cells, self.a) * _unit(cells, self.b))

    def histogram(self, F: np.ndarray) -> np.ndarray:
        """The joint histogram of (a, b) in F, normalised."""
        h = np.zeros((world.CARD[self.a], world.CARD[self.b]))
        np.add.at(h, (F[:, self.a], F[:, self.b]), 1.0)
        return h / max(1, len(F))


def _unit(cells: np.ndarray, j: int) -> np.ndarray:
    return 2.0 * cells[:, j] / (world.CARD[j] - 1) - 1.0


Rule = Are | No | Couple
CELLS = np.stack(np.meshgrid(*[np.arange(c) for c in world.CARD], indexing="ij"), -1).reshape(
    -1, len(world.CARD)
)


def distance(F: np.ndarray, base=BASE_COMBO) -> np.ndarray:
    """How many of shape, hue and scale differ from the split's base combination."""
    F = np.asarray(F)
    return sum((F[:, j] != b).astype(int) for j, b in zip((0, 1, 2), base, strict=True))


def combos(d: int | tuple[int, ...], base=BASE_COMBO) -> np.ndarray:
    """The (shape, hue, scale) combinations at distance d (or any of several), (K, 3)."""
    ds = (d,) if isinstance(d, int) else tuple(d)
    all3 = np.unique(CELLS[:, :3], axis=0)
    return all3[np.isin(distance(all3, base), ds)]


@dataclass(frozen=True)
class Distribution:
    """A joint distribution over every cell of factors; `p` lines up with CELLS."""

    rules: tuple
    p: np.ndarray
    max_distance: int | None = None  # a training split keeps combinations at distance <= 1

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return CELLS[rng.choice(len(CELLS), size=n, p=self.p)]

    def marginal(self, rule: Couple) -> np.ndarray:
        h = np.zeros((world.CARD[rule.a], world.CARD[rule.b]))
        np.add.at(h, (CELLS[:, rule.a], CELLS[:, rule.b]), self.p)
        return h

    def __str__(self) -> str:
        return "; ".join(map(str, self.rules))


def distribution(rules, max_distance: int | None = None, base=BASE_COMBO) -> Distribution:
    """The joint distribution of rules (a request string or a list of rules), restricted to
    combinations at most max_distance from base if given. ValueError if the rules leave no
    image."""
    rules = tuple(parse(rules) if isinstance(rules, str) else rules)
    w = np.ones(len(CELLS))
    for r in rules:
        w = w * r.weight(CELLS)
    if max_distance is not None:
        w = w * (distance(CELLS, base) <= max_distance)
    if not w.sum() > 0:
        raise ValueError(f"the rules {'; '.join(map(str, rules))!r} leave no image")
    return Distribution(rules, w / w.sum(), max_distance)


def edit(base, request: str) -> tuple:
    """Base rules with the request's rules put in: each replaces any base rule on its subject."""
    base = tuple(parse(base) if isinstance(base, str) else base)
    new = parse(request)
    subjects = {r.subject() for r in new}
    return tuple(r for r in base if r.subject() not in subjects) + tuple(new)


def slug(request: str) -> str:
    """'hearts are blue; no squares' -> 'hearts_are_blue__no_squares'."""
    return "__".join(re.sub(r"[^a-z0-9]+", "_", str(r)).strip("_") for r in parse(request))


def _value(word: str) -> tuple[int, int] | None:
    w = word[:-1] if word.endswith("s") and word[:-1] in world.SHAPES else word
    for j, f in enumerate(world.FACTORS):
        if w in world.VALUES[f]:
            return j, world.VALUES[f].index(w)
    return None


def _accepted() -> str:
    return (
        "accepted forms: '<shape>s are <hue>', 'no <value>', '<factor> grows|shrinks with "
        f"<factor>', joined by ';'; shapes: {', '.join(world.SHAPES)}; hues: "
        f"{', '.join(world.HUES)}; scales: {', '.join(world.SCALES)}; positions: x0..x7, y0..y7;"
        f" ordered factors: size (scale), x, y"
    )


def parse(text: str) -> list:
    """Rules from a request: clauses joined by ';'. ValueError naming what is accepted."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a request must be a non-empty string; {_accepted()}")
    out = []
    for clause in text.split(";"):
        words = clause.strip().lower().split()
        if not words:
            raise ValueError(f"empty clause in {text!r}; {_accepted()}")
        out.append(_clause(words, clause.strip()))
    subjects = [r.subject() for r in out]
    if len(set(subjects)) < len(subjects):
        raise ValueError(f"{text!r} says two things about one subject")
    return out


def _clause(words: list[str], clause: str):
    if len(words) == 3 and words[1] == "are":
        shape, hue = words[0], words[2]
        if not (shape.endswith("s") and shape[:-1] in world.SHAPES):
            raise ValueError(f"unknown shape {shape!r} in {clause!r}; shapes (plural): "
                             f"{', '.join(s + 's' for s in world.SHAPES)}")  # fmt: skip
        if hue not in world.HUES:
            raise ValueError(f"unknown hue {hue!r} in {clause!r}; hues: {', '.join(world.HUES)}")
        return Are(world.SHAPES.index(shape[:-1]), world.HUES.index(hue))
    if len(words) == 2 and words[0] == "no":
        v = _value(words[1])
        if v is None:
            raise ValueError(f"unknown value {words[1]!r} in {clause!r}; {_accepted()}")
        return No(*v)
    if len(words) == 4 and words[1] in ("grows", "shrinks") and words[2] == "with":
        a, b = (ALIASES.get(w, w) for w in (words[0], words[3]))
        for f in (a, b):
            if f not in world.FACTORS:
                raise ValueError(f"unknown factor {f!r} in {clause!r}; ordered factors: "
                                 "size (scale), x, y")  # fmt: skip
            if f not in ORDERED:
                raise ValueError(f"{f!r} is not ordered, so nothing grows with it ({clause!r});"
                                 " ordered factors: size (scale), x, y")  # fmt: skip
        if a == b:
            raise ValueError(f"{clause!r} couples a factor with itself")
        ia, ib = world.FACTORS.index(a), world.FACTORS.index(b)
        return Couple(ia, ib, 1 if words[1] == "grows" else -1)
    raise ValueError(f"cannot read {clause!r}; {_accepted()}")


def sample(rule, n: int, seed: int = 0, max_distance: int | None = None):
    """n true images of a distribution (a request string, rules or a Distribution): (images (n,
    32, 32, 3), factors (n, 5)). One seed draws the factors and the nuisance."""
    d = rule if isinstance(rule, Distribution) else distribution(rule, max_distance)
    rng = np.random.default_rng(seed)
    F = d.sample(n, rng)
    return world.render(F, rng), F


def tv(p: np.ndarray, q: np.ndarray) -> float:
    """Total-variation distance between two histograms of the same shape (each normalised)."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    return 0.5 * float(np.abs(p / p.sum() - q / q.sum()).sum())
