"""`distinv` on a toy book: runs, metrics, and a one-line error for each bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import toy_book

REPO = Path(__file__).resolve().parents[1]

TOY = """---
kernelspec:
  name: python3
  display_name: Python 3
---

# A toy chapter

```{code-cell} ipython3
:tags: [parameters]

steps: int = 3  # how many steps
rate: float = 0.5  # a rate
fail: bool = False  # raise inside the chapter
write_metrics: bool = True  # whether to write metrics.json
```

```{code-cell} ipython3
from distinv import metrics

if fail:
    raise RuntimeError("the toy chapter was told to fail")
if write_metrics:
    metrics.save({"steps": steps, "rate": rate})
```
"""


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return toy_book(tmp_path_factory.mktemp("toybook"), TOY, "steps: 1")


def distinv(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DISTINV_ROOT": str(root)}
    cmd = [sys.executable, "-m", "distinv", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=root, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("distinv: error: ")
    for f in fragments:
        assert f in lines[0]


def test_list_shows_parameters(toy):
    r = distinv(toy, "list")
    assert r.returncode == 0, r.stderr
    assert "01_toy  A toy chapter" in r.stdout
    assert "steps: int = 3  # how many steps" in r.stdout
    assert "profiles: smoke" in r.stdout


def test_run_json_with_params_and_profile(toy, tmp_path):
    out = tmp_path / "run"
    r = distinv(
        toy, "run", "toy", "--profile", "smoke", "-p", "rate", "2", "--out", str(out), "--json"
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"rate": 2.0, "steps": 1}
    names = sorted(p.name for p in out.iterdir())
    assert names == ["01_toy.ipynb", "deps.json", "metrics.json", "run.json"]
    record = json.loads((out / "run.json").read_text())
    assert record["profile"] == "smoke" and record["params"] == {"steps": 1, "rate": 2.0}
    assert len(record["key"]) == 16 and record["title"] == "A toy chapter"

    # the same run again comes from the cache; --force executes it again; other values run anew
    again = distinv(toy, "run", "toy", "--profile", "smoke", "-p", "rate", "2", "--out", str(out))
    assert again.returncode == 0 and "from the cache" in again.stderr, again.stderr
    forced = distinv(toy, "run", "toy", "--profile", "smoke", "-p", "rate", "2", "--out", str(out),
                     "--force")  # fmt: skip
    assert forced.returncode == 0 and "running 01_toy" in forced.stderr, forced.stderr
    assert json.loads((out / "run.json").read_text())["finished"] >= record["finished"]
    other = distinv(toy, "run", "toy", "-p", "rate", "3", "--out", str(out))
    assert_one_line_error(other, "already exists and is not empty")


def test_default_run_folder(toy):
    r = distinv(toy, "run", "1", "-p", "steps", "7")
    assert r.returncode == 0, r.stderr
    assert "steps  7" in r.stdout
    runs = list((toy / "_build" / "runs" / "01_toy").iterdir())
    assert len(runs) == 1 and (runs[0] / "metrics.json").is_file()


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["run", "nope"], ["unknown chapter 'nope'", "known: 01_toy"]),
        (["run", "toy", "-p", "stepz", "3"], ["unknown parameter 'stepz'", "steps, rate, fail"]),
        (["run", "toy", "-p", "steps", "three"], ["'steps'", "expects int", "'three'"]),
        (["run", "toy", "-p", "fail", "maybe"], ["'fail'", "expects bool"]),
        (["run", "toy", "--profile", "fast"], ["unknown profile 'fast'", "known: smoke"]),
        (["book", "--rerun", "nope"], ["unknown chapter 'nope'"]),
    ],
)
def test_bad_input_is_one_line_error(toy, tmp_path, args, fragments):
    out = tmp_path / "never"
    r = distinv(toy, *args, "--out", str(out))
    assert_one_line_error(r, *fragments)
    assert not list(tmp_path.iterdir()), "a rejected run must write nothing"


def test_failing_chapter_fails_the_run(toy, tmp_path):
    out = tmp_path / "run"
    r = distinv(toy, "run", "toy", "-p", "fail", "true", "--out", str(out))
    assert r.returncode == 1
    assert "RuntimeError" in r.stderr and "told to fail" in r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("distinv: error: chapter 01_toy failed in cell")
    assert not out.exists(), "a failed run must not look finished"
    assert (tmp_path / "run.failed" / "01_toy.ipynb").is_file()


def test_chapter_without_metrics_fails(toy, tmp_path):
    out = tmp_path / "run"
    r = distinv(toy, "run", "toy", "-p", "write_metrics", "false", "--out", str(out))
    assert r.returncode == 1
    assert "without writing metrics.json" in r.stderr
    assert not out.exists()


def test_no_book_found(tmp_path):
    r = distinv(tmp_path, "list")
    assert_one_line_error(r, "no distinv book here")


def test_scan_export(tmp_path):
    r = distinv(REPO, "scan", "export", str(tmp_path / "scan"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "scan" / "add_prim_split" / "tasks_test_addprim_jump.txt").is_file()


def test_real_scan_chapter_smoke(tmp_path):
    r = distinv(REPO, "run", "01", "--profile", "smoke", "--json", "--out", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["n_commands"] == 20910
