"""The language world's inventor: the meta-learner of 08_meta, reading a language from examples.

- extract: the rule set is implicit: the observed study examples, and the meta-learner's answers
  (learned) on a fixed probe set of short commands, shown as what it read.
- modify: each study example that uses a word the request changes is rewritten (given: the
  request's word substitutions, the way `distinv.scan.mods` labels a modification) and answered
  by the meta-learner from the original study set (learned); a new meaning made of output
  symbols takes the place of a stand-in primitive's action in that answer. The SCAN interpreter is
  never called.
- generate: the meta-learner answers fresh SCAN commands from the modified study set (learned):
  it must infer the changed rule from its few examples.
- check: the critic (learned here), a small MLP on the meta-learner's teacher-forced
  log-probabilities of a candidate output given a study set (the rule set, as an input),
  trained on SCAN's own language with near-miss negatives (one action replaced, inserted or
  dropped; a repetition more or fewer).
- grade: the SCAN-shaped interpreter of the changed language (`scan_episodes.interpret`).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import torch

from distinv import artifacts, cpus
from distinv.invent.common import Check, Critic, Grade, auroc, clauses, one_line
from distinv.meta import experiment as mx
from distinv.meta import scan_episodes as se
from distinv.meta import train as mt
from distinv.meta.model import ARROW, EOS
from distinv.scan import grammar as scan

CLASSES = {
    "primitive": scan.PRIMITIVES,
    "direction": scan.DIRECTIONS,
    "count": ("twice", "thrice"),
    "conjunction": ("and", "after"),
}
SYMBOL = re.compile(r"I_[A-Z][A-Z_]*$")
PROBES = (*scan.PRIMITIVES, "turn left", "turn right", "walk twice", "walk thrice",
          "walk left", "walk opposite left", "walk around left", "walk and look",
          "walk after look")  # fmt: skip
ACCEPTED = (
    "language requests (SCAN's words), clauses joined by ';':\n"
    "  <word> means <word>          two words of one class, e.g. jump means walk\n"
    "  <primitive> means <symbols>  e.g. jump means I_TURN_LEFT I_TURN_LEFT (symbols I_...)\n"
    "  <a> and <b> swap             two words of one class, e.g. left and right swap\n"
    + "\n".join(f"  {c}s: {', '.join(w)}" for c, w in CLASSES.items())
)
ACCEPTED_LINE = one_line(ACCEPTED)


def _class(word: str) -> str | None:
    return next((c for c, ws in CLASSES.items() if word in ws), None)


@dataclass(frozen=True)
class Change:
    kind: str  # "means" (word -> word), "actions" (primitive -> symbols), "swap"
    a: str
    b: tuple[str, ...]

    def __str__(self) -> str:
        if self.kind == "swap":
            return f"{self.a} and {self.b[0]} swap"
        return f"{self.a} means {' '.join(self.b)}"

    @property
    def words(self) -> tuple[str, ...]:
        return (self.a, self.b[0]) if self.kind == "swap" else (self.a,)


def parse(request: str) -> list[Change]:
    """The request's changes; ValueError listing what is accepted."""
    out = []
    for words in clauses(request, ACCEPTED_LINE):
        text = " ".join(words)
        if len(words) == 4 and words[1] == "and" and words[3] == "swap":
            a, b = words[0], words[2]
            for w in (a, b):
                if _class(w) is None:
                    raise ValueError(f"unknown word {w!r} in {text!r}; {ACCEPTED_LINE}")
            if _class(a) != _class(b) or a == b:
                raise ValueError(
                    f"{text!r}: swap two different words of one class; {ACCEPTED_LINE}"
                )
            out.append(Change("swap", a, (b,)))
        elif len(words) >= 3 and words[1] == "means":
            a, rest = words[0], words[2:]
            if _class(a) is None:
                raise ValueError(f"unknown word {a!r} in {text!r}; {ACCEPTED_LINE}")
            if len(rest) == 1 and _class(rest[0]) is not None:
                if _class(rest[0]) != _class(a) or rest[0] == a:
                    raise ValueError(f"{text!r}: a word takes the meaning of another word of "
                                     f"its class; {ACCEPTED_LINE}")  # fmt: skip
                out.append(Change("means", a, (rest[0],)))
            elif all(SYMBOL.match(s) for s in rest):
                if _class(a) != "primitive":
                    raise ValueError(f"{text!r}: only a primitive can mean output symbols")
                if len(rest) > 4:
                    raise ValueError(f"{text!r}: at most 4 symbols")
                out.append(Change("actions", a, tuple(rest)))
            else:
                raise ValueError(f"cannot read the meaning in {text!r}; {ACCEPTED_LINE}")
        else:
            raise ValueError(f"cannot read {text!r}; {ACCEPTED_LINE}")
    words = [w for c in out for w in c.words]
    if len(set(words)) < len(words):
        raise ValueError(f"{request!r} changes one word twice")
    new = {s for c in out if c.kind == "actions" for s in c.b if s not in scan.ACTIONS}
    if len(new) > len(se.NEW_SYMBOLS):
        raise ValueError(f"{request!r}: at most {len(se.NEW_SYMBOLS)} new symbols")
    return out


def language(request: str, base: se.Language = se.BASE) -> se.Language:
    """The changed language (the reference for grading): the changes applied in order."""
    lang = base
    for c in parse(request):
        prims = dict(lang.primitives)
        cls = _class(c.a)
        if c.kind == "actions":
            prims[c.a] = c.b
        elif cls == "primitive":
            a, b = prims[c.a], prims[c.b[0]]
            prims[c.a] = b
            if c.kind == "swap":
                prims[c.b[0]] = a
        else:
            field, names = {"direction": ("turns", scan.DIRECTIONS),
                            "count": ("counts", ("twice", "thrice")),
                            "conjunction": ("reverse", ("and", "after"))}[cls]  # fmt: skip
            vals = list(getattr(lang, field))
            i, j = names.index(c.a), names.index(c.b[0])
            vals[i], vals[j] = (vals[j], vals[i]) if c.kind == "swap" else (vals[j], vals[j])
            lang = replace(lang, **{field: tuple(vals)})
        lang = replace(lang, primitives=tuple(prims.items()))
    return lang


def rewrite(command: str, changes: list[Change]) -> tuple[str, dict[str, tuple]]:
    """The command in ordinary words that, answered, gives its meaning under the changes; and
    for each stand-in primitive used, the symbols its action stands for (like mods.label)."""
    words, new = command.split(), {}
    for c in changes:
        if c.kind == "swap":
            a, b = c.a, c.b[0]
            words = [b if w == a else a if w == b else w for w in words]
        elif c.kind == "means":
            words = [c.b[0] if w == c.a else w for w in words]
        else:
            new[c.a] = c.b
    free = [p for p in scan.PRIMITIVES if p not in words]
    stand_in = {}
    for word, symbols in new.items():
        if word in words:
            stand_in[free[0]] = symbols
            words = [free[0] if w == word else w for w in words]
            free = free[1:]
    return " ".join(words), stand_in


@cache
def commands_pool() -> tuple[str, ...]:
    """SCAN's commands whose output has at most MAX_OUT actions (what the model can emit)."""
    return tuple(c for c in scan.commands() if len(scan.interpret(c).split()) <= se.MAX_OUT)


def uses(command: str, changes: list[Change]) -> bool:
    return any(w in command.split() for c in changes for w in c.words)


@dataclass
class Study:
    """The implicit rule set: study examples, and the meta-learner's answers on PROBES."""

    pairs: list[tuple[str, str]]
    probes: dict[str, str]
    changes: tuple[Change, ...] = ()


@dataclass
class Samples:
    pairs: list[tuple[str, str]]  # (command, the meta-learner's output)
    affected: np.ndarray  # (n,) bool: the command uses a changed word


def levenshtein(a: list[str], b: list[str]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def near_miss(output: str, rng: random.Random) -> str:
    """An output one small step wrong: an action replaced, inserted or dropped, or a repeated
    block once more or once fewer; never longer than MAX_OUT actions (what the model reads)."""
    acts = output.split()
    for _ in range(20):
        u, out = rng.random(), list(acts)
        i = rng.randrange(len(out))
        if u < 0.35:
            out[i] = rng.choice([a for a in scan.ACTIONS if a != out[i]])
        elif u < 0.55:
            out.insert(i, rng.choice(scan.ACTIONS))
        elif u < 0.75 and len(out) > 1:
            del out[i]
        else:
            k = rng.randint(1, max(1, len(out) // 2))
            out = out + out[-k:] if rng.random() < 0.5 else out[:-k] or out
        if out != acts and len(out) <= se.MAX_OUT:
            return " ".join(out)
    return " ".join(acts[:-1] if len(acts) > 1 else [*acts, acts[-1]])


NO_EARLY = -30.0  # the critic's log-probability of ending early where there is no earlier position


class LanguageInventor:
    name = "language"
    threshold = 0.5  # the enforcer keeps samples the critic scores at least this; the chapter
    # chooses it on development requests (run.choose_threshold), `distinv invent` keeps 0.5
    REQUESTS = ACCEPTED

    def __init__(self, sources: str = "auto", n_critic: int = 3200, critic_steps: int = 1500,
                 seed: int = 0):  # fmt: skip
        self.sources, self.seed = sources, seed
        self.n_critic, self.critic_steps = n_critic, critic_steps

    def fit(self, base=None) -> LanguageInventor:
        """Load the SCAN checkpoint of 08_meta; train the critic on SCAN's language."""
        folder = artifacts.run_folder("08_meta", self.sources)
        where = artifacts.load("08_meta", "meta", self.sources)
        self.model, _ = mt.load(folder / where["scan"])
        rng = random.Random(f"critic/{self.seed}")
        X, y = [], []
        pool = list(commands_pool())
        per = 10
        for _ in range(max(1, self.n_critic // per)):
            study = se.study_set(se.BASE, rng, se._short_pool())
            shown = {c for c, _ in study}
            qs = [c for c in rng.sample(pool, 2 * per) if c not in shown][:per]
            good = [(c, scan.interpret(c)) for c in qs]
            bad = [(c, near_miss(o, rng)) for c, o in good]
            X.append(self.features(study, good + bad))
            y += [1.0] * len(good) + [0.0] * len(bad)
        self.critic = Critic(steps=self.critic_steps, seed=self.seed)
        self.critic.fit(np.concatenate(X), np.array(y), "language critic")
        return self

    @staticmethod
    def parse(request: str) -> list[Change]:
        return parse(request)

    @staticmethod
    def observe(n: int, seed: int) -> list[tuple[str, str]]:
        """A study set of SCAN's own language: n examples (every primitive alone among them)."""
        return se.study_set(se.BASE, random.Random(f"observe/{seed}"), se._short_pool(), n=n)

    @staticmethod
    def save(samples: Samples, folder) -> None:
        import json

        with open(folder / "samples.jsonl", "w") as f:
            for (c, o), a in zip(samples.pairs, samples.affected, strict=True):
                f.write(json.dumps({"command": c, "output": o, "affected": bool(a)}) + "\n")

    # --- the meta-learner ---------------------------------------------------------------------

    def _tokens(self, study, texts_in=(), texts_out=()):
        tok = mx.tokens_for("scan")
        for a, b in study:
            tok.inp(a), tok.out(b)
        for t in texts_in:
            tok.inp(t)
        for t in texts_out:
            tok.out(t)
        return tok

    def answer(self, study: list[tuple[str, str]], commands: list[str]) -> list[str]:
        tok = self._tokens(study, commands)
        mapped = [(tok.inp(a), tok.out(b)) for a, b in study]
        out = []
        for i in range(0, len(commands), 64):
            qs = [tok.inp(c) for c in commands[i : i + 64]]
            out += self.model.answer_batch([(mapped, qs)], se.MAX_OUT)[0]
        return [tok.back(a) for a in out]

    @torch.no_grad()
    def features(self, study: list[tuple[str, str]], pairs: list[tuple[str, str]]) -> np.ndarray:
        """Per (command, output): the meta-learner's teacher-forced log-probabilities of the
        output given the study set, summarised: total, mean, lowest, the two lowest together,
        the end token's, the output's length, the fraction of positions where the output is the
        model's argmax; the margins (each position's log-probability less the model's highest
        there): total, lowest and how many are below zero; and the highest log-probability of
        ending early (the end token at a position before the last). An empty output (the end
        token alone) counts its one log-probability twice as its two lowest, and NO_EARLY as
        its chance of ending early, which it has no position for."""
        tok = self._tokens(study, [c for c, _ in pairs], [o for _, o in pairs])
        m = self.model
        mapped = [(tok.inp(a), tok.out(b)) for a, b in study]
        mem = m._expand(m.encode_study([mapped]), [len(pairs)])
        seqs, starts = [], []
        for c, o in pairs:
            q = m.ids(tok.inp(c).split() + [ARROW])
            seqs.append(q + m.ids(tok.out(o).split()) + [m.index[EOS]])
            starts.append(len(q))
        n = max(map(len, seqs))
        seq = torch.zeros(len(seqs), n, dtype=torch.long)
        for i, s in enumerate(seqs):
            seq[i, : len(s)] = torch.tensor(s)
        logp = m.log_probs(mem, seq[:, :-1])
        rows = []
        for i, (s, k) in enumerate(zip(seqs, starts, strict=True)):
            target = torch.tensor(s[k:])
            lp = logp[i, k - 1 : len(s) - 1]
            tl = lp.gather(1, target[:, None])[:, 0].numpy()
            agree = (lp.argmax(1) == target).float().mean().item()
            margin = tl - lp.max(1).values.numpy()
            low2 = np.sort(tl)[:2].sum() if len(tl) > 1 else 2 * tl[0]
            early = lp[:-1, m.index[EOS]].max().item() if len(tl) > 1 else NO_EARLY
            rows.append([tl.sum(), tl.mean(), tl.min(), low2, tl[-1], len(tl), agree,
                         margin.sum(), margin.min(), (margin < 0).sum(), early])  # fmt: skip
        return np.array(rows, np.float32)

    # --- the interface -------------------------------------------------------------------------

    @staticmethod
    def describe(rules: Study) -> dict:
        return {"study": [f"{c} -> {o}" for c, o in rules.pairs], "probes": rules.probes}

    def extract(self, observed: list[tuple[str, str]]) -> Study:
        return Study(list(observed), dict(zip(PROBES, self.answer(observed, list(PROBES)),
                                              strict=True)))  # fmt: skip

    def modify(self, rules: Study, request: str) -> Study:
        changes = parse(request)
        todo = {i: rewrite(c, changes) for i, (c, _) in enumerate(rules.pairs) if uses(c, changes)}
        asked = sorted({q for plain, stand_in in todo.values() for q in (plain, *stand_in)})
        said = dict(zip(asked, self.answer(rules.pairs, asked), strict=True))  # one batch
        out = list(rules.pairs)
        for i, (plain, stand_in) in todo.items():
            answer = said[plain].split()
            for prim, symbols in stand_in.items():  # the stand-in's action becomes the symbols
                act = said[prim].split()
                if len(act) == 1:
                    answer = [s for a in answer for s in (symbols if a == act[0] else (a,))]
            out[i] = (rules.pairs[i][0], " ".join(answer))
        return Study(out, rules.probes, tuple(changes))

    def commands(self, changes, n: int, seed: int) -> tuple[list[str], np.ndarray]:
        """n SCAN commands, half using a changed word (affected) and half not, none a study
        example's command; outputs at most MAX_OUT actions."""
        rng = random.Random(f"commands/{seed}")
        pool = commands_pool()
        hit = [c for c in pool if uses(c, list(changes))]
        miss = [c for c in pool if not uses(c, list(changes))]
        a = rng.sample(hit, min(len(hit), n - n // 2))
        b = rng.sample(miss, min(len(miss), n - len(a)))
        return a + b, np.array([True] * len(a) + [False] * len(b))

    def generate(self, rules: Study, n: int, seed: int = 0) -> Samples:
        cmds, affected = self.commands(rules.changes, n, seed)
        return Samples(list(zip(cmds, self.answer(rules.pairs, cmds), strict=True)), affected)

    def check(self, samples: Samples, rules: Study) -> Check:
        return Check(self.critic.score(self.features(rules.pairs, samples.pairs)), self.threshold)

    # --- grading, by the interpreter ----------------------------------------------------------

    def grade(self, samples: Samples, request: str) -> Grade:
        lang = language(request)
        truth = [se.interpret(lang, c) for c, _ in samples.pairs]
        right = np.array([o == t for (_, o), t in zip(samples.pairs, truth, strict=True)], float)
        obeyed = np.where(samples.affected, right, np.nan)
        intact = np.where(samples.affected, np.nan, right)
        base = [scan.interpret(c) for c, _ in samples.pairs]
        return Grade(obeyed, intact, {"truth": truth, "base": base})

    @staticmethod
    def distance(samples: Samples, grade: Grade) -> tuple[float, float]:
        """(mean edit distance of generated outputs to the true ones, over the true length; the
        same for the unchanged language's outputs)."""

        def d(outs):
            pairs = zip(outs, grade.extra["truth"], strict=True)
            return float(np.mean([levenshtein(o.split(), t.split()) / len(t.split())
                                  for o, t in pairs]))  # fmt: skip

        return d([o for _, o in samples.pairs]), d(grade.extra["base"])

    @staticmethod
    def novelty(samples: Samples, grade: Grade) -> tuple[float, float]:
        """(fraction of correct generated pairs the unchanged language never produces, the same
        for the true pairs of the changed world)."""
        base, truth = grade.extra["base"], grade.extra["truth"]
        ok = grade.correct
        gen = [o != b for (_, o), b, k in zip(samples.pairs, base, ok, strict=True) if k]
        true = [t != b for t, b in zip(truth, base, strict=True)]
        return (float(np.mean(gen)) if gen else float("nan")), float(np.mean(true))

    def critic_auroc(self, request: str, n: int, seed: int) -> float:
        """The critic, given a study set of the changed language (true examples), on affected
        commands' true outputs against near misses of them."""
        lang, changes = language(request), parse(request)
        rng = random.Random(f"auroc/{seed}")
        pool = [c for c in scan.commands() if uses(c, changes)
                and len(se.interpret(lang, c).split()) <= se.MAX_OUT]  # fmt: skip
        pos_all, neg_all = [], []
        for _ in range(max(1, n // 10)):
            short = [c for c in se._short_pool() if uses(c, changes)
                     and len(se.interpret(lang, c).split()) <= se.MAX_STUDY_OUT]  # fmt: skip
            must = tuple(rng.sample(short, min(3, len(short))))
            study = se.study_set(lang, rng, se._short_pool(), must=must)
            shown = {c for c, _ in study}
            qs = [c for c in rng.sample(pool, 20) if c not in shown][:10]
            good = [(c, se.interpret(lang, c)) for c in qs]
            bad = [(c, near_miss(o, rng)) for c, o in good]
            pos_all.append(self.critic.score(self.features(study, good)))
            neg_all.append(self.critic.score(self.features(study, bad)))
        return auroc(np.concatenate(pos_all), np.concatenate(neg_all))


# --- the insight carried back ---------------------------------------------------------------
# A plain sequence model (the Transformer of 05_compositional) reads a lexicon before each
# command: every primitive followed by what the inventor read it to mean (given: the format; the
# meanings are the meta-learner's answers), then SEP. On SCAN's own language the lexicon never
# changes, so a model trained on SCAN alone gains nothing from it; invented languages, in which a
# primitive means another's action, are where it can learn to read it.

SEP = "|"
JUMP = scan.interpret("jump")  # jump's own meaning, which add-jump never shows composed


def meanings(inv: LanguageInventor, study: list[tuple[str, str]]) -> dict[str, str]:
    """{primitive: the inventor's answer for it alone} in the language a study set shows."""
    return dict(zip(scan.PRIMITIVES, inv.answer(study, list(scan.PRIMITIVES)), strict=True))


def definition(lang: se.Language) -> dict[str, str]:
    """{primitive: its actions} as a language's definition gives them (for the ceiling)."""
    return {w: " ".join(a) for w, a in lang.primitives}


def render(entries: dict[str, str]) -> str:
    """The lexicon prefix: each primitive and its meaning, then SEP."""
    return " ".join(f"{w} {m}" for w, m in entries.items()) + f" {SEP}"


def lexicon(inv: LanguageInventor, study: list[tuple[str, str]]) -> str:
    """The lexicon prefix of the language a study set shows, as the inventor reads it
    (e.g. "walk I_WALK look I_LOOK run I_RUN jump I_JUMP |")."""
    return render(meanings(inv, study))


def composes(command: str, word: str) -> bool:
    """Does the command use `word` with other words?"""
    return word in command.split() and command != word


def read_lexicon(prefixed: str) -> tuple[dict[str, str], str]:
    """({primitive: its meaning in the lexicon}, the command) of an input that starts with one."""
    lex, command = prefixed.split(f" {SEP} ", 1)
    entries: dict[str, list[str]] = {}
    for token in lex.split():
        if token in scan.PRIMITIVES:
            entries[token] = []
            word = token
        else:
            entries[word].append(token)
    return {w: " ".join(a) for w, a in entries.items()}, command


def leaks(pairs: list[tuple[str, str]], banned: set) -> int:
    """Pairs (lexicon first) that teach add-jump's held-out skill: a pair of `banned` once the
    lexicon is set aside, or a command composing jump under a lexicon that gives jump its own
    meaning. Counted from the pairs alone, apart from how `invented_pairs` filtered them."""
    n = 0
    for x, o in pairs:
        entries, c = read_lexicon(x)
        n += (c, o) in banned or (composes(c, "jump") and entries.get("jump") == JUMP)
    return n


def _check_primitive(word: str) -> None:
    """ValueError unless `word` is one of SCAN's primitives."""
    if word not in scan.PRIMITIVES:
        raise ValueError(f"unknown primitive {word!r}; known: {', '.join(scan.PRIMITIVES)}")


def carry_split(hold: str, seed: int) -> tuple[list, list]:
    """(training pairs, test pairs). `hold` "jump": SCAN's add-jump split. Any other primitive:
    the development analog, made from add-jump's training set alone (it touches no test pair):
    the commands that compose `hold` are its test set; the rest, with `hold` alone repeated as
    often as add-jump repeats jump, its training set."""
    _check_primitive(hold)
    data = scan.split("addprim_jump", seed)
    if hold == "jump":
        return list(data.train), list(data.test)
    train = [p for p in data.train if not composes(p[0], hold)]
    repeats = sum(c == "jump" for c, _ in data.train) - 1
    train += [(hold, scan.interpret(hold))] * repeats
    return train, [p for p in data.train if composes(p[0], hold)]


def invented_pairs(inv: LanguageInventor, rules: Study, requests, n_per: int, seed: int,
                   hold: str, banned: set, others=()) -> dict:  # fmt: skip
    """The invented languages' training pairs, lexicon first: the inventor's samples under each
    request (`generate`: `n_per` commands, half of them using a changed word, answered by its
    meta-learner from the changed study set, right or wrong; the interpreter checks none).

    `others`: further study sets of the base language (Studies, as `extract` returns them). Each
    is changed by the same request and the meta-learner answers the same commands from it; a
    command is kept only where every reading gives the same answer (self-agreement: learned
    answers checked against each other, never against the interpreter).

    Left out, for jump and for `hold` (the words whose composition the base world withholds): in
    a language that keeps the word's meaning (by its definition, or as the inventor's lexicon
    reads it), every command composing the word, which would teach the held-out skill itself;
    and any command whose answer or true output makes a pair in `banned` (test pairs).
    Returns "pairs", "truth" (the same commands with their true outputs under the true lexicon:
    a ceiling, not the inventor), "obeyed" per request (the affected commands, graded by the
    interpreter, to report) and counts."""
    if n_per < 1:
        raise ValueError(f"n_per must be >= 1, got {n_per}")
    _check_primitive(hold)
    held = sorted({hold, "jump"})
    own, base = meanings(inv, rules.pairs), definition(se.BASE)
    pairs, truth, obeyed = [], [], {}
    count = dict.fromkeys(("n_asked", "n_kept_meaning", "n_disagree", "n_test_pairs"), 0)
    for i, r in enumerate(requests):
        lang = language(r)
        changed = inv.modify(rules, r)
        read, defined = meanings(inv, changed.pairs), definition(lang)
        lex, true_lex = render(read), render(defined)
        keeps = [w for w in held if defined[w] == base[w] or read[w] == own[w]]
        samples = inv.generate(changed, n_per, seed + 10 * i)
        obeyed[r] = float(np.nanmean(inv.grade(samples, r).obeyed))
        count["n_asked"] += len(samples.pairs)
        cmds = [c for c, _ in samples.pairs]
        answers = [inv.answer(inv.modify(study, r).pairs, cmds) for study in others]
        for j, (c, o) in enumerate(samples.pairs):
            true = se.interpret(lang, c)
            if any(composes(c, w) for w in keeps):
                count["n_kept_meaning"] += 1
            elif (c, o) in banned or (c, true) in banned:
                count["n_test_pairs"] += 1
            elif any(a[j] != o for a in answers):
                count["n_disagree"] += 1
            else:
                pairs.append((f"{lex} {c}", o))
                truth.append((f"{true_lex} {c}", true))
    return {"pairs": pairs, "truth": truth, "obeyed": obeyed, **count}


def _fit_score(args: tuple) -> float:
    """One carry-back learner, trained with one thread; its exact match on the test pairs."""
    from distinv.scan import compositional as comp

    recipe, init, train, inputs, test = args
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        learner = comp.make("transformer", recipe, init).fit(train)
        return float(comp.exact(learner.predict(inputs), test).mean())
    finally:
        torch.set_num_threads(threads)


def carry_back(inv: LanguageInventor, rules: Study, requests, n_per: int, seed: int,
               n_inits: int = 2, hold: str = "jump", n_test: int = 1000, recipe=None,
               workers: int = 2, ceiling: bool = False, repeat: int = 1,
               readings: int = 1) -> dict:  # fmt: skip
    """The insight carried back: the Transformer of 05_compositional (its recipe: the same steps
    and batches), reading the lexicon before each command, trained on `carry_split(hold)`'s
    training set alone and on it plus the invented languages (`invented_pairs`), from `n_inits`
    initialisations each, the same ones on both; exact match on `n_test` of its test pairs.

    With `ceiling`, a third arm trains on the same invented commands with their true outputs (the
    interpreter's): what the carry-back would give were every answer right; not the inventor.
    Each invented pair stands `repeat` times in its arm's training set, so that a batch draws it
    `repeat` times as often as a training pair; the steps and batches stay the recipe's.
    With `readings` > 1, the inventor also observes `readings - 1` further study sets of the base
    language (as many examples as `rules` holds, from seeds no chapter's observation uses) and
    keeps an invented command only where its answers under all of them agree (`invented_pairs`).

    Returns "accuracy" {"base" | "invented" | "true": mean over the initialisations},
    "accuracies" (one per initialisation), "overlap" (invented pairs, either arm's, that
    `leaks` counts: zero by construction, counted again from the pairs alone), the
    invented data's counts and "obeyed"."""
    from distinv.scan import compositional as comp

    if n_inits < 1:
        raise ValueError(f"n_inits must be >= 1, got {n_inits}")
    if repeat < 1:
        raise ValueError(f"repeat must be >= 1, got {repeat}")
    if readings < 1:
        raise ValueError(f"readings must be >= 1, got {readings}")
    recipe = recipe or comp.Recipe()
    train, test_all = carry_split(hold, seed)
    banned = set(test_all)  # the analog's test pairs and add-jump's
    if hold != "jump":
        banned |= set(scan.split("addprim_jump", seed).test)
    test = comp.sample(test_all, n_test, seed)
    base_lex = lexicon(inv, rules.pairs)
    base = [(f"{base_lex} {c}", o) for c, o in train]
    n_obs = len(rules.pairs)
    others = [inv.extract(inv.observe(n_obs, 10_000 + 100 * seed + k)) for k in range(1, readings)]
    inv_data = invented_pairs(inv, rules, requests, n_per, seed, hold, banned, others)
    invented, truth = inv_data.pop("pairs"), inv_data.pop("truth")
    inputs = [f"{base_lex} {c}" for c, _ in test]
    inits = [1000 * seed + k for k in range(n_inits)]
    arms = {"invented": base + invented * repeat, "true": base + truth * repeat, "base": base}
    runs = [(name, k) for name in arms if name != "true" or ceiling for k in inits]
    jobs = [(recipe, k, arms[name], inputs, test) for name, k in runs]
    workers = min(cpus.allowed(workers), len(jobs))
    if workers <= 1:
        scores = [_fit_score(j) for j in jobs]
    else:
        scores = list(cpus.shared_pool(workers).map(_fit_score, jobs))
    accs: dict = {}
    for (name, _), s in zip(runs, scores, strict=True):
        accs.setdefault(name, []).append(s)
    overlap = leaks(invented + truth, banned)
    return {"accuracy": {k: float(np.mean(v)) for k, v in accs.items()}, "accuracies": accs,
            "overlap": overlap, "n_invented": len(invented), "n_base": len(base),
            "n_test": len(test), "n_inits": n_inits, "repeat": repeat, "readings": readings,
            "lexicon": base_lex,
            **inv_data}  # fmt: skip
