"""Hull membership: queries per second of distinv.hull.inside against one plain LP per query.

Both paths run in this one process, on this machine, in this run (the fast path is also timed in
--workers processes: its gain); the ratio is the result, not the seconds.
Usage: python benchmarks/hull_bench.py [--queries 200] [--baseline 10] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from distinv import hull, seed_everything
from distinv.synthetic import Manifold, gaussian

SIZES = (2000, 10000)
DIMS = (8, 32, 128)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--queries", type=int, default=200, help="queries for the fast path")
    p.add_argument("--baseline", type=int, default=10, help="of those, answered by the plain LP")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the rows as JSON here")
    args = p.parse_args()
    rows = []
    head = f"{'data':>9} {'N':>6} {'d':>4} {'fast q/s':>10} {'LP q/s':>8} {'ratio':>8}"
    print(f"{head} {'gain':>6} agree inside  (ratio: one process each; gain: fast path in workers)")
    for n in SIZES:
        for d in DIMS:
            for data in ("gaussian", "manifold"):
                rng = seed_everything(args.seed)
                if data == "gaussian":
                    X, Q = gaussian(n, d, rng), gaussian(args.queries, d, rng)
                else:
                    m = Manifold(d, map_seed=args.seed)
                    X, Q = m.sample(n, rng), m.sample(args.queries, rng)
                r = hull.benchmark(X, Q, n_baseline=args.baseline, workers=args.workers)
                r["stats"] = asdict(r["stats"])
                rows.append({"data": data, "N": n, "d": d, **r})
                print(
                    f"{data:>9} {n:>6} {d:>4} {r['fast_qps']:>10.1f} {r['baseline_qps']:>8.2f} "
                    f"{r['speedup']:>8.1f} {r['parallel_gain']:>6.2f} {r['agreement']:>5.2f} "
                    f"{r['p_inside']:>6.2f}",
                    flush=True,
                )
    if args.out:
        with open(args.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
