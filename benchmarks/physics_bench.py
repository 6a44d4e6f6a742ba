"""Ball simulator: seconds to generate 10,000 trajectories of 1 to 2 balls over 300 frames.

Half the trajectories have one ball and half two, in training-range worlds, generated in this
process, then in `--workers` processes at once (one chunk each). Usage:
python benchmarks/physics_bench.py [--n 10000] [--frames 300] [--workers 2] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor

from distinv import physics


def _chunk(args: tuple[int, int, int]) -> float:
    n, frames, seed = args
    data = physics.dataset("iid", n, seed, n_steps=frames)
    return float(data.states.size)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000, help="trajectories")
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="write the result as JSON here")
    args = p.parse_args()
    start = time.perf_counter()
    _chunk((args.n, args.frames, args.seed))
    one = time.perf_counter() - start
    parts = [(args.n // args.workers, args.frames, args.seed + i) for i in range(args.workers)]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) as pool:
        list(pool.map(_chunk, parts))
    many = time.perf_counter() - start
    row = {"trajectories": args.n, "frames": args.frames, "seconds_one_process": one,
           "workers": args.workers, "seconds_workers": many}  # fmt: skip
    print(json.dumps(row, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(row, f, indent=2)


if __name__ == "__main__":
    main()
