"""Sweep: 4 smoke runs of one chapter on a 2-worker Dask LocalCluster against the same 4 in series.

Both arms pin every run to one thread (torch, BLAS and the chapter's own pools, as a sweep does),
run the same points into fresh folders (no cache), and are timed in one process on one machine;
the result is the ratio of the sweep's wall time to the serial one (goal: at most 0.6 on 2 cores).
The two arms alternate `--repeats` times; the goal is judged on the median ratio, and every
repeat's ratio is printed (a 2-core machine's timings move by several percent from run to run).
Usage: python benchmarks/sweep_bench.py [--chapter gumbel] [--seeds 4] [--workers 2] [--repeats 5]
       [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from distinv.book import sweep
from distinv.book.run import run_chapter
from distinv.paths import project_root

GOAL = 0.6


def one_repeat(grid, root: Path, workers: int) -> tuple[float, float]:
    """Seconds of the points in series, then of the same points swept on `workers`."""
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        for point in grid.points:
            run_chapter(grid.chapter, point.params, Path(tmp) / "serial" / point.name, "smoke",
                        root=root)  # fmt: skip
        serial = time.perf_counter() - start
        start = time.perf_counter()
        rows = sweep.run(grid, Path(tmp) / "sweep", root, workers=workers, track=False)
        swept = time.perf_counter() - start
    if any(r["status"] != "finished" for r in rows.values()):
        raise SystemExit(f"a point of the sweep did not finish: {rows}")
    return serial, swept


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chapter", default="gumbel", help="a chapter with a seed and a smoke profile")
    p.add_argument("--seeds", type=int, default=4, help="points: seeds 0 .. seeds-1")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5, help="times each arm runs, alternating")
    p.add_argument("--out", help="write the result as JSON here")
    args = p.parse_args()
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be at least 1, got {args.repeats}")
    root = project_root()
    grid = sweep.make_grid(args.chapter, [[sweep.SEED, f"0:{args.seeds}"]], "smoke", root)
    sweep.pin_threads(1)  # the serial arm's kernels get one thread, as each sweep worker's do
    times = [one_repeat(grid, root, args.workers) for _ in range(args.repeats)]
    ratios = [w / s for s, w in times]
    ratio = statistics.median(ratios)
    row = {"chapter": grid.chapter.slug, "points": len(grid.points), "workers": args.workers,
           "seconds_serial": [round(s, 2) for s, _ in times],
           "seconds_sweep": [round(w, 2) for _, w in times],
           "ratios": [round(r, 3) for r in ratios],
           "ratio": round(ratio, 3), "goal": GOAL, "met": ratio <= GOAL}  # fmt: skip
    print(json.dumps(row, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
