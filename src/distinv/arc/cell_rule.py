"""A per-task cell rule for ARC: a decision tree, fitted on a task's training pairs, that predicts
each output cell's colour from features of the input around that cell (07_arc).

Given (hand-written): the features below, in named groups, the same for every task, and the
feature sets a tree may use (simplest first). Learned (per task, from the task's own training
pairs): which feature set, which features in it decide a cell's colour, and how; and whether
the rule speaks of the grids' own colours or of colours named by how often they occur. It
applies where input and output have the same shape. A tree fits any training pairs that do not
contradict each other, so it is accepted only if it also passes leave-one-out: fitted on all
pairs but one, it must reproduce that one exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np
from scipy import ndimage
from sklearn.tree import DecisionTreeClassifier

OUTSIDE = -1  # a neighbour or ray beyond the grid
COLOURS = np.arange(11)  # ARC's ten and the search's mark (distinv.arc.primitives.MARK)
# up, down, left, right, then the four diagonals
STEPS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def _shifted(a: np.ndarray, di: int, dj: int) -> np.ndarray:
    """a[i + di, j + dj] at every cell (OUTSIDE beyond the grid)."""
    p = np.pad(a, 1, constant_values=OUTSIDE)
    h, w = a.shape
    return p[1 + di : 1 + di + h, 1 + dj : 1 + dj + w]


def _ray(g: np.ndarray, bg: int, di: int, dj: int) -> tuple[np.ndarray, np.ndarray]:
    """The first non-background colour met walking from each cell in direction (di, dj), not
    counting the cell itself, and how many steps away it is (OUTSIDE for both if none)."""
    nxt = _shifted(g, di, dj)
    coloured = (nxt != bg) & (nxt != OUTSIDE)
    seen, far = np.full(g.shape, OUTSIDE), np.full(g.shape, OUTSIDE)
    for _ in range(max(g.shape)):  # each pass lets a colour travel one more cell
        ahead, ahead_far = _shifted(seen, di, dj), _shifted(far, di, dj)
        step = np.where(coloured, nxt, ahead)
        step_far = np.where(coloured, 1, np.where(ahead_far > 0, ahead_far + 1, OUTSIDE))
        if np.array_equal(step, seen) and np.array_equal(step_far, far):
            break
        seen, far = step, step_far
    return seen, far


def _components(g: np.ndarray) -> list[np.ndarray]:
    """Per cell, of its one-colour (4-connected) component: where the cell lies in the
    component's bounding box (from each side), the box's height and width, the component's size
    rank among all components (largest: 0), whether it touches the grid's border, its holes."""
    out = [np.zeros(g.shape) for _ in range(9)]
    h, w = g.shape
    comps = []
    for c in np.unique(g):
        labels, _ = ndimage.label(g == c)
        comps += [(labels, k, box) for k, box in enumerate(ndimage.find_objects(labels), 1)]
    sizes = [int((labels[box] == k).sum()) for labels, k, box in comps]
    ranks = sorted(set(sizes), reverse=True)
    for (labels, k, (rows, cols)), n in zip(comps, sizes, strict=True):
        m = labels[rows, cols] == k
        ii, jj = np.indices(m.shape)
        border = rows.start == 0 or cols.start == 0 or rows.stop == h or cols.stop == w
        holes = ndimage.label(ndimage.binary_fill_holes(m) & ~m)[1]
        values = (ii, jj, m.shape[0] - 1 - ii, m.shape[1] - 1 - jj, m.shape[0], m.shape[1],
                  ranks.index(n), border, holes)  # fmt: skip
        for f, v in zip(out, values, strict=True):
            f[rows, cols][m] = np.broadcast_to(v, m.shape)[m]
    return out


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


def groups(g: np.ndarray) -> dict[str, list[np.ndarray]]:
    """Each cell's features in named groups, as (h, w) arrays; the background is the grid's most
    common colour. colour: the cell's colour (and one-hot); neighbours: its 8 neighbours and how
    many have each colour; rays: the first colour met along each of 8 rays and whether opposite
    rays meet the same one; lines: which colours its row and column hold; position: from each
    side, mod 2 and 3; mirror: its mirror images; objects: the size of its one-colour component
    and its multi-colour object's shape; context: its colour's frequency rank, whether it is an
    enclosed background cell, in which colours' bounding boxes it lies; distances: how far each
    ray goes before it meets a colour, how many coloured cells its row and column hold;
    components: its place in its one-colour component (`_components`)."""
    g = np.asarray(g, dtype=int)
    h, w = g.shape
    vals, counts = np.unique(g, return_counts=True)
    bg = int(vals[np.argmax(counts)])
    hood = [_shifted(g, di, dj) for di, dj in STEPS]
    rays, far = zip(*(_ray(g, bg, di, dj) for di, dj in STEPS), strict=True)
    has = g[..., None] == COLOURS  # (h, w, colours)
    rows, cols = has.any(1), has.any(0)  # (h, colours), (w, colours)
    i, j = np.indices((h, w))
    size = np.zeros((h, w))
    for c in vals:
        labels, _ = ndimage.label(g == c)
        size[g == c] = np.bincount(labels.ravel())[labels[g == c]]
    rank = np.zeros(len(COLOURS), int)
    rank[vals[np.argsort(-counts, kind="stable")]] = np.arange(len(vals))
    boxes = []
    for c in COLOURS:
        box = np.zeros((h, w), bool)
        if c != bg and (g == c).any():
            ys, xs = np.nonzero(g == c)
            box[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] = True
        boxes.append(box)
    return {
        "colour": [g, *(g == c for c in COLOURS)],
        "neighbours": [*hood, *(sum(n == c for n in hood) for c in COLOURS)],
        "rays": [
            *rays,
            np.where(rays[0] == rays[1], rays[0], OUTSIDE),
            np.where(rays[2] == rays[3], rays[2], OUTSIDE),
        ],
        "lines": [
            *(np.broadcast_to(rows[:, None, c], (h, w)) for c in COLOURS),
            *(np.broadcast_to(cols[None, :, c], (h, w)) for c in COLOURS),
        ],
        "position": [i, j, h - 1 - i, w - 1 - j, i % 2, j % 2, i % 3, j % 3],
        "mirror": [
            g[:, ::-1],
            g[::-1],
            g[::-1, ::-1],
            *([g.T, g[::-1, ::-1].T] if h == w else [np.full((h, w), OUTSIDE)] * 2),
        ],
        "objects": [size, g == bg, *_objects(g, bg)],
        "context": [rank[g], ndimage.binary_fill_holes(g != bg) & (g == bg), *boxes],
        "distances": [
            *far,
            np.broadcast_to((g != bg).sum(1, keepdims=True), (h, w)),
            np.broadcast_to((g != bg).sum(0, keepdims=True), (h, w)),
        ],
        "components": _components(g),
    }


def features(g: np.ndarray) -> np.ndarray:
    """(cells, features): every group of `groups`, in order, one row per cell (row by row)."""
    f = [x for arrays in groups(g).values() for x in arrays]
    h, w = np.shape(g)
    return np.stack([np.asarray(x, dtype=np.float32) for x in f], -1).reshape(h * w, -1)


def _columns() -> dict[str, np.ndarray]:
    """The feature columns of each group (the same for every grid)."""
    sizes = {name: len(arrays) for name, arrays in groups(np.zeros((3, 3), int)).items()}
    ends = np.cumsum(list(sizes.values()))
    return {n: np.arange(e - k, e) for (n, k), e in zip(sizes.items(), ends, strict=True)}


COLUMNS = _columns()
# The feature sets a rule may use, simplest first: the cell's colour with one more group, then
# with two, then everything. A rule over fewer features is tried (and trusted) first.
_OTHERS = [n for n in COLUMNS if n != "colour"]
FEATURE_SETS = (
    [("colour", n) for n in _OTHERS]
    + [("colour", a, b) for a, b in itertools.combinations(_OTHERS, 2)]
    + [tuple(COLUMNS)]
)


def _fit(keyed: list, cols: np.ndarray) -> DecisionTreeClassifier:
    """One tree grown on every cell until it fits (every feature in `cols` considered at every
    split), so it fits the pairs exactly wherever they do not contradict themselves."""
    x = np.concatenate([k[0][:, cols] for k in keyed])
    y = np.concatenate([k[1] for k in keyed])
    return DecisionTreeClassifier(random_state=0).fit(x, y)


def _consistent(keyed: list, cols: np.ndarray) -> bool:
    """No two cells share these features and differ in output: else no tree over them fits."""
    x = np.ascontiguousarray(np.concatenate([k[0][:, cols] for k in keyed]))
    y = np.concatenate([k[1] for k in keyed])
    rows = x.view(np.dtype((np.void, x.dtype.itemsize * x.shape[1]))).ravel()  # one key per cell
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    return bool(np.array_equal(y[first][inverse], y))


ABSENT = 20  # a normalised colour >= ABSENT is the absolute colour (minus ABSENT) of a colour
# the input does not have


def canonical(g: np.ndarray) -> np.ndarray:
    """A colour table that renames a grid's colours by how often they occur (most common: 0; ties
    by first appearance, row by row); colours it lacks map to ABSENT + colour."""
    flat = g.ravel()
    vals, first, counts = np.unique(flat, return_index=True, return_counts=True)
    order = vals[np.lexsort((first, -counts))]
    table = np.arange(len(COLOURS)) + ABSENT
    table[order] = np.arange(len(order))
    return table


class CellRule:
    """A fitted tree over some feature groups; calling it on a grid predicts the output grid of
    the same shape. With `relative`, colours are renamed by `canonical` first (per grid), so the
    rule speaks of "the most common colour" rather than of blue."""

    def __init__(self, tree: DecisionTreeClassifier, names: tuple[str, ...], relative: bool):
        self.tree, self.names, self.relative = tree, names, relative
        self.cols = np.concatenate([COLUMNS[n] for n in names])

    def __call__(self, g: np.ndarray) -> np.ndarray | None:
        table = canonical(g) if self.relative else np.arange(len(COLOURS))
        y = self.tree.predict(features(table[g])[:, self.cols]).astype(int)
        if self.relative:  # back to the grid's own colours
            back = np.full(ABSENT + len(COLOURS), -1)
            back[table] = np.arange(len(COLOURS))
            back[ABSENT:] = np.arange(len(COLOURS))
            if (y := back[y]).min() < 0:  # a colour rank this grid does not have
                return None
        return y.reshape(g.shape).astype(g.dtype)

    def __str__(self) -> str:
        used = "all features" if len(self.names) == len(COLUMNS) else " + ".join(self.names)
        how = ", colours by frequency" if self.relative else ""
        return f"cell rule over {used}{how} (a tree of {self.tree.get_n_leaves()} leaves)"


def cell_rules(pairs: list[tuple[np.ndarray, np.ndarray]],
               allow: Callable[[], bool] = lambda: True) -> Iterator[CellRule]:  # fmt: skip
    """Every CellRule that turns each input into its output and passes leave-one-out, simplest
    first: over each of FEATURE_SETS in turn, with the grids' own colours, then with colours
    renamed by frequency. None at all with fewer than 2 pairs, or shapes that differ; no more
    once `allow()`, asked before each feature set is tried, says False (the search's budget)."""
    if len(pairs) < 2 or any(a.shape != b.shape for a, b in pairs):
        return
    for relative in (False, True):
        tables = [canonical(a) if relative else np.arange(len(COLOURS)) for a, _ in pairs]
        keyed = [(features(t[a]), t[b].ravel()) for t, (a, b) in zip(tables, pairs, strict=True)]
        if not _consistent(keyed, np.arange(keyed[0][0].shape[1])):
            continue  # not even every feature separates the cells that differ
        for names in FEATURE_SETS:
            if not allow():
                return
            cols = np.concatenate([COLUMNS[n] for n in names])
            if not _consistent(keyed, cols):
                continue
            if all(np.array_equal(_fit(keyed[:i] + keyed[i + 1 :], cols).predict(x[:, cols]), y)
                   for i, (x, y) in enumerate(keyed)):  # fmt: skip
                yield CellRule(_fit(keyed, cols), names, relative)


def cell_rule(pairs: list[tuple[np.ndarray, np.ndarray]]) -> CellRule | None:
    """The first of `cell_rules`, or None."""
    return next(cell_rules(pairs), None)
