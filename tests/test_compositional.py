"""The compositional-SCAN loop: one interface for every model, modifications, sampling."""

import numpy as np
import pytest

from distinv import scan
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
    train = {c for c, _ in scan.split("simple", 0).train}
    for row in simple["mods"]:
        assert row["affected"] == 1.0 and row["unaffected"] == 1.0, row
        assert row["affected_before"] < 1.0  # the change is a real change
        assert row["n_affected"] == 30 and comp.MIN_UNAFFECTED <= row["n_unaffected"] <= 30
        assert train.isdisjoint(row["unaffected_commands"]), row["mod"]


class Memoriser:
    """Answers SCAN correctly, and after `adapt` answers the pairs it was shown as shown: a learner
    that remembers its few-shot examples and generalises the change to nothing else."""

    def __init__(self, table=None):
        self.table = table or {}

    def predict(self, commands):
        return [self.table.get(c, scan.interpret(c)) for c in commands]

    def adapt(self, pairs, steps, lr):
        return Memoriser({**self.table, **dict(pairs)})


def test_modification_scores_what_the_learner_does():
    data = scan.split("simple", 0)
    recipe = comp.Recipe(shots=5, replay=50)
    mod = next(m for m in scan_mods.MODIFICATIONS if m.name == "swap")
    r = comp.modification(Memoriser(), "lstm", mod, data.train, recipe, n=40, seed=0)
    assert r["unaffected_before"] == 1.0 and r["unaffected"] == 1.0  # nothing else changed
    assert r["affected_before"] == 0.0  # the old meaning is wrong on every affected command
    assert r["affected"] == 0.0  # remembering the shots is not following the new rule
    assert r["n_affected"] == 40 and r["n_unaffected"] == 40
    seen = {c for c, _ in data.train} | {c for c, _ in scan_mods.affected(mod, 45, 0)[:5]}
    assert seen.isdisjoint(r["unaffected_commands"])  # leakage on commands never trained on
    # the few unaffected commands of a change of both directions: all there are outside training
    both = next(m for m in scan_mods.MODIFICATIONS if m.name == "composed")
    rb = comp.modification(Memoriser(), "lstm", both, data.train, recipe, n=200, seed=0)
    trained = {c for c, _ in data.train}
    outside = [
        c
        for c in scan.commands()
        if not {"jump", "left", "right"} & set(c.split()) and c not in trained
    ]
    assert comp.MIN_UNAFFECTED <= rb["n_unaffected"] == len(outside) < 200


class Recorder(Memoriser):
    """A memoriser that keeps every pair it was fine-tuned on."""

    shown: list = []

    def adapt(self, pairs, steps, lr):
        Recorder.shown = list(pairs)
        return super().adapt(pairs, steps, lr)


class Follower:
    """Answers SCAN correctly, and after `adapt` follows the modification on every command."""

    def __init__(self, mod, following=False):
        self.mod, self.following = mod, following

    def predict(self, commands):
        return [self.mod.label(c) if self.following else scan.interpret(c) for c in commands]

    def adapt(self, pairs, steps, lr):
        return Follower(self.mod, following=True)


class Blank:
    """A known-wrong learner: the empty answer to everything, before and after."""

    def predict(self, commands):
        return ["" for _ in commands]

    def adapt(self, pairs, steps, lr):
        return self


@pytest.mark.parametrize("mod", scan_mods.MODIFICATIONS[2:4], ids=lambda m: m.name)
def test_leakage_is_scored_on_commands_never_trained_replayed_or_shown(mod):
    data = scan.split("simple", 0)
    recipe = comp.Recipe(shots=10, replay=1000)
    r = comp.modification(Recorder(), "lstm", mod, data.train, recipe, n=200, seed=0)
    shown = {c for c, _ in Recorder.shown}  # everything the fine-tuning saw: shots and replay
    replay = {c for c, _ in comp.replay_pairs(mod, data.train, recipe.replay, 0)}
    plain = [c for c, _ in data.train if not any(w in c.split() for w in mod.words)]
    assert shown == set(r["shot_commands"]) | replay and len(replay) == min(1000, len(plain))
    unaffected = set(r["unaffected_commands"])
    assert len(unaffected) == r["n_unaffected"] >= comp.MIN_UNAFFECTED
    assert unaffected.isdisjoint(shown) and unaffected.isdisjoint(c for c, _ in data.train)
    assert not any(w in c.split() for c in unaffected for w in mod.words)


def test_a_learner_that_follows_the_rule_scores_one_and_a_blank_one_zero():
    data = scan.split("simple", 0)
    recipe = comp.Recipe(shots=5, replay=50)
    mod = next(m for m in scan_mods.MODIFICATIONS if m.name == "composed")
    r = comp.modification(Follower(mod), "lstm", mod, data.train, recipe, n=60, seed=0)
    assert r["affected_before"] == 0.0 and r["affected"] == 1.0
    assert r["unaffected_before"] == 1.0 and r["unaffected"] == 1.0
    assert r["unaffected_right"] == r["n_unaffected"]
    b = comp.modification(Blank(), "lstm", mod, data.train, recipe, n=60, seed=0)
    assert [b[k] for k in ("affected_before", "affected", "unaffected_before", "unaffected")] == [
        0.0
    ] * 4
    assert b["unaffected_right"] == 0


def test_wilson_interval():
    lo, hi = comp.wilson(18, 20)
    assert 0.68 < lo < 0.70 and 0.97 < hi < 0.98  # the textbook values for 18 of 20
    assert comp.wilson(0, 21)[0] == 0.0 and comp.wilson(21, 21)[1] == 1.0
    width = [hi - lo for lo, hi in (comp.wilson(5, 10), comp.wilson(50, 100))]
    assert width[0] > width[1]  # fewer commands, a wider interval
    with pytest.raises(ValueError):
        comp.wilson(3, 0)


def test_sequence_model_run_and_adaptation_leave_the_trained_model_alone():
    recipe = comp.Recipe(steps=4, batch_size=8, shots=3, replay=6, adapt_steps=2)
    out = comp.run("lstm", "simple", recipe, n_test=6, n_hull=12, n_queries=4, n_mod=5)
    assert len(out["correct"]) == 6 and len(out["gold_lengths"]) == 6
    assert out["hull_train"].shape == (12, recipe.hidden)
    assert len(out["mods"]) == len(scan_mods.MODIFICATIONS)
    n = {r["mod"]: r["n_unaffected"] for r in out["mods"]}
    for r in out["mods"]:  # each score is a count of right answers over the set it was scored on
        for key, size in (("affected", r["n_affected"]), ("unaffected", n[r["mod"]])):
            assert abs(r[key] * size - round(r[key] * size)) < 1e-9, (r["mod"], key)
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
