"""SCAN episodes for meta-learning: SCAN's commands, the meanings of its words resampled.

A `Language` gives every SCAN word a meaning: each primitive word (walk, look, run, jump, or a new
word in its place) its action symbols, each direction its turn symbol, each repetition word its
count, each conjunction whether it keeps or reverses order. `turn`, `opposite` and `around` keep
their SCAN meaning. SCAN itself is `BASE`; `interpret(BASE, c)` equals `scan.interpret(c)`.

Meta-training languages (`sample_language`) permute the primitives' meanings as MLC does (onto
SCAN's four actions and new symbols) and which primitive word stands in which primitive's place
in a command (as Lake's meta seq2seq, 2019, does), sometimes put a new word in a primitive's
place, and resample the function words' meanings: `thrice` repeats 1 to 4 times and `twice` 1, 2
or 4 times, both directions may turn the same way, a conjunction keeps or reverses order. None of
the six modifications of `distinv.scan.mods` is a meta-training language, nor is any of their
kinds of change: no training language has two words with one meaning, a word with several
actions, a fifth primitive, `twice` three times or left and right swapped (tested against their
labellers). Commands come from the training pool `pool()`: SCAN commands in which `jump` appears
only alone and `around right` never, the training sets of add-jump and around-right at once.
Their words are then renamed, so `jump` is composed in meta-training, standing in another
primitive's place, but then no word means I_JUMP: no meta-training example is an add-jump test
example (tested).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from functools import cache

from distinv.scan import grammar as scan
from distinv.scan import mods as scan_mods

NEW_WORDS = tuple(f"X{i}" for i in range(4))  # stand-ins for words SCAN does not have
NEW_SYMBOLS = tuple(f"Y{i}" for i in range(4))  # stand-ins for symbols SCAN does not have
TURNS = ("I_TURN_LEFT", "I_TURN_RIGHT")
MOVES = ("I_WALK", "I_LOOK", "I_RUN", "I_JUMP")
INPUT_VOCAB = (*scan.WORDS, *NEW_WORDS)
OUTPUT_VOCAB = (*scan.ACTIONS, *NEW_SYMBOLS)
MAX_STUDY_OUT = 12  # longest output of a study example
MAX_OUT = 48  # longest output of a meta-training query (SCAN's longest)
COVER = ("turn", "left", "right", "opposite", "around", "twice", "thrice", "and", "after")
N_STUDY, N_QUERY = 14, 10


@dataclass(frozen=True)
class Language:
    primitives: tuple[tuple[str, tuple[str, ...]], ...]  # word -> its actions
    turns: tuple[str, str]  # what `left` and `right` turn
    counts: tuple[int, int]  # how often `twice` and `thrice` repeat
    reverse: tuple[bool, bool]  # whether `and` and `after` reverse their parts' order


BASE = Language(
    tuple((p, (f"I_{p.upper()}",)) for p in scan.PRIMITIVES), TURNS, (2, 3), (False, True)
)


def interpret(lang: Language, command: str) -> str:
    """The actions of a SCAN-shaped command under `lang`; ValueError for a malformed one."""
    prims = dict(lang.primitives)
    turn = dict(zip(scan.DIRECTIONS, lang.turns, strict=True))
    count = dict(zip(("twice", "thrice"), lang.counts, strict=True))
    rev = dict(zip(("and", "after"), lang.reverse, strict=True))

    def verb(ws: list[str]) -> list[str]:
        if len(ws) == 1 and ws[0] in prims:
            return list(prims[ws[0]])
        if not (2 <= len(ws) <= 3 and (ws[0] in prims or ws[0] == "turn") and ws[-1] in turn):
            raise ValueError(f"{' '.join(ws)!r} is not a verb phrase")
        act = [] if ws[0] == "turn" else list(prims[ws[0]])
        t = [turn[ws[-1]]]
        if len(ws) == 2:
            return t + act
        if ws[1] == "opposite":
            return t + t + act
        if ws[1] == "around":
            return (t + act) * 4
        raise ValueError(f"{' '.join(ws)!r} is not a verb phrase")

    def sentence(ws: list[str]) -> list[str]:
        if ws and ws[-1] in count:
            return verb(ws[:-1]) * count[ws[-1]]
        return verb(ws)

    ws = command.split()
    for conj in ("and", "after"):
        if conj in ws:
            i = ws.index(conj)
            a, b = sentence(ws[:i]), sentence(ws[i + 1 :])
            return " ".join(b + a if rev[conj] else a + b)
    return " ".join(sentence(ws))


def modification_language(mod: scan_mods.Modification) -> Language:
    """The language a modification of `distinv.scan.mods` describes (its labeller is the truth)."""
    lang = BASE
    for ins in (i.split() for i in mod.instructions):
        prims = dict(lang.primitives)
        if ins[-1] == "swap":  # left and right swap
            lang = replace(lang, turns=lang.turns[::-1])
        elif ins[2] == "thrice":  # twice means thrice
            lang = replace(lang, counts=(lang.counts[1], lang.counts[1]))
        elif ins[2] in scan.PRIMITIVES:  # jump means walk
            prims[ins[0]] = prims[ins[2]]
            lang = replace(lang, primitives=tuple(prims.items()))
        else:  # jump means I_TURN_LEFT ..., or a new word beside the others: skip means I_SKIP
            prims[ins[0]] = tuple(ins[2:])
            lang = replace(lang, primitives=tuple(prims.items()))
    return lang


def canonical(lang: Language) -> tuple:
    """A language up to the names of new words and new symbols (those are stand-ins)."""
    new_words = iter(NEW_WORDS)
    words = {w: (w if w in scan.WORDS else next(new_words)) for w, _ in lang.primitives}
    symbols: dict[str, str] = {}
    new_symbols = iter(NEW_SYMBOLS)
    for _, acts in lang.primitives:
        for a in acts:
            if a not in scan.ACTIONS and a not in symbols:
                symbols[a] = next(new_symbols)
    prims = tuple(
        sorted((words[w], tuple(symbols.get(a, a) for a in acts)) for w, acts in lang.primitives)
    )
    return prims, lang.turns, lang.counts, lang.reverse


@cache
def _modified() -> frozenset:
    return frozenset(canonical(modification_language(m)) for m in scan_mods.MODIFICATIONS)


def is_modification(lang: Language) -> bool:
    """Whether `lang` is one of the six modified languages (up to renaming new tokens)."""
    return canonical(lang) in _modified()


def sample_language(rng: random.Random) -> Language:
    """A meta-training language: never one of BASE's six modifications (`is_modification`);
    `jump` never means I_JUMP, and where `jump` stands in a composed place (the pool composes
    every primitive's place but jump's) no word does, so no command with `jump` among other words
    has I_JUMP in its output and none is an add-jump test example."""
    while True:
        symbols = rng.sample((*MOVES, *NEW_SYMBOLS), 4)
        words = rng.sample(scan.PRIMITIVES, 4)  # which word fills which primitive's place
        if rng.random() < 0.25:
            words[rng.randrange(4)] = rng.choice(NEW_WORDS)
        prims = tuple((w, (s,)) for w, s in zip(words, symbols, strict=True))
        # never left and right swapped, never `twice` three times: those are modifications
        turns = rng.choice([TURNS, TURNS, (TURNS[0],) * 2, (TURNS[1],) * 2])
        counts = (2, 3) if rng.random() < 0.5 else (rng.choice((1, 2, 4)), rng.randint(1, 4))
        reverse = (False, True) if rng.random() < 0.5 else (rng.random() < 0.5, rng.random() < 0.5)
        lang = Language(prims, turns, counts, reverse)
        composed = "jump" in words[:3] and "I_JUMP" in symbols
        if not is_modification(lang) and ("jump", ("I_JUMP",)) not in prims and not composed:
            return lang


@cache
def pool() -> tuple[str, ...]:
    """Meta-training commands: `jump` only alone, `around right` never."""
    return tuple(
        c
        for c in scan.commands()
        if not ("jump" in c.split() and c != "jump") and "around right" not in c
    )


@cache
def _short_pool() -> tuple[str, ...]:
    return tuple(c for c in pool() if len(scan.interpret(c).split()) <= MAX_STUDY_OUT)


def rename(command: str, lang: Language) -> str:
    """`command` (in SCAN's words) with each primitive replaced by the word `lang` puts there
    (`lang.primitives` lists its words in the order of SCAN's primitives' places, a fifth last)."""
    swap = {p: w for p, (w, _) in zip(scan.PRIMITIVES, lang.primitives, strict=False)}
    return " ".join(swap.get(w, w) for w in command.split())


Pair = tuple[str, str]


def study_set(
    lang: Language,
    rng: random.Random,
    commands: list[str] | tuple[str, ...],
    n: int = N_STUDY,
    must: tuple[str, ...] = (),
) -> list[Pair]:
    """n study examples: `must` first, then every primitive alone, then random short commands
    (preferring ones with a function word not yet shown, until each of COVER has appeared); each
    labelled under `lang`, outputs at most MAX_STUDY_OUT symbols."""
    out: dict[str, str] = {}
    for c in [*must, *(w for w, _ in lang.primitives)]:
        out.setdefault(c, interpret(lang, c))
    tries = 0
    while len(out) < n:
        tries += 1
        c = rename(rng.choice(commands), lang)
        shown = {w for s in out for w in s.split()}
        new = set(c.split()) & (set(COVER) - shown)
        if c in out or (tries < 200 and not new and not set(COVER) <= shown):
            continue
        a = interpret(lang, c)
        if len(a.split()) <= MAX_STUDY_OUT:
            out[c] = a
    return list(out.items())[:n]


@cache
def _pool_up_to(max_words: int) -> tuple[str, ...]:
    return tuple(c for c in pool() if len(c.split()) <= max_words)


@cache
def _alone(slot: str, max_words: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(study commands without `slot`, queries with `slot` and other words)."""
    return (
        tuple(c for c in _short_pool() if slot not in c.split()),
        tuple(c for c in _pool_up_to(max_words) if slot in c.split() and c != slot),
    )


def training_episode(
    rng: random.Random, max_words: int = 9, fresh: bool = True, alone: bool = False
) -> tuple[list[Pair], list[Pair]]:
    """(study, queries) of one meta-training episode; queries of at most `max_words` words (a
    curriculum lengthens them), distinct and never a study example when `fresh`. When `alone`
    (and queries may have 3 words), one primitive word appears in the study examples only alone
    and in every query with other words, as `jump` does in add-jump (the word in jump's place,
    which the pool never composes, is shown only alone too)."""
    lang = sample_language(rng)
    commands, short = _pool_up_to(max_words), _short_pool()
    if alone and max_words >= 3:
        slot = rng.choice(scan.PRIMITIVES[:3])  # the pool never composes the last, jump
        short, commands = _alone(slot, max_words)
    study = study_set(lang, rng, short)
    shown = {c for c, _ in study}
    queries: list[Pair] = []
    while len(queries) < N_QUERY:
        c = rename(rng.choice(commands), lang)
        a = interpret(lang, c)
        if len(a.split()) <= MAX_OUT and not (fresh and (c in shown or (c, a) in queries)):
            queries.append((c, a))
    return study, queries
