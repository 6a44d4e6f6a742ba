"""A fitted step for ARC tasks whose output is always one of a few fixed grids (07_arc): which
one is learned per task by a decision tree over whole-grid features of the input.

Given (hand-written): the features below. Fitted per task: the tree, from the training pairs; it
may only answer with a grid some training pair has as its output. It is kept only if some output
recurs (else nothing says the answer is one of them) and it passes leave-one-out on every pair
whose output recurs: fitted on the other pairs, it must choose that pair's output.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.tree import DecisionTreeClassifier

from distinv.arc.grids import background

EIGHT = np.ones((3, 3), int)


def groups(g: np.ndarray) -> dict[str, list[float]]:
    """Whole-grid features in named groups. colours: how many cells of each colour, how many
    colours; objects: how many 8-connected objects, one-colour pieces of each colour, the largest
    object's size; symmetry: is the grid its own mirror image, half turn or transpose; cells: the
    grid's cells themselves (non-background or not), for grids of at most 5 by 5."""
    bg, fg = background(g), g != background(g)
    counts = np.bincount(g.ravel(), minlength=10)[:10]
    labels, n = ndimage.label(fg, structure=EIGHT)
    pieces = [ndimage.label(g == c)[1] if c != bg else 0 for c in range(10)]
    sizes = np.bincount(labels.ravel())[1:] if n else np.zeros(1)
    square = g.shape[0] == g.shape[1]
    cells = fg.ravel().tolist() + [0] * (25 - g.size) if g.size <= 25 else [-1] * 25
    return {
        "colours": [*counts, (counts > 0).sum()],
        "objects": [n, *pieces, sizes.max()],
        "symmetry": [
            np.array_equal(g, g[:, ::-1]),
            np.array_equal(g, g[::-1]),
            np.array_equal(g, g[::-1, ::-1]),
            square and np.array_equal(g, g.T),
        ],
        "cells": cells,
    }


def _features(found: dict[str, list[float]], names: tuple[str, ...]) -> list[float]:
    """The values of the named groups of `groups(g)`, in order."""
    return [float(v) for n in names for v in found[n]]


FEATURE_SETS = (("colours",), ("objects",), ("symmetry",), ("cells",),
                ("colours", "objects", "symmetry", "cells"))  # fmt: skip


class Choice:
    """A fitted tree; calling it on a grid returns the training output it chooses."""

    def __init__(self, tree: DecisionTreeClassifier, outputs: list[np.ndarray], names: tuple):
        self.tree, self.outputs, self.names = tree, outputs, names

    def __call__(self, g: np.ndarray) -> np.ndarray:
        return self.outputs[int(self.tree.predict([_features(groups(g), self.names)])[0])].copy()

    def __str__(self) -> str:
        return f"one of {len(self.outputs)} training outputs, chosen by {' + '.join(self.names)}"


def choice(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Choice | None:
    """A Choice that gives every training pair its output and passes leave-one-out, over the
    first of FEATURE_SETS that allows one; or None."""
    outputs: list[np.ndarray] = []
    labels = []
    for _, b in pairs:
        same = [i for i, o in enumerate(outputs) if o.shape == b.shape and np.array_equal(o, b)]
        labels.append(same[0] if same else len(outputs))
        outputs += [] if same else [b]
    labels = np.array(labels)
    recur = [i for i, y in enumerate(labels) if (labels == y).sum() > 1]
    if len(outputs) < 2 or not recur:
        return None
    found = [groups(a) for a, _ in pairs]
    for names in FEATURE_SETS:
        x = np.array([_features(f, names) for f in found])
        tree = DecisionTreeClassifier(random_state=0).fit(x, labels)
        if not np.array_equal(tree.predict(x), labels):
            continue
        rest = [np.arange(len(pairs)) != i for i in recur]
        if all(DecisionTreeClassifier(random_state=0).fit(x[m], labels[m]).predict(x[i : i + 1])[0]
               == labels[i] for i, m in zip(recur, rest, strict=True)):  # fmt: skip
            return Choice(tree, outputs, names)
    return None
