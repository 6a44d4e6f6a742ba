"""A fitted step for ARC (07_arc): objects recoloured by one of their properties (size rank, size,
shape, holes, colour and size), the same way in every training pair."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from distinv.arc.grids import Grid, background


def object_masks(g: Grid) -> list[np.ndarray]:
    """Each object's cells: 4-neighbour components of one non-background colour."""
    bg, out = background(g), []
    for c in np.unique(g):
        if c != bg:
            labels, n = ndimage.label(g == c)
            out += [labels == i for i in range(1, n + 1)]
    return out


def properties(g: Grid, masks: list[np.ndarray]) -> dict[str, list]:
    """Per object: what a recolouring may depend on."""
    sizes = [int(m.sum()) for m in masks]
    ranks = sorted(set(sizes), reverse=True)

    def shape(m):
        ys, xs = np.nonzero(m)
        box = m[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        return (box.shape, box.tobytes())

    def holes(m):
        return int(ndimage.label(ndimage.binary_fill_holes(m) & ~m)[1])

    return {
        "size rank": [ranks.index(n) for n in sizes],
        "size": sizes,
        "shape": [shape(m) for m in masks],
        "holes": [holes(m) for m in masks],
        "colour and size": [(int(g[m][0]), n) for m, n in zip(masks, sizes, strict=True)],
    }


def recolour(g: Grid, prop: str, table: tuple) -> Grid | None:
    """Each object painted the colour its property maps to; None if a value was never seen."""
    masks, lookup, out = object_masks(g), dict(table), g.copy()
    for m, v in zip(masks, properties(g, masks)[prop], strict=True):
        if v not in lookup:
            return None
        out[m] = lookup[v]
    return out


def recolour_rule(pairs: list[tuple[Grid, Grid]]) -> tuple | None:
    """(property, table): every object keeps its cells and takes one colour decided by one of its
    properties (size rank, size, shape, holes, colour and size), the same way in every pair; the
    background is unchanged. The first property that explains every pair wins."""
    if any(a.shape != b.shape for a, b in pairs):
        return None
    found = []
    for a, b in pairs:
        bg = background(a)
        if not np.array_equal(a[a == bg], b[a == bg]):
            return None
        masks = object_masks(a)
        if not masks or any(len(np.unique(b[m])) != 1 for m in masks):
            return None
        found.append((properties(a, masks), [int(b[m][0]) for m in masks]))
    for prop in found[0][0]:
        table: dict = {}
        if all(table.setdefault(v, c) == c for props, colours in found
               for v, c in zip(props[prop], colours, strict=True)):  # fmt: skip
            return prop, tuple(table.items())
    return None
