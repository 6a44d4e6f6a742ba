"""A fitted step for ARC (07_arc): a cell-wise colour map read off a task's training pairs."""

from __future__ import annotations

from distinv.arc.grids import Grid


def colour_map(pairs: list[tuple[Grid, Grid]]) -> tuple[tuple[int, int], ...] | None:
    """A cell-wise colour map that turns every first grid into its second, or None."""
    table: dict[int, int] = {}
    for a, b in pairs:
        if a.shape != b.shape:
            return None
        for x, y in zip(a.ravel().tolist(), b.ravel().tolist(), strict=True):
            if table.setdefault(x, y) != y:
                return None
    return tuple(sorted((x, y) for x, y in table.items() if x != y))
