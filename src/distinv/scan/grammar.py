"""SCAN (Lake & Baroni 2018), generated from its phrase-structure grammar; no download.

Grammar (every rule of the paper, with `turn` folded in where the paper writes D[1], D[2]):

    C -> S and S | S after S | S
    S -> V twice | V thrice | V
    V -> T opposite W | T around W | T W | U        T -> U | turn     W -> left | right
    U -> walk | look | run | jump

Interpretation: `x and y` runs x then y; `x after y` runs y then x; `u left` is I_TURN_LEFT u;
`u opposite left` is I_TURN_LEFT I_TURN_LEFT u; `u around left` is (I_TURN_LEFT u) four times;
`turn` contributes no action of its own. A pair is (command, actions), both space-separated strings.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Pair = tuple[str, str]

PRIMITIVES = ("walk", "look", "run", "jump")
DIRECTIONS = ("left", "right")
ACTIONS = ("I_WALK", "I_LOOK", "I_RUN", "I_JUMP", "I_TURN_LEFT", "I_TURN_RIGHT")
WORDS = (*PRIMITIVES, "turn", *DIRECTIONS, "opposite", "around", "twice", "thrice", "and", "after")
SPLITS = ("simple", "length", "addprim_jump", "addprim_turn_left", "template_around_right")

# Published file names (github.com/brendenlake/SCAN), relative to the export folder.
_FILES = {
    "simple": "simple_split/tasks_{part}_simple.txt",
    "length": "length_split/tasks_{part}_length.txt",
    "addprim_jump": "add_prim_split/tasks_{part}_addprim_jump.txt",
    "addprim_turn_left": "add_prim_split/tasks_{part}_addprim_turn_left.txt",
    "template_around_right": "template_split/tasks_{part}_template_around_right.txt",
}
_LINE = re.compile(r"^IN: (\S.*?) OUT: (\S.*?)\s*$")


@dataclass(frozen=True)
class Split:
    """One train/test split; `train` may repeat a pair (the add-primitive splits do)."""

    name: str
    train: list[Pair]
    test: list[Pair]


def _verbs() -> list[str]:
    """The 34 verb phrases V, in grammar order."""
    subjects = (*PRIMITIVES, "turn")
    out = [f"{t} {w}" for t in subjects for w in DIRECTIONS]
    out += [f"{t} opposite {w}" for t in subjects for w in DIRECTIONS]
    out += [f"{t} around {w}" for t in subjects for w in DIRECTIONS]
    return out + list(PRIMITIVES)


def commands() -> list[str]:
    """All 20,910 SCAN commands in a fixed grammar order."""
    sentences = [f"{v}{r}" for v in _verbs() for r in ("", " twice", " thrice")]
    out = list(sentences)
    for conj in ("and", "after"):
        out += [f"{a} {conj} {b}" for a in sentences for b in sentences]
    return out


def _verb(words: list[str]) -> list[str]:
    if len(words) == 1 and words[0] in PRIMITIVES:
        return [f"I_{words[0].upper()}"]
    ok = 2 <= len(words) <= 3 and words[0] in (*PRIMITIVES, "turn") and words[-1] in DIRECTIONS
    if not ok or (len(words) == 3 and words[1] not in ("opposite", "around")):
        raise ValueError(
            f"{' '.join(words)!r} is not a verb phrase" if words else "a phrase is empty"
        )
    turn = f"I_TURN_{words[-1].upper()}"
    act = [] if words[0] == "turn" else [f"I_{words[0].upper()}"]
    if len(words) == 2:
        return [turn, *act]
    return [turn, turn, *act] if words[1] == "opposite" else [turn, *act] * 4


def _sentence(words: list[str]) -> list[str]:
    repeat = {"twice": 2, "thrice": 3}.get(words[-1] if words else "", 1)
    return _verb(words[:-1] if repeat > 1 else words) * repeat


def interpret(command: str) -> str:
    """The action sequence of a SCAN command; ValueError names an unknown word or bad phrase."""
    words = command.split()
    for w in words:
        if w not in WORDS:
            raise ValueError(f"unknown word {w!r} in {command!r}; SCAN words: {' '.join(WORDS)}")
    try:
        for conj in ("and", "after"):
            if conj in words:
                i = words.index(conj)
                first, second = _sentence(words[:i]), _sentence(words[i + 1 :])
                return " ".join(first + second if conj == "and" else second + first)
        return " ".join(_sentence(words))
    except ValueError as e:
        raise ValueError(f"not a SCAN command {command!r}: {e}") from None


def dataset() -> list[Pair]:
    """Every (command, actions) pair, in the order of `commands()`."""
    return [(c, interpret(c)) for c in commands()]


def _contains(command: str, phrase: str) -> bool:
    return f" {phrase} " in f" {command} "


def split(name: str, seed: int = 0) -> Split:
    """One of SPLITS. `seed` draws the simple split and the order of lines within each file."""
    if name not in SPLITS:
        raise ValueError(f"unknown SCAN split {name!r}; known: {', '.join(SPLITS)}")
    pairs = dataset()
    rng = random.Random(seed)
    if name == "simple":
        order = list(range(len(pairs)))
        rng.shuffle(order)
        n_test = round(0.2 * len(pairs))
        train = [pairs[i] for i in order[n_test:]]
        test = [pairs[i] for i in order[:n_test]]
    elif name == "length":
        n = [len(a.split()) for _, a in pairs]
        train = [p for p, k in zip(pairs, n, strict=True) if k <= 22]
        test = [p for p, k in zip(pairs, n, strict=True) if k >= 24]
    elif name.startswith("addprim_"):
        prim = name.removeprefix("addprim_").replace("_", " ")
        test = [p for p in pairs if _contains(p[0], prim) and p[0] != prim]
        rest = [p for p in pairs if not _contains(p[0], prim)]
        # The published training file repeats the bare primitive until it is 10% of the lines.
        n_prim = len(rest) // 9
        train = rest + [(prim, interpret(prim))] * n_prim
    else:  # template_around_right
        test = [p for p in pairs if _contains(p[0], "around right")]
        test = [p for p in test if not _contains(p[0], "turn around right")]
        train = [p for p in pairs if not _contains(p[0], "around right")]
    rng.shuffle(train)
    rng.shuffle(test)
    return Split(name, train, test)


def format_pairs(pairs: list[Pair]) -> str:
    """Pairs in the published line format: `IN: jump twice OUT: I_JUMP I_JUMP`, one per line."""
    return "".join(f"IN: {c} OUT: {a}\n" for c, a in pairs)


def read_pairs(path: str | Path) -> list[Pair]:
    """Pairs from a file in the published line format; ValueError names the file and line."""
    path = Path(path)
    pairs = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            m = _LINE.match(line.rstrip("\n"))
            if m is None:
                raise ValueError(
                    f"{path}:{lineno}: malformed SCAN line {line.rstrip()[:80]!r}; "
                    "expected 'IN: <command> OUT: <actions>'"
                )
            pairs.append((m.group(1), m.group(2)))
    return pairs


def export(folder: str | Path, seed: int = 0) -> list[Path]:
    """Write `tasks.txt` and every split under the published file names; returns the paths."""
    folder = Path(folder)
    written = [folder / "tasks.txt"]
    folder.mkdir(parents=True, exist_ok=True)
    written[0].write_text(format_pairs(dataset()), encoding="utf-8")
    for name in SPLITS:
        s = split(name, seed)
        for part, pairs in (("train", s.train), ("test", s.test)):
            path = folder / _FILES[name].format(part=part)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(format_pairs(pairs), encoding="utf-8")
            written.append(path)
    return written


def load(folder: str | Path, name: str) -> Split:
    """A split read from a folder laid out as the published files (or as `export` writes)."""
    if name not in SPLITS:
        raise ValueError(f"unknown SCAN split {name!r}; known: {', '.join(SPLITS)}")
    folder = Path(folder)
    parts = {}
    for part in ("train", "test"):
        path = folder / _FILES[name].format(part=part)
        if not path.is_file():
            raise FileNotFoundError(f"no SCAN file {path} (split {name!r}, part {part!r})")
        parts[part] = read_pairs(path)
    return Split(name, parts["train"], parts["test"])


def bigram_vocabulary() -> list[tuple[str, str]]:
    """Every adjacent word pair of the grammar's commands, with <s> and </s> at the ends."""
    pairs = set()
    for c in commands():
        w = ["<s>", *c.split(), "</s>"]
        pairs.update(zip(w, w[1:], strict=False))
    return sorted(pairs)


def features(commands_: list[str], kind: str = "words") -> np.ndarray:
    """Count features of commands: `words` (13 word counts) or `bigrams`. (M, F) float."""
    if kind == "words":
        index = {w: i for i, w in enumerate(WORDS)}
        grams = [c.split() for c in commands_]
    elif kind == "bigrams":
        index = {b: i for i, b in enumerate(bigram_vocabulary())}
        grams = [
            list(zip(["<s>", *c.split()], [*c.split(), "</s>"], strict=True)) for c in commands_
        ]
    else:
        raise ValueError(f"unknown feature kind {kind!r}; known: words, bigrams")
    out = np.zeros((len(commands_), len(index)))
    for row, gs in enumerate(grams):
        for g in gs:
            if g not in index:
                raise ValueError(f"{g!r} in command {commands_[row]!r} is not in the SCAN {kind}")
            out[row, index[g]] += 1
    return out
