"""Execute one chapter: jupytext converts the .md, papermill runs it in a fresh run folder, and the
run's cache key (`distinv.book.cache`) is stored beside its metrics."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat

from distinv import __version__
from distinv.book import cache
from distinv.book.chapters import Chapter
from distinv.errors import DistinvError
from distinv.metrics import RUN_FILE, load

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class ChapterFailed(RuntimeError):
    """A chapter raised, or finished without writing metrics.json; `details` holds the traceback."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details


def default_run_dir(root: Path, chapter: Chapter) -> Path:
    """`_build/runs/<slug>/<timestamp>/`, made unique with a suffix if that second is taken."""
    base = root / "_build" / "runs" / chapter.slug / datetime.now().strftime("%Y%m%d-%H%M%S")
    out, i = base, 1
    while any(p.exists() for p in (out, Path(f"{out}.partial"), Path(f"{out}.failed"))):
        out, i = Path(f"{base}-{i}"), i + 1
    return out


def show_progress() -> bool:
    """Bars on a terminal; DISTINV_PROGRESS=0 or 1 forces them off or on."""
    forced = os.environ.get("DISTINV_PROGRESS")
    return sys.stderr.isatty() if forced is None else forced == "1"


def clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _instrumented(chapter: Chapter):
    """The chapter's notebook with the cache's recorder as its first and last cells (hidden)."""
    nb = copy.deepcopy(chapter.notebook)
    hidden = {"tags": ["remove-cell"]}
    nb.cells.insert(0, nbformat.v4.new_code_cell(cache.RECORDER_START, metadata=hidden))
    nb.cells.append(nbformat.v4.new_code_cell(cache.RECORDER_END, metadata=dict(hidden)))
    return nb


def run_chapter(
    chapter: Chapter,
    params: dict[str, object],
    out: Path,
    profile: str | None = None,
    progress: bool = False,
    root: Path | None = None,
    last_seconds: float | None = None,
) -> dict[str, float | int]:
    """Execute `chapter` with `params` into `out`; return metrics.

    The run is built in `out.partial` and renamed to `out` only when it finished and wrote its
    metrics; a failed run is left as `out.failed` for its traceback, never as `out`. `progress`
    shows a bar over the chapter's cells, with the time of its last run (`last_seconds`) beside.
    """
    import jupytext
    import papermill as pm  # slow to import; only runs need them

    from distinv.paths import project_root

    root = Path(root or project_root())
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise DistinvError(f"run folder {out} already exists and is not empty")
    partial, failed = Path(f"{out}.partial"), Path(f"{out}.failed")
    for stale in (partial, failed):
        shutil.rmtree(stale, ignore_errors=True)
    partial.mkdir(parents=True)
    notebook = partial / f"{chapter.slug}.ipynb"
    source_text, at_start = chapter.text, cache.package_digests()
    bar = False
    if progress:
        last = f"last run {clock(last_seconds)}" if last_seconds else "no earlier run"
        fmt = "{desc}: {bar} {n_fmt}/{total_fmt} cells [{elapsed}; " + last + "]"
        bar = {"desc": chapter.slug, "file": sys.stderr, "dynamic_ncols": True, "bar_format": fmt}
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / f"{chapter.slug}.ipynb"
            jupytext.write(_instrumented(chapter), source)
            pm.execute_notebook(
                str(source),
                str(notebook),
                parameters=params,
                cwd=str(partial),
                kernel_name="python3",
                language="python",
                progress_bar=bar,
                # The kernel app's own log (a TCP-transport notice on every start) is noise for a
                # reader; errors and the cells' output and warnings are unaffected.
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        metrics = load(partial)
        if metrics is None:
            raise ChapterFailed(f"chapter {chapter.slug} finished without writing metrics.json")
        deps = cache.dependencies(partial, root)
    except pm.PapermillExecutionError as e:
        partial.rename(failed)
        tb = _ANSI.sub("", "\n".join(e.traceback))
        raise ChapterFailed(
            f"chapter {chapter.slug} failed in cell {e.exec_count}: {e.ename}: {e.evalue} "
            f"(notebook kept in {failed})",
            details=tb,
        ) from None
    except BaseException:
        if partial.exists():
            partial.rename(failed)
        raise
    inputs = cache.inputs(source_text, params, profile, root, deps, at_start)
    record = {
        "chapter": chapter.slug,
        "title": chapter.title,
        "profile": profile,
        "params": params,
        "seconds": round(time.perf_counter() - start, 2),
        "finished": datetime.now().isoformat(timespec="seconds"),
        "distinv": __version__,
        "key": cache.key_of(inputs),
        "inputs": inputs,
    }
    (partial / RUN_FILE).write_text(json.dumps(record, indent=2) + "\n")
    if out.exists():
        out.rmdir()
    partial.rename(out)
    return metrics
