"""A fitted step for ARC tasks whose output is a grid of blocks, each block the input turned or
flipped, or blank (07_arc).

Given (hand-written): the eight turns and flips of a grid, a blank (background or black) block,
and two ways to decide which block goes where: by the block's position in the output (a fixed
layout), or by the input cell at that position (the input copied into its own cells), keyed by
whether the cell is background, whether it has the most common colour, or its colour. Fitted per
task: the layout, or the table from key to block, read off the training pairs; it must agree
with all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from distinv.arc.grids import TURNS, background


def _options(turns: dict[str, np.ndarray], bg: int, block: np.ndarray) -> frozenset[str]:
    """Which of the input's turns (or blank, its background `bg`, or black) this block is."""
    found = {n for n, t in turns.items() if t.shape == block.shape and np.array_equal(t, block)}
    if (block == bg).all():
        found.add("blank")
    if (block == 0).all():  # black, where the input's own background is another colour
        found.add("black")
    return frozenset(found)


def _split(g: np.ndarray, out: np.ndarray) -> list[list[np.ndarray]] | None:
    """The output cut into blocks of the input's shape, as rows of blocks."""
    (h, w), (H, W) = g.shape, out.shape
    if H % h or W % w or (H, W) == (h, w):
        return None
    return [[out[i : i + h, j : j + w] for j in range(0, W, w)] for i in range(0, H, h)]


@dataclass(frozen=True)
class Blocks:
    by: str  # "position" (a fixed layout) or one of KEYS (what of the input cell decides)
    table: tuple  # position: rows of block names; else ((key, block name), ...)

    def __call__(self, g: np.ndarray) -> np.ndarray | None:
        """The output grid, or None where a cell's key has no block in the table."""
        layout = self._layout(g)
        if layout is None:
            return None
        make = {
            **{n: f(g) for n, f in TURNS.items()},
            "blank": np.full_like(g, background(g)),
            "black": np.zeros_like(g),
        }
        grid = [[make[n] for n in row] for row in layout]
        if any(b.shape != g.shape for row in grid for b in row):  # a turn of a non-square grid
            return None
        return np.block(grid)

    def _layout(self, g: np.ndarray) -> list[list[str]] | None:
        if self.by == "position":
            return [list(row) for row in self.table]
        lookup, keys = dict(self.table), _keys(g, self.by)
        if g.size > 100 or any(k not in lookup for k in keys.ravel().tolist()):
            return None
        return [[lookup[k] for k in row] for row in keys.tolist()]

    def __str__(self) -> str:
        if self.by == "position":
            return "blocks " + " / ".join(" ".join(row) for row in self.table)
        return f"each cell becomes a block by its {self.by}: " + ", ".join(
            f"{k}->{n}" for k, n in self.table
        )


KEYS = ("background", "most common colour", "colour")  # what of a cell decides its block


def _keys(g: np.ndarray, by: str) -> np.ndarray:
    """Per input cell, the value its block is looked up by."""
    if by == "background":
        return g == background(g)
    if by == "most common colour":
        counts = np.bincount(g.ravel())
        return g == counts.argmax() if (counts == counts.max()).sum() == 1 else np.full(g.shape, -1)
    return g


def _choose(options: list[frozenset[str]]) -> str | None:
    """The first block name (in TURNS order, then blank, black) that every option set allows."""
    common = frozenset.intersection(*options)
    return next((n for n in [*TURNS, "blank", "black"] if n in common), None)


def blocks(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Blocks | None:
    """A Blocks step that turns every input into its output, or None."""
    split = [_split(a, b) for a, b in pairs]
    if any(s is None for s in split):
        return None
    opts = []
    for (a, _), s in zip(pairs, split, strict=True):
        turns, bg = {n: f(a) for n, f in TURNS.items()}, background(a)
        opts.append([[_options(turns, bg, blk) for blk in row] for row in s])
    # by position: every pair's output has the same block layout
    dims = {(len(o), len(o[0])) for o in opts}
    if len(dims) == 1:
        rows, cols = dims.pop()
        layout = [[_choose([o[i][j] for o in opts]) for j in range(cols)] for i in range(rows)]
        if all(n is not None for row in layout for n in row):
            return Blocks("position", tuple(tuple(row) for row in layout))
    # by a cell's key: the output has one block per input cell
    if not all((len(o), len(o[0])) == a.shape for o, (a, _) in zip(opts, pairs, strict=True)):
        return None
    for by in KEYS:
        per_key: dict = {}
        for o, (a, _) in zip(opts, pairs, strict=True):
            for (i, j), k in np.ndenumerate(_keys(a, by)):
                per_key.setdefault(k.item(), []).append(o[i][j])
        table = {k: _choose(v) for k, v in per_key.items()}
        if all(n is not None for n in table.values()) and len(set(table.values())) > 1:
            return Blocks(by, tuple(sorted(table.items())))
    return None
