"""A fitted step for ARC (07_arc): a local 3x3 rule, the output colour of each input pattern, read
off a task's training pairs and kept only if it passes leave-one-out on them."""

from __future__ import annotations

import numpy as np

from distinv.arc.grids import Grid
from distinv.arc.primitives import MARK


def patches(g: Grid) -> list[bytes]:
    """Each cell's 3x3 neighbourhood (outside the grid: MARK + 1), as a hashable key, row by row."""
    p = np.pad(g.astype(np.int8), 1, constant_values=MARK + 1)
    w = np.lib.stride_tricks.sliding_window_view(p, (3, 3)).reshape(-1, 9)
    return [row.tobytes() for row in w]


def local_rule(pairs: list[tuple[Grid, Grid]]) -> dict | None:
    """The output colour of each 3x3 input pattern, if the training pairs agree on every one; at
    test time a pattern never seen keeps its colour. Accepted only if it also passes
    leave-one-out on the training pairs: fitted on all but one, it must get that one right."""
    if len(pairs) < 2 or any(a.shape != b.shape for a, b in pairs):
        return None
    keyed = [(patches(a), a.ravel().tolist(), b.ravel().tolist()) for a, b in pairs]

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
