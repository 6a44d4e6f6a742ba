"""The neuro-symbolic SCAN learner and the modified-SCAN sets (groundwork for issue 6)."""

import pytest

from distinv import scan
from distinv.scan import mods as scan_mods
from distinv.scan.neurosymbolic import NeuroSymbolicSCAN, ParseError, execute


def _exact(model, pairs):
    pred = model.predict([c for c, _ in pairs])
    return sum(p == a for p, (_, a) in zip(pred, pairs, strict=True)) / len(pairs)


@pytest.fixture(scope="module")
def addjump():
    split = scan.split("addprim_jump", 0)
    return split, NeuroSymbolicSCAN().fit(split.train)


def test_the_given_semantics():
    p, d = ("P", ("A",)), ("DIR", "T")
    assert execute([p, d, ("REP", 2)]) == ["T", "A", "T", "A"]
    assert execute([p, ("MOD", "opposite"), d]) == ["T", "T", "A"]
    assert execute([p, ("MOD", "around"), d]) == ["T", "A"] * 4
    assert execute([p, ("CONJ", "reverse"), ("P", ("B",))]) == ["B", "A"]
    with pytest.raises(ParseError):
        execute([d, p])


def test_jump_is_learned_from_the_bare_command_alone(addjump):
    split, model = addjump
    assert all("jump" not in c.split() or c == "jump" for c, _ in split.train)
    assert model.lexicon["jump"] == ("P", ("I_JUMP",))
    assert model.lexicon["turn"] == ("P", ())
    assert model.lexicon["after"] == ("CONJ", "reverse")
    assert model.induction.ambiguous == {}


@pytest.mark.parametrize("name", scan.SPLITS)
def test_every_split_is_solved(name):
    split = scan.split(name, 0)
    assert _exact(NeuroSymbolicSCAN().fit(split.train), split.test) == 1.0


def test_data_outside_the_grammar_is_refused():
    with pytest.raises(ValueError, match="no meaning of"):
        NeuroSymbolicSCAN().fit([("jump", "I_JUMP"), ("jump twice", "I_JUMP I_JUMP I_WALK")])
    with pytest.raises(ValueError, match="at least one"):
        NeuroSymbolicSCAN().fit([])
    with pytest.raises(RuntimeError, match="before fit"):
        NeuroSymbolicSCAN().predict(["jump"])


def test_unknown_words_get_no_answer(addjump):
    _, model = addjump
    assert model.predict(["skip twice", "jump twice"]) == ["", "I_JUMP I_JUMP"]


def test_reference_labels_by_hand():
    mods = {m.name: m for m in scan_mods.MODIFICATIONS}
    assert mods["swap"].label("jump twice") == "I_WALK I_WALK"
    assert mods["new word"].label("skip left") == "I_TURN_LEFT I_SKIP"
    assert mods["left right swap"].label("walk left and turn right") == (
        "I_TURN_RIGHT I_WALK I_TURN_LEFT"
    )
    assert mods["twice thrice"].label("look twice") == "I_LOOK I_LOOK I_LOOK"
    assert mods["new action"].label("jump and walk") == " ".join(["I_TURN_LEFT"] * 4 + ["I_WALK"])
    assert mods["composed"].label("jump left") == "I_TURN_RIGHT I_WALK"


@pytest.mark.parametrize("mod", scan_mods.MODIFICATIONS, ids=lambda m: m.name)
def test_modifications_follow_and_leave_the_rest(addjump, mod):
    _, model = addjump
    changed = model
    for instruction in mod.instructions:
        changed = changed.modify(instruction)
    affected = scan_mods.affected(mod, 200, 0)
    unaffected = scan_mods.unaffected(mod, 200, 0)
    assert all(any(w in c.split() for w in mod.words) for c, _ in affected)
    assert not any(any(w in c.split() for w in mod.words) for c, _ in unaffected)
    assert _exact(model, affected) == 0.0  # the modification matters for every affected command
    assert _exact(changed, affected) == 1.0
    assert _exact(changed, unaffected) == 1.0


def test_bad_instructions(addjump):
    _, model = addjump
    for bad in ["jump is walk", "jump means", "jump means walkk", "hop and jump swap"]:
        with pytest.raises(ValueError):
            model.modify(bad)
