"""Models of the ball worlds (06_physics): who predicts the next frame, and how a law is changed.

- `blind`: an MLP from the balls' state to the change of state over one frame; it never sees
  the laws of its world. With `previous=True` it also reads the change of state over the frame
  before (still no law), from which gravity's pull on a flying ball can be seen; the inventor's
  carry-back (10_invent) trains it.
- `conditioned`: the same MLP also given the world's laws at that instant: gravity g(t),
  friction, restitution and damping.
- `structured`: given the physics (the equations `distinv.physics` integrates, the same ones that
  made the data), it infers the four laws of a trajectory from its first observed frames by
  fitting them (the cross-entropy method: simulate many candidates, keep the best, resample), and
  rolls out with the simulator. A modification changes an inferred law and simulates again.
  Across trajectories `fit()` learns one thing: a prior over the laws (each law's mean and
  spread over the training worlds), used to break ties the observed frames leave; everything
  else it knows of a trajectory it infers from that trajectory's own frames.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn

from distinv import cpus, physics
from distinv.seed import seed_everything
from distinv.train import fit

LAWS = ("gravity", "friction", "restitution", "damping")
LOGGED = 4096  # training transitions the step models' loss is logged on
FIT_CHUNK = 25  # trajectories per chunk of the structured model's fit (each its own random stream)
SEARCH = {"gravity": (0.0, 40.0), "friction": (0.0, 1.0), "restitution": (0.0, 1.0),
          "damping": (0.0, 1.0)}  # fmt: skip  # where the fit looks: far wider than training


def law_arrays(worlds: list[physics.World]) -> dict[str, np.ndarray]:
    """Each World field as an array over trajectories."""
    return {
        f: np.array([getattr(w, f) for w in worlds]) for f in physics.World.__dataclass_fields__
    }


def inputs(data: physics.Trajectories, rows, frames, states=None, worlds=None,
           laws: bool = False, previous: bool = False, before=None) -> np.ndarray:  # fmt: skip
    """What a step model reads at (trajectory, frame) pairs: both balls' x, y, vx, vy, their radii
    and presence (12 numbers), with `previous` also the change of state since the frame before (8
    more; frames >= 1), and with `laws` also g at that frame's time, friction, restitution and
    damping (4 more). `states` (k, 2, 4) replaces the true states, `before` the true states of
    the frame before, `worlds` the true laws."""
    rows, frames = np.asarray(rows), np.asarray(frames)
    s = data.states[rows, frames] if states is None else states
    x = [s.reshape(len(rows), 8), data.radius[rows], data.present[rows].astype(float)]
    if previous:
        if before is None:
            if (frames < 1).any():
                raise ValueError(
                    "a step model that reads the previous frame needs one: frames >= 1"
                )
            before = data.states[rows, frames - 1]
        x.append((s - before).reshape(len(rows), 8))
    if laws:
        w = law_arrays(data.worlds if worlds is None else worlds)
        t = frames * data.dt
        g = w["gravity"][rows] * (1 + w["wave"][rows] * np.sin(w["omega"][rows] * t))
        x.append(np.stack([g, w["friction"][rows], w["restitution"][rows], w["damping"][rows]], 1))
    return np.concatenate(x, 1)


class StepMLP(nn.Module):
    """Next frame = this frame + a normalised MLP's output, for the balls that are present."""

    def __init__(self, n_in: int, width: int = 128, depth: int = 3):
        super().__init__()
        layers, d = [], n_in
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.SiLU()]
            d = width
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 8)
        self.register_buffer("x_mean", torch.zeros(n_in))
        self.register_buffer("x_std", torch.ones(n_in))
        self.register_buffer("y_std", torch.ones(8))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer: the representation the hull is taken in."""
        return self.body((x - self.x_mean) / self.x_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x)) * self.y_std


@dataclass(frozen=True)
class StepRecipe:
    steps: int = 10000
    batch_size: int = 256
    lr: float = 0.001
    width: int = 128
    depth: int = 3


def train_logged(net: nn.Module, loss_on, n: int, gen: torch.Generator, fixed: torch.Tensor,
                 recipe: StepRecipe, desc: str, cosine: bool = False) -> list[dict]:  # fmt: skip
    """Train `net` on batches of `recipe.batch_size` of the `n` examples (`loss_on(indices)`),
    logging the loss on the `fixed` examples before training and 20 times during it."""
    start = time.perf_counter()
    with torch.no_grad():
        first = {"step": 0, "loss": float("nan"), "fixed_loss": loss_on(fixed).item(),
                 "seconds": 0.0}  # fmt: skip
    log = fit(net, lambda step: loss_on(torch.randint(n, (recipe.batch_size,), generator=gen)),
              recipe.steps, recipe.lr, desc=desc, cosine=cosine,
              evaluate=lambda: {"fixed_loss": loss_on(fixed).item(),
                                "seconds": time.perf_counter() - start},
              eval_every=max(1, recipe.steps // 20))  # fmt: skip
    return [first, *log]


class StepModel:
    """`blind` or `conditioned`: trained on one-frame transitions, rolled out autoregressively.
    With `previous` it also reads the change of state over the frame before (see `inputs`)."""

    previous = False  # a class default: models saved before the option existed read one frame

    def __init__(self, kind: str, recipe: StepRecipe = StepRecipe(), seed: int = 0,
                 previous: bool = False):  # fmt: skip
        if kind not in ("blind", "conditioned"):
            raise ValueError(f"unknown step model {kind!r}; known: blind, conditioned")
        self.kind, self.recipe, self.seed, self.previous = kind, recipe, seed, previous
        self.net: StepMLP | None = None

    def inputs(self, data, rows, frames, states=None, worlds=None, before=None) -> np.ndarray:
        """This model's inputs at (trajectory, frame) pairs (see `inputs`)."""
        return inputs(data, rows, frames, states, worlds, laws=self.kind == "conditioned",
                      previous=self.previous, before=before)  # fmt: skip

    def fit(self, data: physics.Trajectories) -> StepModel:
        seed_everything(self.seed)
        T, first = data.states.shape[1], int(self.previous)  # then from the second frame
        if T < first + 2:
            raise ValueError(f"need trajectories of at least {first + 2} frames, got {T}")
        rows = np.repeat(np.arange(len(data)), T - 1 - first)
        frames = np.tile(np.arange(first, T - 1), len(data))
        x = self.inputs(data, rows, frames)
        y = (data.states[rows, frames + 1] - data.states[rows, frames]).reshape(-1, 8)
        mask = np.repeat(data.present[rows], 4, axis=1).astype(float)  # absent balls do not count
        self.net = StepMLP(x.shape[1], self.recipe.width, self.recipe.depth)
        X, Y, M = (torch.tensor(a, dtype=torch.float32) for a in (x, y, mask))
        self.net.x_mean.copy_(X.mean(0))
        self.net.x_std.copy_(X.std(0).clamp_min(1e-6))
        self.net.y_std.copy_(
            (Y * M).pow(2).sum(0).div(M.sum(0).clamp_min(1)).sqrt().clamp_min(1e-6)
        )
        gen = torch.Generator().manual_seed(self.seed)
        fixed = torch.randint(len(X), (LOGGED,), generator=gen)  # the loss is logged on these

        def loss_on(idx: torch.Tensor) -> torch.Tensor:
            err = (self.net(X[idx]) - Y[idx]) / self.net.y_std
            return (err.pow(2) * M[idx]).sum() / M[idx].sum()

        self.history = train_logged(self.net, loss_on, len(X), gen, fixed, self.recipe, self.kind)
        return self

    @torch.no_grad()
    def rollout(self, data: physics.Trajectories, start: int, n_steps: int,
                worlds: list | None = None) -> np.ndarray:  # fmt: skip
        """(n, n_steps + 1, 2, 4) from the true frame `start` (and with `previous` the true
        frame before it), each frame from the model's last. `worlds` replaces the trajectories' laws
        (what the conditioned model is told)."""
        if self.net is None:
            raise RuntimeError("rollout before fit")
        if self.previous and start < 1:
            raise ValueError("a step model that reads the previous frame rolls out from frame 1 on")
        self.net.eval()
        s = data.states[:, start].copy()
        before = data.states[:, start - 1].copy() if self.previous else None
        out = [s]
        keep = data.present[..., None].astype(float)
        rows = np.arange(len(data))
        for k in range(n_steps):
            x = self.inputs(data, rows, np.full(len(data), start + k), s, worlds, before)
            d = self.net(torch.tensor(x, dtype=torch.float32)).numpy().reshape(-1, 2, 4)
            before, s = s, s + d * keep
            out.append(s)
        return np.stack(out, 1)

    @torch.no_grad()
    def represent(self, data: physics.Trajectories, rows, frames) -> np.ndarray:
        """The last hidden layer at (trajectory, frame) pairs: (k, width)."""
        if self.net is None:
            raise RuntimeError("represent before fit")
        self.net.eval()
        x = torch.tensor(self.inputs(data, rows, frames), dtype=torch.float32)
        return self.net.features(x).numpy()


def _fit_one(model, data: physics.Trajectories):
    """Fit one model with one thread; (the fitted model, seconds)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        model.fit(data)
        return model, time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)


def fit_all(models: dict, data: physics.Trajectories, workers: int = 2) -> tuple[dict, dict]:
    """Fit every model ({name: an unfitted model with `fit(data)`}: the step models and the
    learned simulators) on `data`, `workers` processes at once, one thread each, in the order
    given (put the longest first). Returns ({name: fitted model}, {name: seconds}). These models
    are too small for a second thread to help one of them, so two cores fit two at once; results
    do not depend on `workers`."""
    workers = min(cpus.allowed(workers), len(models))
    if workers <= 1:
        done = [_fit_one(m, data) for m in models.values()]
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"),
                                 initializer=cpus.die_with_parent) as pool:  # fmt: skip
            done = list(pool.map(_fit_one, models.values(), [data] * len(models)))
    return ({k: m for k, (m, _) in zip(models, done, strict=True)},
            {k: t for k, (_, t) in zip(models, done, strict=True)})  # fmt: skip


class Structured:
    """Infer the four laws of each trajectory from its first `observe` frames, then simulate.

    Given: `distinv.physics`'s equations (gravity, Coulomb friction, restitution, linear drag,
    constant in time). Inferred per trajectory: the four numbers, by the cross-entropy method over
    SEARCH, scoring a candidate by how well the simulator reproduces the observed frames (mean
    squared position and velocity error), plus `prior_weight` times its mean squared z-score
    under the laws of the training set (`fit` learns their mean and spread). The prior only
    decides between laws the observed frames cannot tell apart (restitution before any bounce);
    without `fit` there is none.
    """

    def __init__(self, observe: int = 20, candidates: int = 64, iterations: int = 8,
                 elite: int = 8, seed: int = 0, prior_weight: float = 0.0,
                 workers: int = 1):  # fmt: skip
        if observe < 2 or candidates < 2 or iterations < 1 or not 1 <= elite <= candidates:
            raise ValueError(
                "need observe >= 2, candidates >= 2, iterations >= 1, elite in [1, candidates]"
            )
        if not (np.isfinite(prior_weight) and prior_weight >= 0):
            raise ValueError(f"prior_weight must be a finite number >= 0, got {prior_weight!r}")
        self.observe, self.candidates, self.iterations, self.elite = (
            observe,
            candidates,
            iterations,
            elite,
        )
        self.seed, self.prior_weight, self.workers = seed, prior_weight, workers
        self.prior: tuple[np.ndarray, np.ndarray] | None = None

    def fit(self, data: physics.Trajectories | None = None) -> Structured:
        """Learn the prior: each law's mean and standard deviation over the training worlds
        (g(t)'s base value for gravity). Without data, no prior."""
        if data is not None:
            laws = np.stack(list(true_laws(data).values()), 1)
            self.prior = laws.mean(0), np.maximum(laws.std(0), 1e-6)
        return self

    def infer(self, data: physics.Trajectories) -> dict[str, np.ndarray]:
        """Each law per trajectory (n,), fitted to frames 0..observe. The trajectories are fitted
        in chunks of FIT_CHUNK with one ball count, each chunk from its own random stream, so
        `workers` processes (capped by `cpus.allowed`) can fit chunks side by side and the result
        does not depend on how many do."""
        if data.states.shape[1] <= self.observe:
            raise ValueError(f"need more than {self.observe} frames to observe")
        jobs, where = [], []
        for k, rows in data.groups():
            for c, at in enumerate(range(0, len(rows), FIT_CHUNK)):
                part = rows[at : at + FIT_CHUNK]
                jobs.append((data.subset(part, self.observe + 1), k, c))
                where.append(part)
        workers = cpus.allowed(getattr(self, "workers", 1))
        if workers > 1 and len(jobs) > 1:
            pool = cpus.shared_pool(workers)
            done = list(pool.map(self._fit_chunk, *zip(*jobs, strict=True)))
        else:
            done = [self._fit_chunk(*job) for job in jobs]
        out = np.zeros((len(data), 4))
        for part, laws in zip(where, done, strict=True):
            out[part] = laws
        return {name: out[:, i] for i, name in enumerate(LAWS)}

    def _fit_chunk(self, window: physics.Trajectories, k: int, chunk: int) -> np.ndarray:
        """(n, 4): the cross-entropy fit of `window`'s trajectories (all with k balls)."""
        rng = np.random.default_rng([self.seed, k, chunk])
        lo = np.array([SEARCH[name][0] for name in LAWS])
        hi = np.array([SEARCH[name][1] for name in LAWS])
        n, P = len(window), self.candidates
        mean, std = np.tile((lo + hi) / 2, (n, 1)), np.tile((hi - lo) / 2, (n, 1))
        best, best_err = mean.copy(), np.full(n, np.inf)
        target = window.states[:, 1 : self.observe + 1, :k]
        start = window.balls(np.repeat(np.arange(n), P), k, 0)
        for _ in range(self.iterations):
            cand = np.clip(mean[:, None] + std[:, None] * rng.standard_normal((n, P, 4)), lo, hi)
            worlds = [physics.World(*c) for c in cand.reshape(-1, 4)]
            sim = physics.simulate(worlds, start, self.observe, window.dt)[:, 1:]
            err = ((sim.reshape(n, P, *target.shape[1:]) - target[:, None]) ** 2).mean((2, 3, 4))
            if self.prior is not None and self.prior_weight > 0:
                z = (cand - self.prior[0]) / self.prior[1]
                err = err + self.prior_weight * (z**2).mean(-1)
            order = np.argsort(err, axis=1)[:, : self.elite]
            elite = np.take_along_axis(cand, order[..., None], 1)
            mean, std = elite.mean(1), elite.std(1) + 1e-3 * (hi - lo)
            top = np.take_along_axis(err, order[:, :1], 1)[:, 0]
            better = top < best_err
            best[better], best_err[better] = elite[better, 0], top[better]
        return best

    def rollout(self, data: physics.Trajectories, start: int, n_steps: int,
                laws: dict | None = None) -> np.ndarray:  # fmt: skip
        """(n, n_steps + 1, 2, 4): the simulator from the true frame `start` under the inferred
        (or given) laws."""
        laws = self.infer(data) if laws is None else laws
        out = np.zeros((len(data), n_steps + 1, 2, 4))
        for k, rows in data.groups():
            worlds = [physics.World(*(float(laws[name][i]) for name in LAWS)) for i in rows]
            traj = physics.simulate(worlds, data.balls(rows, k, start), n_steps, data.dt,
                                    t0=start * data.dt)  # fmt: skip
            out[rows, :, :k] = traj
        return out


def changed(laws: dict[str, np.ndarray], scale: dict | None = None, value: dict | None = None):
    """Laws with some multiplied (`scale`, e.g. gravity=1.1) or replaced (`value`, e.g.
    gravity=1.6); ValueError for an unknown law or a bad number."""
    out = {k: np.asarray(v, dtype=float).copy() for k, v in laws.items()}
    for how, change in (("scale", scale or {}), ("value", value or {})):
        for name, x in change.items():
            if name not in LAWS:
                raise ValueError(f"unknown law {name!r}; known: {', '.join(LAWS)}")
            if not (isinstance(x, int | float) and np.isfinite(x) and x >= 0):
                raise ValueError(f"{how} for {name} must be a finite number >= 0, got {x!r}")
            out[name] = out[name] * x if how == "scale" else np.full_like(out[name], x)
    if (out["restitution"] > 1).any():
        raise ValueError("the change makes restitution larger than 1")
    return out


def true_laws(data: physics.Trajectories) -> dict[str, np.ndarray]:
    w = law_arrays(data.worlds)
    return {name: w[name] for name in LAWS}


def worlds_of(laws: dict[str, np.ndarray]) -> list[physics.World]:
    return [physics.World(*(float(laws[k][i]) for k in LAWS)) for i in range(len(laws["gravity"]))]


def what_if(model: Structured, data: physics.Trajectories, n_steps: int,
            scale: dict | None = None, value: dict | None = None):  # fmt: skip
    """The counterfactual: infer each trajectory's laws from its observed frames, change them
    (`changed`), simulate on from the last observed frame. Returns (laws used, trajectories
    (n, n_steps + 1, 2, 4))."""
    laws = changed(model.infer(data), scale, value)
    return laws, model.rollout(data, model.observe, n_steps, laws)


def counterfactual(data: physics.Trajectories, start: int, n_steps: int,
                   scale: dict | None = None, value: dict | None = None) -> np.ndarray:  # fmt: skip
    """The right answer to a what-if: the true laws changed, simulated from the true frame."""
    return Structured().rollout(data, start, n_steps, changed(true_laws(data), scale, value))


def with_gravity(data: physics.Trajectories, gravity) -> physics.Trajectories:
    """The same starting states and other laws, simulated again under other (constant) gravity,
    one value per trajectory."""
    gravity = np.broadcast_to(np.asarray(gravity, dtype=float), (len(data),))
    return data.rerun([physics.World(float(g), w.friction, w.restitution, w.damping)
                       for g, w in zip(gravity, data.worlds, strict=True)])  # fmt: skip


def visible(data: physics.Trajectories, law: str, observe: int, tol: float = 1e-9) -> np.ndarray:
    """Per trajectory: whether `law` shows in frames 1..observe at all. The frames are simulated
    again from frame 0 with the law at each end of its training range (the other laws true); the
    law is visible where the two differ by more than `tol` (m, m/s). Friction and restitution act
    only at contacts, so they are invisible in a window without one."""
    if law not in LAWS:
        raise ValueError(f"unknown law {law!r}; known: {', '.join(LAWS)}")
    if not 1 <= observe < data.states.shape[1]:
        raise ValueError(f"observe must be in [1, {data.states.shape[1] - 1}], got {observe}")
    window = data.subset(np.arange(len(data)), observe + 1)
    ends = [window.rerun([replace(w, **{law: v}) for w in window.worlds]).states
            for v in physics.TRAIN[law]]  # fmt: skip
    diff = np.abs(ends[0] - ends[1])[:, 1:] * data.present[:, None, :, None]
    return diff.max((1, 2, 3)) > tol


def window_reference(data: physics.Trajectories, observe: int, mean: dict) -> dict:
    """A reference for what frames 0..observe allow: the true laws, except that each law the window
    does not show (`visible`) takes its training mean (`mean`, {law: value}). An estimator that
    knew everything visible exactly and fell back on the mean elsewhere would use these."""
    laws = true_laws(data)
    for k in LAWS:
        laws[k] = np.where(visible(data, k, observe), laws[k], mean[k])
    return laws


def choose_prior_weight(train: physics.Trajectories, validation: dict, weights, n_steps: int,
                        **structured) -> tuple[float, dict]:  # fmt: skip
    """Fit a Structured model (keyword arguments `structured`) with its prior learned on `train`
    for each weight, roll out every validation set ({name: Trajectories}) from the end of the
    observation, and keep the weight whose worst mean rollout error over the sets is smallest.
    Returns (weight, {(set name, weight): mean rollout error in m^2})."""
    if not weights or not validation:
        raise ValueError("need at least one weight and one validation set")
    scores = {}
    for w in weights:
        model = Structured(prior_weight=w, **structured).fit(train)
        for name, data in validation.items():
            true = data.states[:, model.observe : model.observe + n_steps + 1]
            pred = model.rollout(data, model.observe, n_steps)
            scores[name, w] = float(position_mse(pred, true, data.present).mean())
    best = min(weights, key=lambda w: max(scores[name, w] for name in validation))
    return best, scores


def parse_windows(text: str) -> list[int]:
    """Observation windows from a comma-separated list ("10,20,40"): sorted, each once; a
    ValueError names an entry that is not a whole number of at least 2 frames."""
    out = set()
    for part in str(text).split(","):
        try:
            w = int(part)
        except ValueError:
            raise ValueError(f"windows: {part.strip()!r} is not a number of frames "
                             f"(expected e.g. '10,20,40,80')") from None  # fmt: skip
        if w < 2:
            raise ValueError(f"windows: a window needs at least 2 frames, got {w}")
        out.add(w)
    return sorted(out)


def fit_rounds(fit_frames: int, candidates: int, observe: int) -> int:
    """Rounds of the structured fit that a budget of `fit_frames` simulated frames per trajectory
    buys at this window: each round simulates `candidates` candidates over `observe` frames (at
    least one round)."""
    if fit_frames < 1 or candidates < 1 or observe < 1:
        raise ValueError(f"need fit_frames, candidates, observe >= 1; got {fit_frames}, "
                         f"{candidates}, {observe}")  # fmt: skip
    return max(1, fit_frames // (candidates * observe))


def window_study(train: physics.Trajectories, validation: dict, windows, n_steps: int,
                 steppers: dict, fit_frames: int, candidates: int, prior_weight: float,
                 seed: int = 0, workers: int = 1) -> tuple[int, dict, dict]:  # fmt: skip
    """Validation rollout error against the observation window, for every model.

    For each window w: a Structured model observing w frames, its fit's rounds set so that every
    window costs the same `fit_frames` simulated frames per trajectory (`fit_rounds`), its prior
    learned on `train` with `prior_weight`; every model (the `steppers`, {name: model with
    `rollout(data, start, n_steps)`}, and the structured one) then rolls out `n_steps` frames from
    the true frame w of every validation set ({name: Trajectories}, each with at least
    max(windows) + n_steps + 1 frames). The window kept is the one whose worse structured error
    over the sets is smallest (ties: the shorter window).
    Returns (window, {(set name, window, model name): mean rollout error in m^2},
    {window: the structured model's worse error over the sets})."""
    windows = sorted({int(w) for w in windows})
    if not windows or not validation or windows[0] < 2:
        raise ValueError(f"need validation sets and windows of at least 2 frames, got {windows}")
    for name, data in validation.items():
        if data.states.shape[1] <= windows[-1] + n_steps:
            raise ValueError(f"validation set {name!r} has {data.states.shape[1]} frames; a "
                             f"window of {windows[-1]} and {n_steps} more need "
                             f"{windows[-1] + n_steps + 1}")  # fmt: skip
    scores = {}
    for w in windows:
        rounds = fit_rounds(fit_frames, candidates, w)
        structured = Structured(observe=w, candidates=candidates, iterations=rounds, seed=seed,
                                prior_weight=prior_weight, workers=workers).fit(train)  # fmt: skip
        for name, data in validation.items():
            true = data.states[:, w : w + n_steps + 1]
            for m, model in {**steppers, "structured": structured}.items():
                pred = model.rollout(data, w, n_steps)
                scores[name, w, m] = float(position_mse(pred, true, data.present).mean())
    worse = {w: max(scores[n, w, "structured"] for n in validation) for w in windows}
    return min(windows, key=lambda w: (worse[w], w)), scores, worse


def position_mse(pred: np.ndarray, true: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per trajectory: squared position error (m^2), averaged over frames after the first, present
    balls and both coordinates."""
    err = ((pred[:, 1:, :, :2] - true[:, 1:, :, :2]) ** 2).mean((1, 3))  # (n, 2)
    return (err * present).sum(1) / present.sum(1)


def energy_error(pred: np.ndarray, true: np.ndarray, data: physics.Trajectories, start: int):
    """Per trajectory: |E_pred - E_true| at the rollout's last frame over the true energy at its
    first; energies under the true world's gravity (J/J)."""
    e_pred = physics.energy(pred, data.mass, data.worlds, data.dt, start * data.dt)
    e_true = physics.energy(true, data.mass, data.worlds, data.dt, start * data.dt)
    return np.abs(e_pred[:, -1] - e_true[:, -1]) / e_true[:, 0]


def roughness(traj: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per trajectory: mean squared second difference of positions (m^2), bounces included."""
    d2 = ((traj[:, 2:, :, :2] - 2 * traj[:, 1:-1, :, :2] + traj[:, :-2, :, :2]) ** 2).sum(-1)
    return (d2.mean(1) * present).sum(1) / present.sum(1)


def evaluate(models: dict, data: physics.Trajectories, start: int, n_steps: int) -> dict:
    """Every model's rollout from frame `start` on every trajectory: {name: {mse, energy,
    roughness (per trajectory), pred}}, the truth under "true", and the structured model's laws."""
    true = data.states[:, start : start + n_steps + 1]
    out = {"true": {"roughness": roughness(true, data.present), "pred": true}}
    for name, model in models.items():
        if isinstance(model, Structured):
            laws = model.infer(data)
            pred = model.rollout(data, start, n_steps, laws=laws)
        else:
            laws, pred = None, model.rollout(data, start, n_steps)
        out[name] = {
            "mse": position_mse(pred, true, data.present),
            "energy": energy_error(pred, true, data, start),
            "roughness": roughness(pred, data.present),
            "pred": pred,
            "laws": laws,
        }
    return out


def gravity_response(model, data: physics.Trajectories, frame: int, gravities) -> np.ndarray:
    """How a model's prediction answers the gravity it is told: for each value, every ball's
    vertical velocity change over one frame from the true state at `frame`, divided by dt, averaged
    over the balls far from every wall and the other ball (`learned.graph`'s connectivity rule),
    the other laws true. In free flight the truth is -g. A step model is told through its law
    inputs, the learned simulator through its laws; (len(gravities),) in m/s^2."""
    from distinv.physics import learned

    g = learned.graph(data.states[:, frame], data.radius, data.mass, data.present, data.dt)
    free = data.present & ~g["wall_on"].any(-1) & ~g["pair_on"]
    if not free.any():
        raise ValueError("no ball is in free flight at that frame")
    out = []
    for value in np.asarray(gravities, dtype=float):
        worlds = [replace(w, gravity=float(value), wave=0.0) for w in data.worlds]
        if isinstance(model, StepModel):
            pred = model.rollout(data, frame, 1, worlds=worlds)
        else:
            pred = model.rollout(data, frame, 1, laws=learned.law_table(worlds))
        dv = (pred[:, 1, :, 3] - pred[:, 0, :, 3]) / data.dt
        out.append(float(dv[free].mean()))
    return np.array(out)
