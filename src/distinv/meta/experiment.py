"""The meta-learning chapter's measures: held-out grammars, SCAN's splits, rule changes shown as
study examples, baselines, and `solve`, which answers a user's episode with the chapter's model."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from distinv import seq2seq
from distinv.meta import grammars, scan_episodes
from distinv.meta import train as meta_train
from distinv.scan import grammar as scan
from distinv.scan import mods as scan_mods
from distinv.scan.neurosymbolic import NeuroSymbolicSCAN

Pair = tuple[str, str]
Episode = tuple[list[Pair], list[Pair]]  # (study, queries with their true outputs)
MLC_EPISODES = 100_000  # MLC's meta-training (Lake and Baroni, Nature 2023), the anchor
BUDGET_SECONDS = 600  # the budget: each checkpoint meta-trained within 10 minutes
MLC_FEWSHOT, PEOPLE_FEWSHOT = 0.824, 0.807  # MLC's few-shot instruction task: item accuracy
SHOWN = 4  # short affected commands shown as study examples of a changed rule


def score(model, episodes: list[Episode], max_out: int, batch: int = 16) -> list[bool]:
    """Exact match of every query of every episode, in order."""
    out = []
    for i in range(0, len(episodes), batch):
        chunk = episodes[i : i + batch]
        answers = model.answer_batch([(s, [c for c, _ in q]) for s, q in chunk], max_out)
        out += [
            a == t
            for (_, q), ans in zip(chunk, answers, strict=True)
            for a, (_, t) in zip(ans, q, strict=True)
        ]
    return out


def heldout_episodes(seed: int) -> list[tuple[grammars.Episode, bool]]:
    """One episode per held-out grammar, with whether the grammar has a TABU form."""
    held = meta_train.grammar_sets()[0]
    rng = random.Random(f"heldout-episodes/{seed}")
    return [(grammars.episode(g, rng), bool(set(g.forms) & set(grammars.TABU))) for g in held]


def scan_validation_episodes(n: int, seed: int, alone: bool = False) -> list[Episode]:
    """n SCAN episodes drawn like meta-training ones (a seed of their own), queries never study
    examples: the SCAN checkpoint's validation set. With `alone`, shaped like add-jump: one
    primitive shown only alone and composed in every query (`scan_episodes.training_episode`)."""
    rng = random.Random(f"scan-{'alone-' if alone else ''}validation/{seed}")
    return [standins(scan_episodes.training_episode(rng, alone=alone)) for _ in range(n)]


def training_pairs(recipe: meta_train.Recipe) -> set[Pair]:
    """Every (command, output) pair, study example or query, that `recipe` meta-trains on."""
    return {
        p
        for step in range(recipe.steps)
        for study, queries in meta_train.episodes(recipe, step)
        for p in study + queries
    }


def validation_episodes(seed: int) -> list[grammars.Episode]:
    val = meta_train.grammar_sets()[1]
    rng = random.Random(f"validation-episodes/{seed}")
    return [grammars.episode(g, rng) for g in val]


def as_pairs(e: grammars.Episode) -> Episode:
    return list(e.study), list(e.queries)


def _groups(lang, queries: list[Pair], commands, rng, must=()) -> list[Episode]:
    """The queries in episodes of N_QUERY, each with its own study set drawn from `commands`."""
    out = []
    for i in range(0, len(queries), scan_episodes.N_QUERY):
        study = scan_episodes.study_set(lang, rng, commands, must=must)
        shown = {c for c, _ in study}
        out.append(
            (study, [q for q in queries[i : i + scan_episodes.N_QUERY] if q[0] not in shown])
        )
    return [e for e in out if e[1]]


def _short(pairs: list[Pair]) -> tuple[str, ...]:
    return tuple(
        c for c, a in dict.fromkeys(pairs) if len(a.split()) <= scan_episodes.MAX_STUDY_OUT
    )


def scan_split_episodes(split: str, n_test: int, seed: int) -> list[Episode]:
    """SCAN's published test set of `split` (a sample of n_test, 0: all), in SCAN's own language,
    each group of queries with study examples from the split's training set (add-jump's include
    `jump -> I_JUMP`, since every primitive is shown alone)."""
    s = scan.split(split, seed)
    rng = random.Random(f"{split}/{seed}")
    test = list(s.test) if n_test <= 0 or n_test >= len(s.test) else rng.sample(s.test, n_test)
    return _groups(scan_episodes.BASE, test, _short(s.train), rng)


def modification_episodes(
    mod: scan_mods.Modification, n: int, seed: int
) -> dict[str, list[Episode]]:
    """{"affected": ..., "unaffected": ...}: the modified language's commands, each group of queries
    with study examples of the changed language: SHOWN short affected commands first (disjoint from
    the queries), then every primitive alone and short commands from the meta-training pool."""
    lang = scan_episodes.modification_language(mod)
    rng = random.Random(f"mod/{mod.name}/{seed}")
    shown_pool = [
        p
        for p in scan_mods.affected(mod, 400, seed + 1)
        if len(p[1].split()) <= scan_episodes.MAX_STUDY_OUT
    ]
    affected = [p for p in scan_mods.affected(mod, n + 50, seed) if p not in shown_pool][:n]
    unaffected = scan_mods.unaffected(mod, n, seed, exclude=frozenset(scan_episodes.pool()))
    outside = bool(unaffected)
    if not outside:  # every command without the changed words is a meta-training command
        unaffected = scan_mods.unaffected(mod, n, seed)
    pool = tuple(
        c for c in scan_episodes._short_pool() if not any(w in c.split() for w in mod.words)
    )
    out = {}
    for name, queries in (("affected", affected), ("unaffected", unaffected)):
        groups = []
        for i in range(0, len(queries), scan_episodes.N_QUERY):
            must = tuple(c for c, _ in rng.sample(shown_pool, min(SHOWN, len(shown_pool))))
            groups += _groups(lang, queries[i : i + scan_episodes.N_QUERY], pool, rng, must)
        out[name] = [standins(e) for e in groups]
    out["outside"] = outside
    return out


def standins(episode: Episode) -> Episode:
    """A SCAN episode with words and symbols SCAN does not have (`skip`, `I_SKIP`) replaced by the
    SCAN checkpoint's stand-in tokens, by first appearance, as `solve` does."""
    tok = tokens_for("scan")
    study, queries = episode
    return (
        [(tok.inp(a), tok.out(b)) for a, b in study],
        [(tok.inp(a), tok.out(b)) for a, b in queries],
    )


class Tokens:
    """Maps a user's words to a model's tokens by first appearance (words the model knows by name
    stay themselves), and back."""

    def __init__(self, known_in, pool_in, known_out, pool_out):
        self.known_in, self.pool_in = set(known_in), list(pool_in)
        self.known_out, self.pool_out = set(known_out), list(pool_out)
        self.fwd_in: dict[str, str] = {}
        self.fwd_out: dict[str, str] = {}

    def _map(self, word, known, pool, fwd, what):
        if word in known:
            return word
        if word not in fwd:
            if len(fwd) == len(pool):
                raise ValueError(
                    f"more distinct {what} than the model has tokens ({len(pool)} "
                    f"new {what} at most{'' if not known else ' besides its own'})"
                )
            fwd[word] = pool[len(fwd)]
        return fwd[word]

    def inp(self, text: str) -> str:
        return " ".join(
            self._map(w, self.known_in, self.pool_in, self.fwd_in, "input words")
            for w in text.split()
        )

    def out(self, text: str) -> str:
        return " ".join(
            self._map(w, self.known_out, self.pool_out, self.fwd_out, "output symbols")
            for w in text.split()
        )

    def back(self, text: str) -> str:
        rev = {v: k for k, v in self.fwd_out.items()}
        return " ".join(rev.get(w, w) for w in text.split())


def tokens_for(world: str) -> Tokens:
    if world == "grammar":
        return Tokens((), grammars.WORDS, (), grammars.SYMBOLS)
    return Tokens(scan.WORDS, scan_episodes.NEW_WORDS, scan.ACTIONS, scan_episodes.NEW_SYMBOLS)


def map_episode(
    world: str, study: list[Pair], queries: list[str]
) -> tuple[Tokens, list[Pair], list[str]]:
    """The episode in the model's tokens, checked: ValueError for an empty study set, a query word
    no study example shows, or more distinct words than the model has tokens."""
    if not study:
        raise ValueError("the study set is empty: give at least one (input, output) example")
    for i, (a, b) in enumerate(study):
        if not a.split() or not b.split():
            raise ValueError(f"study example {i + 1} has an empty input or output")
    shown = {w for a, _ in study for w in a.split()}
    for q in queries:
        if not q.split():
            raise ValueError("a query is empty")
        missing = [w for w in q.split() if w not in shown]
        if missing:
            raise ValueError(f"query {q!r}: the word {missing[0]!r} appears in no study example")
    tok = tokens_for(world)
    mapped = [(tok.inp(a), tok.out(b)) for a, b in study]
    return tok, mapped, [tok.inp(q) for q in queries]


def default_checkpoint(world: str = "grammar") -> Path:
    """The checkpoint of `world` that the chapter's default run recorded, by file name, in
    _build/checkpoints/meta.json (beside the checkpoints)."""
    import json

    from distinv.paths import project_root

    index = project_root() / "_build" / "checkpoints" / "meta.json"
    recorded = json.loads(index.read_text()) if index.is_file() else {}
    if world not in recorded:
        raise FileNotFoundError(
            f"no {world} checkpoint recorded in {index}: run the chapter first "
            "(distinv run 08_meta)"
        )
    return index.parent / recorded[world]


def solve(
    study: list[Pair],
    queries: list[str],
    checkpoint: str | Path | None = None,
    world: str = "grammar",
) -> list[str]:
    """The meta-learner's outputs for `queries`, having read `study` (input, output) pairs of
    whitespace-separated words. `world` "grammar" (any words) or "scan" (SCAN's words, new ones
    allowed)."""
    if world not in meta_train.WORLDS:
        raise ValueError(f"unknown world {world!r}; known: {', '.join(meta_train.WORLDS)}")
    tok, mapped, qs = map_episode(world, study, queries)
    model, _ = meta_train.load(checkpoint or default_checkpoint(world))
    max_out = grammars.MAX_OUT if world == "grammar" else scan_episodes.MAX_OUT
    for q in qs:
        if len(q.split()) + 1 + max_out > model.cfg.max_len:
            raise ValueError(
                f"query {q!r} is too long: the model reads at most "
                f"{model.cfg.max_len - 1 - max_out} words"
            )
    return [tok.back(a) for a in model.answer(mapped, qs, max_out)]


# --- baselines --------------------------------------------------------------------------------


def transformer_alone(study: list[Pair], queries: list[Pair], steps: int, seed: int) -> list[bool]:
    """The book's seq2seq Transformer (`distinv.seq2seq`, no pointer) trained on one episode's
    study examples only; exact match of its answers to `queries`."""
    words = sorted({w for a, _ in study + queries for w in a.split()})
    symbols = sorted({w for _, b in study + queries for w in b.split()})
    win = {w: i + 1 for i, w in enumerate(words)}
    wout = {s: i + 3 for i, s in enumerate(symbols)}
    torch.manual_seed(seed)
    cfg = seq2seq.Seq2SeqConfig(
        vocab=len(win) + 1,
        n_out=len(wout) + 3,
        kind="transformer",
        d_model=32,
        max_out=grammars.MAX_OUT + 1,
    )
    model = seq2seq.build(cfg)
    x = seq2seq.pad([[win[w] for w in a.split()] for a, _ in study])
    y = seq2seq.pad(
        [[wout[s] for s in b.split()] + [seq2seq.END] for _, b in study]  # loss adds START
    )
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(steps):
        loss = seq2seq.loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    rev = {i: s for s, i in wout.items()}
    pred = seq2seq.greedy(model, seq2seq.pad([[win[w] for w in a.split()] for a, _ in queries]))
    return [
        " ".join(rev.get(i, "?") for i in p) == b for p, (_, b) in zip(pred, queries, strict=True)
    ]


def neurosymbolic_alone(study: list[Pair], queries: list[Pair]) -> tuple[list[bool], str]:
    """The chapter-05 learner (given SCAN's grammar) fitted to one episode's study examples:
    (correct per query, "" or why its hypothesis space cannot express the episode)."""
    try:
        ns = NeuroSymbolicSCAN().fit(study)
    except ValueError as e:
        return [False] * len(queries), f"fit: {str(e)[:80]}"
    out, why = [], ""
    for c, a in queries:
        try:
            out.append(ns.predict([c])[0] == a)
        except ValueError as e:
            out.append(False)
            why = why or f"parse: {str(e)[:80]}"
    return out, why


def by_rule_form(grammars_: list, episodes: list[Episode], ok) -> dict[str, list[bool]]:
    """Exact match of the queries that use each rule form (a query counts for each rule it uses)."""
    out: dict[str, list[bool]] = {}
    k = 0
    for g, (_, queries) in zip(grammars_, episodes, strict=True):
        for c, _ in queries:
            for r in g.rules:
                if r.word in c.split():
                    out.setdefault(r.name, []).append(bool(ok[k]))
            k += 1
    return out


def lengths(episodes: list[Episode]) -> np.ndarray:
    return np.array([len(c.split()) for _, q in episodes for c, _ in q])
