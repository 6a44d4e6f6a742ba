"""Build the HTML book: execute every chapter in _toc.yml that the cache cannot reuse, then render
the executed notebooks with the book's other pages (papers take their numbers from the runs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from distinv.book import cache
from distinv.book.chapters import Chapter, profile_overrides
from distinv.book.run import ChapterFailed, clock, run_chapter, show_progress
from distinv.book.toc import toc_chapters, toc_files
from distinv.errors import DistinvError
from distinv.metrics import BUILD_FILE, RUN_FILE

RUNS_PARAM = "runs"  # a chapter with this parameter reads the others' metrics: it runs last
TIMES_FILE = "times.md"  # the build's table of chapter times, beside the runs


@dataclass
class Step:
    """One chapter in one build: its run's key, when it ran, how long it took, whether reused."""

    chapter: str
    key: str
    finished: str
    seconds: float
    cached: bool


def plan(root: Path, profile: str | None) -> list[tuple[Chapter, dict]]:
    """Every chapter of the book with its parameters; dashboards that read the runs go last."""
    order = sorted(toc_chapters(root), key=lambda ch: RUNS_PARAM in ch.params)
    out = []
    for ch in order:
        params = ch.resolve(profile_overrides(ch, profile, root))
        if RUNS_PARAM in ch.params:
            params[RUNS_PARAM] = ".."  # relative to the run folder, so the notebook reruns anywhere
        out.append((ch, params))
    return out


def execute_all(
    root: Path,
    runs: Path,
    profile: str | None,
    log=print,
    rerun: tuple[str, ...] = (),
    force: bool = False,
    seeds: list[str] | None = None,
    swept: tuple[str, ...] = (),
    workers: int | None = None,
) -> list[Step]:
    """Run every chapter of the book into `runs`/<slug>/, reusing each finished run whose key still
    matches (unless `force`, or its slug is in `rerun`). Before the dashboards run, `build.json`
    names this build's runs and keys, so that a dashboard shows no run of another build.

    `seeds` (words as `distinv sweep -p seed` takes them) sweeps each chapter in `swept` over
    those seeds, with the build's profile, into `runs`/sweeps/<slug>/ (`distinv.book.sweep`,
    on a LocalCluster of `workers` processes) before the dashboards run, which show each metric's
    mean and interval across the seeds beside the build's own run."""
    from distinv.book import sweep

    runs.mkdir(parents=True, exist_ok=True)
    (runs / BUILD_FILE).unlink(missing_ok=True)
    grids = [sweep.make_grid(slug, [[sweep.SEED, *seeds]], profile, root) for slug in swept]
    steps: list[Step] = []
    sweeps: dict[str, dict] = {}
    bars = show_progress()
    for ch, params in plan(root, profile):
        if RUNS_PARAM in ch.params and not (runs / BUILD_FILE).is_file():
            for grid in grids:
                sweeps[grid.chapter.slug] = _sweep(grid, runs, root, workers, log)
            manifest = {s.chapter: {"key": s.key} for s in steps}
            (runs / BUILD_FILE).write_text(
                json.dumps({"profile": profile, "runs": manifest, "sweeps": sweeps}) + "\n"
            )
        target = runs / ch.slug
        source = ch.text
        record = (
            None
            if force or ch.slug in rerun
            else cache.fresh(target, source, params, profile, root)
        )
        if record is not None:
            log(f"{ch.slug}: from the cache (ran {record['finished']}, {clock(record['seconds'])})")
            steps.append(Step(ch.slug, record["key"], record["finished"], record["seconds"], True))
            continue
        last = _last_seconds(target, profile)
        for old in (target, Path(f"{target}.failed")):
            shutil.rmtree(old, ignore_errors=True)
        if not bars:
            expect = f"; last run {clock(last)}" if last else ""
            log(f"{ch.slug}: running ({profile or 'default'} profile{expect}) ...")
        metrics = run_chapter(ch, params, target, profile, bars, root, last)
        record = json.loads((target / RUN_FILE).read_text())
        log(f"{ch.slug}: {len(metrics)} metrics in {clock(record['seconds'])} -> {target}")
        steps.append(Step(ch.slug, record["key"], record["finished"], record["seconds"], False))
    for grid in grids:  # a book without a dashboard still gets its sweeps
        if grid.chapter.slug not in sweeps:
            _sweep(grid, runs, root, workers, log)
    times = timing_table(steps)
    (runs / TIMES_FILE).write_text(times + "\n")
    (runs / "steps.json").write_text(json.dumps([asdict(s) for s in steps], indent=1) + "\n")
    log(times)
    return steps


def _sweep(grid, runs: Path, root: Path, workers: int | None, log) -> dict:
    """Sweep one chapter over seeds for the build; a seed that fails fails the build."""
    from distinv.book import sweep

    out = runs / "sweeps" / grid.chapter.slug
    log(f"{grid.chapter.slug}: sweep over {len(grid.points)} seeds into {out}")
    rows = sweep.run(grid, out, root, workers=workers, log=log)
    failed = [r["point"] for r in rows.values() if r["status"] == "failed"]
    if failed:
        raise ChapterFailed(f"sweep of {grid.chapter.slug}: {', '.join(failed)} failed (see {out})")
    return {"folder": str(out.relative_to(runs)), "seeds": grid.axes[sweep.SEED]}


def _last_seconds(target: Path, profile: str | None) -> float | None:
    """How long this chapter's previous run in `target` took, if it had the same profile."""
    try:
        record = json.loads((target / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None
    return record.get("seconds") if record.get("profile") == profile else None


def timing_table(steps: list[Step]) -> str:
    """A Markdown table: each chapter's time, when it ran, whether this build reused it."""
    rows = ["| chapter | seconds | ran | this build |", "|---|---:|---|---|"]
    for s in steps:
        how = "reused from the cache" if s.cached else "executed"
        rows.append(f"| {s.chapter} | {s.seconds:.0f} | {s.finished} | {how} |")
    total = sum(s.seconds for s in steps if not s.cached)
    rows.append(f"| executed in this build | {total:.0f} | | |")
    return "\n".join(rows)


def _stage_notebook(run: Path, dest: Path) -> None:
    """Copy an executed chapter; papermill's parameter cell is hidden when it is only plumbing."""
    nb = nbformat.read(run / f"{run.name}.ipynb", as_version=4)
    params = json.loads((run / RUN_FILE).read_text())["params"]
    if set(params) <= {RUNS_PARAM}:  # nothing a reader chose: the book shows the defaults cell
        for cell in nb.cells:
            tags = cell.metadata.get("tags", [])
            if "injected-parameters" in tags:
                cell.metadata["tags"] = [*tags, "remove-cell"]
    nbformat.write(nb, dest)


def render(root: Path, runs: Path, out: Path) -> Path:
    """Stage the executed notebooks with the book's pages and build HTML, warnings as errors.

    A page that is not a chapter (a paper) may quote a chapter's metric with the `metric` role
    (`distinv.book.papers`); a metric that no run of this build wrote fails the build."""
    from distinv.book import papers

    stage = out / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(root / name, stage / name)
    for f in toc_files(root):
        dest = stage / f
        dest.parent.mkdir(parents=True, exist_ok=True)
        if f.startswith("book/"):
            run = runs / Path(f).name
            if not (run / RUN_FILE).is_file():
                raise DistinvError(f"chapter {f} has no finished run in {runs}")
            _stage_notebook(run, dest.with_suffix(".ipynb"))
            continue
        page = next((root / f).parent.glob(f"{Path(f).name}.*"), None)
        if page is None:
            raise DistinvError(f"_toc.yml names {f}, which does not exist")
        text = page.read_text()
        papers.check(text, runs, page.name)
        dest.with_suffix(page.suffix).write_text(text)
    bindir = Path(sys.executable).parent
    subprocess.run([bindir / "jupyter-book", "config", "sphinx", str(stage)], check=True)
    conf = stage / "conf.py"
    conf.write_text(conf.read_text() + papers.conf_lines(runs))
    html = out / "html"
    shutil.rmtree(html, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    cmd += ["-d", str(out / "doctrees"), str(stage), str(html)]
    if subprocess.run(cmd).returncode != 0:
        raise DistinvError("the book build failed (Sphinx warnings are errors); see above")
    return html / "index.html"
