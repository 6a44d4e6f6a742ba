"""Modified SCAN: one rule changes ("jump means walk"), every other rule stays as it was.

Each modification is an instruction in words and a reference labeller. The labeller never edits a
grammar or a lexicon: it rewrites the command into ordinary SCAN (or rewrites ordinary SCAN output)
and calls `scan.interpret`, so it shares no code with any model's way of taking the instruction.

- a swap of meanings ("jump means walk", "left and right swap", "twice means thrice"): replace
  words in the command, then interpret;
- a new meaning made of output symbols ("jump means I_TURN_LEFT x4", "skip means I_SKIP"): put a
  primitive the command does not use in the word's place, interpret, then replace that primitive's
  action by the new symbols.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from distinv.scan import grammar as scan


@dataclass(frozen=True)
class Modification:
    name: str
    instructions: tuple[str, ...]  # one, or two composed (applied in order)

    @property
    def words(self) -> tuple[str, ...]:
        """The words whose meaning changes; commands with none of them are unaffected."""
        out = []
        for ins in map(str.split, self.instructions):
            out += [ins[0], ins[2]] if ins[-1] == "swap" else [ins[0]]
        return tuple(dict.fromkeys(out))

    def label(self, command: str) -> str:
        """The action sequence of `command` under the modified rules."""
        words, new = command.split(), {}
        for instruction in self.instructions:
            ins = instruction.split()
            if len(ins) == 4 and ins[1] == "and" and ins[3] == "swap":
                a, b = ins[0], ins[2]
                words = [b if w == a else a if w == b else w for w in words]
            elif len(ins) == 3 and ins[1] == "means" and ins[2] in scan.WORDS:
                words = [ins[2] if w == ins[0] else w for w in words]
            elif len(ins) >= 3 and ins[1] == "means":
                new[ins[0]] = ins[2:]
            else:
                raise ValueError(f"cannot label with instruction {instruction!r}")
        free = [p for p in scan.PRIMITIVES if p not in words]
        stand_in = {}
        for word in new:
            if word in words:
                stand_in[f"I_{free[0].upper()}"] = new[word]
                words = [free[0] if w == word else w for w in words]
                free = free[1:]
        out = []
        for s in scan.interpret(" ".join(words)).split():
            out += stand_in.get(s, [s])
        return " ".join(out)


MODIFICATIONS = (
    Modification("swap", ("jump means walk",)),
    Modification("new action", ("jump means I_TURN_LEFT I_TURN_LEFT I_TURN_LEFT I_TURN_LEFT",)),
    Modification("left right swap", ("left and right swap",)),
    Modification("twice thrice", ("twice means thrice",)),
    Modification("new word", ("skip means I_SKIP",)),
    Modification("composed", ("jump means walk", "left and right swap")),
)


def _uses(command: str, words: tuple[str, ...]) -> bool:
    return any(w in command.split() for w in words)


def affected(mod: Modification, n: int, seed: int) -> list[scan.Pair]:
    """n commands that use a modified word, labelled under the modification (all if fewer).

    A new word ("skip") takes the place of `jump` in commands that use jump.
    """
    rng = random.Random(f"{mod.name}/{seed}")
    new_words = [w for w in mod.words if w not in scan.WORDS]
    if new_words:
        pool = [c for c in scan.commands() if "jump" in c.split()]
        pool = [" ".join(new_words[0] if w == "jump" else w for w in c.split()) for c in pool]
    else:
        pool = [c for c in scan.commands() if _uses(c, mod.words)]
    pool = rng.sample(pool, min(n, len(pool)))
    return [(c, mod.label(c)) for c in pool]


def unaffected(
    mod: Modification, n: int, seed: int, exclude: frozenset[str] = frozenset()
) -> list[scan.Pair]:
    """n commands that use no modified word, with their ordinary (and unchanged) actions (all if
    fewer); none of them in `exclude` (the commands a model was trained or fine-tuned on)."""
    rng = random.Random(f"{mod.name}/unaffected/{seed}")
    pool = [c for c in scan.commands() if not _uses(c, mod.words) and c not in exclude]
    return [(c, scan.interpret(c)) for c in rng.sample(pool, min(n, len(pool)))]
