"""A chapter's headline numbers: `metrics.json` beside its executed notebook; the dashboard."""

from __future__ import annotations

import json
import math
from numbers import Real
from pathlib import Path

import numpy as np

METRICS_FILE = "metrics.json"
RUN_FILE = "run.json"
# Metrics whose names hold one of these are timings: they vary between runs and are not compared.
TIMING_MARKERS = ("speedup", "_seconds", "_per_s", "seconds_per_")


def validate(metrics: dict) -> dict[str, float | int]:
    """A flat mapping of name to finite number, or ValueError naming the bad entry."""
    if not isinstance(metrics, dict) or not metrics:
        raise ValueError("metrics must be a non-empty dict of name to number")
    out = {}
    for name, value in metrics.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"metric name {name!r} is not an identifier")
        if hasattr(value, "item"):  # numpy and torch scalars
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"metric {name!r} must be a finite number, got {value!r}")
        out[name] = value
    return out


def glue(name: str, value) -> None:
    """myst_nb.glue for prose, with NumPy and torch scalars made Python numbers so formats apply."""
    from myst_nb import glue as _glue

    _glue(name, value.item() if hasattr(value, "item") else value, display=False)


def save(metrics: dict, folder: str | Path = ".") -> Path:
    """Write `metrics.json` into `folder` (a chapter's run folder is its working directory)."""
    path = Path(folder) / METRICS_FILE
    path.write_text(json.dumps(validate(metrics), indent=2, sort_keys=True) + "\n")
    return path


def load(folder: str | Path) -> dict[str, float | int] | None:
    """The metrics of a finished run folder, or None if it has none."""
    path = Path(folder) / METRICS_FILE
    return validate(json.loads(path.read_text())) if path.is_file() else None


def differences(first: dict, second: dict) -> list[str]:
    """What differs between two runs' metrics, timings left out; [] means the same run twice."""
    out = []
    for name in sorted(set(first) | set(second)):
        if any(m in name for m in TIMING_MARKERS):
            continue
        a, b = first.get(name), second.get(name)
        if a != b:
            out.append(f"{name}: {a!r} then {b!r}")
    return out


def _fmt(value: float | int) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.4g}"


def ratio_interval(num, den, seed: int = 0, n_boot: int = 2000, level: float = 0.95):
    """Percentile bootstrap interval of mean(num) / mean(den) for two independent samples, each
    resampled with replacement `n_boot` times with one seeded generator."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    if num.ndim != 1 or den.ndim != 1 or len(num) < 2 or len(den) < 2:
        raise ValueError("need two 1-d samples of at least 2 values each")
    if not (np.isfinite(num).all() and np.isfinite(den).all()) or not 0 < level < 1:
        raise ValueError("samples must be finite and level in (0, 1)")
    rng = np.random.default_rng(seed)
    top = num[rng.integers(0, len(num), (n_boot, len(num)))].mean(1)
    bottom = den[rng.integers(0, len(den), (n_boot, len(den)))].mean(1)
    ratios = top / np.maximum(bottom, np.finfo(float).tiny)
    lo, hi = np.quantile(ratios, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def dashboard(runs: str | Path, chapters: list) -> str:
    """A Markdown table of each chapter's metrics in `runs`/<slug>/; one without is *not run*."""
    rows = ["| chapter | profile | metric | value |", "|---|---|---|---|"]
    for ch in chapters:
        folder = Path(runs) / ch.slug
        metrics = load(folder)
        if metrics is None:
            rows.append(f"| {ch.title} | | | *not run* |")
            continue
        run = json.loads((folder / RUN_FILE).read_text()) if (folder / RUN_FILE).is_file() else {}
        profile = run.get("profile") or "default"
        for i, (name, value) in enumerate(sorted(metrics.items())):
            label = (ch.title, profile) if i == 0 else ("", "")
            rows.append(f"| {label[0]} | {label[1]} | `{name}` | {_fmt(value)} |")
    return "\n".join(rows)
