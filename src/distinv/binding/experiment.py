"""Variable binding: the data splits, training and evaluation of the slot model and its baselines
(a binding model that does not fit its own training programs gets its executor retrained:
`train_repaired`), checkpoints, and `solve`, which answers a user's program with the chapter's
trained model."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from itertools import product
from pathlib import Path

import torch

from distinv import cpus, seq2seq
from distinv.binding import data
from distinv.binding import model as slot_model
from distinv.progress import progress
from distinv.train import fit

MODELS = ("binding", "transformer", "lstm")
SPLITS = ("iid", "heldout")
IN_IDS = {w: i + 1 for i, w in enumerate(data.INPUT_VOCAB)}  # 0 is padding
SYMBOLS = data.OUTPUT_VOCAB
CTC_IDS = {s: i + 1 for i, s in enumerate(SYMBOLS)}  # 0 is the CTC blank
SEQ_IDS = {s: i + 3 for i, s in enumerate(SYMBOLS)}  # 0 pad, 1 start, 2 end


@dataclass
class Splits:
    train: list[data.Example]
    tests: dict[tuple[str, str], list[data.Example]]  # (capability, split) -> examples
    validation: list[data.Example]  # the training distribution, for choosing among restarts


def make_splits(n_train: int, n_test: int, seed: int, n_val: int = 200) -> Splits:
    """n_train programs per capability; n_test per (capability, split), new seed, no repeats.

    No program is in two sets, across capabilities too (a one-item `sequence` query can be a
    `basic` program). The validation set (n_val per capability) is drawn like training, with a
    third seed, and shares no program with training or the tests: it is what `select` may look at.
    """
    train, tests, validation, seen = [], {}, [], set()
    for cap in data.CAPABILITIES:
        part = data.generate(cap, n_train, seed, exclude=seen)
        seen |= {e.program for e in part}
        train += part
    for cap in data.CAPABILITIES:
        for split in SPLITS:
            tests[cap, split] = data.generate(cap, n_test, seed + 1, split == "heldout", seen)
            seen |= {e.program for e in tests[cap, split]}
    for cap in data.CAPABILITIES:
        validation += data.generate(cap, n_val, seed + 2, False, seen)
        seen |= {e.program for e in validation[-n_val:]}
    return Splits(train, tests, validation)


def encode_programs(programs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Programs -> token ids (B, T), 0-padded, and lengths (B,); ValueError names unknown words."""
    rows = []
    for p in programs:
        words = p.split()
        for w in words:
            if w not in IN_IDS:
                raise ValueError(f"unknown word {w!r} in program {p!r}")
        rows.append([IN_IDS[w] for w in words])
    x = seq2seq.pad(rows)
    return x, (x > 0).sum(1)


def _targets(outputs: list[str], ids: dict[str, int], end: int | None) -> list[list[int]]:
    return [[ids[s] for s in o.split()] + ([end] if end is not None else []) for o in outputs]


BACKENDS = ("torch", "mlx")


def _is_mlx(model) -> bool:
    return type(model).__module__.endswith("model_mlx")


# Settings that differ from the chapter's binding model in its ablations: the previous version
# (writes free), an executor that sees four tokens (t-1 .. t+2) with room for a whole item's
# output at one position, and a write that may store any of the last four tokens' values.
PREVIOUS = (("write_cost", 0.0),)
NARROW = (("emit_before", 1), ("emit_after", 2), ("frames", 8))
ANY_VALUE = (("value_window", 4),)


def build(model: str, binder: str = "fresh", backend: str = "torch", **config):
    """A fresh model by name: binding (with its binder and any other BindingConfig field; torch or
    MLX), transformer or lstm."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
    if model == "binding":
        cfg = slot_model.BindingConfig(len(IN_IDS) + 1, len(SYMBOLS) + 1, binder=binder, **config)
        model = slot_model.BindingModel(cfg)
        if backend == "mlx":  # the same initial weights as torch: the twins differ only in backend
            from distinv.binding import model_mlx as binding_mlx

            return binding_mlx.load_torch_state(binding_mlx.BindingModel(cfg), model.state_dict())
        return model
    if config:
        raise ValueError(f"{model} takes no binding-model settings, got {', '.join(config)}")
    if backend == "mlx":
        raise ValueError(f"{model} runs in torch only; the MLX twin is the binding model's")
    if model in seq2seq.KINDS:
        return seq2seq.build(seq2seq.Seq2SeqConfig(len(IN_IDS) + 1, len(SYMBOLS) + 3, kind=model))
    raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")


def _loss(model: torch.nn.Module, batch: list[data.Example]) -> torch.Tensor:
    x, lengths = encode_programs([e.program for e in batch])
    outputs = [e.output for e in batch]
    if isinstance(model, slot_model.BindingModel):
        ys = _targets(outputs, CTC_IDS, None)
        target = torch.tensor([s for y in ys for s in y])
        target_lengths = torch.tensor([len(y) for y in ys])
        out = model(x)
        loss = slot_model.ctc_loss(
            out["log_probs"], lengths, target, target_lengths, model.cfg.frames
        )
        if model.binder.hard and model.cfg.write_cost:  # the straight-through phase
            loss = loss + model.cfg.write_cost * slot_model.write_cost(out["gate"], lengths)
        return loss
    return seq2seq.loss(model, x, seq2seq.pad(_targets(outputs, SEQ_IDS, seq2seq.END)))


def grad_norms(model: torch.nn.Module) -> dict[str, float]:
    """Gradient norm per top-level module (after backward)."""
    norms = {}
    for name, module in model.named_children():
        grads = [p.grad.norm() ** 2 for p in module.parameters() if p.grad is not None]
        norms[name] = float(torch.stack(grads).sum().sqrt()) if grads else 0.0
    return norms


def train(
    model: torch.nn.Module,
    examples: list[data.Example],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    hard_from: float = 0.5,
    log_every: int = 50,
    desc: str = "training",
    only: str | None = None,
) -> list[dict]:
    """Adam on random batches; the binder's samples (and, with `cfg.straight`, the model's other
    choices) turn straight-through after hard_from * steps. `only`: the name of the one module
    that trains (the binding model's "executor", say); the others stay as they are.

    Returns a row every log_every steps: step, loss, seconds, and the gradient norm per module.
    """
    if steps < 1 or batch_size < 1 or lr <= 0 or not examples:
        raise ValueError(f"need steps, batch_size >= 1, lr > 0, data; got {steps}, {batch_size}")
    if only is not None and not hasattr(model, only):
        raise ValueError(f"{type(model).__name__} has no module {only!r} to train")
    if _is_mlx(model):
        if only is not None:
            model.freeze()
            getattr(model, only).unfreeze()
        try:
            return _train_mlx(
                model, examples, steps, batch_size, lr, seed, hard_from, log_every, desc
            )
        finally:
            model.unfreeze()
    if only is not None:
        return _train_module(
            model, only, examples, steps, batch_size, lr, seed, hard_from, log_every, desc
        )
    gen = torch.Generator().manual_seed(seed)
    binder = getattr(model, "binder", None)

    def loss_fn(step: int) -> torch.Tensor:
        if binder is not None:
            binder.hard = step > hard_from * steps
        idx = torch.randint(len(examples), (batch_size,), generator=gen).tolist()
        return _loss(model, [examples[i] for i in idx])

    def log() -> dict:  # the step's gradients are still in place when fit logs
        norms = {f"grad_{k}": v for k, v in grad_norms(model).items()}
        return {"seconds": time.perf_counter() - start, **norms}

    start = time.perf_counter()
    history = fit(model, loss_fn, steps, lr, evaluate=log, eval_every=log_every, desc=desc)
    model.eval()
    return history


def _train_module(model, only, examples, steps, batch_size, lr, seed, hard_from, log_every, desc):
    """`train` with every parameter outside `model.<only>` frozen (given back afterwards)."""
    frozen = [p for n, p in model.named_parameters() if not n.startswith(f"{only}.")]
    was = [p.requires_grad for p in frozen]
    for p in frozen:
        p.requires_grad_(False)
    try:
        return train(model, examples, steps, batch_size, lr, seed, hard_from, log_every, desc)
    finally:
        for p, r in zip(frozen, was, strict=True):
            p.requires_grad_(r)


# A model that answers fewer than this share of one capability's *training* programs has not
# fitted its data; `train_repaired` then retrains its executor.
REPAIR_BELOW = 0.99


def training_fit(model, examples: list[data.Example]) -> dict[str, float]:
    """Exact match on the training programs themselves, per capability present."""
    caps = [c for c in data.CAPABILITIES if any(e.capability == c for e in examples)]
    return {c: exact_match(model, [e for e in examples if e.capability == c]) for c in caps}


def reset_executor(model, seed: int) -> None:
    """Give a binding model (torch or MLX) a freshly initialised executor, drawn with `seed`."""
    from distinv.seed import seed_everything

    seed_everything(seed)
    fresh = slot_model.BoundVariableExecutor(model.cfg)
    if _is_mlx(model):
        import mlx.core as mx

        state = [(k, mx.array(v.numpy())) for k, v in fresh.state_dict().items()]
        model.executor.load_weights(state)  # strict: every executor parameter, no other
    else:
        model.executor = fresh


def train_repaired(
    model,
    examples: list[data.Example],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    hard_from: float = 0.5,
    repairs: int = 3,
    desc: str = "training",
) -> tuple[list[dict], list[dict[str, float]], dict | None]:
    """`train`, then, while the model answers some capability's own training programs below
    REPAIR_BELOW and `repairs` are left: a fresh executor (seed `seed + 1000 k` for the k-th), the
    rest of the model frozen, trained for half the steps on the same schedule.

    Why: the executor's CTC alignment can settle in a compromise that no later step leaves (a token
    emitting part of an item that it cannot see whole); a fresh executor starts the alignment again
    from the memory already learned. Only training programs decide; no validation or test program
    is looked at.

    Returns the first training's history, the training fit after the first training and after
    each repair, and the model's state before the first repair (None when none was needed).
    """
    if repairs < 0:
        raise ValueError(f"repairs must be >= 0, got {repairs}")
    if not isinstance(getattr(model, "cfg", None), slot_model.BindingConfig):
        raise ValueError(f"only a binding model is repaired, got {type(model).__name__}")
    history = train(model, examples, steps, batch_size, lr, seed, hard_from, desc=desc)
    fits, before = [training_fit(model, examples)], None
    for k in range(1, repairs + 1):
        if min(fits[-1].values()) >= REPAIR_BELOW:
            break
        before = before or {n: v.clone() for n, v in to_torch_state(model).items()}
        reset_executor(model, seed + 1000 * k)
        train(model, examples, max(1, steps // 2), batch_size, lr, seed + 1000 * k, hard_from,
              desc=f"{desc} repair {k}", only="executor")  # fmt: skip
        fits.append(training_fit(model, examples))
    return history, fits, before


def _train_mlx(model, examples, steps, batch_size, lr, seed, hard_from, log_every, desc):
    """The same loop in MLX: same batches (drawn with torch's generator), MLX's Adam and CTC."""
    import mlx.core as mx
    import mlx.nn as mnn
    import mlx.optimizers as optim
    import numpy as np
    from mlx.utils import tree_flatten

    from distinv.binding import model_mlx as binding_mlx

    gen = torch.Generator().manual_seed(seed)
    opt = optim.Adam(learning_rate=lr, bias_correction=True)  # as torch's (MLX: off by default)

    value_and_grad = mnn.value_and_grad(model, binding_mlx.training_loss)
    history, start = [], time.perf_counter()
    model.train()
    for step in progress(range(1, steps + 1), desc=desc):
        model.binder.hard = step > hard_from * steps
        idx = torch.randint(len(examples), (batch_size,), generator=gen).tolist()
        batch = [examples[i] for i in idx]
        x, lengths = encode_programs([e.program for e in batch])
        ys = _targets([e.output for e in batch], CTC_IDS, None)
        loss, grads = value_and_grad(
            model, mx.array(x.numpy().astype(np.int32)), lengths.numpy(), ys
        )
        if not np.isfinite(loss.item()):
            raise FloatingPointError(f"{desc}: loss became {loss.item()} at step {step}")
        opt.update(model, grads)
        mx.eval(model.parameters(), opt.state)
        if step % log_every == 0 or step == steps:
            norms = {
                k: float(sum((v**2).sum().item() for _, v in tree_flatten(g)) ** 0.5)
                for k, g in grads.items()
            }
            row = {"step": step, "loss": loss.item(), "seconds": time.perf_counter() - start}
            history.append(row | {f"grad_{k}": v for k, v in norms.items()})
    model.eval()
    return history


def to_torch_state(model) -> dict[str, torch.Tensor]:
    """The parameters of a torch or MLX binding model as a torch state_dict (same names)."""
    if not _is_mlx(model):
        return model.state_dict()
    import numpy as np
    from mlx.utils import tree_flatten

    return {k: torch.from_numpy(np.array(v)) for k, v in tree_flatten(model.parameters())}


def as_torch(model) -> torch.nn.Module:
    """A binding model as torch (the same weights if it is the MLX twin), in test-time mode."""
    if not _is_mlx(model):
        return model.eval()
    twin = slot_model.BindingModel(model.cfg)
    twin.load_state_dict(to_torch_state(model))
    return twin.eval()


def n_params(model) -> int:
    """Number of trained parameters of a torch or MLX model."""
    return sum(v.numel() for v in to_torch_state(model).values())


@dataclass(frozen=True)
class Job:
    """One model to train: its name in the chapter, the architecture, the binder."""

    name: str
    model: str
    binder: str = "fresh"
    backend: str = "torch"
    seed: int | None = None  # initialisation, sampling and batches; None: train_all's seed
    config: tuple[tuple[str, object], ...] = ()  # BindingConfig fields that differ, e.g. PREVIOUS


@dataclass
class Trained:
    """One job's outcome: the model; its first training's history; its fit on its own training
    programs after the first training and after each repair (binding models; empty for the
    baselines); the model as it was before its first repair (None when it needed none); and the
    seconds the whole run took, repairs and their checks included."""

    model: torch.nn.Module
    history: list[dict]
    fits: list[dict[str, float]]
    unrepaired: torch.nn.Module | None = None
    seconds: float = 0.0

    @property
    def repairs(self) -> int:
        return max(0, len(self.fits) - 1)


def _train_job(job: Job, examples, steps, batch_size, lr, seed, hard_from, repairs, threads):
    from distinv.seed import seed_everything

    torch.set_num_threads(threads)
    seed = seed if job.seed is None else job.seed
    seed_everything(seed)
    model = build(job.model, job.binder, job.backend, **dict(job.config))
    start = time.perf_counter()
    if job.model != "binding":
        history = train(model, examples, steps, batch_size, lr, seed, hard_from, desc=job.name)
        fits, before = [], None
    else:
        history, fits, before = train_repaired(
            model, examples, steps, batch_size, lr, seed, hard_from, repairs, desc=job.name
        )
    return to_torch_state(model), history, fits, before, time.perf_counter() - start


def train_all(
    jobs: list[Job],
    examples: list[data.Example],
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    hard_from: float = 0.5,
    workers: int = 2,
    repairs: int = 3,
) -> dict[str, Trained]:
    """Train each job from the same seed and data, `workers` processes at once, one thread each;
    binding models with `train_repaired` (up to `repairs` executor retrains).

    These models are too small for a second thread to help one of them, so two cores train two
    models at once. Results do not depend on `workers`.
    """
    args = (examples, steps, batch_size, lr, seed, hard_from, repairs, 1)
    workers = cpus.allowed(workers)  # a sweep's run gets the cores its worker has
    if workers <= 1:
        done = [_train_job(job, *args) for job in jobs]
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            done = list(pool.map(_train_job, jobs, *[[a] * len(jobs) for a in args]))

    def restore(job: Job, state: dict) -> torch.nn.Module:
        model = build(job.model, job.binder, job.backend, **dict(job.config))
        if _is_mlx(model):
            from distinv.binding import model_mlx as binding_mlx

            return binding_mlx.load_torch_state(model, state)
        model.load_state_dict(state)
        return model.eval()

    return {
        job.name: Trained(
            restore(job, state),
            history,
            fits,
            None if before is None else restore(job, before),
            seconds,
        )
        for job, (state, history, fits, before, seconds) in zip(jobs, done, strict=True)
    }


@torch.no_grad()
def predict(model: torch.nn.Module, programs: list[str], batch_size: int = 500) -> list[str]:
    """The model's output for each program (test-time mode: every choice is an argmax)."""
    model.eval()
    out = []
    for i in range(0, len(programs), batch_size):
        x, lengths = encode_programs(programs[i : i + batch_size])
        if _is_mlx(model):
            import mlx.core as mx

            from distinv.binding import model_mlx as binding_mlx

            log_probs = model(mx.array(x.numpy().astype("int32")))
            ids = binding_mlx.greedy_decode(log_probs, lengths.numpy(), model.cfg.frames)
            out += [" ".join(SYMBOLS[s - 1] for s in row) for row in ids]
        elif isinstance(model, slot_model.BindingModel):
            ids = slot_model.greedy_decode(model(x)["log_probs"], lengths, model.cfg.frames)
            out += [" ".join(SYMBOLS[s - 1] for s in row) for row in ids]
        else:
            ids = seq2seq.greedy(model, x)
            out += [" ".join(SYMBOLS[s - 3] if s >= 3 else "?" for s in row) for row in ids]
    return out


def exact_match(model: torch.nn.Module, examples: list[data.Example]) -> float:
    """Fraction of programs whose whole output is right."""
    pred = predict(model, [e.program for e in examples])
    return sum(p == e.output for p, e in zip(pred, examples, strict=True)) / len(examples)


def select(models: dict, validation: list[data.Example]) -> tuple[dict[str, str], dict[str, float]]:
    """The best of each model's restarts on the validation set.

    `models` maps candidate names "NAME #r" to trained models. Returns {NAME: the chosen candidate's
    name} (ties go to the lowest r) and every candidate's validation exact match.
    """
    if not validation:
        raise ValueError("select needs a non-empty validation set")
    scores = {name: exact_match(m, validation) for name, m in models.items()}
    best: dict[str, str] = {}
    for name in models:
        base = name.rsplit(" #", 1)[0]
        if base not in best or scores[name] > scores[best[base]]:
            best[base] = name
    return best, scores


def save(model, path: str | Path) -> Path:
    """A torch or MLX binding model, as config + torch state_dict (either backend loads it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"config": asdict(model.cfg), "state": to_torch_state(model)}, path)
    return path


def load(path: str | Path) -> slot_model.BindingModel:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no binding checkpoint at {path}: run the chapter first (distinv run 04_binding)"
        )
    ckpt = torch.load(path, weights_only=True)
    try:
        cfg = slot_model.BindingConfig(**ckpt["config"])
    except TypeError as e:  # a field this version no longer has
        raise ValueError(
            f"{path} holds a binding model of an older version ({e}): run the chapter again"
        ) from None
    model = slot_model.BindingModel(cfg)
    try:
        model.load_state_dict(ckpt["state"])
    except RuntimeError:  # a field whose default changed: the weights have other shapes
        raise ValueError(
            f"{path} holds a binding model of an older version (its weights do not fit this "
            "version's model): run the chapter again"
        ) from None
    return model.eval()


def default_checkpoint() -> Path:
    """Where the chapter's default run leaves its trained model: _build/checkpoints/binding.pt."""
    from distinv.paths import project_root

    return project_root() / "_build" / "checkpoints" / "binding.pt"


def solve(program: str, checkpoint: str | Path | None = None) -> str:
    """The trained binding model's output for `program`, e.g. "X means jump . do X twice ."

    A malformed program (unknown word, no query, unbound variable) raises ValueError naming the
    offending token; the reference interpreter checks the form, the model computes the answer.
    """
    data.run(program)  # raises ValueError for malformed programs; its answer is not used
    return predict(load(checkpoint or default_checkpoint()), [program])[0]


@torch.no_grad()
def trace(model: slot_model.BindingModel, program: str) -> dict:
    """What the model did on one program: per token its slot weights, write gate, write slot, and
    what its frames emit (after CTC's merge), each symbol with its source: the position of the
    token whose resolved value the executor read it from, or None for a learned constant."""
    x, _ = encode_programs([program])
    model.eval()
    out = model(x)
    _, const, read, pointer = model.executor.parts(out["roles"], out["resolved"])
    T, K = pointer.shape[1:3]
    best = out["log_probs"][0].view(T, K, -1).argmax(-1)  # (T, K): each frame's symbol, 0: blank
    emitted, prev = [[] for _ in range(T)], 0
    for t, k in product(range(T), range(K)):
        s = int(best[t, k])
        if s and s != prev:  # the merge of `greedy_decode`: repeats merged, blanks dropped
            from_read = bool(read[0, t, k, s - 1] > const[0, t, k, s - 1])
            at = t - model.cfg.emit_before + int(pointer[0, t, k].argmax())
            emitted[t].append((SYMBOLS[s - 1], at if from_read else None))
        prev = s
    return {
        "tokens": program.split(),
        "slots": out["slots"][0].numpy(),  # (T, N) the slot each token names
        "gate": out["gate"][0, :, 0].numpy(),  # (T,) 1 where the model writes
        "write": (out["write_slot"][0]).numpy(),  # (T, N) the slot written at each position
        "literal": out["literal"][0, :, 0].numpy(),  # (T,) 1 where a token stands for itself
        "emitted": emitted,  # (symbol, source position or None) per token
    }


@torch.no_grad()
def query_writes(model: slot_model.BindingModel, programs: list[str]) -> float:
    """Fraction of query tokens (those of the last statement, `do ...`) at which the model writes
    at test time; no program needs a write there."""
    model.eval()
    x, lengths = encode_programs(programs)
    gate = model(x)["gate"][..., 0]
    writes = tokens = 0
    for row, (program, n) in enumerate(zip(programs, lengths.tolist(), strict=True)):
        query = len(program.split(" . ")[-1].split())  # `do ... .`: the query and the final dot
        writes += int(gate[row, n - query : n].sum())
        tokens += query
    return writes / tokens


@torch.no_grad()
def shared_slots(model: slot_model.BindingModel, programs: list[str]) -> float:
    """Fraction of programs in which two different names use one slot at test time (for the soft
    binder: the slot of largest weight)."""
    model.eval()
    x, lengths = encode_programs(programs)
    slots = model(x)["slots"].argmax(-1)
    names = {IN_IDS[v] for v in data.VARIABLES}
    shared = 0
    for row, n in enumerate(lengths.tolist()):
        slot_of = {
            t: s
            for t, s in zip(x[row, :n].tolist(), slots[row, :n].tolist(), strict=True)
            if t in names
        }
        shared += len(set(slot_of.values())) < len(slot_of)
    return shared / len(programs)


@torch.no_grad()
def embed(model: slot_model.BindingModel, programs: list[str]) -> torch.Tensor:
    """A program in the model's own terms: the mean of its tokens' role embeddings, (B, d_role)."""
    x, lengths = encode_programs(programs)
    roles = model.role(x) * (x > 0).unsqueeze(-1)
    return roles.sum(1) / lengths.unsqueeze(-1)
