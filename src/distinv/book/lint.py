"""Chapter code linted like the package: each chapter's code cells, as a notebook, through ruff
with the project's configuration (`python -m distinv.book.lint [CHAPTER.md ...]`)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat

from distinv.paths import project_root


def lint(chapters: list[Path], root: Path) -> int:
    """ruff over the code cells of `chapters`; its exit code. Findings name the chapter and cell."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for md in chapters:
            nb = jupytext.read(md, fmt="md:myst")
            nb.metadata["language_info"] = {"name": "python"}  # ruff lints Python notebooks only
            nb.cells = [c for c in nb.cells if c.cell_type == "code"]
            files.append(Path(tmp) / f"{md.stem}.ipynb")
            nbformat.write(nb, files[-1])
        ruff = Path(sys.executable).parent / "ruff"
        cmd = [str(ruff), "check", "--config", str(root / "pyproject.toml"), "--no-cache"]
        done = subprocess.run([*cmd, "--output-format", "concise", *map(str, files)],
                              capture_output=True, text=True)  # fmt: skip
        out = done.stdout.replace(tmp + "/", "book/").replace(".ipynb:cell ", ".md: code cell ")
        print(out, end="")
        return done.returncode


def main(argv: list[str]) -> int:
    root = project_root()
    chapters = [Path(a) for a in argv] or sorted((root / "book").glob("[0-9][0-9]_*.md"))
    return lint(chapters, root)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
