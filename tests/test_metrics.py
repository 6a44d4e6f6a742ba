"""metrics.json: what a chapter may write, and how the intro's dashboard shows runs and non-runs."""

import json
import math

import numpy as np
import pytest

from distinv import metrics
from distinv.book.chapters import chapters


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


def test_dashboard_shows_runs_and_not_runs(tmp_path, monkeypatch):
    book = chapters()
    ran, absent = book[1], book[0]
    (tmp_path / ran.slug).mkdir()
    metrics.save({"b_metric": 2, "a_metric": 0.123456}, tmp_path / ran.slug)
    table = metrics.dashboard(tmp_path, [absent, ran]).splitlines()
    assert len(table) == 2 + 1 + 2
    assert table[2] == f"| {absent.title} | | | *not run* |"
    assert table[3] == f"| {ran.title} | default | `a_metric` | 0.1235 |"
    assert table[4] == "|  |  | `b_metric` | 2 |"


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
    assert metrics.differences(first, second) == []
    assert metrics.differences(first, {**second, "acc": 0.6}) == ["acc: 0.5 then 0.6"]
    assert metrics.differences({"a": 1}, {}) == ["a: 1 then None"]


def test_ratio_interval_covers_the_true_ratio_and_narrows_with_data():
    rng = np.random.default_rng(0)
    draws = [(rng.exponential(2.0, 50), rng.exponential(1.0, 50)) for _ in range(200)]
    cover = np.mean([lo < 2.0 < hi for lo, hi in (metrics.ratio_interval(*d) for d in draws)])
    assert 0.85 <= cover <= 0.99, cover  # a 95% interval, up to bootstrap and sampling error
    num, den = draws[0]
    small = metrics.ratio_interval(num, den)
    assert small[0] < num.mean() / den.mean() < small[1]
    large = metrics.ratio_interval(rng.exponential(2.0, 5000), rng.exponential(1.0, 5000))
    assert large[1] - large[0] < (small[1] - small[0]) / 4
    assert metrics.ratio_interval([3.0, 3.0], [1.5, 1.5]) == (2.0, 2.0)
    assert metrics.ratio_interval(num, den, seed=4) == metrics.ratio_interval(num, den, seed=4)
    with pytest.raises(ValueError):
        metrics.ratio_interval([1.0], [1.0, 2.0])
    with pytest.raises(ValueError):
        metrics.ratio_interval([1.0, np.nan], [1.0, 2.0])
