"""A fitted step for ARC tasks whose output is one object cut out of the input (07_arc): which
object is read off the training pairs as the one a single property singles out.

Given (hand-written): three ways to cut a grid into objects, the properties below, and the rule
form "the object with the largest (or smallest) value of one property". Fitted per task: which
cut, which property and which extreme, chosen as the first that picks the training output in
every training pair. Objects that tie on the extreme must all look the same (several copies of
the most common shape are one answer).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from distinv.arc.grids import background

EIGHT = np.ones((3, 3), int)
CUTS = ("colour", "colour8", "multicolour")  # one colour 4-connected, 8-connected; any colour, 8


def objects(g: np.ndarray, cut: str) -> list[tuple[slice, slice, np.ndarray]]:
    """The objects of a grid, each as (rows, cols, mask inside its bounding box)."""
    bg, out = background(g), []
    if cut == "multicolour":
        layers = [(g != bg, EIGHT)]
    else:
        layers = [(g == c, EIGHT if cut == "colour8" else None) for c in np.unique(g) if c != bg]
    for where, structure in layers:
        labels, _ = ndimage.label(where, structure=structure)
        for k, (rows, cols) in enumerate(ndimage.find_objects(labels), 1):
            out.append((rows, cols, labels[rows, cols] == k))
    return out


def _properties(g: np.ndarray, objs: list) -> dict[str, np.ndarray]:
    """Per object, every property a selection may rest on (one value each)."""
    bg, h, w = background(g), *g.shape
    crops = [np.where(m, g[r, c], bg) for r, c, m in objs]
    shapes = [m.tobytes() + bytes(m.shape) for _, _, m in objs]
    main = [int(np.bincount(x[m]).argmax()) for x, (_, _, m) in zip(crops, objs, strict=True)]
    props = {
        "size": [m.sum() for _, _, m in objs],
        "height": [m.shape[0] for _, _, m in objs],
        "width": [m.shape[1] for _, _, m in objs],
        "box area": [m.size for _, _, m in objs],
        "density": [m.mean() for _, _, m in objs],
        "colours": [len(np.unique(x[m])) for x, (_, _, m) in zip(crops, objs, strict=True)],
        "holes": [ndimage.label(ndimage.binary_fill_holes(m) & ~m)[1] for _, _, m in objs],
        "top": [r.start for r, _, _ in objs],
        "left": [c.start for _, c, _ in objs],
        "bottom": [r.stop for r, _, _ in objs],
        "right": [c.stop for _, c, _ in objs],
        "touches border": [
            r.start == 0 or c.start == 0 or r.stop == h or c.stop == w for r, c, _ in objs
        ],
        "symmetric": [np.array_equal(x, x[:, ::-1]) or np.array_equal(x, x[::-1]) for x in crops],
        "copies of its shape": [shapes.count(s) for s in shapes],
        "copies of its colour": [main.count(c) for c in main],
    }
    for c in range(10):
        props[f"cells of colour {c}"] = [int((x[m] == c).sum()) for x, (_, _, m) in
                                         zip(crops, objs, strict=True)]  # fmt: skip
    return {k: np.asarray(v, dtype=float) for k, v in props.items()}


def _crops(g: np.ndarray, objs: list) -> list[np.ndarray]:
    """Each object's bounding box as it stands in the grid (other colours included)."""
    return [g[r, c] for r, c, _ in objs]


def _extreme(values: np.ndarray, largest: bool) -> np.ndarray:
    """Which objects have the largest (or smallest) value."""
    return values == (values.max() if largest else values.min())


@dataclass(frozen=True)
class Selector:
    cut: str  # one of CUTS
    prop: str  # a key of _properties
    largest: bool  # the object with the largest value (else the smallest)

    def __call__(self, g: np.ndarray) -> np.ndarray | None:
        """The chosen object's bounding box, or None where no single answer stands out."""
        objs = objects(g, self.cut)
        if len(objs) < 2:
            return None
        best = _extreme(_properties(g, objs)[self.prop], self.largest)
        chosen = [x for x, b in zip(_crops(g, objs), best, strict=True) if b]
        if any(not np.array_equal(x, chosen[0]) for x in chosen[1:]):
            return None
        return chosen[0]

    def __str__(self) -> str:
        return f"the {self.cut} object with the {'most' if self.largest else 'least'} {self.prop}"


def selector(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Selector | None:
    """The first Selector (cuts, then properties, largest before smallest, in order) that turns
    every input into its output, or None. Applies only where every output is smaller."""
    if any(b.shape[0] > a.shape[0] or b.shape[1] > a.shape[1] or b.shape == a.shape
           for a, b in pairs):  # fmt: skip
        return None
    for cut in CUTS:
        found = []  # per pair: properties of every object, and which objects are the output
        for a, b in pairs:
            objs = objects(a, cut)
            hits = np.array([x.shape == b.shape and np.array_equal(x, b) for x in _crops(a, objs)])
            if len(objs) < 2 or not hits.any():
                break
            found.append((_properties(a, objs), hits))
        else:
            for prop in found[0][0]:
                for largest in (True, False):
                    if all(hits[_extreme(props[prop], largest)].all() for props, hits in found):
                        return Selector(cut, prop, largest)
    return None
