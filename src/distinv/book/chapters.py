"""The book's chapters: where they are, their typed parameters, and named profiles of overrides."""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import jupytext
import yaml

from distinv.errors import DistinvError
from distinv.paths import project_root

PARAM_TYPES = {"int": int, "float": float, "str": str, "bool": bool}
_SLUG = re.compile(r"^(\d\d)_([a-z0-9_]+)$")


@dataclass(frozen=True)
class Param:
    """One typed value of a chapter's `parameters` cell."""

    name: str
    type: type
    default: object
    comment: str

    def coerce(self, value: object, chapter: str) -> object:
        """`value` (a CLI string or a YAML value) as this parameter's type, or DistinvError."""
        expected = self.type.__name__
        bad = DistinvError(
            f"parameter {self.name!r} of chapter {chapter} expects {expected}, got {value!r}"
        )
        if isinstance(value, str) and self.type is not str:
            if self.type is bool:
                if value.lower() not in ("true", "false", "1", "0"):
                    raise bad
                return value.lower() in ("true", "1")
            try:
                value = self.type(value)
            except ValueError:
                raise bad from None
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not self.type or (self.type is float and not math.isfinite(value)):
            raise bad
        return value


def parse_parameters(source: str, chapter: str = "?") -> dict[str, Param]:
    """The parameters of a `parameters` cell: flat lines `name: type = literal  # comment`."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    comments = {
        t.start[0]: t.string.lstrip("#").strip() for t in tokens if t.type == tokenize.COMMENT
    }
    params = {}
    for node in ast.parse(source).body:
        ok = (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(node.annotation, ast.Name)
            and node.annotation.id in PARAM_TYPES
            and node.value is not None
        )
        if not ok:
            raise DistinvError(
                f"chapter {chapter}: parameters cell line {node.lineno} is not "
                "`name: int|float|str|bool = value  # comment`"
            )
        default = ast.literal_eval(node.value)
        comment = comments.get(node.lineno, "")
        param = Param(node.target.id, PARAM_TYPES[node.annotation.id], default, comment)
        param.coerce(param.default, chapter)  # the default must have its declared type
        params[param.name] = param
    return params


@dataclass(frozen=True)
class Chapter:
    """A chapter source `book/NN_slug.md`."""

    path: Path

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def number(self) -> str:
        return self.slug[:2]

    @property
    def name(self) -> str:
        return self.slug[3:]

    @cached_property
    def text(self) -> str:
        """The source as read once: the notebook that runs and the cache key both come from it."""
        return self.path.read_text()

    @cached_property
    def notebook(self):
        return jupytext.reads(self.text, fmt="md:myst")

    @property
    def title(self) -> str:
        for cell in self.notebook.cells:
            for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
                if line.startswith("# "):
                    return line[2:].strip()
        return self.slug

    @cached_property
    def params(self) -> dict[str, Param]:
        code = [c for c in self.notebook.cells if c.cell_type == "code"]
        if not code or "parameters" not in code[0].metadata.get("tags", []):
            raise DistinvError(
                f"chapter {self.slug}: its first code cell is not tagged 'parameters'"
            )
        return parse_parameters(code[0].source, self.slug)

    def resolve(self, overrides: dict[str, object]) -> dict[str, object]:
        """Overrides checked against the parameters cell and coerced to the declared types."""
        out = {}
        for key, value in overrides.items():
            if key not in self.params:
                known = ", ".join(self.params) or "(none)"
                raise DistinvError(
                    f"unknown parameter {key!r} for chapter {self.slug}; its parameters: {known}"
                )
            out[key] = self.params[key].coerce(value, self.slug)
        return out


def chapters(root: Path | None = None) -> list[Chapter]:
    """Every `book/NN_slug.md`, in number order."""
    root = root or project_root()
    return [Chapter(p) for p in sorted((root / "book").glob("*.md")) if _SLUG.match(p.stem)]


def find(key: str, root: Path | None = None) -> Chapter:
    """A chapter by slug (`01_scan`), name (`scan`) or number (`01` or `1`)."""
    known = chapters(root)
    for ch in known:
        if key in (ch.slug, ch.name, ch.number) or (key.isdigit() and int(key) == int(ch.number)):
            return ch
    names = ", ".join(ch.slug for ch in known)
    raise DistinvError(f"unknown chapter {key!r}; known: {names}")


def profiles(root: Path | None = None) -> dict[str, dict[str, dict[str, object]]]:
    """`book/profiles.yml`: profile name -> chapter slug -> parameter overrides."""
    path = (root or project_root()) / "book" / "profiles.yml"
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    return data or {}


def profile_overrides(chapter: Chapter, profile: str | None, root: Path | None = None) -> dict:
    """The overrides a named profile gives `chapter` ({} for none)."""
    if profile is None:
        return {}
    known = profiles(root)
    if profile not in known:
        raise DistinvError(f"unknown profile {profile!r}; known: {', '.join(known) or '(none)'}")
    return dict((known[profile] or {}).get(chapter.slug) or {})
