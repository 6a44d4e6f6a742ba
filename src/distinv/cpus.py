"""How many processes a chapter's own pools may start: what it asks for, capped by the cores its
runner gave it (`DISTINV_CPUS`, set by `distinv sweep` for each run beside the thread counts)."""

from __future__ import annotations

import os

ENV = "DISTINV_CPUS"


def allowed(requested: int | None = None) -> int:
    """`requested` processes (None: every core), at most `DISTINV_CPUS` when that is set; >= 1.
    Results never depend on it: the pools it sizes only run independent jobs side by side."""
    n = requested or os.cpu_count() or 1
    cap = os.environ.get(ENV)
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            raise ValueError(f"{ENV} must be a positive integer, got {cap!r}")
        n = min(n, int(cap))
    return max(1, n)
