"""The ARC DSL's whole-grid primitives (07_arc): Grid -> Grid, or None where they do not apply,
and their table `PRIMITIVES` that the search enumerates."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from scipy import ndimage

from distinv.arc import symmetry as arc_symmetry
from distinv.arc.grids import TURNS, Grid, background

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
