"""Sweeps: one chapter over a grid of parameter values, each point an ordinary chapter run, on Dask.

A grid is the product of each swept parameter's values; every point is run by `run_chapter` into
its own attempt folder `DIR/points/<point>/attempt-<k>` (built as `.partial`, renamed only when it
finished, kept as `.failed` when it failed), so an interrupted sweep leaves nothing half-written
that looks finished, and rerunning the same sweep takes every finished point from the cache.
The points run on a Dask cluster: a `LocalCluster` of one single-threaded worker process per core
by default, or the scheduler at `--scheduler`. Each worker offers the resource `run=1`, so it runs
one chapter at a time, with as many threads as it was given (torch, BLAS, and the chapter's own
process pools, see `distinv.cpus`). A failed run is retried once; a run whose worker dies is moved
to another worker by Dask, into a new attempt folder, and its kernel exits with its parent
(ipykernel polls its parent process). Results: `sweep.csv` (a row per point), `summary.md` (mean,
standard deviation and a 95% bootstrap interval of every metric across seeds) and `sweep.json`.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from distinv.book.chapters import Chapter, find, profile_overrides
from distinv.errors import DistinvError

MAX_POINTS = 64  # a larger grid needs --yes
SEED = "seed"  # the parameter a summary averages over
RUN_RESOURCE = "run"  # every worker offers run=1; each chapter run takes it, so one at a time
MALLOC_TRIM = "MALLOC_TRIM_THRESHOLD_"
RETRIES = 1  # a failed run is tried once more, in a new attempt folder
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
# A local worker runs one long task at a time (a papermill client waiting on its kernel): Dask's
# statistical profiler, which samples that thread's stack every 10 ms, and its monitors polling
# several times a second take CPU from the kernels beside it and tell a sweep nothing.
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}
SWEEP_CSV, SWEEP_JSON = "sweep.csv", "sweep.json"
SUMMARY_MD, SUMMARY_JSON = "summary.md", "summary.json"  # summary.json: what the dashboard reads
FIXED = ("status", "attempts", "seconds", "folder", "error")  # sweep.csv's columns after the axes
_SAFE = re.compile(r"[^A-Za-z0-9._=-]")
_RANGE = re.compile(r"^(-?\d+):(-?\d+)$")


@dataclass(frozen=True)
class Point:
    """One run of a sweep: its swept values, the chapter's parameters and its folder's name."""

    swept: dict
    params: dict
    name: str


@dataclass
class Grid:
    chapter: Chapter
    profile: str | None
    axes: dict[str, list]  # parameter -> its values, in the order given
    points: list[Point] = field(default_factory=list)


def parse_values(chapter: Chapter, name: str, words: list[str]) -> list:
    """The values of one swept parameter: each word one value of its type, or for an integer a
    half-open range `A:B` (`0:10` is ten seeds). DistinvError for an unknown parameter, a wrong
    type, an empty range or a value given twice."""
    if name not in chapter.params:
        known = ", ".join(chapter.params) or "(none)"
        raise DistinvError(
            f"unknown parameter {name!r} for chapter {chapter.slug}; its parameters: {known}"
        )
    param = chapter.params[name]
    if not words:
        raise DistinvError(f"-p {name} needs at least one value")
    values: list = []
    for word in words:
        m = _RANGE.match(word) if param.type is int else None
        if m:
            lo, hi = int(m[1]), int(m[2])
            if hi <= lo:
                raise DistinvError(f"-p {name} {word}: empty range (A:B runs A, A+1, ..., B-1)")
            values += range(lo, hi)
        else:
            values.append(param.coerce(word, chapter.slug))
    if len(set(map(repr, values))) < len(values):
        raise DistinvError(f"-p {name}: a value is given twice ({' '.join(words)})")
    return values


def point_name(swept: dict) -> str:
    """A folder name for a point: its swept values, made safe for a file name (with a short hash
    when they had to be changed or shortened, so that two points never share a folder)."""
    text = "_".join(f"{k}={v}" for k, v in swept.items()) or "default"
    safe = _SAFE.sub("-", text)
    if safe != text or len(safe) > 80:
        safe = f"{safe[:80]}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"
    return safe


def make_grid(
    chapter: str | Chapter,
    specs: list[list[str]],
    profile: str | None,
    root: Path,
    yes: bool = False,
) -> Grid:
    """The grid of `specs` (each `[NAME, VALUE, ...]`) on top of `profile`'s overrides, checked
    before anything runs: every parameter known, every value of its type, no parameter twice, at
    most MAX_POINTS points unless `yes`."""
    ch = chapter if isinstance(chapter, Chapter) else find(chapter, root)
    base = ch.resolve(profile_overrides(ch, profile, root))
    axes: dict[str, list] = {}
    for spec in specs:
        name, words = spec[0], spec[1:]
        if name in axes:
            raise DistinvError(f"parameter {name!r} is swept twice; give its values in one -p")
        axes[name] = parse_values(ch, name, words)
    n = math.prod(len(v) for v in axes.values())
    if n > MAX_POINTS and not yes:
        raise DistinvError(f"the grid has {n} points, more than {MAX_POINTS}: pass --yes to run it")
    grid = Grid(ch, profile, axes)
    for combo in itertools.product(*axes.values()):
        swept = dict(zip(axes, combo, strict=True))
        grid.points.append(Point(swept, {**base, **swept}, point_name(swept)))
    return grid


def default_out(grid: Grid, root: Path) -> Path:
    """`_build/sweeps/<slug>-<profile>`: every sweep of a chapter and profile lands in one folder,
    so that running it again, or over a grid that shares points with it, reuses its finished
    points (each point's folder is named by its values; the cache checks its parameters)."""
    return root / "_build" / "sweeps" / f"{grid.chapter.slug}-{grid.profile or 'default'}"


_ATTEMPT = re.compile(r"^attempt-(\d+)(\.partial|\.failed)?$")


def attempts(point_dir: Path) -> list[Path]:
    """Every attempt folder of a point (finished, partial or failed), oldest first."""
    if not point_dir.is_dir():
        return []
    found = [(int(m[1]), p) for p in point_dir.iterdir() if (m := _ATTEMPT.match(p.name))]
    return [p for _, p in sorted(found)]


def finished_attempt(point_dir: Path, chapter: Chapter, params: dict, profile, root) -> Path | None:
    """The newest finished attempt of a point that the cache can reuse as it is, if any."""
    from distinv.book import cache

    for p in reversed(attempts(point_dir)):
        if _ATTEMPT.match(p.name)[2] is None and cache.fresh(
            p, chapter.text, params, profile, root
        ):
            return p
    return None


def pin_threads(n: int) -> None:
    """This process, and every kernel and pool it starts, uses `n` threads and `n` processes."""
    from distinv import cpus

    for var in THREAD_VARS:
        os.environ[var] = str(n)
    os.environ[cpus.ENV] = str(n)


def drop_nanny_allocator() -> None:
    """Take the Dask nanny's allocator setting out of this process's environment, so that the
    chapter's kernel it starts runs as it would alone.

    The nanny sets MALLOC_TRIM_THRESHOLD_ (`distributed.nanny.pre-spawn-environ`) to return a
    worker's freed memory to the system early; a kernel inherits it, and a smoke run of 03_gumbel
    took about 10% longer with it on this project's machine. A value other than the nanny's is
    the user's own and stays."""
    import dask

    nanny = dask.config.get("distributed.nanny.pre-spawn-environ", {}).get(MALLOC_TRIM)
    if nanny is not None and os.environ.get(MALLOC_TRIM) == str(nanny):
        del os.environ[MALLOC_TRIM]


def restore_environ(saved: dict[str, str]) -> None:
    """Make this process's environment `saved` again.

    Before it spawns a worker, a LocalCluster's nanny, which runs in this process, writes
    `distributed.nanny.pre-spawn-environ` (the allocator and one thread for OMP, MKL and
    OpenBLAS) into `os.environ` and leaves it there; without this, a chapter run from this
    process after a sweep would inherit them."""
    for k in set(os.environ) - set(saved):
        del os.environ[k]
    os.environ.update({k: v for k, v in saved.items() if os.environ.get(k) != v})


def run_point(slug: str, params: dict, profile: str | None, point_dir: str, root: str) -> dict:
    """Run one point in a new attempt folder (on a Dask worker); a chapter failure is returned,
    not raised, so that the sweep decides whether to retry."""
    from distinv.book.run import ChapterFailed, run_chapter

    try:
        from distributed import get_worker

        threads = get_worker().state.nthreads
    except (ImportError, ValueError):  # not on a worker: run_point called directly
        threads = 1
    pin_threads(threads)
    drop_nanny_allocator()
    root_path, point = Path(root), Path(point_dir)
    point.mkdir(parents=True, exist_ok=True)
    k = 1 + max((int(_ATTEMPT.match(p.name)[1]) for p in attempts(point)), default=0)
    out = point / f"attempt-{k}"
    start = time.perf_counter()
    try:
        run_chapter(find(slug, root_path), params, out, profile, False, root_path)
    except ChapterFailed as e:
        return {"status": "failed", "folder": f"{out}.failed", "error": str(e), "threads": threads,
                "seconds": time.perf_counter() - start}  # fmt: skip
    return {"status": "finished", "folder": str(out), "threads": threads}


def _row(point: Point, status: str, folder: Path | None, n_attempts: int, error: str = "",
         seconds: float | str = "") -> dict:  # fmt: skip
    from distinv.metrics import RUN_FILE, load

    row = {"point": point.name, **point.swept, "status": status, "attempts": n_attempts}
    metrics = {}
    if folder is not None and status in ("finished", "cached"):
        seconds = json.loads((folder / RUN_FILE).read_text())["seconds"]
        metrics = load(folder) or {}
    row |= {"seconds": seconds, "folder": str(folder or ""), "error": error}
    return row | {f"metric:{k}": v for k, v in sorted(metrics.items())}


def write_results(out: Path, grid: Grid, rows: dict[str, dict], state: str) -> None:
    """`sweep.csv`, `summary.md` and `sweep.json`, each written whole and renamed into place."""
    ordered = [rows[p.name] for p in grid.points if p.name in rows]
    columns = ["point", *grid.axes, *FIXED]
    metric_cols = sorted({k for r in ordered for k in r if k.startswith("metric:")})
    # a metric keeps its name as its column, unless a parameter or a fixed column has it
    header = columns + [c if c[7:] in columns else c[7:] for c in metric_cols]
    tmp = out / f".{SWEEP_CSV}.tmp"
    with tmp.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in ordered:
            w.writerow([r.get(c, "") for c in columns + metric_cols])
    tmp.replace(out / SWEEP_CSV)
    counts = {s: sum(r["status"] == s for r in ordered) for s in ("finished", "cached", "failed")}
    record = {
        "chapter": grid.chapter.slug,
        "profile": grid.profile,
        "axes": grid.axes,
        "state": state,  # "finished" only when every point finished or came from the cache
        "points": len(grid.points),
        **counts,
        "not_run": len(grid.points) - len(ordered),
    }
    _atomic(out / SWEEP_JSON, json.dumps(record, indent=1, default=str) + "\n")
    axes, table = read_rows(out)
    names = [c for c in (table[0] if table else {}) if c not in {"point", *axes, *FIXED}]
    entries = summarise(axes, table, names)
    _atomic(out / SUMMARY_JSON, json.dumps(entries, indent=1) + "\n")
    _atomic(out / SUMMARY_MD, summary_text(out) + "\n")


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    tmp.replace(path)


def read_rows(out: Path) -> tuple[list[str], list[dict]]:
    """A sweep's `sweep.csv`: its swept parameters and its rows (metrics as floats)."""
    path = Path(out) / SWEEP_CSV
    if not path.is_file():
        raise FileNotFoundError(f"no {SWEEP_CSV} in {out}: run the sweep first (distinv sweep ...)")
    record = json.loads((Path(out) / SWEEP_JSON).read_text())
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return list(record["axes"]), rows


def summarise(axes: list[str], rows: list[dict], metric_names: list[str]) -> list[dict]:
    """Per setting of the swept parameters other than `seed`, per metric: the number of seeds, the
    mean, the standard deviation and a 95% bootstrap interval of the mean (one seed: its value,
    no deviation and no interval). Only finished and cached points count."""
    from distinv.stats import mean_interval

    others = [a for a in axes if a != SEED]
    done = [r for r in rows if r["status"] in ("finished", "cached")]
    groups: dict[tuple, list[dict]] = {}
    for r in done:
        groups.setdefault(tuple(r[a] for a in others), []).append(r)
    out = []
    for setting, members in groups.items():
        for m in metric_names:
            values = [float(r[m]) for r in members if r.get(m) not in (None, "")]
            if not values:
                continue
            entry = {**dict(zip(others, setting, strict=True)), "metric": m, "n": len(values)}
            entry["mean"] = sum(values) / len(values)
            if len(values) > 1:
                mean = entry["mean"]
                entry["std"] = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
                entry["lo"], entry["hi"] = mean_interval(values)
            out.append(entry)
    return out


def _num(v: float) -> str:
    """A summary number: whole numbers with thousands separators, others to 4 significant digits."""
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:.4g}"


def summary_text(out: Path) -> str:
    """The sweep in `out` as Markdown: its state, and a row per setting and metric."""
    from distinv.report import table

    axes, _ = read_rows(out)
    record = json.loads((Path(out) / SWEEP_JSON).read_text())
    entries = json.loads((Path(out) / SUMMARY_JSON).read_text())
    others = [a for a in axes if a != SEED]
    head = (
        f"sweep of {record['chapter']} ({record['profile'] or 'default'} profile): "
        f"{record['state']}; {record['points']} points, {record['finished']} finished, "
        f"{record['cached']} from the cache, {record['failed']} failed, {record['not_run']} not run"
    )
    if not entries:
        return head + "\n\nno finished point yet"
    body = [
        [*(e[a] for a in others), e["metric"], e["n"], _num(e["mean"]),
         _num(e["std"]) if "std" in e else "",
         f"{_num(e['lo'])} to {_num(e['hi'])}" if "lo" in e else ""]
        for e in entries
    ]  # fmt: skip
    return head + "\n\n" + table([*others, "metric", "seeds", "mean", "std", "95% interval"], body)


def _client(scheduler: str | None, workers: int | None):
    """A Dask client: of the cluster at `scheduler`, or of a new LocalCluster of `workers`
    single-threaded worker processes (default: one per core). Returns (client, cluster or None)."""
    import logging

    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as e:
            raise DistinvError(f"no Dask scheduler answers at {scheduler}: {e}") from None
        info = client.scheduler_info()["workers"]
        if not any(w.get("resources", {}).get(RUN_RESOURCE) for w in info.values()):
            client.close()
            raise DistinvError(
                f"no worker of {scheduler} offers the resource {RUN_RESOURCE!r}: start each "
                f"with `dask worker {scheduler} --nthreads K --resources {RUN_RESOURCE}=1`"
            )
        return client, None
    n = (os.cpu_count() or 1) if workers is None else workers
    if n < 1:
        raise DistinvError(f"--workers must be at least 1, got {n}")
    with dask.config.set(QUIET_WORKERS):  # read by each nanny as the cluster starts
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            resources={RUN_RESOURCE: 1},
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
    return Client(cluster), cluster


def run(
    grid: Grid,
    out: Path,
    root: Path,
    scheduler: str | None = None,
    workers: int | None = None,
    track: bool = True,
    log=print,
) -> dict[str, dict]:
    """Run every point of `grid` that the cache cannot reuse; write the results into `out`.

    Returns each point's row. Ctrl-C stops the sweep: finished runs stay finished, the results
    files say `interrupted`, and KeyboardInterrupt is raised again."""
    from distributed import wait

    from distinv.book import track as tracking
    from distinv.progress import progress

    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict] = {}
    todo = []
    for p in grid.points:
        folder = out / "points" / p.name
        hit = finished_attempt(folder, grid.chapter, p.params, grid.profile, root)
        if hit is not None:
            rows[p.name] = _row(p, "cached", hit, len(attempts(folder)))
            if track:  # a run that finished as an earlier sweep was stopped may not be logged yet
                tracking.log_run(hit, root, sweep=out)
        else:
            todo.append(p)
    counts = {"running": 0, "finished": 0, "failed": 0, "cached": len(rows)}
    if not todo:
        write_results(out, grid, rows, "finished")
        return rows
    environ = dict(os.environ)
    client, cluster = _client(scheduler, workers)  # before anything says "running"
    write_results(out, grid, rows, "running")
    bar = progress(total=len(grid.points), initial=len(rows), desc=f"sweep {grid.chapter.slug}")
    bar.set_postfix(counts)
    tries: dict[str, int] = {}
    pending: dict = {}

    def submit(p: Point) -> None:
        tries[p.name] = tries.get(p.name, 0) + 1
        args = (grid.chapter.slug, p.params, grid.profile, str(out / "points" / p.name), str(root))
        key = f"{grid.chapter.slug}-{p.name}-try{tries[p.name]}-{time.time_ns()}"
        fut = client.submit(run_point, *args, key=key, pure=False, resources={RUN_RESOURCE: 1})
        pending[fut] = p

    try:
        for p in todo:
            submit(p)
        while pending:
            try:  # back at once when a run ends, or after half a second to update the bar
                wait(list(pending), timeout=0.5, return_when="FIRST_COMPLETED")
            except TimeoutError:
                pass
            done = [f for f in pending if f.done()]
            if not done:
                # Runs in progress: attempts being written (queued tasks have none yet).
                running = sum(1 for _ in (out / "points").glob("*/attempt-*.partial"))
                if running != counts["running"]:
                    counts["running"] = running
                    bar.set_postfix(counts)
                continue
            for fut in done:
                p = pending.pop(fut)
                try:
                    result = fut.result()
                except Exception as e:  # the worker died too often, or the task could not run
                    result = {"status": "failed", "folder": "", "error": f"{type(e).__name__}: {e}"}
                if result["status"] == "failed" and tries[p.name] <= RETRIES:
                    log(f"{p.name}: attempt {tries[p.name]} failed ({result['error']}); retrying")
                    submit(p)
                    continue
                folder = Path(result["folder"]) if result["folder"] else None
                n_attempts = len(attempts(out / "points" / p.name))
                rows[p.name] = _row(p, result["status"], folder, n_attempts,
                                    result.get("error", ""), result.get("seconds", ""))  # fmt: skip
                counts[result["status"]] += 1
                if track and result["status"] == "finished":
                    tracking.log_run(folder, root, sweep=out)
                write_results(out, grid, rows, "running")
                bar.update(1)
                bar.set_postfix(counts)
    except KeyboardInterrupt:
        for p in grid.points:  # runs that finished while their result was on its way
            folder = out / "points" / p.name
            if p.name in rows:
                continue
            if hit := finished_attempt(folder, grid.chapter, p.params, grid.profile, root):
                rows[p.name] = _row(p, "finished", hit, len(attempts(folder)))
        write_results(out, grid, rows, "interrupted")
        raise
    except BaseException:  # a lost scheduler, a tracking error: the folder says it did not finish
        write_results(out, grid, rows, "failed")
        raise
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
        restore_environ(environ)
    state = "finished" if counts["failed"] == 0 else "failed"
    write_results(out, grid, rows, state)
    return rows
