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


_POOLS: dict = {}


def _shared_worker() -> None:
    """A shared pool's initializer: the worker dies with its parent, and leaves an interrupt to
    the parent (a notebook kernel interrupted or shut down signals its whole process group; an
    idle worker would print a traceback for it)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent()


def shared_pool(workers: int):
    """A pool of `workers` spawned processes kept for the life of this one: started on first use,
    reused by every later call (a chapter that fits many small batches pays the start once), shut
    down at exit. Callers give it independent jobs only, so results never depend on `workers`."""
    pool = _POOLS.get(workers)
    if pool is None or getattr(pool, "_broken", False):  # a worker died: start afresh
        import atexit
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        pool = _POOLS[workers] = ProcessPoolExecutor(
            workers, mp_context=mp.get_context("spawn"), initializer=_shared_worker
        )
        atexit.register(pool.shutdown)
    return pool
