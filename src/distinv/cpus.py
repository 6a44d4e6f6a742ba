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


def die_with_parent() -> None:
    """A pool initializer: the worker ends when the process that started it dies (Linux; elsewhere
    a no-op), so a killed run leaves no worker behind that keeps training and writing."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent was already gone
        os._exit(1)
