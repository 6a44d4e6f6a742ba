"""Random interpretation grammars over abstract tokens, their reference interpreter, and episodes.

A grammar maps 4 to 6 primitive words to output symbols and gives 2 to 4 function words a rule.
A rule is postfix (`u1 f`, arity 1) or infix (`x1 f x2`, arity 2) and rewrites to a production over
its arguments, sampled at random: `u1 f -> [u1] [u1]`, `x1 f x2 -> [x2] [x1] [x2]`. Precedence is
as in SCAN: postfix words bind tightest (applied left to right, `w f g` is g(f(w))), then the infix
words, in the order the grammar lists them (the first binds tightest), each left-associative; the
default rule, loosest of all, concatenates expressions written side by side (`a b` is [a] [b]).

Words are drawn per episode from a pool of abstract input tokens (`w0`..), symbols from a pool of
output tokens (`s0`..), so a token means nothing across episodes. The model never calls
`interpret`: it only labels the study examples and grades the answers.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

N_WORDS, N_SYMBOLS = 14, 10  # the abstract pools
WORDS = tuple(f"w{i}" for i in range(N_WORDS))
SYMBOLS = tuple(f"s{i}" for i in range(N_SYMBOLS))
N_STUDY, N_QUERY = 14, 10
MAX_WORDS, MAX_OUT = 8, 24  # longest query input, longest output of any query
MAX_STUDY_OUT = 12  # longest output of a study example


def _forms(arity: int) -> list[tuple[int, ...]]:
    """Every production of 1..4 argument references that uses each argument at least once."""
    lengths = range(1, 5) if arity == 1 else range(2, 5)
    out = []
    for n in lengths:
        for f in itertools.product(range(arity), repeat=n):
            if set(f) == set(range(arity)):
                out.append(f)
    return out


FORMS = {1: _forms(1), 2: _forms(2)}  # 4 postfix and 22 infix forms


def form_name(arity: int, form: tuple[int, ...]) -> str:
    """`u1 u1` for a postfix form, `x2 x1` for an infix one."""
    var = "u" if arity == 1 else "x"
    return " ".join(f"{var}{i + 1}" for i in form)


# Held out from meta-training: every grammar with one of these rule forms (and a fixed grammar set).
TABU = ("u1 u1 u1", "x2 x1 x1", "x2 x2 x1 x1")


@dataclass(frozen=True)
class Rule:
    word: str
    arity: int  # 1: postfix `u1 word`; 2: infix `x1 word x2`
    form: tuple[int, ...]  # the production: which argument goes where

    @property
    def name(self) -> str:
        return form_name(self.arity, self.form)


@dataclass(frozen=True)
class Grammar:
    primitives: tuple[tuple[str, str], ...]  # (word, symbol)
    rules: tuple[Rule, ...]  # postfix rules, then infix rules in precedence order (tightest first)

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(w for w, _ in self.primitives) + tuple(r.word for r in self.rules)

    @property
    def forms(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.rules)


def sample_grammar(rng: random.Random, allow_tabu: bool = False) -> Grammar:
    """A random grammar; without `allow_tabu`, none of its rules has a TABU form."""
    n_prim, n_func = rng.randint(4, 6), rng.randint(2, 4)
    words = rng.sample(WORDS, n_prim + n_func)
    symbols = rng.sample(SYMBOLS, n_prim)
    n_post = rng.randint(1, n_func - 1)  # at least one of each kind
    rules = []
    for i, word in enumerate(words[n_prim:]):
        arity = 1 if i < n_post else 2
        forms = [f for f in FORMS[arity] if allow_tabu or form_name(arity, f) not in TABU]
        rules.append(Rule(word, arity, rng.choice(forms)))
    return Grammar(tuple(zip(words[:n_prim], symbols, strict=True)), tuple(rules))


def interpret(grammar: Grammar, command: str) -> str:
    """The output of `command` under `grammar`; ValueError when it does not parse."""
    prims = dict(grammar.primitives)
    post = {r.word: r for r in grammar.rules if r.arity == 1}
    infix = [r for r in grammar.rules if r.arity == 2]
    words = command.split()
    unknown = [
        w for w in words if w not in prims and w not in post and w not in {r.word for r in infix}
    ]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a word of this grammar")

    def term(i: int) -> tuple[list[str], int]:
        if i >= len(words) or words[i] not in prims:
            raise ValueError(f"{command!r}: expected a primitive at word {i + 1}")
        out, i = [prims[words[i]]], i + 1
        while i < len(words) and words[i] in post:
            out = [s for a in post[words[i]].form for s in (out,)[a]]
            i += 1
        return out, i

    def expr(i: int, level: int) -> tuple[list[str], int]:
        if level < 0:
            return term(i)
        left, i = expr(i, level - 1)
        while i < len(words) and words[i] == infix[level].word:
            right, i = expr(i + 1, level - 1)
            args = (left, right)
            left = [s for a in infix[level].form for s in args[a]]
        return left, i

    # The default rule: expressions side by side, with no word between them, concatenate (it binds
    # loosest of all).
    out, end = expr(0, len(infix) - 1)
    while end < len(words):
        if words[end] not in prims:
            raise ValueError(f"{command!r}: unexpected {words[end]!r} at word {end + 1}")
        more, end = expr(end, len(infix) - 1)
        out = out + more
    return " ".join(out)


def random_command(grammar: Grammar, rng: random.Random, max_words: int) -> str:
    """A random well-formed command of at most `max_words` words (at least 1)."""
    prims = [w for w, _ in grammar.primitives]
    post = [r.word for r in grammar.rules if r.arity == 1]
    infix = [r.word for r in grammar.rules if r.arity == 2]
    while True:
        n_terms = rng.choice([1, 1, 2, 2, 3])
        parts = []
        for t in range(n_terms):
            if t and rng.random() < 0.75:  # else side by side: the default rule concatenates
                parts.append(rng.choice(infix))
            parts.append(rng.choice(prims))
            parts += [rng.choice(post) for _ in range(rng.choice([0, 0, 1, 1, 2]))]
        if len(parts) <= max_words:
            return " ".join(parts)


Pair = tuple[str, str]


@dataclass(frozen=True)
class Episode:
    grammar: Grammar
    study: tuple[Pair, ...]
    queries: tuple[Pair, ...]


def episode(
    grammar: Grammar,
    rng: random.Random,
    n_study: int = N_STUDY,
    n_query: int = N_QUERY,
    max_words: int = MAX_WORDS,
    curriculum: bool = False,
) -> Episode:
    """Study examples: every primitive alone, then short commands until every function word has
    appeared twice; queries: distinct commands of 2 to `max_words` words, none a study example.

    `curriculum` (meta-training only): queries of 1 to `max_words` words, study examples allowed,
    repeats allowed, so that an early episode of short queries always exists."""
    study = {w: s for w, s in grammar.primitives}
    seen = {r.word: 0 for r in grammar.rules}
    tries = 0
    while len(study) < n_study:
        tries += 1
        c = random_command(grammar, rng, 4)
        if c in study:
            continue
        need = [w for w, k in seen.items() if k < 2]
        if need and tries < 500 and not any(w in c.split() for w in need):
            continue
        out = interpret(grammar, c)
        if len(out.split()) > MAX_STUDY_OUT:
            continue
        study[c] = out
        for w in set(c.split()) & set(seen):
            seen[w] += 1
    if curriculum:
        queries = []
        while len(queries) < n_query:
            c = random_command(grammar, rng, max_words)
            out = interpret(grammar, c)
            if len(out.split()) <= MAX_OUT:
                queries.append((c, out))
        return Episode(grammar, tuple(study.items()), tuple(queries))
    fresh: dict[str, str] = {}
    while len(fresh) < n_query:
        c = random_command(grammar, rng, max_words)
        if c in study or c in fresh or len(c.split()) < 2:
            continue
        out = interpret(grammar, c)
        if len(out.split()) <= MAX_OUT:
            fresh[c] = out
    return Episode(grammar, tuple(study.items()), tuple(fresh.items()))


def _key(g: Grammar) -> tuple:
    """A grammar up to the names of its tokens: what it does, not which tokens it uses (the order
    of its postfix rules does not matter; that of its infix rules is their precedence)."""
    post = tuple(sorted(r.form for r in g.rules if r.arity == 1))
    return (len(g.primitives), post, tuple(r.form for r in g.rules if r.arity == 2))


def heldout_grammars(n: int, seed: int = 10_000) -> list[Grammar]:
    """A fixed set of held-out grammars: n/2 without a TABU form, n/2 with one (at least)."""
    rng = random.Random(f"heldout/{seed}")
    plain, tabu = [], []
    while len(plain) < n - n // 2 or len(tabu) < n // 2:
        g = sample_grammar(rng, allow_tabu=True)
        if set(g.forms) & set(TABU):
            if len(tabu) < n // 2:
                tabu.append(g)
        elif len(plain) < n - n // 2:
            plain.append(g)
    return plain + tabu


class TrainingGrammars:
    """Meta-training grammars: random, no TABU form, and never one of the held-out grammars'
    structures (`_key`), so a held-out grammar is new under any renaming of its tokens."""

    def __init__(self, heldout: list[Grammar], validation: list[Grammar] = ()):
        self.excluded = {_key(g) for g in [*heldout, *validation]}

    def sample(self, rng: random.Random) -> Grammar:
        while True:
            g = sample_grammar(rng)
            if _key(g) not in self.excluded:
                return g


def validation_grammars(n: int, heldout: list[Grammar], seed: int = 20_000) -> list[Grammar]:
    """A third set, drawn like training grammars, structurally disjoint from the held-out set."""
    rng = random.Random(f"validation/{seed}")
    held = {_key(g) for g in heldout}
    out = []
    while len(out) < n:
        g = sample_grammar(rng)
        if _key(g) not in held:
            out.append(g)
    return out
