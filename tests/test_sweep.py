"""`distinv sweep`: grids checked before anything runs, points run on a 2-worker Dask LocalCluster,
faults (a failing run, a killed worker, Ctrl-C), the cache on a second invocation, the summary
across seeds, and runs tracked in MLflow."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import toy_book

from distinv.book import sweep
from distinv.book.chapters import find

REPO = Path(__file__).resolve().parents[1]

FRONT = """---
kernelspec:
  name: python3
  display_name: Python 3
---
"""

TOY = (
    FRONT
    + """
# A toy chapter to sweep

```{code-cell} ipython3
:tags: [parameters]

seed: int = 0  # the seed
rate: float = 0.5  # a rate
label: str = "a,b"  # a string with a comma
sleep: float = 0.0  # seconds to wait before writing metrics
fail: bool = False  # raise inside the chapter
fail_once: str = ""  # a marker file: fail if it is missing (and create it)
```

```{code-cell} ipython3
import os
import time
from pathlib import Path

from distinv import cpus, metrics

if fail:
    raise RuntimeError("the toy chapter was told to fail")
if fail_once and not Path(fail_once).exists():
    Path(fail_once).touch()
    raise RuntimeError("the toy chapter fails the first time")
time.sleep(sleep)
if os.environ.get("OMP_NUM_THREADS"):  # in a sweep: what torch and the pools were given
    import torch

    threads = torch.get_num_threads()
else:
    threads = 0
metrics.save({"value": seed * 2 + rate, "threads": threads, "cpus": cpus.allowed(8), "seed": 1})
```
"""
)


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return toy_book(tmp_path_factory.mktemp("toybook"), TOY, "rate: 0.25")


def env_for(root: Path, store: Path) -> dict:
    return {**os.environ, "DISTINV_ROOT": str(root), "DISTINV_MLFLOW_DIR": str(store)}


def distinv(root: Path, store: Path, *args: str, timeout: float = 300):
    cmd = [sys.executable, "-m", "distinv", *args]
    env = env_for(root, store)
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, timeout=timeout)


def rows(out: Path) -> list[dict]:
    with (out / "sweep.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def finished_runs(out: Path) -> list[Path]:
    """Attempt folders that look finished (no .partial or .failed suffix)."""
    return sorted(p for p in out.glob("points/*/attempt-*") if "." not in p.name)


# --- the grid, checked before anything runs ---------------------------------------------------


def test_values_ranges_and_strings(toy):
    ch = find("toy", toy)
    assert sweep.parse_values(ch, "seed", ["0:3", "7"]) == [0, 1, 2, 7]
    assert sweep.parse_values(ch, "seed", ["-2:0"]) == [-2, -1]
    assert sweep.parse_values(ch, "rate", ["0.1", "1"]) == [0.1, 1.0]
    assert sweep.parse_values(ch, "label", ["x,y", "z"]) == ["x,y", "z"]  # commas stay in values
    grid = sweep.make_grid("toy", [["seed", "0:2"], ["label", "x,y", "z"]], "smoke", toy)
    assert [p.swept for p in grid.points] == [
        {"seed": 0, "label": "x,y"},
        {"seed": 0, "label": "z"},
        {"seed": 1, "label": "x,y"},
        {"seed": 1, "label": "z"},
    ]
    assert all(p.params["rate"] == 0.25 for p in grid.points)  # the profile under the grid
    assert len({p.name for p in grid.points}) == 4 and all("/" not in p.name for p in grid.points)


@pytest.mark.parametrize(
    "specs, fragment",
    [
        ([["nope", "1"]], "unknown parameter 'nope'"),
        ([["seed", "x"]], "expects int, got 'x'"),
        ([["rate", "0:3"]], "expects float"),
        ([["seed", "3:3"]], "empty range"),
        ([["seed", "5:2"]], "empty range"),
        ([["seed", "1", "1"]], "given twice"),
        ([["seed", "1"], ["seed", "2"]], "swept twice"),
        ([["seed"]], "at least one value"),
        ([["seed", "0:65"]], "more than 64"),
    ],
)
def test_bad_grids_are_refused(toy, specs, fragment):
    with pytest.raises(sweep.DistinvError, match=fragment):
        sweep.make_grid("toy", specs, None, toy)


def test_a_large_grid_runs_with_yes(toy):
    assert len(sweep.make_grid("toy", [["seed", "0:65"]], None, toy, yes=True).points) == 65


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["sweep", "toy", "-p", "seed", "0:0"], "empty range"),
        (["sweep", "nochapter", "-p", "seed", "1"], "unknown chapter"),
        (["sweep", "toy"], "at least one -p"),
        (["sweep", "toy", "-p", "seed", "0:100"], "pass --yes"),
        (["sweep", "toy", "-p", "seed", "1", "--profile", "nope"], "unknown profile"),
        (["sweep", "--summary", "nowhere"], "no sweep.csv"),
    ],
)
def test_bad_sweeps_are_one_line_errors_and_run_nothing(toy, tmp_path, args, fragment):
    result = distinv(toy, tmp_path, *args, "--out", str(tmp_path / "sw"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert not (tmp_path / "sw").exists()


def test_summary_mean_std_and_interval():
    table = [{"seed": str(s), "rate": r, "status": "finished", "m": str(v)}
             for s, r, v in [(0, "1", 1.0), (1, "1", 3.0), (0, "2", 5.0)]]  # fmt: skip
    table.append({"seed": "1", "rate": "2", "status": "failed", "m": ""})
    out = {(e["rate"], e["metric"]): e for e in sweep.summarise(["seed", "rate"], table, ["m"])}
    one, two = out["1", "m"], out["2", "m"]
    assert (one["n"], one["mean"], round(one["std"], 6)) == (2, 2.0, round(2**0.5, 6))
    assert 1.0 <= one["lo"] <= 2.0 <= one["hi"] <= 3.0
    assert (two["n"], two["mean"]) == (1, 5.0) and "lo" not in two and "std" not in two


def test_threads_are_pinned(monkeypatch):
    from distinv import cpus

    for var in (*sweep.THREAD_VARS, cpus.ENV):
        monkeypatch.delenv(var, raising=False)
    assert cpus.allowed(4) == 4
    sweep.pin_threads(1)
    assert all(os.environ[v] == "1" for v in sweep.THREAD_VARS)
    assert cpus.allowed(4) == 1 and cpus.allowed(None) == 1
    monkeypatch.setenv(cpus.ENV, "two")
    with pytest.raises(ValueError, match="positive integer"):
        cpus.allowed(2)


def test_the_nannys_allocator_setting_is_dropped_and_a_users_own_kept(monkeypatch):
    import dask
    import distributed  # noqa: F401  (its defaults join dask's config on import)

    nanny = dask.config.get("distributed.nanny.pre-spawn-environ")[sweep.MALLOC_TRIM]
    monkeypatch.setenv(sweep.MALLOC_TRIM, str(nanny))
    sweep.drop_nanny_allocator()
    assert sweep.MALLOC_TRIM not in os.environ
    monkeypatch.setenv(sweep.MALLOC_TRIM, "123")
    sweep.drop_nanny_allocator()
    assert os.environ[sweep.MALLOC_TRIM] == "123"


# --- sweeps that run ----------------------------------------------------------------------------


def test_a_sweep_leaves_this_processs_environment_as_it_found_it(toy, tmp_path, monkeypatch):
    """A LocalCluster's nanny writes its pre-spawn settings (allocator, one thread) into the
    environment of the process that started the sweep; what runs there afterwards must not
    inherit them (the benchmark's serial arm did)."""
    for k, v in env_for(toy, tmp_path).items():
        monkeypatch.setenv(k, v)
    for var in (sweep.MALLOC_TRIM, *sweep.THREAD_VARS):
        monkeypatch.delenv(var, raising=False)
    before = dict(os.environ)
    grid = sweep.make_grid("toy", [[sweep.SEED, "0"]], None, toy)
    table = sweep.run(grid, tmp_path / "sw", toy, workers=1, track=False, log=lambda *_: None)
    assert [r["status"] for r in table.values()] == ["finished"]
    assert dict(os.environ) == before


def test_local_workers_run_without_dasks_profiler_and_the_caller_keeps_its_config():
    """A local worker's one task is a papermill client waiting on its kernel: the workers start
    with QUIET_WORKERS (no stack sampling every 10 ms, slower monitors); the config of the
    process that started them is left as it was."""
    import dask
    import distributed  # noqa: F401  (its defaults join dask's config on import)

    def config(dask_worker):
        return {k: dask.config.get(k) for k in sweep.QUIET_WORKERS} | {
            "sampling": "profile" in dask_worker.periodic_callbacks
        }

    before = {k: dask.config.get(k) for k in sweep.QUIET_WORKERS}
    environ = dict(os.environ)  # the nanny writes its pre-spawn settings here (sweep.run undoes it)
    client, cluster = sweep._client(None, 1)
    try:
        seen = list(client.run(config).values())
    finally:
        client.close()
        cluster.close()
        sweep.restore_environ(environ)
    assert seen == [{**sweep.QUIET_WORKERS, "sampling": False}]
    assert {k: dask.config.get(k) for k in sweep.QUIET_WORKERS} == before != sweep.QUIET_WORKERS


def test_sweep_of_four_smoke_runs_of_scan_on_two_workers(tmp_path):
    """Four smoke runs of the real SCAN chapter: each row holds what its metrics.json holds."""
    out = tmp_path / "sw"
    cmd = ["sweep", "scan", "-p", "seed", "0:4", "--profile", "smoke", "--workers", "2"]
    result = distinv(REPO, tmp_path / "store", *cmd, "--out", str(out), "--no-track")
    assert result.returncode == 0, result.stderr
    table = rows(out)
    assert [r["seed"] for r in table] == ["0", "1", "2", "3"]
    for r in table:
        assert r["status"] == "finished" and r["attempts"] == "1"
        stored = json.loads((Path(r["folder"]) / "metrics.json").read_text())
        assert {k: float(r[k]) for k in stored} == {k: float(v) for k, v in stored.items()}
    assert json.loads((out / "sweep.json").read_text())["state"] == "finished"
    assert "95% interval" in result.stdout


def test_threads_runs_and_retries_and_cache(toy, tmp_path):
    out, store, marker = tmp_path / "sw", tmp_path / "store", tmp_path / "marker"
    cmd = ["sweep", "toy", "-p", "seed", "0:3", "-p", "fail_once", str(marker), "--workers", "2"]
    result = distinv(toy, store, *cmd, "--out", str(out))
    assert result.returncode == 0, result.stderr
    table = rows(out)
    assert [r["status"] for r in table] == ["finished"] * 3
    assert sum(r["attempts"] == "2" for r in table) >= 1  # the first to run failed once, retried
    retried = next(r for r in table if r["attempts"] == "2")
    assert (Path(retried["folder"]).parent / "attempt-1.failed").is_dir()
    assert {r["threads"] for r in table} == {"1"} and {r["cpus"] for r in table} == {"1"}
    assert sorted(float(r["value"]) for r in table) == [0.5, 2.5, 4.5]
    assert {r["metric:seed"] for r in table} == {"1"}  # a metric named like a parameter
    # tracked in MLflow once per run, also after a second invocation that takes them from the cache
    again = distinv(toy, store, *cmd, "--out", str(out))
    assert again.returncode == 0, again.stderr
    assert [r["status"] for r in rows(out)] == ["cached"] * 3
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{store / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name("01_toy").experiment_id])
    assert len(runs) == 3
    run = runs[0]
    assert {"chapter", "key", "folder", "sweep"} <= set(run.data.tags)
    assert set(run.data.params) == {"seed", "rate", "label", "sleep", "fail", "fail_once"}
    assert {"value", "threads", "seconds"} <= set(run.data.metrics)
    assert [a.path for a in client.list_artifacts(run.info.run_id)] == ["01_toy.ipynb"]


def test_a_worker_with_two_threads_runs_its_chapter_on_two(toy, tmp_path, monkeypatch):
    """The chapter's threads follow the worker's: two here (Dask's nanny alone would give it one),
    on a scheduler the sweep did not start."""
    from distributed import LocalCluster

    for k, v in env_for(toy, tmp_path).items():
        monkeypatch.setenv(k, v)
    with LocalCluster(n_workers=1, threads_per_worker=2, resources={"run": 1},
                      dashboard_address=None) as cluster:  # fmt: skip
        cmd = ["sweep", "toy", "-p", "seed", "0", "--scheduler", cluster.scheduler_address]
        result = distinv(toy, tmp_path, *cmd, "--out", str(tmp_path / "sw"), "--no-track")
    assert result.returncode == 0, result.stderr
    table = rows(tmp_path / "sw")
    assert [(r["threads"], r["cpus"]) for r in table] == [("2", "2")], table


def test_a_failing_point_is_retried_once_then_reported(toy, tmp_path):
    out = tmp_path / "sw"
    cmd = ["sweep", "toy", "-p", "fail", "false", "true", "--workers", "2", "--no-track"]
    result = distinv(toy, tmp_path, *cmd, "--out", str(out))
    assert result.returncode == 1 and "1 points failed: fail=True" in result.stderr
    bad = out / "points" / "fail=True"
    assert sorted(p.name for p in bad.iterdir()) == ["attempt-1.failed", "attempt-2.failed"]
    assert [r["status"] for r in rows(out)] == ["finished", "failed"]
    assert json.loads((out / "sweep.json").read_text())["state"] == "failed"


def _kernels(out: Path) -> dict[int, int]:
    """Kernels (pid -> parent pid) running in one of this sweep's attempt folders."""
    found = {}
    for d in Path("/proc").iterdir():
        try:
            cwd, cmdline = os.readlink(d / "cwd"), (d / "cmdline").read_bytes()
            stat = (d / "stat").read_text()
        except (OSError, ValueError):
            continue
        if cwd.startswith(str(out)) and b"ipykernel" in cmdline:
            found[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def _start(toy: Path, store: Path, out: Path, *args: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "distinv", "sweep", "toy", "-p", "seed", "0:4", *args]
    cmd += ["-p", "sleep", "4", "--workers", "2", "--no-track", "--out", str(out)]
    # A shell that starts pytest in the background makes it ignore SIGINT, and children inherit
    # that; the sweep must see Ctrl-C as a terminal would send it.
    return subprocess.Popen(
        cmd,
        env=env_for(toy, store),
        cwd=toy,
        start_new_session=True,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait(condition, timeout: float = 120):
    end = time.time() + timeout
    while time.time() < end:
        if found := condition():
            return found
        time.sleep(0.1)
    raise TimeoutError("the sweep did not get there in time")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds kernels through /proc")
def test_a_killed_worker_moves_its_run_and_leaves_no_kernel(toy, tmp_path):
    out = tmp_path / "sw"
    proc = _start(toy, tmp_path, out)
    kernel, worker = next(iter(_wait(lambda: _kernels(out)).items()))
    assert worker != proc.pid
    os.kill(worker, signal.SIGKILL)
    _wait(lambda: not Path(f"/proc/{kernel}").exists(), timeout=10)  # the kernel follows its parent
    assert proc.wait(timeout=180) == 0, proc.stderr.read().decode()
    table = rows(out)
    assert [r["status"] for r in table] == ["finished"] * 4
    assert any(r["attempts"] == "2" for r in table)  # the killed run, again in its own folder
    assert len(finished_runs(out)) == 4
    assert not _kernels(out)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds kernels through /proc")
def test_ctrl_c_keeps_finished_runs_and_a_rerun_continues(toy, tmp_path):
    out = tmp_path / "sw"
    proc = _start(toy, tmp_path, out)
    _wait(lambda: finished_runs(out))
    _wait(lambda: _kernels(out))  # a second run is under way
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert "interrupted" in proc.stderr.read().decode()
    for run in finished_runs(out):  # whatever looks finished is finished
        assert (run / "metrics.json").is_file() and (run / "run.json").is_file()
    record = json.loads((out / "sweep.json").read_text())
    assert record["state"] == "interrupted" and 1 <= record["finished"] < 4
    done_before = {r.parent.name for r in finished_runs(out)}
    _wait(lambda: not _kernels(out), timeout=10)
    again = _start(toy, tmp_path, out)
    assert again.wait(timeout=180) == 0, again.stderr.read().decode()
    table = rows(out)
    assert {r["point"] for r in table if r["status"] == "cached"} == done_before
    assert {r["status"] for r in table} <= {"cached", "finished"} and len(table) == 4


def test_run_with_track_logs_one_mlflow_run(toy, tmp_path):
    out = tmp_path / "run"
    result = distinv(toy, tmp_path / "store", "run", "toy", "--track", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "tracked in MLflow" in result.stderr
    from distinv.book import track

    os.environ["DISTINV_MLFLOW_DIR"] = str(tmp_path / "store")
    try:
        first = track.log_run(out, toy)
        assert track.log_run(out, toy) == first  # a folder is logged once
        again = distinv(toy, tmp_path / "store", "run", "toy", "--track", "--force", "--out",
                        str(out))  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert track.log_run(out, toy) != first  # run again in the same folder: a new run
    finally:
        del os.environ["DISTINV_MLFLOW_DIR"]


DASH = (
    FRONT
    + """
# A toy dashboard

```{code-cell} ipython3
:tags: [parameters]

runs: str = ""  # the build's runs
```

```{code-cell} ipython3
from pathlib import Path

from distinv import metrics, report

table, shown = report.dashboard(Path(runs))
Path("table.md").write_text(table)
metrics.save({"n_chapters": len(shown)})
```
"""
)


def test_book_with_seeds_shows_the_spread_on_its_dashboard(tmp_path, monkeypatch):
    from distinv.book.build import execute_all

    root = tmp_path / "book2"
    (root / "book").mkdir(parents=True)
    (root / "book" / "01_toy.md").write_text(TOY)
    (root / "book" / "00_dash.md").write_text(DASH)
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/00_dash\nchapters:\n  - file: book/01_toy\n"
    )
    monkeypatch.setenv("DISTINV_MLFLOW_DIR", str(tmp_path / "store"))
    runs = tmp_path / "runs"
    with pytest.raises(sweep.DistinvError, match="unknown parameter 'seed' for chapter 00_dash"):
        execute_all(root, runs, None, log=lambda *a: None, seeds=["0:2"], swept=("00_dash",))
    assert not (runs / "01_toy").exists()  # refused before anything ran
    execute_all(root, runs, None, log=lambda *a: None, seeds=["0:3"], swept=("01_toy",), workers=2)
    manifest = json.loads((runs / "build.json").read_text())
    assert manifest["sweeps"] == {"01_toy": {"folder": "sweeps/01_toy", "seeds": [0, 1, 2]}}
    table = (runs / "00_dash" / "table.md").read_text().splitlines()
    value = next(line for line in table if "`value`" in line)
    assert value.endswith("| 0.5 | 2.5 (0.5 to 4.5), 3 seeds |"), value
