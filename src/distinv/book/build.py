"""Build the HTML book: execute every chapter in _toc.yml, then render the executed notebooks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

from distinv.book.chapters import Chapter, find, profile_overrides
from distinv.book.run import run_chapter
from distinv.errors import DistinvError
from distinv.metrics import RUN_FILE

RUNS_PARAM = "runs"  # a chapter with this parameter reads the others' metrics: it runs last


def toc_files(root: Path) -> list[str]:
    """Every `file:` of _toc.yml, root first, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                files.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc.get("parts", toc.get("chapters", [])))
    return files


def toc_chapters(root: Path) -> list[Chapter]:
    """The chapters the book shows, in reading order."""
    return [find(Path(f).name, root) for f in toc_files(root) if f.startswith("book/")]


def execute_all(root: Path, runs: Path, profile: str | None, log=print) -> None:
    """Run every chapter of the book into `runs`/<slug>/; dashboards that read the runs go last."""
    chapters = toc_chapters(root)
    order = sorted(chapters, key=lambda ch: RUNS_PARAM in ch.params)
    for ch in order:
        params = ch.resolve(profile_overrides(ch, profile, root))
        if RUNS_PARAM in ch.params:
            params[RUNS_PARAM] = ".."  # relative to the run folder, so the notebook reruns anywhere
        target = runs / ch.slug
        for old in (target, Path(f"{target}.failed")):
            shutil.rmtree(old, ignore_errors=True)
        log(f"running {ch.slug} ({profile or 'default'} profile) ...")
        metrics = run_chapter(ch, params, target, profile=profile)
        log(f"  {ch.slug}: {len(metrics)} metrics -> {target}")


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
    """Stage the executed notebooks with the book's pages and build HTML, warnings as errors."""
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
        shutil.copy(page, dest.with_suffix(page.suffix))
    bindir = Path(sys.executable).parent
    subprocess.run([bindir / "jupyter-book", "config", "sphinx", str(stage)], check=True)
    html = out / "html"
    shutil.rmtree(html, ignore_errors=True)
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
    cmd += ["-d", str(out / "doctrees"), str(stage), str(html)]
    if subprocess.run(cmd).returncode != 0:
        raise DistinvError("the book build failed (Sphinx warnings are errors); see above")
    return html / "index.html"
