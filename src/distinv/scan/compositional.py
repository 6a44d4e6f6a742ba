"""Compositional SCAN (05_compositional): every model through one loop, on every split and
modification.

Every model offers `fit(pairs) -> self`, `predict(commands) -> actions` and
`represent(commands) -> vectors` (what the hull is taken in). `run` trains one model on one split,
scores a fixed sample of the split's test set and, for the simple split, takes each rule
modification the best way the model can:

- the neuro-symbolic learner reads the instruction (`modify`);
- a sequence model is fine-tuned (`adapt`) on a few commands labelled under the new rule, mixed
  with as many training commands that do not use a modified word, so that it is also reminded of
  the rules that must stay.
"""

from __future__ import annotations

import copy
import functools
import multiprocessing as mp
import random
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

import numpy as np
import torch

from distinv import cpus, scan
from distinv.scan import mods as scan_mods
from distinv.scan.learners import Seq2SeqLearner
from distinv.scan.neurosymbolic import NeuroSymbolicSCAN

SPLITS = {  # metric name -> SCAN split
    "simple": "simple",
    "length": "length",
    "addjump": "addprim_jump",
    "turnleft": "addprim_turn_left",
    "aroundright": "template_around_right",
}
MODELS = ("lstm", "transformer", "neurosymbolic")

# Published, not rerun here: Lake & Baroni (2018), exact match of their best overall model on each
# split (the anchor), and their training length, 100,000 updates of one example each.
PUBLISHED = {"simple": 0.997, "length": 0.138, "addjump": 0.0008, "turnleft": 0.900}
PUBLISHED_UPDATES = 100_000


@dataclass(frozen=True)
class Recipe:
    """How the sequence models are trained and adapted (the neuro-symbolic learner has no knobs)."""

    steps: int = 1500
    batch_size: int = 64
    lr: float = 0.001
    d_model: int = 64
    hidden: int = 128  # LSTM
    layers: int = 2  # Transformer, per encoder and decoder
    heads: int = 4
    shots: int = 20  # commands labelled under a modified rule, shown when adapting
    replay: int = 1000  # training commands without a modified word, mixed in when adapting
    adapt_steps: int = 200
    adapt_lr: float = 0.001


@functools.cache
def _longest_output() -> int:
    return max(len(a.split()) for _, a in scan.dataset())


def make(model: str, recipe: Recipe, seed: int):
    """A fresh, untrained model by name."""
    if model == "neurosymbolic":
        return NeuroSymbolicSCAN()
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    longest = _longest_output()
    arch = dict(d_model=recipe.d_model)
    arch.update(hidden=recipe.hidden) if model == "lstm" else arch.update(
        layers=recipe.layers, heads=recipe.heads
    )
    return Seq2SeqLearner(
        model, recipe.steps, recipe.batch_size, recipe.lr, seed, max_out=longest + 1,
        log_every=recipe.steps // 20, **arch,
    )  # fmt: skip


def sample(pairs: list, n: int, seed: int) -> list:
    """A fixed, seeded sample of n items in their original order (all of them if n <= 0 or more)."""
    if n <= 0 or n >= len(pairs):
        return list(pairs)
    keep = sorted(random.Random(seed).sample(range(len(pairs)), n))
    return [pairs[i] for i in keep]


def exact(predictions: list[str], pairs: list) -> np.ndarray:
    """Per pair: is the predicted action sequence exactly the reference one?"""
    if len(predictions) != len(pairs):
        raise ValueError(f"{len(predictions)} predictions for {len(pairs)} pairs")
    return np.array([p == a for p, (_, a) in zip(predictions, pairs, strict=True)], dtype=bool)


def take(learner, model: str, mod, shots: list, train: list, recipe: Recipe, seed: int = 0):
    """A copy of a trained model that follows the modification; the original is left as it was.

    A sequence model is fine-tuned on `shots` repeated to half of the data, the other half
    `recipe.replay` training pairs that use no modified word.
    """
    if model == "neurosymbolic":
        for instruction in mod.instructions:
            learner = learner.modify(instruction)
        return learner
    if not shots:
        raise ValueError("a sequence model needs at least one example of the modified rule")
    replay = replay_pairs(mod, train, recipe.replay, seed)
    mixed = shots * max(1, len(replay) // len(shots)) + replay
    return copy.deepcopy(learner).adapt(mixed, recipe.adapt_steps, recipe.adapt_lr)


def replay_pairs(mod, train: list, n: int, seed: int = 0) -> list:
    """The `n` training pairs that use no modified word (all if fewer) mixed into adaptation."""
    return sample([p for p in train if not any(w in p[0].split() for w in mod.words)], n, seed)


def run(
    model: str,
    split: str,
    recipe: Recipe,
    seed: int = 0,
    n_test: int = 1000,
    n_hull: int = 1000,
    n_queries: int = 100,
    n_mod: int = 200,
) -> dict:
    """Train `model` on one split and measure it; a plain dict, so a worker process can return it.

    Keys: model, split, seconds (training), history (seq2seq loss rows), commands, gold_lengths,
    correct (per sampled test pair), hull_train and hull_queries (representations), and for the
    simple split `mods`: one row per modification with affected / unaffected exact match before
    and after the model took it.
    """
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    torch.set_num_threads(1)
    data = scan.split(SPLITS[split], seed)
    start = time.perf_counter()
    learner = make(model, recipe, seed).fit(data.train)
    seconds = time.perf_counter() - start
    test = sample(data.test, n_test, seed)
    out = {
        "model": model,
        "split": split,
        "seconds": seconds,
        "history": getattr(learner, "history", []),
        "commands": [c for c, _ in test],
        "gold_lengths": [len(a.split()) for _, a in test],
        "correct": exact(learner.predict([c for c, _ in test]), test).tolist(),
        "hull_train": learner.represent([c for c, _ in sample(data.train, n_hull, seed)]),
        "hull_queries": learner.represent([c for c, _ in sample(data.test, n_queries, seed + 1)]),
    }
    if split == "simple":
        out["mods"] = [modification(learner, model, m, data.train, recipe, n_mod, seed) for m in
                       scan_mods.MODIFICATIONS]  # fmt: skip
    return out


# The fewest unaffected commands a modification's leakage may be scored on: a floor against a
# change that shrinks the sets unnoticed (the smallest, composed's, is every SCAN command with
# none of jump, left and right outside the simple split's training set, a few dozen).
MIN_UNAFFECTED = 20


def modification(learner, model: str, mod, train: list, recipe: Recipe, n: int, seed: int) -> dict:
    """Exact match on the commands a modification affects and on the others, before and after.

    The unaffected commands are drawn from commands in no training set (so in no replay set, which
    is drawn from training) and not among the few-shot examples: leakage is scored on commands
    the model was neither trained nor fine-tuned on. Few remain for some modifications, so the
    row keeps the count right (`unaffected_right`) for an interval (`wilson`)."""
    pool = scan_mods.affected(mod, n + recipe.shots, seed)
    shots, affected = pool[: recipe.shots], pool[recipe.shots :]
    seen = frozenset(c for c, _ in train) | {c for c, _ in shots}
    unaffected = scan_mods.unaffected(mod, n, seed, exclude=seen)
    taken = take(learner, model, mod, shots, train, recipe, seed)
    score = lambda m, pairs: float(exact(m.predict([c for c, _ in pairs]), pairs).mean())  # noqa: E731
    right = int(exact(taken.predict([c for c, _ in unaffected]), unaffected).sum())
    return {
        "mod": mod.name,
        "instructions": list(mod.instructions),
        "affected_before": score(learner, affected),
        "affected": score(taken, affected),
        "unaffected_before": score(learner, unaffected),
        "unaffected": right / len(unaffected),
        "unaffected_right": right,
        "n_affected": len(affected),
        "n_unaffected": len(unaffected),
        "unaffected_commands": [c for c, _ in unaffected],
        "shot_commands": [c for c, _ in shots],
    }


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval (95% by default) of a proportion `successes` / `n`."""
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n and n >= 1; got {successes}, {n}")
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _job(args: tuple) -> dict:
    model, split, recipe, kwargs = args
    return run(model, split, Recipe(**recipe), **kwargs)


def run_all(models, splits, recipe: Recipe, workers: int = 2, **kwargs) -> list[dict]:
    """`run` for every (model, split), side by side in `workers` processes of one thread each."""
    jobs = [(m, s, asdict(recipe), kwargs) for m in models for s in splits]
    # The slowest first, so that the pool does not end on one long job.
    jobs.sort(key=lambda j: (j[0] == "neurosymbolic", j[1] != "simple"))
    workers = cpus.allowed(workers)  # a sweep's run gets the cores its worker has
    if workers <= 1:
        results = [_job(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            results = list(pool.map(_job, jobs))
    order = {(m, s): i for i, (m, s) in enumerate((m, s) for m in models for s in splits)}
    return sorted(results, key=lambda r: order[r["model"], r["split"]])
