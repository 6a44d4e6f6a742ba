"""Tables for the book: Markdown a chapter displays, and the results dashboard of a build."""

from __future__ import annotations

import json
from pathlib import Path

from distinv.metrics import BUILD_FILE, RUN_FILE, load


def _fmt(value: float | int) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def table(header: list[str], rows: list[list], formats: dict[int, str] | None = None) -> str:
    """A Markdown table: `header` names the columns, each row holds one value per column, and
    `formats` maps a column's index to a format spec (numbers are otherwise shown with `_fmt`:
    integers with thousands separators, floats to 4 significant digits; text as it is)."""
    formats = formats or {}
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row needs {len(header)} values, one per column of {header}")

    def cell(i: int, v) -> str:
        if i in formats:
            return format(v, formats[i])
        is_number = isinstance(v, int | float) and not isinstance(v, bool)
        return _fmt(v) if is_number else str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(i, v) for i, v in enumerate(r)) + " |" for r in rows]
    return "\n".join(lines)


def dashboard(runs: str | Path) -> tuple[str, dict]:
    """A Markdown table of the metrics of each chapter of the build in `runs` (its `build.json`):
    one row per metric, with the profile and when the run finished. A chapter whose run is missing
    or does not carry the key this build recorded (a run of another build) is *not run*, never a
    number. Where the build also swept a chapter over seeds (`distinv book --seeds`), a column shows
    each metric's mean across those seeds with its 95% bootstrap interval and the number of seeds.
    Also returns, per chapter slug, the metrics shown (None where not run)."""
    runs = Path(runs)
    manifest_path = runs / BUILD_FILE
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no {BUILD_FILE} in {runs}: build the book first (make book)")
    build = json.loads(manifest_path.read_text())
    manifest, sweeps = build["runs"], build.get("sweeps") or {}
    spread = {slug: _spread(runs / s["folder"]) for slug, s in sweeps.items()}
    header = ["chapter", "profile", "ran", "metric", "value"]
    if spread:
        header.append("across seeds: mean (95% interval), seeds")
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    shown: dict[str, dict | None] = {}
    for slug, entry in manifest.items():
        folder = runs / slug
        run = json.loads((folder / RUN_FILE).read_text()) if (folder / RUN_FILE).is_file() else {}
        metrics = load(folder) if run.get("key") == entry["key"] else None
        shown[slug] = metrics
        title = run.get("title", slug)
        if metrics is None:
            rows.append(f"| {title} | | | | *not run* |" + (" |" if spread else ""))
            continue
        profile, ran = run.get("profile") or "default", run.get("finished", "")
        for i, (name, value) in enumerate(sorted(metrics.items())):
            label = (title, profile, ran) if i == 0 else ("", "", "")
            cells = [*label, f"`{name}`", _fmt(value)]
            if spread:
                cells.append(_across(spread.get(slug, {}).get(name)))
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows), shown


def _spread(folder: Path) -> dict[str, dict]:
    """A sweep's summary (`summary.json`, written by `distinv sweep`) by metric name."""
    path = folder / "summary.json"
    if not path.is_file():
        raise FileNotFoundError(f"the build names a sweep in {folder}, which has no summary.json")
    return {e["metric"]: e for e in json.loads(path.read_text())}


def _across(entry: dict | None) -> str:
    if entry is None:
        return ""
    mean = _fmt(float(entry["mean"]))
    if "lo" not in entry:
        return f"{mean}, 1 seed"
    return f"{mean} ({_fmt(float(entry['lo']))} to {_fmt(float(entry['hi']))}), {entry['n']} seeds"
