"""The package's layout rules, read from the imports (those inside functions too): the research code
never imports the book machinery, chapters import only research code, and every module says its
role in a docstring that names chapters by slug."""

import ast
import re
from pathlib import Path

import jupytext
import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "distinv"
MACHINERY = ("distinv.book", "distinv.cli", "distinv.__main__")
TOPICS = ("distinv.scan", "distinv.binding", "distinv.physics", "distinv.arc")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str) -> set[str]:
    """Every `distinv` module a source imports, anywhere in it (`from distinv import x` too)."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return {m for m in out if m.split(".")[0] == "distinv"}


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
RESEARCH = [m for m in MODULES if not within(m, MACHINERY) and m != "distinv"]


def test_the_tree_has_the_layout():
    assert {m for m in MODULES if m.count(".") == 1 and MODULES[m].name == "__init__.py"} >= set(
        TOPICS
    )
    assert "distinv.book" in MODULES and "distinv.cli" in MODULES
    assert not any(within(m, ("distinv.data", "distinv.models")) for m in MODULES)


@pytest.mark.parametrize("name", RESEARCH)
def test_research_code_never_imports_the_machinery(name):
    bad = {m for m in imported(MODULES[name].read_text()) if within(m, MACHINERY)}
    assert not bad, f"{name} imports {sorted(bad)}"


@pytest.mark.parametrize("chapter", sorted((REPO / "book").glob("[0-9][0-9]_*.md")), ids=str)
def test_chapters_never_import_the_machinery(chapter):
    nb = jupytext.read(chapter, fmt="md:myst")
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    found = imported(code)
    assert found, f"{chapter.name} imports nothing from distinv"
    bad = {m for m in found if within(m, MACHINERY)}
    assert not bad, f"{chapter.name} imports {sorted(bad)}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_says_its_role_and_names_chapters_by_slug(name):
    doc = ast.get_docstring(ast.parse(MODULES[name].read_text()))
    assert doc, f"{name} has no module docstring"
    stale = re.findall(r"\bchapters? \d+\b", doc)
    assert not stale, f"{name}'s docstring names a chapter by number: {stale}; use its slug"


def test_the_import_reader_sees_imports_inside_functions():
    src = "def f():\n    from distinv.book.chapters import project_root\n    import distinv.cli\n"
    assert imported(src) >= {"distinv.book.chapters", "distinv.cli"}
    assert imported("from distinv import book\n") == {"distinv", "distinv.book"}
