"""Progress bars that show on a terminal and stay quiet in executed notebooks and the book."""

from __future__ import annotations

import os
from collections.abc import Iterable

from tqdm import tqdm


def progress(iterable: Iterable | None = None, **kwargs) -> tqdm:
    """tqdm, shown only when stderr is a terminal; DISTINV_PROGRESS=0 or 1 forces it off or on."""
    forced = os.environ.get("DISTINV_PROGRESS")
    disable = None if forced is None else forced == "0"  # None: tqdm checks for a terminal
    return tqdm(iterable, disable=disable, dynamic_ncols=True, **kwargs)
