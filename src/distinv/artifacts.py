"""Models one chapter trains and another reuses, saved in the training chapter's run folder.

A chapter saves `<name>.pt` into its run folder (`save`); a later chapter finds that chapter's
finished run (`run_folder`) and loads it (`load`). Because the file lies under the book's root,
the execution cache records that the reader opened it, so a new training run makes the reader's
cached run stale. Where the reader looks (`sources`):

- a folder holding run folders by slug (a book build passes its own `book-runs`);
- "auto": beside the reader's own run folder when that folder holds the chapter (a book build,
  the smoke build included), else `_build/book-runs/<slug>`, else the newest finished default run
  of `distinv run` (`_build/runs/<slug>/<timestamp>`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from distinv.metrics import RUN_FILE

SUFFIX = ".pt"
BOOK_RUNS = "book-runs"  # where a book build keeps its runs, one folder per chapter


def save(name: str, obj, folder: str | Path = ".") -> Path:
    """Write obj to `folder`/`name`.pt atomically (a partial file is never left looking done)."""
    path = Path(folder) / f"{name}{SUFFIX}"
    tmp = path.with_suffix(".partial")
    torch.save(obj, tmp)
    os.replace(tmp, path)
    return path


def _finished(folder: Path) -> bool:
    return (folder / RUN_FILE).is_file()


def run_folder(chapter: str, sources: str | Path = "auto") -> Path:
    """The finished run of `chapter` (a slug such as 09_shapes) that a reader uses."""
    from distinv.paths import project_root

    if sources != "auto":
        folder = Path(sources) / chapter
        if not _finished(folder):
            raise FileNotFoundError(f"no finished run of {chapter} in {Path(sources).resolve()}")
        return folder
    root = project_root() / "_build"
    beside = Path.cwd().parent.name == BOOK_RUNS  # the reader runs inside a book build
    for folder in ([Path("..") / chapter] if beside else []) + [root / BOOK_RUNS / chapter]:
        if _finished(folder):
            return folder
    runs = root / "runs" / chapter
    default = []
    for folder in sorted(runs.glob("*")) if runs.is_dir() else []:
        if folder.is_dir() and _finished(folder):
            if json.loads((folder / RUN_FILE).read_text()).get("profile") is None:
                default.append(folder)
    if default:
        return default[-1]
    raise FileNotFoundError(
        f"no finished run of {chapter}: run it first (`distinv run {chapter}`, or `make book`)"
    )


def load(chapter: str, name: str, sources: str | Path = "auto"):
    """What `chapter` saved as `name` (see `save`), from the run `run_folder` finds."""
    path = run_folder(chapter, sources) / f"{name}{SUFFIX}"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the run of {chapter} there predates it; run {chapter} again"
        )
    return torch.load(path, weights_only=False)
