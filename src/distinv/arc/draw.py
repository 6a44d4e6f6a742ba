"""ARC grids drawn in ARC's ten-colour palette (07_arc)."""

from __future__ import annotations

import numpy as np


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
