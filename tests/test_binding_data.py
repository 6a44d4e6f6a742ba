"""The variable-binding language: its interpreter, and the generator's splits."""

import re

import pytest

from distinv.binding import data as binding


@pytest.mark.parametrize(
    "program, output",
    [
        ("X means jump . do X .", "JUMP"),
        ("X means jump . Y means walk . do X then Y .", "JUMP WALK"),
        ("X means jump . do X . now X means walk . do X .", "JUMP WALK"),
        ("X means jump . now X means hop . do X .", "HOP"),
        ("X means jump . do X twice .", "JUMP JUMP"),
        ("X means jump . do X left thrice .", "LTURN JUMP LTURN JUMP LTURN JUMP"),
        ("X means jump . Y means X . do Y .", "JUMP"),
        ("X means jump . Y means X . now X means walk . do Y then X .", "JUMP WALK"),
    ],
)
def test_interpreter(program, output):
    assert binding.run(program) == output


@pytest.mark.parametrize(
    "program, match",
    [
        ("X means fly . do X .", "unknown word 'fly'"),
        ("X means jump .", "no query"),
        ("do X .", "'X' is queried before it is bound"),
        ("Y means X . do Y .", "'X' is used before it is bound"),
        ("X means jump . do X twice left .", "unexpected"),
        ("X means jump . do X", "must end with"),
        ("X jump . do X .", "not a statement"),
    ],
)
def test_malformed_programs(program, match):
    with pytest.raises(ValueError, match=match):
        binding.run(program)


def _bindings(program):
    return re.findall(r"([A-Z]) means ([a-z]+)", program)


@pytest.mark.parametrize("cap", binding.CAPABILITIES)
def test_splits(cap):
    train = binding.generate(cap, 300, seed=0)
    iid = binding.generate(cap, 100, seed=1, exclude={e.program for e in train})
    held = binding.generate(cap, 100, seed=2, heldout=True, exclude={e.program for e in train})
    assert binding.generate(cap, 300, seed=0) == train  # seeded
    assert len({e.program for e in train}) == 300
    assert not {e.program for e in train} & {e.program for e in iid + held}
    for split in (train, iid, held):
        for e in split:
            assert binding.run(e.program) == e.output and e.capability == cap
    pairs = binding.held_out_pairs(0)
    for e in train + iid:
        assert not set(_bindings(e.program)) & pairs, e.program
    if cap in ("basic", "compositional"):
        for e in held:
            queried = re.search(r"do ([A-Z])", e.program).group(1)
            bound = dict(_bindings(e.program))
            assert (queried, bound[queried]) in pairs, e.program


def test_heldout_varies_what_it_says():
    depth = lambda e: e.program.count(" means ") - len(re.findall(r"means [a-z]", e.program))  # noqa: E731
    train = binding.generate("chained", 200, 0)
    held = binding.generate("chained", 200, 0, heldout=True)
    assert {depth(e) for e in train} == {1, 2} and {depth(e) for e in held} == {3, 4}
    rebinds = lambda e: e.program.count("now ")  # noqa: E731
    assert {rebinds(e) for e in binding.generate("rebinding", 200, 0)} == {1}
    assert {rebinds(e) for e in binding.generate("rebinding", 200, 0, heldout=True)} == {2, 3}
    items = lambda e: e.program.split(" do ")[1].count(" then ") + 1  # noqa: E731
    train, held = binding.generate("sequence", 300, 0), binding.generate("sequence", 300, 0, True)
    assert {items(e) for e in train} == {1, 2, 3} and {items(e) for e in held} == {4, 5, 6}

    def distractors(e):  # bound names that the query never asks for
        bound = {s.split()[0] for s in e.program.split(" . ") if " means " in s}
        return len(bound - set(e.program.split(" do ")[1].split()))

    assert {distractors(e) for e in train} == {0, 1, 2}
    assert {distractors(e) for e in held} == {3, 4, 5}
    # eight names: 6 items with 5 distractors can only repeat a name; every item is a bound name
    for e in held:
        query = e.program.split(" do ")[1].rstrip(" .").split(" then ")
        assert len(set(query)) == min(len(query), len(binding.VARIABLES) - distractors(e))


def test_vocabularies_and_unknown_capability():
    for e in binding.generate("compositional", 200, 0):
        assert set(e.program.split()) <= set(binding.INPUT_VOCAB)
        assert set(e.output.split()) <= set(binding.OUTPUT_VOCAB)
    with pytest.raises(ValueError, match="unknown capability 'loops'"):
        binding.generate("loops", 10, 0)


def test_generate_stops_when_no_new_program_comes(monkeypatch):
    monkeypatch.setattr(binding, "_draw", lambda cap, w, heldout: "X means jump . do X .")
    with pytest.raises(ValueError, match="only 1 distinct basic programs found, 2 asked for"):
        binding.generate("basic", 2, 0)


def test_generation_does_not_depend_on_string_hashing():
    """Every split, the systematic ones included, is the same in processes with other hash seeds."""
    import os
    import subprocess
    import sys

    code = (
        "from distinv.binding import data as b\n"
        "for c in b.CAPABILITIES:\n"
        "    for h in (False, True):\n"
        "        print([e.program for e in b.generate(c, 30, 1, h)])\n"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(s)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for s in (1, 2, 3)
    }
    assert len(outs) == 1


def test_query_items_counts_the_query_s_items():
    assert binding.query_items("X means jump . do X .") == 1
    assert binding.query_items("X means jump . Y means walk . do X then Y twice then X .") == 3
    for ex in binding.generate("sequence", 20, seed=0):
        query = ex.program.split(" . ")[-1]
        assert query.startswith("do ") and binding.query_items(ex.program) >= 1
        assert binding.query_items(ex.program) == len(query.split(" then "))


def test_dropped_items_is_a_proper_subsequence():
    right = "JUMP WALK WALK RUN"
    assert binding.dropped_items("JUMP WALK RUN", right)
    assert binding.dropped_items("", right)
    assert not binding.dropped_items(right, right)  # nothing dropped
    assert not binding.dropped_items("WALK JUMP", right)  # out of order
    assert not binding.dropped_items("JUMP LOOK", right)  # a symbol that is not there


def test_windows_name_classes_and_pad_the_ends():
    w = binding.windows("X means jump . do X .", 1, 2)
    assert len(w) == 7
    assert w[0] == ("", "VAR", "means", "ACTION") and w[-1] == ("VAR", ".", "", "")


def test_novel_windows_finds_what_training_lacks():
    seen = ["X means jump . do X then Y then Z ."]  # a three-item query
    longer = ["X means jump . do X then Y then Z then A ."]
    assert binding.novel_windows(longer, seen, 2, 2) == 1.0  # `then V then V then` is new
    assert binding.novel_windows(longer, seen, 1, 2) == 0.0  # every four-token window occurs
    assert binding.novel_windows(seen, seen, 2, 2) == 0.0
