"""The execution cache on a small book: what reruns when a chapter, a module or a parameter changes,
and that a failed run is never reused."""

import json
from pathlib import Path

import pytest

from distinv.book import cache
from distinv.book.build import execute_all
from distinv.book.run import ChapterFailed
from distinv.metrics import RUN_FILE

CHAPTER = """---
kernelspec:
  name: python3
  display_name: Python 3
---

# Chapter {name}

Some prose.

```{{code-cell}} ipython3
:tags: [parameters]

n: int = 2  # a number
```

```{{code-cell}} ipython3
{body}
from distinv import metrics

metrics.save({{"n": n, "value": value}})
```
"""
A_BODY = "import sys\nsys.path.insert(0, '..')\nimport helper\nvalue = helper.VALUE"
B_BODY = "from distinv import stats\nvalue = stats.ratio_interval([1.0, 2.0], [1.0, 1.0])[0]"


@pytest.fixture
def book(tmp_path) -> Path:
    (tmp_path / "book").mkdir()
    for name, body in (("a", A_BODY), ("b", B_BODY)):
        (tmp_path / "book" / f"0{'ab'.index(name) + 1}_{name}.md").write_text(
            CHAPTER.format(name=name, body=body)
        )
    (tmp_path / "book" / "profiles.yml").write_text("small:\n  02_b:\n    n: 1\n")
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/01_a\nchapters:\n  - file: book/02_b\n"
    )
    return tmp_path


def build(root: Path, profile=None, **kw) -> dict[str, bool]:
    """Which chapters this build reused (True) or executed (False)."""
    steps = execute_all(root, root / "_build" / "book-runs", profile, log=lambda *_: None, **kw)
    return {s.chapter: s.cached for s in steps}


def test_what_reruns(book):
    runs = book / "_build" / "book-runs"
    # the helper sits beside the runs folder's chapters: the run reads it through `..`
    (runs).mkdir(parents=True)
    (runs / "helper.py").write_text("VALUE = 1.5\n")
    assert build(book) == {"01_a": False, "02_b": False}
    assert build(book) == {"01_a": True, "02_b": True}  # nothing changed: all from the cache

    a = json.loads((runs / "01_a" / RUN_FILE).read_text())
    b = json.loads((runs / "02_b" / RUN_FILE).read_text())
    assert any(f.endswith("_build/book-runs/helper.py") for f in a["inputs"]["files"])
    # the lazily imported module is recorded for the chapter that imported it, and only there
    assert any(f.endswith("distinv/stats.py") for f in b["inputs"]["files"])
    assert not any(f.endswith("distinv/stats.py") for f in a["inputs"]["files"])
    assert cache.fresh(runs / "02_b", (book / "book" / "02_b.md").read_text(), {}, None, book)

    chapter_a = book / "book" / "01_a.md"
    chapter_a.write_text(chapter_a.read_text().replace("Some prose.", "Other prose."))
    assert build(book) == {"01_a": False, "02_b": True}  # an edit to one chapter's prose

    (runs / "helper.py").write_text("VALUE = 2.5\n")
    assert build(book) == {"01_a": False, "02_b": True}  # an edit to the module a imports

    assert build(book, "small") == {"01_a": False, "02_b": False}  # a changed profile, parameter
    assert build(book, "small") == {"01_a": True, "02_b": True}
    assert build(book, "small", rerun=("02_b",)) == {"01_a": True, "02_b": False}
    assert build(book, "small", force=True) == {"01_a": False, "02_b": False}


def test_a_failed_run_is_never_reused(book):
    runs = book / "_build" / "book-runs"
    runs.mkdir(parents=True)
    (runs / "helper.py").write_text("VALUE = 1.5\n")
    assert build(book) == {"01_a": False, "02_b": False}
    (runs / "helper.py").write_text("VALUE = undefined_name\n")
    with pytest.raises(ChapterFailed, match="01_a failed"):
        build(book)
    assert (runs / "01_a.failed").is_dir() and not (runs / "01_a").exists()
    (runs / "helper.py").write_text("VALUE = 1.5\n")  # back as it was: the run must execute again
    assert build(book) == {"01_a": False, "02_b": True}


def test_a_module_is_keyed_as_it_was_when_the_run_started(tmp_path):
    (tmp_path / "mod.py").write_text("A = 1\n")
    at_start = cache.package_digests()
    assert any(p.endswith("distinv/book/cache.py") for p in at_start)
    edited = {str((tmp_path / "mod.py").resolve()): cache.digest("A = 0\n")}
    now = cache.inputs("src", {}, None, tmp_path, ["mod.py"])
    then = cache.inputs("src", {}, None, tmp_path, ["mod.py"], edited)
    assert now["files"]["mod.py"] == cache.digest("A = 1\n")
    assert then["files"]["mod.py"] == cache.digest("A = 0\n")
    assert cache.key_of(now) != cache.key_of(then)
