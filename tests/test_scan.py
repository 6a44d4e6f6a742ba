"""The SCAN generator against the facts of Lake & Baroni (2018) and the published split files."""

from collections import Counter

import pytest

from distinv import scan


@pytest.fixture(scope="module")
def pairs():
    return scan.dataset()


@pytest.fixture(scope="module")
def splits():
    return {name: scan.split(name) for name in scan.SPLITS}


def test_dataset_facts(pairs):
    assert len(pairs) == 20910
    assert len({c for c, _ in pairs}) == 20910
    assert {w for c, _ in pairs for w in c.split()} == set(scan.WORDS)
    assert len(scan.WORDS) == 13
    assert {a for _, out in pairs for a in out.split()} == set(scan.ACTIONS)
    assert len(scan.ACTIONS) == 6
    assert max(len(c.split()) for c, _ in pairs) == 9
    assert max(len(out.split()) for _, out in pairs) == 48


@pytest.mark.parametrize(
    "command, actions",
    [
        ("jump", "I_JUMP"),
        ("turn left", "I_TURN_LEFT"),
        ("jump twice", "I_JUMP I_JUMP"),
        ("walk left", "I_TURN_LEFT I_WALK"),
        ("run opposite right", "I_TURN_RIGHT I_TURN_RIGHT I_RUN"),
        ("turn opposite left", "I_TURN_LEFT I_TURN_LEFT"),
        ("look around left", " ".join(["I_TURN_LEFT I_LOOK"] * 4)),
        ("turn around right", " ".join(["I_TURN_RIGHT"] * 4)),
        ("jump and walk thrice", "I_JUMP I_WALK I_WALK I_WALK"),
        ("jump twice after walk left", "I_TURN_LEFT I_WALK I_JUMP I_JUMP"),
    ],
)
def test_interpretation(command, actions):
    assert scan.interpret(command) == actions


@pytest.mark.parametrize(
    "command, word", [("hop", "hop"), ("jump and", "jump and"), ("left walk", "left walk")]
)
def test_interpret_rejects_non_scan(command, word):
    with pytest.raises(ValueError, match=word):
        scan.interpret(command)


def test_length_split(pairs, splits):
    s = splits["length"]
    assert (len(s.train), len(s.test)) == (16990, 3920)
    assert max(len(a.split()) for _, a in s.train) == 22
    assert min(len(a.split()) for _, a in s.test) == 24
    assert not any(len(a.split()) == 23 for _, a in pairs)


def test_addprim_jump_split(splits):
    s = splits["addprim_jump"]
    assert len(s.test) == 7706
    assert all("jump" in c.split() and c != "jump" for c, _ in s.test)
    counts = Counter(s.train)
    assert len(s.train) == 14670
    assert counts[("jump", "I_JUMP")] == 1467
    assert len(counts) == 13203 + 1
    assert not any("jump" in c.split() for c, _ in counts if c != "jump")


def test_addprim_turn_left_split(splits):
    s = splits["addprim_turn_left"]
    assert len(s.test) == 1208
    assert len(s.train) == 21890
    assert Counter(s.train)[("turn left", "I_TURN_LEFT")] == 2189


def test_template_around_right_split(pairs, splits):
    s = splits["template_around_right"]
    assert (len(s.train), len(s.test)) == (15225, 4476)
    assert all("around right" in c for c, _ in s.test)
    assert not any("turn around right" in c for c, _ in s.test)
    assert not any("around right" in c for c, _ in s.train)
    assert sum("turn around right" in c for c, _ in pairs) == 1209


def test_simple_split_is_seeded(splits):
    s = splits["simple"]
    assert (len(s.train), len(s.test)) == (16728, 4182)
    assert not {c for c, _ in s.train} & {c for c, _ in s.test}
    assert scan.split("simple", seed=0) == s
    assert scan.split("simple", seed=1).test != s.test


def test_unknown_split():
    with pytest.raises(ValueError, match="unknown SCAN split 'jumpy'; known: simple"):
        scan.split("jumpy")


def test_export_round_trip(tmp_path, splits):
    paths = scan.export(tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in paths}
    assert "tasks.txt" in names
    assert "add_prim_split/tasks_train_addprim_jump.txt" in names
    assert "template_split/tasks_test_template_around_right.txt" in names
    assert len(names) == 11
    first = (tmp_path / "length_split/tasks_train_length.txt").read_text().splitlines()[0]
    assert first.startswith("IN: ") and " OUT: I_" in first
    for name in scan.SPLITS:
        assert scan.load(tmp_path, name) == splits[name]
    assert scan.read_pairs(tmp_path / "tasks.txt") == scan.dataset()


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("IN: jump OUT: I_JUMP\nIN: walk I_WALK\n")
    with pytest.raises(ValueError, match=r"bad\.txt:2: malformed SCAN line"):
        scan.read_pairs(path)


def test_load_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="tasks_train_length.txt"):
        scan.load(tmp_path, "length")
