"""Variable-binding programs ("X means jump . now X means hop . do X .") and their outputs.

The language, defined by the reference interpreter `run` (which labels data; no model may use it):

    program   := statement ( " . " statement )* " ."
    statement := [now] VAR means ( ACTION | VAR )   binds VAR to an action, or to the current value
                                                    of another variable (a copy, taken then)
               | do item ( then item )*             appends each item's actions to the output
    item      := VAR [left | right] [twice | thrice]
                 `left` turns first (LTURN ACTION); `twice`/`thrice` repeat the whole item

`now` marks a rebinding and changes nothing else. Every program ends with a query; programs also
carry distractor bindings of variables that are never queried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from itertools import product

VARIABLES = ("X", "Y", "Z", "A", "B", "C", "D", "E")
ACTIONS = ("jump", "walk", "run", "look", "turn", "hop", "skip", "crawl")
KEYWORDS = ("means", "now", "do", "then", "left", "right", "twice", "thrice", ".")
INPUT_VOCAB = (*VARIABLES, *ACTIONS, *KEYWORDS)
OUTPUT_VOCAB = (*(a.upper() for a in ACTIONS), "LTURN", "RTURN")
CAPABILITIES = ("basic", "sequence", "rebinding", "compositional", "chained")
# What each held-out set varies beyond training (the chapter's claims are per capability).
HELDOUT = {
    "basic": "(variable, action) pairs that no training `means` statement binds together",
    "sequence": "longer queries: 4 to 6 items, 3 to 5 distractors (training: 1 to 3 items, 0 to 2 "
    "distractors; a query may repeat a name)",
    "rebinding": "more rebindings: 2 or 3 (training: 1)",
    "compositional": "(variable, action) pairs that no training `means` statement binds together",
    "chained": "longer chains: depth 3 or 4 (training: 1 or 2)",
}


@dataclass(frozen=True)
class Example:
    program: str
    output: str
    capability: str


def run(program: str) -> str:
    """The output of a program; ValueError names the offending token of a malformed one."""
    words = program.split()
    for w in words:
        if w not in INPUT_VOCAB:
            raise ValueError(f"unknown word {w!r} in program {program!r}")
    if not words or words[-1] != ".":
        raise ValueError(f"program must end with ' .': {program!r}")
    env: dict[str, str] = {}
    out: list[str] = []
    queried = False
    for stmt in " ".join(words[:-1]).split(" . "):
        toks = stmt.split()
        if toks and toks[0] == "now":
            toks = toks[1:]
        if len(toks) == 3 and toks[0] in VARIABLES and toks[1] == "means":
            value = toks[2]
            if value in VARIABLES:
                if value not in env:
                    raise ValueError(f"variable {value!r} is used before it is bound")
                value = env[value]
            elif value not in ACTIONS:
                raise ValueError(f"cannot bind {value!r}: a variable means an action or a variable")
            env[toks[0]] = value
        elif toks and toks[0] == "do":
            queried = True
            for item in " ".join(toks[1:]).split(" then "):
                out += _item(item.split(), env)
        else:
            raise ValueError(f"not a statement: {stmt!r}")
    if not queried:
        raise ValueError(f"program has no query ('do ...'): {program!r}")
    return " ".join(out)


def _item(toks: list[str], env: dict[str, str]) -> list[str]:
    if not toks or toks[0] not in VARIABLES:
        raise ValueError(f"'do' needs a variable, got {' '.join(toks)!r}")
    if toks[0] not in env:
        raise ValueError(f"variable {toks[0]!r} is queried before it is bound")
    rest = toks[1:]
    repeat = {"twice": 2, "thrice": 3}.get(rest[-1], 1) if rest else 1
    rest = rest[:-1] if repeat > 1 else rest
    turn = {"left": ["LTURN"], "right": ["RTURN"]}.get(rest[0], None) if rest else []
    if turn is None or len(rest) > 1:
        raise ValueError(f"unexpected {' '.join(rest)!r} after {toks[0]!r}")
    return (turn + [env[toks[0]].upper()]) * repeat


def held_out_pairs(seed: int, fraction: float = 0.2) -> frozenset[tuple[str, str]]:
    """The (variable, action) pairs that training never binds together, drawn with the seed."""
    pairs = sorted(product(VARIABLES, ACTIONS))
    return frozenset(random.Random(seed).sample(pairs, round(fraction * len(pairs))))


class _Writer:
    """Draws programs of one capability; `avoid` pairs are never bound, `use` pairs are queried."""

    def __init__(self, rng: random.Random, avoid: frozenset, use: frozenset | None = None):
        self.rng, self.avoid, self.use = rng, avoid, use

    def action(self, var: str, queried: bool = False) -> str:
        if queried and self.use is not None:
            # sorted: a frozenset's order changes with each process's string hashing
            held = sorted(a for v, a in self.use if v == var)
            return self.rng.choice(held) if held else self.action(var)
        return self.rng.choice([a for a in ACTIONS if (var, a) not in self.avoid])

    def variables(self, k: int) -> list[str]:
        if self.use is not None:  # the first variable is one that has a held-out pair
            first = self.rng.choice(sorted({v for v, _ in self.use}))
            return [first, *self.rng.sample([v for v in VARIABLES if v != first], k - 1)]
        return self.rng.sample(VARIABLES, k)

    def program(self, statements: list[str], distractors: list[str]) -> str:
        head, query = statements[:-1], statements[-1]
        body = head[:]
        for d in distractors:  # distractors go anywhere before the query
            body.insert(self.rng.randrange(len(body) + 1), d)
        return " . ".join([*body, query]) + " ."


def _draw(cap: str, w: _Writer, heldout: bool) -> str:
    rng = w.rng
    longer = heldout and cap == "sequence"
    # the other capabilities draw exactly as before the sequence protocol changed
    n_items = 1
    if cap == "sequence":
        n_items = rng.choice((4, 5, 6)) if longer else rng.choice((1, 2, 3))
    n_distract = rng.randint(3, 5) if longer else rng.randint(0, 2)
    depth = rng.choice((3, 4)) if heldout and cap == "chained" else rng.choice((1, 2))
    n_rebind = rng.choice((2, 3)) if heldout and cap == "rebinding" else 1
    k = depth + 1 if cap == "chained" else 1  # names that the query needs bound
    if cap == "sequence":  # training: 1 to n_items distinct names (a query may repeat one); held
        # out: as many as the distractors leave free (8 names: 6 items, 5 distractors must repeat)
        k = min(n_items, len(VARIABLES) - n_distract) if longer else rng.randint(1, n_items)
    names = w.variables(k + n_distract)
    used, spare = names[:k], names[k:]
    if cap == "sequence":
        stmts = [f"{v} means {w.action(v, i == 0)}" for i, v in enumerate(used)]
        items = used + [rng.choice(used) for _ in range(n_items - k)]
        rng.shuffle(items)
        stmts.append("do " + " then ".join(items))
    elif cap == "chained":
        stmts = [f"{used[0]} means {w.action(used[0], True)}"]
        stmts += [f"{b} means {a}" for a, b in zip(used, used[1:], strict=False)]
        stmts.append(f"do {used[-1]}")
    elif cap == "rebinding":
        v = used[0]
        stmts = [f"{v} means {w.action(v)}"]
        for i in range(n_rebind):
            if rng.random() < 0.5:
                stmts.append(f"do {v}")
            stmts.append(f"now {v} means {w.action(v, i == n_rebind - 1)}")
        stmts.append(f"do {v}")
        return w.program(stmts, [f"{d} means {w.action(d)}" for d in spare])
    else:
        v = used[0]
        stmts = [f"{v} means {w.action(v, True)}"]
        mod = ""
        if cap == "compositional":
            mod = rng.choice(("", " left", " right")) + rng.choice(("", " twice", " thrice"))
            mod = mod or rng.choice((" twice", " thrice", " left", " right"))
        stmts.append(f"do {v}{mod}")
    return w.program(stmts, [f"{d} means {w.action(d)}" for d in spare])


def generate(
    capability: str, n: int, seed: int, heldout: bool = False, exclude=()
) -> list[Example]:
    """n distinct programs of one capability, drawn with `seed`, none of them in `exclude`.

    Training and in-distribution sets never bind a held-out (variable, action) pair
    (`held_out_pairs(0)`, fixed so that every split agrees on it); held-out sets vary what HELDOUT
    says, and for basic and compositional query exactly those pairs.
    """
    if capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}; known: {', '.join(CAPABILITIES)}")
    pairs = held_out_pairs(0)
    systematic = heldout and capability in ("basic", "compositional")
    w = _Writer(
        random.Random(f"{capability}/{heldout}/{seed}"), pairs, pairs if systematic else None
    )
    if systematic:
        w.avoid = frozenset()  # the queried binding must be a held-out pair; distractors may be too
    seen, out, misses = set(exclude), [], 0
    while len(out) < n:
        program = _draw(capability, w, heldout)
        if program in seen:
            misses += 1
            if misses > 10_000:  # the space is (nearly) exhausted
                raise ValueError(
                    f"only {len(out)} distinct {capability} programs found, {n} asked for"
                )
            continue
        misses = 0
        seen.add(program)
        out.append(Example(program, run(program), capability))
    return out


def query_items(program: str) -> int:
    """Items in a program's query: `do A then B then C` has 3."""
    query = program.split(" . ")[-1]
    return query.count(" then ") + 1


def dropped_items(pred: str, right: str) -> bool:
    """`pred` is `right` with some of its symbols left out (a proper subsequence of it)."""
    p, r = pred.split(), right.split()
    it = iter(r)
    return len(p) < len(r) and all(any(a == b for b in it) for a in p)


def _word_class(word: str) -> str:
    return "VAR" if word in VARIABLES else "ACTION" if word in ACTIONS else word


def windows(program: str, before: int, after: int) -> list[tuple[str, ...]]:
    """Per token, the words from `before` before it to `after` after it, with names and actions
    replaced by their class ("VAR", "ACTION") and the ends padded with "": what a model that sees
    that window of roles can tell apart, if it learned one role per class."""
    words = [""] * before + [_word_class(w) for w in program.split()] + [""] * after
    return [tuple(words[i : i + before + 1 + after]) for i in range(len(words) - before - after)]


def novel_windows(programs: list[str], seen: list[str], before: int, after: int) -> float:
    """Fraction of `programs` with a window (see `windows`) that no `seen` program has."""
    known = {w for p in seen for w in windows(p, before, after)}
    return sum(any(w not in known for w in windows(p, before, after)) for p in programs) / max(
        1, len(programs)
    )
