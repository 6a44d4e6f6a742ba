"""A neuro-symbolic SCAN learner: a given grammar and executor, a lexicon learned from pairs.

In the spirit of NeSS (Chen et al., 2020) and NSR (Li et al., ICLR 2024), with the split between
what is given and what is learned made explicit:

Given (structure, written by hand):
    the grammar    C -> S | S CONJ S      S -> V | V REP      V -> P | P DIR | P MOD DIR
    the semantics  of each category: P emits its action sequence; P DIR is turn(DIR) then P;
                   MOD "opposite" turns twice first, MOD "around" does (turn, P) four times;
                   REP n repeats; CONJ "forward" runs S1 then S2, "reverse" S2 then S1
    the hypothesis space of a word's meaning: P with one output symbol or none, DIR with one
                   output symbol, REP 2 or 3, CONJ forward or reverse, MOD opposite or around
    the instruction parser `modify`, for rule changes: it reads "W means V", "W means SYM ..."
                   and "A and B swap" (so it names the instruction words `means`, `and`, `swap`)
                   and writes the changed meaning straight into the lexicon; a modified learner
                   follows the new rule everywhere and nowhere else by construction
Learned from (command, actions) pairs, by search:
    which category every word belongs to and its argument: that `jump` is a P emitting I_JUMP,
    `turn` a P emitting nothing, `left` a DIR turning with I_TURN_LEFT, `twice` REP 2, `after`
    CONJ reverse, `around` MOD around. The search (`fit`) names no SCAN word; only `modify` names
    words, the instruction words above.

The search keeps, for every word, the set of meanings still consistent with the training pairs
(a version space) and prunes it pair by pair, short commands first: a meaning survives a pair when
some choice of meanings for the pair's other words makes the executor reproduce the pair's actions.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

Meaning = tuple  # ("P", symbols) | ("DIR", symbol) | ("REP", n) | ("CONJ", order) | ("MOD", kind)


class ParseError(ValueError):
    """A command the grammar cannot parse with the current lexicon."""


def execute(meanings: list[Meaning]) -> list[str]:
    """The given semantics: the action sequence of a command whose words have these meanings."""
    kinds = [m[0] for m in meanings]
    if kinds.count("CONJ") > 1:
        raise ParseError("more than one conjunction")
    if "CONJ" in kinds:
        i = kinds.index("CONJ")
        first, second = _sentence(meanings[:i]), _sentence(meanings[i + 1 :])
        return first + second if meanings[i][1] == "forward" else second + first
    return _sentence(meanings)


def _sentence(meanings: list[Meaning]) -> list[str]:
    if meanings and meanings[-1][0] == "REP":
        return _verb(meanings[:-1]) * meanings[-1][1]
    return _verb(meanings)


def _verb(m: list[Meaning]) -> list[str]:
    shape = tuple(x[0] for x in m)
    if shape == ("P",):
        return list(m[0][1])
    if shape == ("P", "DIR"):
        return [m[1][1], *m[0][1]]
    if shape == ("P", "MOD", "DIR"):
        turn, act = m[2][1], list(m[0][1])
        return [turn, turn, *act] if m[1][1] == "opposite" else [turn, *act] * 4
    raise ParseError(f"no verb phrase of the form {' '.join(shape) or '(empty)'}")


def _run(meanings: list[Meaning]) -> list[str] | None:
    try:
        return execute(meanings)
    except ParseError:
        return None


def hypotheses(symbols: list[str]) -> list[Meaning]:
    """Every meaning a word may have, in a fixed order (the first consistent one wins ties)."""
    out: list[Meaning] = [("P", (s,)) for s in symbols] + [("P", ())]
    out += [("DIR", s) for s in symbols]
    out += [("REP", 2), ("REP", 3), ("CONJ", "forward"), ("CONJ", "reverse")]
    return out + [("MOD", "opposite"), ("MOD", "around")]


@dataclass
class Induction:
    """What the lexicon search did: passes over the data, pairs used, words left ambiguous."""

    passes: int
    pairs_used: int
    ambiguous: dict[str, int]  # word -> meanings still possible when the search stopped


class NeuroSymbolicSCAN:
    """fit(pairs) learns the lexicon; predict(commands) parses and executes with the grammar.

    `max_combinations` bounds the meanings tried jointly for one pair; longer pairs wait until
    shorter ones have pinned their words down.
    """

    def __init__(self, max_combinations: int = 20_000, max_passes: int = 10):
        if max_combinations < 1 or max_passes < 1:
            raise ValueError("max_combinations and max_passes must be >= 1")
        self.max_combinations, self.max_passes = max_combinations, max_passes
        self.lexicon: dict[str, Meaning] = {}
        self.induction: Induction | None = None

    def fit(self, pairs: list[tuple[str, str]]) -> NeuroSymbolicSCAN:
        if not pairs:
            raise ValueError("fit needs at least one (command, actions) pair")
        unique = sorted(set(pairs), key=lambda p: (len(p[0].split()), p))
        symbols = sorted({s for _, a in unique for s in a.split()})
        words = sorted({w for c, _ in unique for w in c.split()})
        space = {w: hypotheses(symbols) for w in words}
        used, passes, changed = set(), 0, True
        while changed and passes < self.max_passes:  # until a pass over the data prunes nothing
            passes += 1
            changed = False
            for command, actions in unique:
                ws, target = command.split(), actions.split()
                distinct = list(dict.fromkeys(ws))
                options = [space[w] for w in distinct]
                n = math.prod(len(o) for o in options)
                if n > self.max_combinations or (n == 1 and (command, actions) in used):
                    continue
                keep = {w: set() for w in distinct}
                for combo in itertools.product(*options):
                    meaning = dict(zip(distinct, combo, strict=True))
                    if _run([meaning[w] for w in ws]) == target:
                        for w in distinct:
                            keep[w].add(meaning[w])
                used.add((command, actions))
                for w in distinct:
                    if not keep[w]:
                        raise ValueError(
                            f"no meaning of {w!r} fits {command!r} -> {actions!r} together with "
                            "the pairs before it: the data do not follow the given grammar"
                        )
                    if len(keep[w]) < len(space[w]):
                        space[w] = [m for m in space[w] if m in keep[w]]
                        changed = True
        self.lexicon = {w: space[w][0] for w in words}
        ambiguous = {w: len(space[w]) for w in words if len(space[w]) > 1}
        self.induction = Induction(passes, len(used), ambiguous)
        return self

    def parse(self, command: str) -> list[Meaning]:
        """The meaning of each word; ParseError names a word the lexicon does not know."""
        if not self.lexicon:
            raise RuntimeError("predict before fit: call fit(pairs) first")
        out = []
        for w in command.split():
            if w not in self.lexicon:
                raise ParseError(f"unknown word {w!r} in {command!r}")
            out.append(self.lexicon[w])
        return out

    def predict(self, commands: list[str]) -> list[str]:
        """Actions for each command; a command it cannot parse gets the empty answer."""
        out = []
        for c in commands:
            try:
                out.append(" ".join(execute(self.parse(c))))
            except ParseError:
                out.append("")
        return out

    def represent(self, commands: list[str]) -> np.ndarray:
        """Counts of each structural meaning (see `structure`) per command, in a fixed order.

        The executor's control flow depends on these alone; a primitive's actions are data.
        """
        columns = sorted({structure(m) for m in self.lexicon.values()}, key=repr)
        index = {c: i for i, c in enumerate(columns)}
        out = np.zeros((len(commands), len(columns)))
        for row, command in enumerate(commands):
            for m in self.parse(command):
                out[row, index[structure(m)]] += 1
        return out

    def modify(self, instruction: str) -> NeuroSymbolicSCAN:
        """A copy whose lexicon follows one instruction; the rest of the lexicon is unchanged.

        Instructions (their form is given, like the grammar): "W means V" (W now means what the
        known word V means), "W means SYM ..." (W is an action emitting these output symbols,
        upper case; W may be new), "A and B swap".
        """
        if not self.lexicon:
            raise RuntimeError("modify before fit: call fit(pairs) first")
        words = instruction.split()
        lex = dict(self.lexicon)
        if len(words) == 4 and words[1] == "and" and words[3] == "swap":
            a, b = words[0], words[2]
            for w in (a, b):
                if w not in lex:
                    raise ValueError(f"cannot swap unknown word {w!r} in {instruction!r}")
            lex[a], lex[b] = lex[b], lex[a]
        elif len(words) >= 3 and words[1] == "means":
            target = words[2:]
            if len(target) == 1 and target[0] in lex:
                lex[words[0]] = lex[target[0]]
            elif all(s.isupper() for s in target):
                lex[words[0]] = ("P", tuple(target))
            else:
                raise ValueError(
                    f"{instruction!r}: after 'means' give a known word or output symbols "
                    "(upper case)"
                )
        else:
            raise ValueError(
                f"cannot read the instruction {instruction!r}; forms: 'W means V', "
                "'W means SYM ...', 'A and B swap'"
            )
        new = NeuroSymbolicSCAN(self.max_combinations, self.max_passes)
        new.lexicon, new.induction = lex, self.induction
        return new


def structure(meaning: Meaning) -> Meaning:
    """A meaning with a primitive's actions taken out: what the given executor branches on."""
    return ("P",) if meaning[0] == "P" else meaning
