"""A per-task cell rule for ARC: a decision tree, fitted on a task's training pairs, that predicts
each output cell's colour from features of the input around that cell (chapter 07).

Given (hand-written): the features below, the same for every task. Learned (per task, from its
two to five training pairs): which features decide a cell's colour, and how. It applies where
input and output have the same shape. A tree fits any training pairs that do not contradict
each other, so it is accepted only if it also passes leave-one-out: fitted on all pairs but one,
it must reproduce that one exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.tree import DecisionTreeClassifier

OUTSIDE = -1  # a neighbour or ray beyond the grid
COLOURS = np.arange(11)  # ARC's ten and the search's mark (distinv.arc.MARK)
# up, down, left, right, then the four diagonals
STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _shifted(a: np.ndarray, di: int, dj: int) -> np.ndarray:
    """a[i + di, j + dj] at every cell (OUTSIDE beyond the grid)."""
    p = np.pad(a, 1, constant_values=OUTSIDE)
    h, w = a.shape
    return p[1 + di : 1 + di + h, 1 + dj : 1 + dj + w]


def _ray(g: np.ndarray, bg: int, di: int, dj: int) -> np.ndarray:
    """The first non-background colour met walking from each cell in direction (di, dj), not
    counting the cell itself (OUTSIDE if none)."""
    nxt = _shifted(g, di, dj)
    coloured = (nxt != bg) & (nxt != OUTSIDE)
    seen = np.full(g.shape, OUTSIDE)
    for _ in range(max(g.shape)):  # each pass lets a colour travel one more cell
        step = np.where(coloured, nxt, _shifted(seen, di, dj))
        if np.array_equal(step, seen):
            break
        seen = step
    return seen


def _objects(g: np.ndarray, bg: int) -> list[np.ndarray]:
    """Per cell of each 8-connected non-background object (any colours): its size, height,
    width, whether the cell is on the edge of the object's box, its number of colours, and the
    cell's row and column parity inside the box; 0 on the background."""
    out = [np.zeros(g.shape) for _ in range(7)]
    labels, _ = ndimage.label(g != bg, structure=np.ones((3, 3)))
    for k, box in enumerate(ndimage.find_objects(labels), 1):
        m = labels[box] == k
        ii, jj = np.indices(m.shape)
        edge = (ii == 0) | (jj == 0) | (ii == m.shape[0] - 1) | (jj == m.shape[1] - 1)
        values = (m.sum(), m.shape[0], m.shape[1], edge, len(np.unique(g[box][m])), ii % 2, jj % 2)
        for f, v in zip(out, values, strict=True):
            f[box][m] = np.broadcast_to(v, m.shape)[m]
    return out


def features(g: np.ndarray) -> np.ndarray:
    """(cells, features), the background being the most common colour: for each cell, row by row,
    its colour (and one-hot), its 8 neighbours and how many of them have each colour, the first
    colour met along each of 8 rays and whether opposite rays meet the same one, which colours its
    row and column hold, its position (from each side, mod 2 and 3), its mirror images, the size
    of its one-colour component, its multi-colour object's shape, its colour's frequency rank,
    whether it is an enclosed background cell, and in which colours' bounding boxes it lies."""
    g = np.asarray(g, dtype=int)
    h, w = g.shape
    vals, counts = np.unique(g, return_counts=True)
    bg = int(vals[np.argmax(counts)])
    hood = [_shifted(g, di, dj) for di, dj in STEPS]
    rays = [_ray(g, bg, di, dj) for di, dj in STEPS]
    f = [g, *(g == c for c in COLOURS), *hood]
    f += [sum(n == c for n in hood) for c in COLOURS]
    f += [*rays, np.where(rays[0] == rays[1], rays[0], OUTSIDE),
          np.where(rays[2] == rays[3], rays[2], OUTSIDE)]  # fmt: skip
    has = g[..., None] == COLOURS  # (h, w, colours)
    rows, cols = has.any(1), has.any(0)  # (h, colours), (w, colours)
    f += [np.broadcast_to(rows[:, None, c], (h, w)) for c in COLOURS]
    f += [np.broadcast_to(cols[None, :, c], (h, w)) for c in COLOURS]
    i, j = np.indices((h, w))
    f += [i, j, h - 1 - i, w - 1 - j, i % 2, j % 2, i % 3, j % 3]
    f += [g[:, ::-1], g[::-1], g[::-1, ::-1]]
    f += [g.T, g[::-1, ::-1].T] if h == w else [np.full((h, w), OUTSIDE)] * 2
    size = np.zeros((h, w))
    for c in vals:
        labels, _ = ndimage.label(g == c)
        size[g == c] = np.bincount(labels.ravel())[labels[g == c]]
    f += [size, g == bg, *_objects(g, bg)]
    rank = np.zeros(len(COLOURS), int)
    rank[vals[np.argsort(-counts, kind="stable")]] = np.arange(len(vals))
    f += [rank[g], ndimage.binary_fill_holes(g != bg) & (g == bg)]
    for c in COLOURS:
        box = np.zeros((h, w), bool)
        if c != bg and (g == c).any():
            ys, xs = np.nonzero(g == c)
            box[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = True
        f.append(box)
    return np.stack([np.asarray(x, dtype=np.float32) for x in f], -1).reshape(h * w, -1)


def _fit(keyed: list) -> DecisionTreeClassifier:
    """One tree grown on every cell until it fits (every feature considered at every split), so
    it fits the pairs exactly wherever they do not contradict themselves."""
    x = np.concatenate([k[0] for k in keyed])
    y = np.concatenate([k[1] for k in keyed])
    return DecisionTreeClassifier(random_state=0).fit(x, y)


class CellRule:
    """A fitted tree; calling it on a grid predicts the output grid of the same shape."""

    def __init__(self, tree: DecisionTreeClassifier):
        self.tree = tree

    def __call__(self, g: np.ndarray) -> np.ndarray:
        return self.tree.predict(features(g)).reshape(g.shape).astype(g.dtype)

    def __str__(self) -> str:
        return f"cell rule (a tree of {self.tree.get_n_leaves()} leaves)"


def cell_rule(pairs: list[tuple[np.ndarray, np.ndarray]]) -> CellRule | None:
    """A CellRule that turns every input into its output and passes leave-one-out, or None (also
    with fewer than 2 pairs, or shapes that differ)."""
    if len(pairs) < 2 or any(a.shape != b.shape for a, b in pairs):
        return None
    keyed = [(features(a), b.ravel()) for a, b in pairs]
    for i, (x, y) in enumerate(keyed):
        if not np.array_equal(_fit(keyed[:i] + keyed[i + 1 :]).predict(x), y):
            return None
    return CellRule(_fit(keyed))
