"""Live numbers in the book's pages: a Sphinx extension the build loads.

- The role ``{metric}`04_binding/binding_basic_iid` `` inserts the value a chapter wrote to its
  `metrics.json` in this build, and ``{metric}`04_binding/binding_basic_iid:.1%` `` formats it
  (Python's format mini-language; the default is 4 significant digits).
- The directive ```` ```{build-times} ```` shows this build's table of chapter times: when each
  ran and whether this build reused it from the cache.

A metric that no run of this build wrote is an error: `check` finds it before Sphinx starts, and
the role fails the build (warnings are errors) should a page slip past.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from distinv.errors import DistinvError
from distinv.metrics import load

ROLE = re.compile(r"\{metric\}`([^`]*)`")


def parse(ref: str) -> tuple[str, str, str]:
    """`slug/name[:format]` as (slug, name, format)."""
    target, _, fmt = ref.partition(":")
    slug, _, name = target.strip().partition("/")
    if not slug or not name:
        raise DistinvError(f"metric reference {ref!r} is not `chapter_slug/metric_name[:format]`")
    return slug, name, fmt or ".4g"


def value(runs: Path, ref: str) -> str:
    """The formatted value of a metric reference, read from `runs`/<slug>/metrics.json."""
    slug, name, fmt = parse(ref)
    metrics = load(Path(runs) / slug)
    if metrics is None:
        raise DistinvError(f"metric {ref!r}: chapter {slug} has no finished run in {runs}")
    if name not in metrics:
        raise DistinvError(f"metric {ref!r}: chapter {slug} wrote no metric {name!r}")
    v = metrics[name]
    return format(v, ",") if isinstance(v, int) and fmt == ".4g" else format(v, fmt)


def references(text: str) -> list[str]:
    return ROLE.findall(text)


def check(text: str, runs: Path, page: str = "page") -> None:
    """Every metric a page quotes exists in this build's runs, or DistinvError naming the first."""
    for ref in references(text):
        try:
            value(runs, ref)
        except (DistinvError, ValueError) as e:
            raise DistinvError(f"{page}: {e}") from None


def conf_lines(runs: Path) -> str:
    """What the staged conf.py needs to load this extension for `runs`."""
    where = str(Path(runs).resolve())
    return f'\nextensions.append("distinv.book.papers")\ndistinv_runs = {where!r}\n'


def setup(app):  # pragma: no cover - exercised by every book build
    from docutils import nodes
    from docutils.parsers.rst import Directive
    from docutils.statemachine import StringList

    app.add_config_value("distinv_runs", "", "env")

    def metric_role(name, rawtext, text, lineno, inliner, options=None, content=None):
        try:
            shown = value(Path(app.config.distinv_runs), text)
        except (DistinvError, ValueError) as e:
            msg = inliner.reporter.error(str(e), line=lineno)
            return [inliner.problematic(rawtext, rawtext, msg)], [msg]
        return [nodes.Text(shown)], []

    class BuildTimes(Directive):
        has_content = False

        def run(self):
            steps = Path(app.config.distinv_runs) / "steps.json"
            if not steps.is_file():
                raise self.error(f"no build record at {steps}")
            from distinv.book.build import Step, timing_table

            table = timing_table([Step(**s) for s in json.loads(steps.read_text())])
            rows = table.splitlines()
            node = nodes.container()
            self.state.nested_parse(StringList(rows), self.content_offset, node)
            return node.children

    app.add_role("metric", metric_role)
    app.add_directive("build-times", BuildTimes)
    return {"parallel_read_safe": True}
