"""Shared test helpers."""

from pathlib import Path


def toy_book(root: Path, chapter: str, smoke: str) -> Path:
    """A one-chapter book in `root`: `book/01_toy.md` holding `chapter`, and a smoke profile
    `smoke` (YAML lines of the chapter's overrides, indented under it)."""
    (root / "book").mkdir()
    (root / "book" / "01_toy.md").write_text(chapter)
    (root / "book" / "profiles.yml").write_text(f"smoke:\n  01_toy:\n    {smoke}\n")
    (root / "_toc.yml").write_text("format: jb-book\nroot: book/01_toy\n")
    return root
