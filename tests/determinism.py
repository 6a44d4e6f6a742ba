"""Same parameters, same metrics: compare each run's metrics.json before and after nbval reruns it.

nbval executes every smoke notebook again in its own run folder, which rewrites metrics.json there.
`snapshot DIR` keeps a copy of each first run's metrics; `check DIR` fails on any difference
(timing metrics excepted, see distinv.book.determinism.TIMING_MARKERS).
"""

import json
import shutil
import sys
from pathlib import Path

from distinv.book.determinism import differences
from distinv.metrics import METRICS_FILE

FIRST = "metrics.first.json"


def main(command: str, runs: str) -> int:
    folders = sorted(p.parent for p in Path(runs).glob(f"*/{METRICS_FILE}"))
    if not folders:
        print(f"determinism: no {METRICS_FILE} under {runs}", file=sys.stderr)
        return 2
    bad = 0
    for folder in folders:
        if command == "snapshot":
            shutil.copy(folder / METRICS_FILE, folder / FIRST)
            continue
        first = json.loads((folder / FIRST).read_text())
        second = json.loads((folder / METRICS_FILE).read_text())
        for line in differences(first, second):
            print(f"determinism: {folder.name}: {line}", file=sys.stderr)
            bad += 1
    if command == "check":
        print(f"determinism: {len(folders)} chapters compared, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("snapshot", "check"):
        sys.exit("usage: python tests/determinism.py snapshot|check RUNS_DIR")
    sys.exit(main(*sys.argv[1:]))
