"""Grid conventions shared by the ARC modules (07_arc): the background colour, and the eight
turns and flips of a grid."""

from __future__ import annotations

import numpy as np

Grid = np.ndarray

# The eight symmetries of the square, as functions of a grid.
TURNS = {
    "copy": lambda g: g,
    "rot90": lambda g: np.rot90(g, 1),
    "rot180": lambda g: np.rot90(g, 2),
    "rot270": lambda g: np.rot90(g, 3),
    "flip_lr": np.fliplr,
    "flip_ud": np.flipud,
    "transpose": lambda g: g.T,
    "antitranspose": lambda g: np.rot90(g, 2).T,
}


def background(g: np.ndarray) -> int:
    """Black (0), ARC's usual background, where the grid has any; else the most common colour."""
    counts = np.bincount(g.ravel(), minlength=10)
    return 0 if counts[0] else int(counts.argmax())
