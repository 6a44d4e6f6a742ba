"""The shapes world's inventor: the visual chapter's oracle and generator, and a trained critic.

- extract: the oracle (learned, 09_shapes) reads each observed image's factors; rules are then
  induced by hand-written tests over those readings in the edit language (given): "<shape>s are
  <hue>" where at least ARE_SUPPORT of that shape's images share one hue, "no <value>" for a value
  read in under NO_SUPPORT of them, "size grows|shrinks with x|y" where the rank correlation is
  beyond COUPLE_SUPPORT. The factor histogram read is kept beside them.
- modify: the visual chapter's edit parser (`distinv.shapes.rules.edit`, given).
- generate: factors drawn from the changed rules' joint distribution, images from the chosen
  generator of 09_shapes (the conditional VAE, learned; or latent diffusion, learned, sampled by
  the star sampler's hand-written rule for adding each factor's change to the base combination,
  given).
- check: the critic (learned here) is an energy model. A reader of its own (the oracle's
  architecture at half its width, READER_WIDTH; its own seed and renders, not the oracle that
  grades) gives each image's log-probabilities of the values a rule names, and of any other value
  (`claims`; *given*: that a rule enters as the values it names); an MLP trained on fully crossed
  renders with random rules, near misses among them (a hue one step away, a neighbouring value),
  and never on a rule of the chapter's requests, reads them. A rule about a value no training rule
  named arrives as the same kind of numbers as every other. A sample's score is the product over
  the rule set's per-sample rules; distribution-level rules ("size grows with x") are graded on
  the whole sample, not by the critic.
- grade: the oracle's reading (its own accuracy is reported by 09_shapes) against the truth, the
  base world's rules (`rules.BASE_RULES`) edited by the request.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import logsumexp

from distinv import artifacts
from distinv.invent.common import Check, Critic, Grade, auroc
from distinv.shapes import experiment as ex
from distinv.shapes import models, world
from distinv.shapes import rules as R
from distinv.shapes import train as st

ARE_SUPPORT, NO_SUPPORT, COUPLE_SUPPORT = 0.95, 0.005, 0.2
GENERATORS = ("latent_diffusion", "cvae")
HULL_DIMS = 4  # principal components of the oracle's features the novelty hull lives in
READER_WIDTH = 16  # the critic's reader: the oracle's architecture at half its width
LOG_FLOOR = -20.0  # the critic reads log-probabilities no lower than this (a chance of 2e-9)


@dataclass
class Rules:
    """A rule set of the shapes world, and (when extracted) the factor histogram it came from."""

    rules: tuple
    read: np.ndarray | None = None  # (n, 5) factors the oracle read, when extracted
    changed: tuple = ()  # the rules a request put in

    def __str__(self) -> str:
        return "; ".join(map(str, self.rules))


@dataclass
class Samples:
    images: np.ndarray  # (n, 32, 32, 3)
    requested: np.ndarray  # (n, 5): the factors each image was asked for


@torch.no_grad()
def reading(reader, images: np.ndarray, batch: int = st.CHUNK) -> list[np.ndarray]:
    """The reader's log-probabilities of each factor's values: five arrays (n, card), by factor."""
    if not len(images):
        return [np.zeros((0, head.out_features)) for head in reader.heads]
    out = []
    for s in range(0, len(images), batch):
        h = reader.features(models.to_tensor(images[s : s + batch]))
        out.append([torch.log_softmax(head(h), 1).double().numpy() for head in reader.heads])
    return [np.concatenate([o[j] for o in out]) for j in range(len(reader.heads))]


def named_factors(rule) -> tuple[int, ...]:
    """The factors a per-sample rule names: an Are rule's shape and hue, a No rule's factor."""
    if isinstance(rule, R.Are):
        return (0, 1)
    if isinstance(rule, R.No):
        return (rule.factor,)
    raise ValueError(f"the critic scores per-sample rules only, not {rule}")


def claims(logp: list[np.ndarray], rule) -> np.ndarray:
    """What the reader says about one per-sample rule, per image (n, 6): the rule's kind [Are, No]
    one-hot, then for each value the rule names (an Are rule's shape and hue; a No rule's value,
    then zeros) the log-probability the reader gives that value and the one it gives any other,
    floored at LOG_FLOOR."""
    n = len(logp[0])

    def named(j: int, v: int) -> np.ndarray:
        others = np.delete(logp[j], v, 1)
        both = np.stack([logp[j][:, v], logsumexp(others, 1)], 1)
        return np.maximum(both, LOG_FLOOR)

    named_factors(rule)  # a rule of any kind but Are and No raises
    if isinstance(rule, R.Are):
        kind, a, b = (1, 0), named(0, rule.shape), named(1, rule.hue)
    else:
        kind, a, b = (0, 1), named(rule.factor, rule.value), np.zeros((n, 2))
    return np.concatenate([np.tile(kind, (n, 1)), a, b], 1).astype(np.float32)


def _rows_by_rule(rules: list) -> dict[str, list[int]]:
    """The rows of each distinct rule, so that `claims` reads each rule once for all its rows."""
    out: dict[str, list[int]] = {}
    for i, r in enumerate(rules):
        out.setdefault(str(r), []).append(i)
    return out


def _random_rule(f: np.ndarray, rng: np.random.Generator, banned: set):
    """A rule about an image with factors f: often one it breaks by a near miss."""
    for _ in range(100):
        u = rng.random()
        if u < 0.5:  # about its own shape: its hue (obeyed) or one step away (a near miss)
            h = (f[1] + rng.choice([0, 0, -1, 1, rng.integers(6)])) % world.CARD[1]
            rule = R.Are(int(f[0]), int(h))
        elif u < 0.65:  # about another shape: holds whatever the hue
            rule = R.Are(int((f[0] + rng.integers(1, world.CARD[0])) % world.CARD[0]),
                         int(rng.integers(world.CARD[1])))  # fmt: skip
        else:  # a value it has (broken) or a neighbouring one (obeyed)
            j = int(rng.integers(len(world.CARD)))
            v = int((f[j] + rng.choice([0, 0, -1, 1])) % world.CARD[j])
            rule = R.No(j, v)
        if str(rule) not in banned:
            return rule
    raise RuntimeError("every rule near this image is held out")


class ShapesInventor:
    name = "shapes"
    threshold = 0.5  # the enforcer keeps samples the critic scores at least this; the chapter
    # chooses it on development requests (run.choose_threshold), `distinv invent` keeps 0.5
    REQUESTS = (
        "shapes requests (the visual chapter's edit language), clauses joined by ';':\n"
        "  <shape>s are <hue>              e.g. hearts are blue\n"
        "  no <value>                      e.g. no squares, no huge, no x0\n"
        "  <factor> grows|shrinks with <factor>   ordered factors: size, x, y\n"
        f"shapes: {', '.join(world.SHAPES)}; hues: {', '.join(world.HUES)}; "
        f"scales: {', '.join(world.SCALES)}; positions x0..x7, y0..y7"
    )

    def __init__(self, sources: str = "auto", generator: str = "cvae", n_critic: int = 20000,
                 critic_steps: int = 2000, n_reader: int = 10000, reader_steps: int = 1000,
                 held_out: tuple[str, ...] = (), seed: int = 0):  # fmt: skip
        if generator not in GENERATORS:
            raise ValueError(f"unknown generator {generator!r}; known: {', '.join(GENERATORS)}")
        self.sources, self.generator, self.seed = sources, generator, seed
        self.n_critic, self.critic_steps = n_critic, critic_steps
        self.n_reader, self.reader_steps = n_reader, reader_steps
        self.held_out = tuple(held_out)  # requests whose rules the critic never trains on
        self.critic: Critic | None = None

    # --- the parts -----------------------------------------------------------------------------

    def fit(self, base=None) -> ShapesInventor:
        """Load the oracle and generators of 09_shapes; train the critic's reader, then the
        critic."""
        saved = artifacts.load("09_shapes", "shapes", self.sources)
        self.oracle = saved["oracle"]
        d, g, k = saved["diffusion"], saved["guidance"], saved["sample_steps"]
        c, t, how = saved["cvae"], saved["temperature"], saved["sampler"]
        # runs saved before the solver was a setting sampled with DDIM, steps uniform in time
        solver, spacing = saved.get("solver", "ddim"), saved.get("spacing", "time")
        self.makers = {"latent_diffusion": lambda F, s: d.generate(F, s, g, k, sampler=how,
                                                                   solver=solver, spacing=spacing),
                       "cvae": lambda F, s: c.generate(F, s, temperature=t)}  # fmt: skip
        self.reader = st.train_oracle(self.n_reader, self.reader_steps, self.seed + 11,
                                      width=READER_WIDTH, desc="critic reader")  # fmt: skip
        banned = {str(r) for q in self.held_out for r in R.parse(q) if r.per_sample}
        rng = np.random.default_rng([self.seed, 1])
        F = st.uniform_cells(self.n_critic, self.seed + 1)
        logp = reading(self.reader, world.render(F, rng))
        rule = [_random_rule(f, rng, banned) for f in F]
        X = np.empty((len(F), 6), np.float32)
        for rows in _rows_by_rule(rule).values():
            X[rows] = claims([lp[rows] for lp in logp], rule[rows[0]])
        y = np.array([r.holds(f[None])[0] for r, f in zip(rule, F, strict=True)], np.float32)
        self.critic = Critic(width=32, steps=self.critic_steps, seed=self.seed)
        self.critic.fit(X, y, "shapes critic")
        return self

    def with_generator(self, generator: str) -> ShapesInventor:
        """The same fitted inventor (oracle, the critic and its reader) with the other
        generator."""
        if generator not in GENERATORS:
            raise ValueError(f"unknown generator {generator!r}; known: {', '.join(GENERATORS)}")
        other = copy.copy(self)
        other.generator = generator
        return other

    @staticmethod
    def parse(request: str) -> list:
        return R.parse(request)

    @staticmethod
    def observe(n: int, seed: int) -> np.ndarray:
        """n images of the base world as the generator was trained on it (the split)."""
        return R.sample(R.distribution(R.BASE_RULES, max_distance=1), n, seed)[0]

    @staticmethod
    def save(samples: Samples, folder) -> None:
        np.savez_compressed(folder / "samples.npz", images=(samples.images * 255).astype(np.uint8),
                            factors=samples.requested)  # fmt: skip

    @staticmethod
    def describe(rules: Rules) -> str:
        return str(rules)

    def extract(self, observed: np.ndarray) -> Rules:
        """Rules induced from images: the oracle reads them, hand-written tests name the rules."""
        read = st.read(self.oracle, observed)[0]
        found = []
        for s in range(world.CARD[0]):
            hues = read[read[:, 0] == s, 1]
            if len(hues):
                top = np.bincount(hues, minlength=world.CARD[1])
                if top.max() >= ARE_SUPPORT * len(hues):
                    found.append(R.Are(s, int(top.argmax())))
        for j, card in enumerate(world.CARD):
            share = np.bincount(read[:, j], minlength=card) / len(read)
            found += [R.No(j, v) for v in np.flatnonzero(share < NO_SUPPORT)]
        for a, b in (("scale", "x"), ("scale", "y")):
            ia, ib = world.FACTORS.index(a), world.FACTORS.index(b)
            rho = _spearman(read[:, ia], read[:, ib])
            if abs(rho) > COUPLE_SUPPORT:
                found.append(R.Couple(ia, ib, 1 if rho > 0 else -1))
        return Rules(tuple(found), read)

    def modify(self, rules: Rules, request: str) -> Rules:
        """The request's rules replace those on the same subject (`rules.edit`); a value the
        request names (the shape and hue of "hearts are blue") is no longer banned."""
        named = {(0, r.shape) for r in R.parse(request) if isinstance(r, R.Are)}
        named |= {(1, r.hue) for r in R.parse(request) if isinstance(r, R.Are)}
        kept = [r for r in rules.rules
                if not (isinstance(r, R.No) and (r.factor, r.value) in named)]  # fmt: skip
        new = R.edit(kept, request)
        R.distribution(new)  # ValueError now if the changed rules leave no image
        return Rules(new, None, tuple(R.parse(request)))

    def generate(self, rules: Rules, n: int, seed: int = 0) -> Samples:
        if n < 1:
            raise ValueError(f"need n >= 1 samples, got {n}")
        F = R.distribution(rules.rules).sample(n, np.random.default_rng(seed))
        images = self.makers[self.generator](F, seed + 1)
        if not np.isfinite(images).all():
            raise ValueError("the generator made NaN or infinite pixels")
        return Samples(images, F)

    def check(self, samples: Samples, rules: Rules) -> Check:
        return Check(self.score(samples.images, rules.rules), self.threshold)

    def reader_accuracy(self, seed: int) -> float:
        """The critic's reader's product accuracy (all five factors right) on a fresh render of
        every cell."""
        read, _ = st.read(self.reader, world.render(R.CELLS, seed))
        return ex.accuracy(read, R.CELLS)[1]

    def agreement(self, images: np.ndarray) -> np.ndarray:
        """Per factor, the fraction of images on which the critic's reader and the grading oracle
        read the same value."""
        return (st.read(self.reader, images)[0] == st.read(self.oracle, images)[0]).mean(0)

    def score(self, images: np.ndarray, rule_set) -> np.ndarray:
        """The critic's probability that each image obeys every per-sample rule of rule_set."""
        logp = reading(self.reader, images)
        out = np.ones(len(images))
        for r in (r for r in rule_set if r.per_sample):
            out *= self.critic.score(claims(logp, r))
        return out

    # --- grading, by the truth --------------------------------------------------------------------

    @staticmethod
    def truth(request: str):
        """The true changed world: the base world's rules edited by the request."""
        return R.edit(R.BASE_RULES, request)

    def grade(self, samples: Samples, request: str) -> Grade:
        read, features = st.read(self.oracle, samples.images)
        changed = R.parse(request)
        new = self.truth(request)
        untouched = [r for r in new if r not in changed]
        obeyed = np.full(len(read), np.nan)
        for r in (r for r in changed if r.per_sample):
            c = r.concerns(samples.requested)
            ok = r.obeyed(read)
            obeyed[c] = np.where(np.isnan(obeyed[c]), ok[c], np.fmin(obeyed[c], ok[c]))
        intact = np.ones(len(read), bool)
        for r in (r for r in untouched if r.per_sample):
            intact &= r.holds(read)
        dist = R.distribution(new)
        tv = {str(r): R.tv(r.histogram(read), dist.marginal(r))
              for r in new if not r.per_sample}  # fmt: skip
        return Grade(obeyed, intact, {"tv": tv, "read": read, "features": features})

    def distance(self, read: np.ndarray, request: str) -> float:
        """Total variation between the (shape, hue, scale) histogram read and the truth's."""
        p = R.distribution(self.truth(request)).p
        idx = np.ravel_multi_index(R.CELLS[:, :3].T, world.CARD[:3])
        q = np.bincount(idx, p, minlength=np.prod(world.CARD[:3]))
        h = np.bincount(np.ravel_multi_index(read[:, :3].T, world.CARD[:3]),
                        minlength=np.prod(world.CARD[:3]))  # fmt: skip
        return R.tv(h, q)

    def critic_auroc(self, request: str, n: int, seed: int) -> float:
        """How well the critic tells true images of the changed world (concerned by a changed
        per-sample rule) from near misses that break only that rule."""
        new, changed = self.truth(request), [r for r in R.parse(request) if r.per_sample]
        if not changed:
            return float("nan")
        rng = np.random.default_rng(seed)
        good = R.distribution(new).sample(4 * n, rng)
        good = good[np.any([r.concerns(good) for r in changed], 0)][:n]
        bad = good.copy()
        for f in bad:  # break one changed rule that concerns it, by a near miss
            r = next(r for r in changed if r.concerns(f[None])[0])
            if isinstance(r, R.Are):
                f[1] = (r.hue + rng.choice([-1, 1])) % world.CARD[1]
            else:
                f[r.factor] = r.value
        pos = self.score(world.render(good, rng), new)
        neg = self.score(world.render(bad, rng), new)
        return auroc(pos, neg)

    def novelty(self, samples: Samples, grade: Grade, request: str, base_images: np.ndarray,
                n_true: int, seed: int, dims: int = HULL_DIMS) -> tuple[float, float]:  # fmt: skip
        """(fraction of correct generated images outside the hull of the base images, the same
        for true images of the changed world), in `dims` principal components of the oracle's
        features of the base images."""
        base_h = st.read(self.oracle, base_images)[1]
        basis = ex.pca(base_h, dims)
        hull_pts = ex.project(base_h, basis)
        gen = ex.project(grade.extra["features"][grade.correct], basis)
        true_images, _ = R.sample(self.truth(request), n_true, seed)
        true = ex.project(st.read(self.oracle, true_images)[1], basis)
        return ex.outside(hull_pts, gen), ex.outside(hull_pts, true)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)
