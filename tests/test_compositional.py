"""The compositional-SCAN loop: one interface for every model, modifications, sampling."""

import numpy as np
import pytest

from distinv.scan import compositional as comp
from distinv.scan import mods as scan_mods


def test_sample_is_seeded_ordered_and_total_when_asked():
    items = list(range(100))
    a, b = comp.sample(items, 10, seed=3), comp.sample(items, 10, seed=3)
    assert a == b and a == sorted(a) and len(set(a)) == 10
    assert comp.sample(items, 10, seed=4) != a
    assert comp.sample(items, 0, seed=3) == items and comp.sample(items, 500, seed=3) == items


def test_exact_match_is_whole_sequence():
    pairs = [("walk", "I_WALK"), ("walk twice", "I_WALK I_WALK")]
    assert comp.exact(["I_WALK", "I_WALK"], pairs).tolist() == [True, False]
    with pytest.raises(ValueError, match="1 predictions for 2 pairs"):
        comp.exact(["I_WALK"], pairs)


def test_neurosymbolic_run_scores_every_split_and_every_modification():
    out = comp.run("neurosymbolic", "addjump", comp.Recipe(), n_test=200, n_hull=50, n_queries=20)
    assert len(out["correct"]) == 200 and all(out["correct"])
    assert out["hull_train"].shape[0] == 50 and out["hull_queries"].shape[0] == 20
    simple = comp.run("neurosymbolic", "simple", comp.Recipe(), n_test=20, n_hull=20, n_queries=5,
                      n_mod=30)  # fmt: skip
    assert [r["mod"] for r in simple["mods"]] == [m.name for m in scan_mods.MODIFICATIONS]
    for row in simple["mods"]:
        assert row["affected"] == 1.0 and row["unaffected"] == 1.0, row
        assert row["affected_before"] < 1.0  # the change is a real change
        assert row["n_affected"] == 30 and row["n_unaffected"] == 30


def test_sequence_model_run_and_adaptation_leave_the_trained_model_alone():
    recipe = comp.Recipe(steps=4, batch_size=8, shots=3, replay=6, adapt_steps=2)
    out = comp.run("lstm", "simple", recipe, n_test=6, n_hull=12, n_queries=4, n_mod=5)
    assert len(out["correct"]) == 6 and len(out["gold_lengths"]) == 6
    assert out["hull_train"].shape == (12, recipe.hidden)
    assert len(out["mods"]) == len(scan_mods.MODIFICATIONS)
    assert all(0.0 <= r[k] <= 1.0 for r in out["mods"] for k in ("affected", "unaffected"))
    learner = comp.make("transformer", recipe, seed=0).fit([("walk", "I_WALK"), ("run", "I_RUN")])
    before = learner.predict(["walk", "run"])
    mod = scan_mods.MODIFICATIONS[0]
    taken = comp.take(learner, "transformer", mod, [("jump", "I_WALK")], [("run", "I_RUN")], recipe)
    assert taken is not learner and learner.predict(["walk", "run"]) == before
    with pytest.raises(ValueError, match="at least one example"):
        comp.take(learner, "transformer", mod, [], [("run", "I_RUN")], recipe)


def test_bad_names_are_refused():
    with pytest.raises(ValueError, match="unknown model 'gru'"):
        comp.make("gru", comp.Recipe(), 0)
    with pytest.raises(ValueError, match="unknown split 'addwalk'"):
        comp.run("neurosymbolic", "addwalk", comp.Recipe())


def test_run_all_returns_every_pair_in_order():
    out = comp.run_all(["neurosymbolic"], ["turnleft", "length"], comp.Recipe(), workers=1,
                       n_test=10, n_hull=10, n_queries=3)  # fmt: skip
    assert [(r["model"], r["split"]) for r in out] == [
        ("neurosymbolic", "turnleft"), ("neurosymbolic", "length")]  # fmt: skip
    assert np.mean([np.mean(r["correct"]) for r in out]) == 1.0
