"""The book's table of contents, `_toc.yml`: its pages in reading order, and its chapters."""

from __future__ import annotations

from pathlib import Path

import yaml

from distinv.book.chapters import Chapter, find


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
