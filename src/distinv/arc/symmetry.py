"""Two ARC primitives (07_arc): a picture hidden in places by solid patches of one colour is
completed from the mirror symmetries the rest of it obeys.

Given (hand-written): what a patch is (one colour in a few solid pieces) and the symmetries
looked for: left-right and up-down mirrors about any axis, half turns about any centre near the
middle, and the two diagonal mirrors. Nothing is fitted: a symmetry
counts when every pair of visible cells it maps onto each other agrees, over at least half the
grid.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _patch_colours(g: np.ndarray) -> list[int]:
    """Colours in at most 8 solid pieces (each fills at least 70% of its bounding box), fewest
    cells first."""
    out = []
    for c in np.unique(g):
        labels, n = ndimage.label(g == c)
        if n == 0 or n > 8 or (g == c).sum() < 4:
            continue
        boxes = ndimage.find_objects(labels)
        if all((labels[box] == k).mean() >= 0.7 for k, box in enumerate(boxes, 1)):
            out.append(int(c))
    return sorted(out, key=lambda c: int((g == c).sum()))


def _images(h: int, w: int):
    """Each symmetry looked for, as the (row, col) image of every cell (-1 where it falls off)."""
    i, j = np.indices((h, w))
    for s in range(w - 1 - w // 2, w + w // 2):  # left-right mirrors: column j <-> s - j
        yield i, s - j
    for s in range(h - 1 - h // 2, h + h // 2):  # up-down mirrors
        yield s - i, j
    for a in range(h - 3, h + 2):  # half turns about centres near the middle
        for b in range(w - 3, w + 2):
            yield a - i, b - j
    for d in range(-2, 3):  # the diagonal mirrors, shifted a little
        yield j + d, i - d
        yield (w - 1) - j + d, (h - 1) - i + d


def _complete(g: np.ndarray, hidden: np.ndarray) -> np.ndarray | None:
    """The grid with its hidden cells filled from the symmetries the visible ones obey."""
    h, w = g.shape
    maps = []
    for ii, jj in _images(h, w):
        on = (ii >= 0) & (ii < h) & (jj >= 0) & (jj < w)
        src = np.where(on, ii, 0), np.where(on, jj, 0)
        both = on & ~hidden & ~hidden[src]
        if both.sum() >= g.size // 2 and (g[both] == g[src][both]).all():
            maps.append((on, src))
    if not maps:
        return None
    out, hidden = g.copy(), hidden.copy()
    while hidden.any():
        before = hidden.sum()
        for on, src in maps:
            take = hidden & on & ~hidden[src]
            out[take] = out[src][take]
            hidden &= ~take
        if hidden.sum() == before:
            return None  # some hidden cell has no visible image
    return out


def _first(g: np.ndarray):
    for c in _patch_colours(g):
        hidden = g == c
        out = _complete(g, hidden)
        if out is not None:
            return out, hidden
    return None


def fill(g: np.ndarray) -> np.ndarray | None:
    """The grid with its patch replaced by what the symmetries say lies under it."""
    found = _first(g)
    return None if found is None else found[0]


def patch(g: np.ndarray) -> np.ndarray | None:
    """What lies under the patch: the bounding box of the hidden cells, filled."""
    found = _first(g)
    if found is None:
        return None
    out, hidden = found
    ys, xs = np.nonzero(hidden)
    return out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
