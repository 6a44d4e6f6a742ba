"""Where the book lives: the checkout's root, found the same way by the machinery and by research
code that keeps a file there (the binding chapter's checkpoint)."""

from __future__ import annotations

import os
from pathlib import Path

from distinv.errors import DistinvError


def project_root() -> Path:
    """The checkout: $DISTINV_ROOT, else the nearest folder upwards with _toc.yml and book/."""
    env = os.environ.get("DISTINV_ROOT")
    here = Path.cwd().resolve()
    candidates = [Path(env)] if env else [here, *here.parents, Path(__file__).resolve().parents[2]]
    for c in candidates:
        if (c / "_toc.yml").is_file() and (c / "book").is_dir():
            return c
    raise DistinvError(
        "no distinv book here: run inside a checkout (a folder with _toc.yml and book/) "
        "or set DISTINV_ROOT"
    )
