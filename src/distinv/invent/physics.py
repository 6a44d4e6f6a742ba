"""The physics world's inventor: the physics chapter's law inference and learned simulator.

- extract: the structured model of 06_physics infers each observed trajectory's four laws from
  its first frames (given: the equations of motion, searched by the cross-entropy method); the
  rule set is the empirical distribution of those laws (each law's values over the trajectories,
  hence their spread).
- modify: the request's changes applied to every value (given: the parser below).
- generate: starting states drawn as the training worlds draw theirs, laws drawn from the changed
  rule set, trajectories rolled out by the learned simulator of 06_physics (learned: no
  equations; told the laws).
- check: the critic (learned here), an energy and a classifier of it. The energy is a learned
  simulator of 06_physics's architecture (given: its graph, integration and multilinear entry of
  the laws) trained here, its own weights and data, not the generator's: how far each of a
  trajectory's first CRITIC_FRAMES transitions lies from its step told the laws claimed. The
  classifier, an MLP on a few summaries of those residuals and on how their sum changes as each
  law told moves a little either way (`energy_summary`; both hand-written), is trained on
  training-range worlds: positives told their own laws, near misses told laws with one visible
  law a little off.
- grade: the simulator (the reference) from each sample's starting state under the laws asked
  for, and under the same laws with the request undone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import numpy as np

from distinv import artifacts, invent, physics
from distinv.invent.common import Check, Critic, Grade, auroc, clauses, listed, mmd, one_line
from distinv.physics import dynamics, learned
from distinv.physics.dynamics import LAWS

CRITIC_FRAMES = 50  # frames the critic reads: all of a sample at the default horizon
ENERGY_FRAMES = 100  # frames of each trajectory the critic's simulator learns from
CRITIC_WIDTH = 64  # the critic's classifier: an MLP of this width
TOP = 3  # the critic's classifier reads a trajectory's TOP largest residuals (`energy_summary`)
PROBE = 0.1  # ... and how the energy changes with each law told moved by this fraction of its range
UNITS = ((0, 1e-3), (1, 1e-9))  # the residuals' units and their log floors: scaled (about 1 per
# frame) and raw ((m/s)^2 and m^2)
# Near misses: a law off by this much (a fraction of its training range, either way).
NEAR_MISS = (0.05, 0.3)
RANGE = np.array([physics.TRAIN[k][1] - physics.TRAIN[k][0] for k in LAWS])
ACCEPTED = (
    "physics requests, clauses joined by ';':\n"
    "  <law> is <k>% stronger|weaker   e.g. gravity is 10% stronger\n"
    "  no <law>                        e.g. no friction (the law set to 0)\n"
    "  <law> is <value>                e.g. restitution is 0.5 (SI units; gravity in m/s^2)\n"
    f"laws: {', '.join(LAWS)}; restitution at most 1; every value finite and >= 0"
)
ACCEPTED_LINE = one_line(ACCEPTED)


@dataclass
class Laws:
    """A rule set of the physics world: each law's values, one per world (n, 4) in LAWS order,
    and (after a request) the values before it and the laws it touched."""

    values: np.ndarray
    before: np.ndarray | None = None
    touched: tuple[str, ...] = ()

    def summary(self) -> dict[str, tuple[float, float]]:
        """Each law's (mean, standard deviation) over the worlds."""
        return {k: (float(self.values[:, i].mean()), float(self.values[:, i].std()))
                for i, k in enumerate(LAWS)}  # fmt: skip


@dataclass
class Samples:
    trajectories: physics.Trajectories  # states from the generator; worlds: the laws asked for
    before: np.ndarray  # (n, 4): each sample's laws before the request


def parse(request: str) -> list[tuple[str, str, float]]:
    """(law, "scale" or "value", number) per clause; ValueError listing what is accepted."""
    out = []
    for words in clauses(request, ACCEPTED_LINE):
        text = " ".join(words).lower()
        law = words[-1].lower() if words[0].lower() == "no" else words[0].lower()
        if law not in LAWS:
            raise ValueError(f"unknown law {law!r} in {text!r}; {ACCEPTED_LINE}")
        if m := re.fullmatch(rf"{law} is ([0-9.]+)% (stronger|weaker)", text):
            k = _number(m.group(1), text) / 100
            if m.group(2) == "weaker" and k >= 1:
                raise ValueError(f"{text!r}: a law cannot be 100% weaker or more; use 'no {law}'")
            out.append((law, "scale", 1 + k if m.group(2) == "stronger" else 1 - k))
        elif text == f"no {law}":
            out.append((law, "value", 0.0))
        elif m := re.fullmatch(rf"{law} is (\S+)", text):
            x = _number(m.group(1), text)
            if law == "restitution" and x > 1:  # known before any model loads
                raise ValueError(f"{text!r}: restitution is at most 1; {ACCEPTED_LINE}")
            out.append((law, "value", x))
        else:
            raise ValueError(f"cannot read {text!r}; {ACCEPTED_LINE}")
    names = [law for law, _, _ in out]
    if len(set(names)) < len(names):
        raise ValueError(f"{request!r} changes one law twice")
    return out


def _number(word: str, text: str) -> float:
    try:
        x = float(word)
    except ValueError:
        raise ValueError(f"{word!r} in {text!r} is not a number; {ACCEPTED_LINE}") from None
    if not (np.isfinite(x) and x >= 0):
        raise ValueError(f"{word!r} in {text!r} must be finite and >= 0")
    return x


def apply(values: np.ndarray, request: str) -> np.ndarray:
    """Laws (n, 4) with the request's changes; ValueError where restitution would pass 1."""
    out = np.array(values, dtype=float)
    for law, how, x in parse(request):
        i = LAWS.index(law)
        out[:, i] = out[:, i] * x if how == "scale" else x
    if (out[:, LAWS.index("restitution")] > 1).any():
        raise ValueError(f"{request!r} makes restitution larger than 1")
    return out


def _worlds(L: np.ndarray) -> list[physics.World]:
    return [physics.World(*map(float, row)) for row in L]


def starts(n: int, seed: int, dt: float) -> physics.Trajectories:
    """n starting states drawn as `physics.dataset` draws them (half one ball, half two), one
    frame each; the worlds are placeholders."""
    if n < 2:
        raise ValueError(f"need n >= 2 samples (one of each ball count), got {n}")
    rng = np.random.default_rng([seed, 99])
    states = np.zeros((n, 1, 2, 4))
    present, radius, mass = np.zeros((n, 2), bool), np.zeros((n, 2)), np.zeros((n, 2))
    for k, rows in ((1, np.arange(0, n, 2)), (2, np.arange(1, n, 2))):
        b = physics.random_balls(len(rows), k, rng)
        states[rows, 0, :k] = np.concatenate([b.position, b.velocity], -1)
        present[rows, :k], radius[rows, :k], mass[rows, :k] = True, b.radius, b.mass
    return physics.Trajectories(states, present, radius, mass, [physics.World()] * n, dt)


def energy_summary(energy: learned.LearnedSimulator, data: physics.Trajectories,
                   laws: np.ndarray) -> np.ndarray:  # fmt: skip
    """What the critic's classifier reads, (n, 2 (TOP + 2) + 2 * 2 * len(LAWS)), from the
    residuals of `energy` told `laws` over the first CRITIC_FRAMES transitions
    (`LearnedSimulator.residuals`), in each of their two units: the log of their sum, the TOP
    largest logs (largest first) and the mean log (a bounce shows in one or two frames, a law that
    acts in flight in all of them: the classifier weighs the two); then a probe, per law told
    moved down and up by PROBE of its training range (kept at least 0, restitution at most 1), the
    change in the log of their sum in each unit. Where a claim is a near miss, a move toward the
    truth is meant to lower the energy, if the simulator has learned the law: the probe compares
    the sample with itself, so a small change can stand out beside a residual that varies much
    from sample to sample. Hand-written, as is the choice of the two units."""
    laws = np.asarray(laws, dtype=float)
    r = energy.residuals(data, laws, CRITIC_FRAMES)
    cols, total = [], []
    for k, floor in UNITS:
        logs = np.log(r[..., k] + floor)
        top = -np.sort(-logs, 1)[:, :TOP]
        total.append(np.log(r[..., k].sum(1) + floor))
        cols += [total[-1], *top.T, logs.mean(1)]
    for j, law in enumerate(LAWS):
        for sign in (-1, 1):
            moved = laws.copy()
            moved[:, j] = np.clip(moved[:, j] + sign * PROBE * RANGE[j], 0,
                                  1 if law == "restitution" else None)  # fmt: skip
            r = energy.residuals(data, moved, CRITIC_FRAMES)
            cols += [np.log(r[..., k].sum(1) + floor) - t
                     for (k, floor), t in zip(UNITS, total, strict=True)]  # fmt: skip
    return np.stack(cols, 1)


def _near_miss(L: np.ndarray, rng: np.random.Generator, law: np.ndarray) -> np.ndarray:
    """L with law[i] of row i moved by a near-miss amount (kept in its valid range)."""
    out = L.copy()
    rows = np.arange(len(L))
    step = rng.uniform(*NEAR_MISS, len(L)) * RANGE[law] * rng.choice([-1, 1], len(L))
    v = out[rows, law] + step
    v = np.where(v < 0, out[rows, law] + np.abs(step), v)  # a law below 0 goes the other way
    r = law == LAWS.index("restitution")
    v = np.where(r & (v > 1), out[rows, law] - np.abs(step), v)
    out[rows, law] = v
    return out


def rms(a: np.ndarray, b: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Per trajectory: root mean squared position error (m) over frames after the first."""
    return np.sqrt(dynamics.position_mse(a, b, present))


REVERSAL = 0.5  # m/s: a velocity component reversing from at least this reads as a bounce


def bounce_reading(data: physics.Trajectories, frames: int | None = None) -> np.ndarray:
    """Hand-written, a diagnostic only (no part of the inventor): each trajectory's restitution
    read off its first `frames` frames, as the median of -v_after / v_before over the velocity
    components that reverse from at least REVERSAL m/s between two frames (a bounce); NaN where
    none does. Gravity and friction within the frame, and ball-on-ball bounces, make it rough.
    `frames` defaults to CRITIC_FRAMES."""
    frames = CRITIC_FRAMES if frames is None else frames
    v = data.states[:, : frames + 1, :, 2:] * data.present[:, None, :, None]
    v0, v1 = v[:, :-1], v[:, 1:]
    bounce = (v0 * v1 < 0) & (np.abs(v0) >= REVERSAL)
    ratio = np.where(bounce, -v1 / np.where(bounce, v0, 1.0), np.nan).reshape(len(data), -1)
    out = np.full(len(data), np.nan)
    some = bounce.reshape(len(data), -1).any(1)
    out[some] = np.nanmedian(ratio[some], 1)
    return out


class PhysicsInventor:
    name = "physics"
    threshold = 0.5  # the enforcer keeps samples the critic scores at least this; the chapter
    # chooses it on development requests (run.choose_threshold), `distinv invent` keeps 0.5
    REQUESTS = ACCEPTED

    def __init__(self, sources: str = "auto", horizon: int = 50, tolerance: float = 0.25,
                 n_critic: int = 16000, critic_steps: int = 4000, n_energy: int = 2000,
                 energy_steps: int = 20000, seed: int = 0):  # fmt: skip
        if horizon < CRITIC_FRAMES:
            raise ValueError(f"horizon must be at least {CRITIC_FRAMES} (the frames the critic "
                             f"reads), got {horizon}")  # fmt: skip
        self.sources, self.horizon, self.tolerance, self.seed = sources, horizon, tolerance, seed
        self.n_critic, self.critic_steps = n_critic, critic_steps
        self.n_energy, self.energy_steps = n_energy, energy_steps

    def fit(self, base=None) -> PhysicsInventor:
        """Load the structured model and the learned simulator of 06_physics; train the critic
        (`fit_critic`)."""
        saved = artifacts.load("06_physics", "physics", self.sources)
        self.structured, self.simulator = saved["structured"], saved["learned"]
        self.blind, self.config = saved["blind"], saved["config"]
        return self.fit_critic()

    def fit_critic(self) -> PhysicsInventor:
        """Train the critic. Its energy: a learned simulator (06_physics's recipe, `energy_steps`
        steps, seeded apart from the generator) on `n_energy` training-range trajectories of
        ENERGY_FRAMES frames. Its classifier: on `n_critic` more, each twice: told its own laws
        (positive), and told laws with one law that shows in the critic's frames a little off (a
        near miss)."""
        seen_by_energy = physics.dataset("iid", self.n_energy, self.seed + 11,
                                         n_steps=ENERGY_FRAMES)  # fmt: skip
        self.energy = learned.LearnedSimulator(  # not the generator's seed: its own weights
            learned.Recipe(steps=self.energy_steps), seed=self.seed + 11
        ).fit(seen_by_energy)
        data = physics.dataset("iid", self.n_critic, self.seed + 7, n_steps=CRITIC_FRAMES)
        self.dt = data.dt
        rng = np.random.default_rng([self.seed, 7])
        L = np.stack([dynamics.true_laws(data)[k] for k in LAWS], 1)
        seen = np.stack([dynamics.visible(data, k, CRITIC_FRAMES) for k in LAWS], 1)
        law = np.array([rng.choice(np.flatnonzero(v)) if v.any() else 0 for v in seen])
        wrong = _near_miss(L, rng, law)
        X = np.concatenate([self.summary(data, L), self.summary(data, wrong)])
        y = np.concatenate([np.ones(len(L)), np.zeros(len(L))])
        self.critic = Critic(width=CRITIC_WIDTH, steps=self.critic_steps, seed=self.seed)
        self.critic.fit(X, y, "physics critic")
        return self

    def summary(self, data: physics.Trajectories, laws: np.ndarray) -> np.ndarray:
        """The critic's classifier's input for trajectories told `laws` (`energy_summary`)."""
        return energy_summary(self.energy, data, laws)

    @staticmethod
    def parse(request: str):
        return parse(request)

    def observe(self, n: int, seed: int) -> physics.Trajectories:
        """n training-range trajectories, long enough for the structured model's window."""
        return physics.dataset("iid", n, seed, n_steps=self.structured.observe + 1)

    @staticmethod
    def save(samples: Samples, folder) -> None:
        t = samples.trajectories
        np.savez_compressed(folder / "samples.npz", states=t.states, present=t.present,
                            radius=t.radius, mass=t.mass, laws=_laws(t.worlds),
                            laws_before=samples.before, laws_order=np.array(LAWS))  # fmt: skip

    @staticmethod
    def describe(rules: Laws) -> dict:
        return {k: {"mean": m, "std": s} for k, (m, s) in rules.summary().items()}

    def extract(self, observed: physics.Trajectories) -> Laws:
        inferred = self.structured.infer(observed)
        return Laws(np.stack([inferred[k] for k in LAWS], 1))

    def modify(self, rules: Laws, request: str) -> Laws:
        touched = tuple(law for law, _, _ in parse(request))
        return Laws(apply(rules.values, request), rules.values, touched)

    def generate(self, rules: Laws, n: int, seed: int = 0, n_frames: int | None = None,
                 drop_invalid: bool = False) -> Samples:  # fmt: skip
        """n trajectories of `n_frames` frames after the start (default the horizon). A rollout
        that turns NaN or infinite is a ValueError, or with `drop_invalid` left out (fewer)."""
        rows = np.random.default_rng([seed, 98]).integers(len(rules.values), size=n)
        L = rules.values[rows]
        data = starts(n, seed, self.dt)
        data.worlds = _worlds(L)
        with np.errstate(all="ignore"):
            states = self.simulator.rollout(data, 0, n_frames or self.horizon, L)
        ok = np.isfinite(states).all((1, 2, 3))
        if not ok.all() and not drop_invalid:
            raise ValueError(f"the learned simulator made NaN or infinite states in "
                             f"{(~ok).sum()} of {n} trajectories")  # fmt: skip
        before = rules.values[rows] if rules.before is None else rules.before[rows]
        keep = np.flatnonzero(ok)
        out = physics.Trajectories(states, data.present, data.radius, data.mass, data.worlds,
                                   data.dt).subset(keep)  # fmt: skip
        return Samples(out, before[keep])

    def check(self, samples: Samples, rules: Laws | None = None) -> Check:
        """The critic's score of each sample against the laws it was made under."""
        t = samples.trajectories
        if t.states.shape[1] <= CRITIC_FRAMES:
            raise ValueError(f"the critic reads {CRITIC_FRAMES} frames after the start; these "
                             f"samples have {t.states.shape[1] - 1}")  # fmt: skip
        return Check(self.critic.score(self.summary(t, _laws(t.worlds))), self.threshold)

    # --- grading, by the simulator ----------------------------------------------------------------

    def references(self, samples: Samples):
        """(the simulator under the laws asked for, under the laws before the request)."""
        t = samples.trajectories
        return t.rerun(t.worlds), t.rerun(_worlds(samples.before))

    def grade(self, samples: Samples, request: str | None = None) -> Grade:
        """Obeyed: within `tolerance` (RMS position, m) of the simulator under the laws asked for
        and nearer to it than to the simulator with the request undone (NaN where those two are
        within the tolerance of each other: the change does not show). Intact: within tolerance
        of the simulator under the laws asked for, every untouched law acting as before."""
        t = samples.trajectories
        new, old = self.references(samples)
        e_new = rms(t.states, new.states, t.present)
        e_old = rms(t.states, old.states, t.present)
        sep = rms(new.states, old.states, t.present)
        obeyed = np.where(sep <= self.tolerance, np.nan,
                          ((e_new <= self.tolerance) & (e_new < e_old)).astype(float))  # fmt: skip
        return Grade(
            obeyed,
            e_new <= self.tolerance,
            {"e_new": e_new, "separation": sep, "truth": new, "before": old},
        )

    @staticmethod
    def description(data: physics.Trajectories) -> np.ndarray:
        """A trajectory as a vector for distances: both balls' positions every 10 frames."""
        s = data.states[:, 10::10, :, :2] * data.present[:, None, :, None]
        return s.reshape(len(data), -1)

    def distance(self, samples: Samples, grade: Grade) -> tuple[float, float]:
        """(MMD between generated and true trajectories of the changed world, MMD between the
        unchanged and the changed world's true trajectories), from the same starting states."""
        gen, true = self.description(samples.trajectories), self.description(grade.extra["truth"])
        base = self.description(grade.extra["before"])
        d = np.sqrt(((true[:, None] - true[None]) ** 2).sum(-1))
        scale = float(np.median(d[d > 0]))
        return mmd(gen, true, scale), mmd(base, true, scale)

    def near_misses(self, rules: Laws, n: int, seed: int, laws: tuple[str, ...] | None = None):
        """n starting states with laws drawn from `rules` (the laws asked for, L), simulated for
        CRITIC_FRAMES frames under L (the truth) and under L with one of `laws` (default: the
        touched ones) a near miss off. Returns (truth, near misses, L, where the near miss shows in
        those frames at all)."""
        rows = np.random.default_rng([seed, 97]).integers(len(rules.values), size=n)
        L = rules.values[rows]
        data = starts(n, seed + 1, self.dt)
        states = np.zeros((n, CRITIC_FRAMES + 1, 2, 4))
        states[:, 0] = data.states[:, 0]
        data = replace(data, states=states, worlds=_worlds(L))
        rng = np.random.default_rng([seed, 96])
        law = np.array(
            [LAWS.index(k) for k in rng.choice(rules.touched if laws is None else laws, n)]
        )
        good = data.rerun(data.worlds)
        bad = data.rerun(_worlds(_near_miss(L, rng, law)))
        return good, bad, L, rms(good.states, bad.states, good.present) > 1e-3

    def critic_auroc(self, rules: Laws, n: int, seed: int) -> float:
        """The critic on true trajectories of the changed world (positives) against trajectories
        whose changed law is a near miss of the one asked for (negatives), each told the laws
        asked for; only samples where the near miss shows in the critic's frames count."""
        return self._critic_auroc(*self.near_misses(rules, n, seed))

    def _critic_auroc(self, good, bad, L: np.ndarray, shows: np.ndarray) -> float:
        """The critic's AUROC on `near_misses`' pairs where the near miss shows, told L."""
        return auroc(self.critic.score(self.summary(good, L))[shows],
                     self.critic.score(self.summary(bad, L))[shows])  # fmt: skip

    def reading_auroc(self, rules: Laws, n: int, seed: int) -> dict:
        """A diagnostic of the critic on restitution: near misses of restitution alone, built as
        in `critic_auroc`; where one shows, the critic's AUROC beside that of the hand-written
        `bounce_reading` on the same pairs (score: minus its distance to the restitution told).
        Returns {"critic", "reading", "shows" (pairs that count), "n", "unread" (of those, pairs
        whose true trajectory has no bounce to read)}."""
        good, bad, L, shows = self.near_misses(rules, n, seed, ("restitution",))
        told = L[shows, LAWS.index("restitution")]
        read = {k: bounce_reading(t)[shows] for k, t in (("good", good), ("bad", bad))}
        score = {k: -np.nan_to_num(np.abs(r - told), nan=np.inf) for k, r in read.items()}
        return {"critic": self._critic_auroc(good, bad, L, shows),
                "reading": auroc(score["good"], score["bad"]), "shows": int(shows.sum()), "n": n,
                "unread": int(np.isnan(read["good"]).sum())}  # fmt: skip

    @staticmethod
    def novelty(samples: Samples, grade: Grade, rules: Laws) -> tuple[float, float]:
        """(fraction of correct samples whose laws lie outside the convex hull of the base laws
        (the extracted ones, before the request), the same for every sample of the changed
        world: its true samples have the laws asked for)."""
        from distinv import hull

        base = rules.values if rules.before is None else rules.before
        inside = hull.inside(base, _laws(samples.trajectories.worlds))
        ok = grade.correct
        return (float((~inside[ok]).mean()) if ok.any() else float("nan"),
                float((~inside).mean()))  # fmt: skip

    def tolerance_from(self, samples: list[Samples], fraction: float = 0.5) -> float:
        """A tolerance from development samples: `fraction` of the median RMS distance between
        the simulator with and without the request (the change a sample must show)."""
        seps = []
        for s in samples:
            new, old = self.references(s)
            seps.append(rms(new.states, old.states, s.trajectories.present))
        sep = np.concatenate(seps)
        return float(fraction * np.median(sep[sep > 1e-6]))


def _laws(worlds) -> np.ndarray:
    return np.array([[getattr(w, k) for k in LAWS] for w in worlds])


def concat(parts: list[physics.Trajectories]) -> physics.Trajectories:
    """Trajectories of as many frames each, one after another."""
    return physics.Trajectories(
        np.concatenate([p.states for p in parts]), np.concatenate([p.present for p in parts]),
        np.concatenate([p.radius for p in parts]), np.concatenate([p.mass for p in parts]),
        [w for p in parts for w in p.worlds], parts[0].dt,
    )  # fmt: skip


def overlap(invented: physics.Trajectories, tests: dict[str, physics.Trajectories],
            margin: float) -> dict[str, int]:  # fmt: skip
    """Per test split: invented trajectories whose gravity lies within `margin` (relative) of a
    test trajectory's, or that vary gravity in time while the split does (must all be 0)."""
    g = np.array([w.gravity for w in invented.worlds])
    wave = np.array([w.wave for w in invented.worlds]) != 0
    out = {}
    for name, t in tests.items():
        gt = np.array([w.gravity for w in t.worlds])
        if any(w.wave != 0 for w in t.worlds):  # a time-varying split: no invented world varies
            out[name] = int(wave.sum())
        else:
            near = np.abs(g[:, None] - gt[None]) <= margin * gt[None]
            out[name] = int(near.any(1).sum())
    return out


LEARNERS = {"one frame": False, "two frames": True}  # the blind step model; reads the previous?
RATIO_MARGIN = 0.1  # a split is gained or lost when its error moves by more than this fraction
DEV_STARTS = 777  # the seed of the development analog's starting states (no test split's)


def carry_back(inv: PhysicsInventor, rules: Laws, requests, n_per: int, seed: int,
               margin: float, n_inits: int = 3, tests: dict | None = None) -> dict:  # fmt: skip
    """The insight carried back: blind step models (no laws) trained with the recipe of
    06_physics (the same steps and batches) on its training set alone and on it plus invented
    worlds (the learned simulator's trajectories under each request), from `n_inits`
    initialisations each, the same ones on both data sets; their rollout errors on `tests`
    (default: the paired test splits of 06_physics). Two learners: the chapter's blind model,
    which reads one frame and so can hardly see gravity, and the same model also reading the frame
    before (`LEARNERS`).

    Returns "error" {(learner, "base" | "invented", split): mean error over the initialisations},
    "errors" (the same, one per initialisation), "models" {(learner, "base" | "invented", init)},
    "overlap" (invented trajectories near a test split, see `overlap`) and counts."""
    if n_inits < 1:
        raise ValueError(f"n_inits must be >= 1, got {n_inits}")
    cfg = inv.config
    base = physics.dataset("iid", cfg["n_train"], cfg["seed"], n_steps=cfg["n_frames"])
    invented = concat([inv.generate(inv.modify(rules, r), n_per, seed + 10 * i,
                                    n_frames=cfg["n_frames"], drop_invalid=True).trajectories
                       for i, r in enumerate(requests)])  # fmt: skip
    if tests is None:
        tests = physics.paired_splits(cfg["n_test"], cfg["seed"] + 1,
                                      n_steps=cfg["observe"] + cfg["horizon"])  # fmt: skip
    inits = [1000 * seed + k for k in range(n_inits)]
    models = {}
    for name, data in (("invented", concat([base, invented])), ("base", base)):
        todo = {(learner, name, k): dynamics.StepModel("blind", inv.blind.recipe, k, previous)
                for learner, previous in LEARNERS.items() for k in inits}  # fmt: skip
        models.update(dynamics.fit_all(todo, data)[0])
    errors = {}
    for split, t in tests.items():
        done = dynamics.evaluate(models, t, cfg["observe"], cfg["horizon"])
        for learner, name, k in models:  # in the order of the initialisations
            e = float(done[learner, name, k]["mse"].mean())
            errors.setdefault((learner, name, split), []).append(e)
    return {"error": {k: float(np.mean(v)) for k, v in errors.items()}, "errors": errors,
            "models": models, "overlap": overlap(invented, tests, margin),
            "n_invented": len(invented), "n_asked": n_per * len(requests), "n_base": len(base),
            "n_inits": n_inits}  # fmt: skip


def development_analog(inv: PhysicsInventor, rules: Laws, n_per: int, seed: int,
                       n_inits: int = 3, n: int = 1000) -> dict:  # fmt: skip
    """The carry-back on a development analog that touches no test split: invented worlds under
    `invent.CARRY_DEV`, errors on `n` fresh training-range starts (seed `DEV_STARTS`) under their
    own laws ("training range") and with gravity `invent.CARRY_DEV_AT` ("beyond"); the rest as
    `carry_back`. How the chapter's number of invented trajectories per request was chosen."""
    cfg = inv.config
    starts_ = physics.dataset("iid", n, DEV_STARTS, n_steps=cfg["observe"] + cfg["horizon"])
    beyond = starts_.rerun([replace(w, gravity=invent.CARRY_DEV_AT) for w in starts_.worlds])
    return carry_back(inv, rules, invent.CARRY_DEV, n_per, seed, invent.CARRY_MARGIN, n_inits,
                      {"training range": starts_, "beyond": beyond})  # fmt: skip


def carry_verdict(ratios: dict[str, float], margin: float = RATIO_MARGIN) -> str:
    """Where one learner's error with invented worlds is more than `margin` lower (gains) or
    higher (loses) than without them, from {split: ratio}; a phrase such as "gains on jupiter,
    loses on iid and moon: a trade"."""
    gains = [s for s, r in ratios.items() if r <= 1 - margin]
    loses = [s for s, r in ratios.items() if r >= 1 + margin]
    unknown = [s for s, r in ratios.items() if not np.isfinite(r)]
    parts = [f"{how} on {listed(ss)}" for how, ss in (("gains", gains), ("loses", loses)) if ss]
    text = ", ".join(parts) or "neither gains nor loses on any split"
    if gains and loses:
        text += ": a trade"
    return text + (f" (no finite error on {listed(unknown)})" if unknown else "")
