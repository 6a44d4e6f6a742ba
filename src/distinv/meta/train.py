"""Meta-training with a checkpoint that a rebuild reuses and an interruption resumes.

Episodes for step s come from `random.Random(f"{world}/{seed}/{s}")`, so a resumed run sees the
same episodes as one that was never stopped and ends with the same weights. The checkpoint's name
holds a digest of the recipe and of the source of every module that shapes training, so a changed
recipe or changed code trains anew and an unchanged one is loaded. Every `save_every` steps the
state (weights, optimiser, step, losses) is written atomically to `<checkpoint>.partial`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from distinv.meta import grammars, scan_episodes
from distinv.meta.model import MetaConfig, MetaTransformer
from distinv.progress import progress

WORLDS = ("grammar", "scan")
N_HELDOUT, N_VALIDATION = 100, 50  # grammars in the held-out and validation sets


@dataclass(frozen=True)
class Recipe:
    world: str  # "grammar" or "scan"
    steps: int = 2400
    batch: int = 16  # episodes per step
    lr: float = 0.002
    warmup: int = 30
    d_model: int = 64
    layers: int = 2  # encoder and decoder each
    copy: bool = True  # the copy pointer (False: the ablation without it)
    point: bool = False  # copy the meaning of a query word pointed at (MetaConfig.point)
    seed: int = 0
    snapshots: int = 6  # weights kept along the way, for the learning curve
    lookup: float = 0.1  # fraction of the steps whose queries are one word (a look-up)
    curriculum: float = 0.4  # fraction of the steps by which the longest query has grown to full

    def __post_init__(self):
        if self.world not in WORLDS:
            raise ValueError(f"unknown world {self.world!r}; known: {', '.join(WORLDS)}")
        if self.steps < 1 or self.batch < 1 or self.lr <= 0:
            raise ValueError("need steps >= 1, batch >= 1 and lr > 0")
        # MetaConfig refuses what it cannot build (point without copy)
        config(self.world, copy=self.copy, point=self.point)


def config(
    world: str,
    d_model: int = 64,
    layers: int = 2,
    copy: bool = True,
    point: bool = False,
) -> MetaConfig:
    if world == "grammar":
        ins, outs, max_len = grammars.WORDS, grammars.SYMBOLS, 40
    else:
        ins, outs, max_len = scan_episodes.INPUT_VOCAB, scan_episodes.OUTPUT_VOCAB, 64
    return MetaConfig(
        ins,
        outs,
        d_model=d_model,
        heads=4,
        enc_layers=layers,
        dec_layers=layers,
        ff=2 * d_model,
        max_len=max_len,
        copy=copy,
        point=point,
    )


_HELD: dict = {}


def grammar_sets() -> tuple[list, list, grammars.TrainingGrammars]:
    """(held-out grammars, validation grammars, the meta-training sampler), fixed for the book."""
    if not _HELD:
        held = grammars.heldout_grammars(N_HELDOUT)
        val = grammars.validation_grammars(N_VALIDATION, held)
        _HELD["sets"] = (held, val, grammars.TrainingGrammars(held, val))
    return _HELD["sets"]


def max_words(recipe: Recipe, step: int) -> int:
    """The curriculum: the longest query at `step`. One word (a primitive: its study example
    looked up) over the first `lookup` fraction of the steps, then growing linearly to the world's
    longest by the `curriculum` fraction."""
    full = grammars.MAX_WORDS if recipe.world == "grammar" else 9
    a, b = recipe.lookup * recipe.steps, recipe.curriculum * recipe.steps
    if step >= b:
        return full
    return 1 if step < a else min(full, 1 + int((full - 1) * (step - a) / (b - a)))


def episodes(recipe: Recipe, step: int) -> list[tuple[list, list]]:
    """The meta-training episodes of one step: (study pairs, query pairs) each."""
    rng = random.Random(f"{recipe.world}/{recipe.seed}/{step}")
    longest = max_words(recipe, step)
    early = step < recipe.curriculum * recipe.steps  # queries may repeat study examples
    if recipe.world == "scan":
        return [
            scan_episodes.training_episode(rng, longest, fresh=not early)
            for _ in range(recipe.batch)
        ]
    sampler = grammar_sets()[2]
    out = []
    for _ in range(recipe.batch):
        e = grammars.episode(sampler.sample(rng), rng, max_words=longest, curriculum=early)
        out.append((list(e.study), list(e.queries)))
    return out


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _source_digest() -> str:
    from distinv.meta import model
    from distinv.scan import grammar, mods

    mods_ = (model, grammars, scan_episodes, grammar, mods)
    files = [Path(m.__file__).read_text() for m in mods_] + [Path(__file__).read_text()]
    return digest("\n".join(files))


def key(recipe: Recipe) -> str:
    return digest(json.dumps(asdict(recipe), sort_keys=True) + _source_digest())[:12]


def checkpoint_path(folder: str | Path, recipe: Recipe) -> Path:
    return Path(folder) / f"meta-{recipe.world}-{key(recipe)}.pt"


def _lr(recipe: Recipe, step: int) -> float:
    """Linear warm-up, then a half cosine down to a tenth."""
    if step < recipe.warmup:
        return recipe.lr * (step + 1) / recipe.warmup
    t = (step - recipe.warmup) / max(1, recipe.steps - recipe.warmup)
    return recipe.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def _save(obj: dict, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(
    recipe: Recipe,
    folder: str | Path,
    stop_after: int | None = None,
    desc: str | None = None,
    save_every: int = 100,
) -> Path:
    """Meta-train (or resume, or reuse) the checkpoint for `recipe` under `folder`; its path.

    `stop_after` ends the run early at that step, leaving the partial state (for tests)."""
    path = checkpoint_path(folder, recipe)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.manual_seed(recipe.seed)
    model = MetaTransformer(
        config(recipe.world, recipe.d_model, recipe.layers, recipe.copy, recipe.point)
    )
    opt = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    state = {"step": 0, "losses": [], "seconds": 0.0, "snapshots": []}
    if partial.is_file():
        saved = torch.load(partial, weights_only=False)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["opt"])
        state = saved["state"]
    keep = {round(recipe.steps * (i + 1) / recipe.snapshots) for i in range(recipe.snapshots)}
    start = time.perf_counter()
    bar = progress(
        range(state["step"], recipe.steps),
        desc=desc or f"meta-training {recipe.world}",
        initial=state["step"],
        total=recipe.steps,
    )
    for step in bar:
        for g in opt.param_groups:
            g["lr"] = _lr(recipe, step)
        loss = model.loss(episodes(recipe, step))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"meta-training {recipe.world}: loss {loss.item()} at {step}")
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["losses"].append(float(loss.detach()))
        state["step"] = step + 1
        if step + 1 in keep:
            state["snapshots"].append(
                (step + 1, {k: v.clone() for k, v in model.state_dict().items()})
            )
        done = state["step"] == recipe.steps
        if done or state["step"] % save_every == 0 or state["step"] == stop_after:
            state["seconds"] += time.perf_counter() - start
            start = time.perf_counter()
            if done:
                _save(
                    {
                        "config": asdict(model.cfg),
                        "recipe": asdict(recipe),
                        "model": model.state_dict(),
                        "state": state,
                    },
                    path,
                )
                partial.unlink(missing_ok=True)
            else:
                _save(
                    {"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, partial
                )
        if state["step"] == stop_after:
            break
    return path


def load(path: str | Path) -> tuple[MetaTransformer, dict]:
    """(the trained model, its training record: recipe, losses, seconds, snapshots)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no meta-learning checkpoint at {path}: run the chapter first (distinv run 08_meta)"
        )
    ckpt = torch.load(path, weights_only=False)
    cfg = ckpt["config"]
    cfg = MetaConfig(**{**cfg, "inputs": tuple(cfg["inputs"]), "outputs": tuple(cfg["outputs"])})
    model = MetaTransformer(cfg)
    model.load_state_dict(ckpt["model"])
    return model.eval(), {"recipe": ckpt["recipe"], **ckpt["state"]}


def _train_job(args: tuple) -> str:
    """A pool worker's job: one thread, so that the workers side by side share the cores."""
    recipe, folder = args
    torch.set_num_threads(1)
    return str(train(Recipe(**recipe), folder))


def train_all(recipes: list[Recipe], folder: str | Path, workers: int = 2) -> list[Path]:
    """`train` for every recipe, side by side in `workers` processes of one thread each (with
    one worker, one after another in this process, on one thread; the checkpoint's name does not
    hold the thread count, so every checkpoint is trained on one)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    from distinv import cpus

    jobs = [(asdict(r), str(folder)) for r in recipes]
    workers = min(cpus.allowed(workers), len(jobs))
    if workers <= 1:  # in this process, one thread as in a worker, then its own count back
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return [train(r, folder) for r in recipes]
        finally:
            torch.set_num_threads(threads)
    with ProcessPoolExecutor(
        workers, mp_context=mp.get_context("spawn"), initializer=cpus.die_with_parent
    ) as pool:
        return [Path(p) for p in pool.map(_train_job, jobs)]
