"""metrics.json: what a chapter may write, and how the intro's dashboard shows runs and non-runs."""

import json
import math

import numpy as np
import pytest

from distinv import metrics, report, stats
from distinv.book.determinism import differences


def test_save_and_load(tmp_path):
    metrics.save({"acc": np.float32(0.5), "n": np.int64(3)}, tmp_path)
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"acc": 0.5, "n": 3}
    assert metrics.load(tmp_path) == {"acc": 0.5, "n": 3}
    assert metrics.load(tmp_path / "absent") is None


@pytest.mark.parametrize(
    "bad, match",
    [
        ({}, "non-empty"),
        ({"acc": math.nan}, "'acc' must be a finite number"),
        ({"acc": float("inf")}, "finite"),
        ({"acc": "0.9"}, "finite number"),
        ({"acc": True}, "finite number"),
        ({"acc": {"iid": 1.0}}, "finite number"),
        ({"not a name": 1}, "identifier"),
    ],
)
def test_save_rejects_bad_metrics(tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        metrics.save(bad, tmp_path)
    assert not (tmp_path / "metrics.json").exists()


def _run(folder, key, title, values, profile=None):
    folder.mkdir(parents=True)
    metrics.save(values, folder)
    record = {"key": key, "title": title, "profile": profile, "finished": "2026-12-02T10:00:00"}
    (folder / metrics.RUN_FILE).write_text(json.dumps(record))


def test_dashboard_shows_only_this_builds_runs(tmp_path):
    _run(tmp_path / "01_a", "k1", "Chapter A", {"b_metric": 2, "a_metric": 0.123456})
    _run(tmp_path / "02_b", "old", "Chapter B", {"x": 1.0})  # a run of another build
    manifest = {"runs": {"01_a": {"key": "k1"}, "02_b": {"key": "k2"}, "03_c": {"key": "k3"}}}
    (tmp_path / metrics.BUILD_FILE).write_text(json.dumps(manifest))
    table, shown = report.dashboard(tmp_path)
    lines = table.splitlines()
    assert len(lines) == 2 + 2 + 1 + 1
    assert lines[2] == "| Chapter A | default | 2026-12-02T10:00:00 | `a_metric` | 0.1235 |"
    assert lines[3] == "|  |  |  | `b_metric` | 2 |"
    assert lines[4] == "| Chapter B | | | | *not run* |"  # its key is not this build's
    assert lines[5] == "| 03_c | | | | *not run* |"
    assert shown == {"01_a": {"a_metric": 0.123456, "b_metric": 2}, "02_b": None, "03_c": None}
    (tmp_path / metrics.BUILD_FILE).unlink()
    with pytest.raises(FileNotFoundError, match="make book"):
        report.dashboard(tmp_path)


def test_dashboard_shows_a_sweep_beside_the_builds_run(tmp_path):
    _run(tmp_path / "01_a", "k1", "Chapter A", {"acc": 0.9, "n": 3})
    _run(tmp_path / "02_b", "k2", "Chapter B", {"x": 1.0})
    sweep = tmp_path / "sweeps" / "01_a"
    sweep.mkdir(parents=True)
    entries = [{"metric": "acc", "n": 5, "mean": 0.8, "std": 0.1, "lo": 0.72, "hi": 0.88},
               {"metric": "n", "n": 1, "mean": 3.0}]  # fmt: skip
    (sweep / "summary.json").write_text(json.dumps(entries))
    runs = {"01_a": {"key": "k1"}, "02_b": {"key": "k2"}}
    manifest = {"runs": runs, "sweeps": {"01_a": {"folder": "sweeps/01_a", "seeds": [0, 1]}}}
    (tmp_path / metrics.BUILD_FILE).write_text(json.dumps(manifest))
    lines = report.dashboard(tmp_path)[0].splitlines()
    assert lines[0].endswith("| across seeds: mean (95% interval), seeds |")
    assert lines[2].endswith("| `acc` | 0.9 | 0.8 (0.72 to 0.88), 5 seeds |")
    assert lines[3].endswith("| `n` | 3 | 3, 1 seed |")
    assert lines[4].endswith("| `x` | 1 |  |")  # a chapter the build did not sweep
    (sweep / "summary.json").unlink()
    with pytest.raises(FileNotFoundError, match="summary.json"):
        report.dashboard(tmp_path)


def test_mean_interval():
    lo, hi = stats.mean_interval([1.0, 2.0, 3.0, 4.0])
    assert 1.0 <= lo < 2.5 < hi <= 4.0
    assert stats.mean_interval([1.0, 2.0]) == stats.mean_interval([1.0, 2.0])  # seeded
    with pytest.raises(ValueError, match="at least 2"):
        stats.mean_interval([1.0])
    with pytest.raises(ValueError, match="finite"):
        stats.mean_interval([1.0, math.nan])


def test_glue_stores_python_numbers(monkeypatch):
    import myst_nb

    seen = {}
    monkeypatch.setattr(myst_nb, "glue", lambda name, value, display: seen.update({name: value}))
    metrics.glue("p", np.float64(0.25))
    metrics.glue("n", np.int64(3))
    assert seen == {"p": 0.25, "n": 3}
    assert type(seen["p"]) is float and type(seen["n"]) is int


def test_differences_ignore_timings():
    first = {"acc": 0.5, "hull_speedup_d32": 12.0, "train_seconds": 3.0, "infer_per_s": 9.0,
             "seconds_per_task": 1.0}  # fmt: skip
    second = {"acc": 0.5, "hull_speedup_d32": 14.0, "train_seconds": 2.0, "infer_per_s": 7.0,
              "seconds_per_task": 1.5}  # fmt: skip
    assert differences(first, second) == []
    assert differences(first, {**second, "acc": 0.6}) == ["acc: 0.5 then 0.6"]
    assert differences({"a": 1}, {}) == ["a: 1 then None"]


def test_ratio_interval_covers_the_true_ratio_and_narrows_with_data():
    rng = np.random.default_rng(0)
    draws = [(rng.exponential(2.0, 50), rng.exponential(1.0, 50)) for _ in range(200)]
    cover = np.mean([lo < 2.0 < hi for lo, hi in (stats.ratio_interval(*d) for d in draws)])
    assert 0.85 <= cover <= 0.99, cover  # a 95% interval, up to bootstrap and sampling error
    num, den = draws[0]
    small = stats.ratio_interval(num, den)
    assert small[0] < num.mean() / den.mean() < small[1]
    large = stats.ratio_interval(rng.exponential(2.0, 5000), rng.exponential(1.0, 5000))
    assert large[1] - large[0] < (small[1] - small[0]) / 4
    assert stats.ratio_interval([3.0, 3.0], [1.5, 1.5]) == (2.0, 2.0)
    assert stats.ratio_interval(num, den, seed=4) == stats.ratio_interval(num, den, seed=4)
    with pytest.raises(ValueError):
        stats.ratio_interval([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        stats.ratio_interval([1.0, np.nan], [1.0, 2.0])


def test_table_formats_numbers_and_checks_rows():
    text = report.table(["name", "n", "share"], [["a", 1200, 0.123456], ["b", 3, 0.5]], {2: ".1%"})
    assert text.splitlines() == [
        "| name | n | share |",
        "|---|---|---|",
        "| a | 1,200 | 12.3% |",
        "| b | 3 | 50.0% |",
    ]
    with pytest.raises(ValueError, match="3 values"):
        report.table(["name", "n", "share"], [["a", 1]])
