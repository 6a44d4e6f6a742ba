"""A chapter's headline numbers: `metrics.json` beside its executed notebook (save, load), and
`glue` for the numbers its prose quotes."""

from __future__ import annotations

import json
import math
from numbers import Real
from pathlib import Path

METRICS_FILE = "metrics.json"
RUN_FILE = "run.json"  # beside it: the run's parameters, profile, time and cache key
BUILD_FILE = "build.json"  # in a build's runs folder: the runs (and keys) that make up this build


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
