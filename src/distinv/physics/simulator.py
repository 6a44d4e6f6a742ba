"""Balls in a walled box under gravity, friction, restitution and damping: a vectorized simulator.

SI units throughout: metres, seconds, kilograms; y points up and gravity pulls down. Many
trajectories run at once as NumPy arrays, each with its own world (`World`) and balls.

How a frame of `dt` seconds is advanced (Strang splitting, `substeps` times per frame):

1. damping for half a substep, exactly: v <- v exp(-damping h / 2);
2. free flight for the substep under the gravity of its midpoint, *exactly* (constant
   acceleration), from event to event: the first contact with a wall or the other ball is found in
   closed form, every ball is moved to that instant, the contact is resolved, and flight goes on;
3. damping for the other half.

With no damping and constant gravity the only error is floating-point rounding, which is what the
energy test checks. A contact keeps `restitution` of the normal velocity; friction is Coulomb's, an
impulse at a bounce (at most `friction` times the normal impulse) and a constant deceleration
`friction * g` while a ball slides on the floor. A bounce too small to rise `REST_HEIGHT` leaves
the ball resting on the floor (otherwise a ball with restitution below 1 would bounce infinitely
often). Balls are disks that do not spin. Two balls in flight share their acceleration, so their
meeting time is exact; when one rests on the floor their relative acceleration is still constant
between events, and the meeting time is found by bisection to rounding. A touch slower than a
bounce that would rise `REST_HEIGHT` (a ball settling on the other) is found at the end of the
flight segment instead, and the pair is separated along the contact normal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

REST_HEIGHT = 1e-4  # m: a bounce that would rise less than this ends in resting contact
MAX_EVENTS = 32  # contacts resolved per substep and trajectory before flight simply goes on
FEATURES = ("x", "y", "vx", "vy")  # the last axis of a trajectory, per ball


@dataclass(frozen=True)
class World:
    """The laws of one trajectory's world. `g(t) = gravity (1 + wave sin(omega t))`."""

    gravity: float = 9.81  # m/s^2, downward
    friction: float = 0.0  # Coulomb coefficient at every contact (>= 0)
    restitution: float = 1.0  # fraction of the normal velocity kept at a bounce, in [0, 1]
    damping: float = 0.0  # 1/s: linear drag, dv/dt = -damping v (>= 0)
    wave: float = 0.0  # relative amplitude of time-varying gravity, in [0, 1)
    omega: float = 0.5  # rad/s, its angular frequency

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(f"World.{f.name} must be a finite number, got {value!r}")
        if self.gravity < 0 or self.friction < 0 or self.damping < 0:
            raise ValueError(f"gravity, friction and damping must be >= 0: {self}")
        if not 0 <= self.restitution <= 1:
            raise ValueError(f"restitution must be in [0, 1], got {self.restitution}")
        if not 0 <= self.wave < 1:
            raise ValueError(f"wave must be in [0, 1) so that gravity stays downward: {self.wave}")

    def g(self, t):
        return self.gravity * (1 + self.wave * np.sin(self.omega * np.asarray(t, dtype=float)))


@dataclass(frozen=True)
class Box:
    width: float = 10.0  # m
    height: float = 10.0  # m

    def __post_init__(self):
        if not (math.isfinite(self.width) and math.isfinite(self.height)):
            raise ValueError(f"box sides must be finite: {self}")
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"box sides must be positive: {self}")


@dataclass
class Balls:
    """The state of B trajectories of n balls each: position and velocity (B, n, 2), radius and
    mass (B, n)."""

    position: np.ndarray
    velocity: np.ndarray
    radius: np.ndarray
    mass: np.ndarray

    def check(self, box: Box) -> Balls:
        """The same balls as float arrays, or ValueError naming what is wrong."""
        p, v = np.asarray(self.position, float), np.asarray(self.velocity, float)
        r, m = np.asarray(self.radius, float), np.asarray(self.mass, float)
        if p.ndim != 3 or p.shape[-1] != 2 or v.shape != p.shape or r.shape != p.shape[:2]:
            raise ValueError(
                f"need position and velocity (B, n, 2), radius and mass (B, n); got {p.shape}, "
                f"{v.shape}, {r.shape}, {m.shape}"
            )
        if m.shape != r.shape or p.shape[1] not in (1, 2):
            raise ValueError(f"need 1 or 2 balls and a mass per ball; got {p.shape}, {m.shape}")
        for name, a in (("position", p), ("velocity", v), ("radius", r), ("mass", m)):
            if not np.isfinite(a).all():
                raise ValueError(f"ball {name} contains NaN or infinite values")
        if (r <= 0).any() or (m <= 0).any():
            raise ValueError("ball radius and mass must be positive")
        lo, hi = r[..., None], np.array([box.width, box.height]) - r[..., None]
        if (p < lo - 1e-9).any() or (p > hi + 1e-9).any():
            raise ValueError("every ball must lie inside the box")
        if p.shape[1] == 2:
            gap = np.linalg.norm(p[:, 1] - p[:, 0], axis=-1) - r.sum(1)
            if (gap < -1e-9).any():
                raise ValueError("two balls overlap at the start")
        return Balls(p.copy(), v.copy(), r, m)


def random_balls(
    n: int,
    n_balls: int,
    rng: np.random.Generator,
    box: Box = Box(),
    speed: float = 5.0,
    radius: tuple = (0.2, 0.5),
    mass: tuple = (0.5, 2.0),
) -> Balls:
    """n trajectories' starting states: uniform radius, mass, position in the box (balls apart,
    redrawn until they are) and velocity components in [-speed, speed]."""
    if n < 1 or n_balls not in (1, 2):
        raise ValueError(f"need n >= 1 and 1 or 2 balls, got n={n}, n_balls={n_balls}")
    r = rng.uniform(*radius, size=(n, n_balls))
    m = rng.uniform(*mass, size=(n, n_balls))
    size = np.array([box.width, box.height])
    p = rng.uniform(0, 1, size=(n, n_balls, 2)) * (size - 2 * r[..., None]) + r[..., None]
    if n_balls == 2:
        for _ in range(1000):
            bad = np.linalg.norm(p[:, 1] - p[:, 0], axis=-1) <= r.sum(1)
            if not bad.any():
                break
            u = rng.uniform(0, 1, size=(int(bad.sum()), 2))
            p[bad, 1] = u * (size - 2 * r[bad, 1, None]) + r[bad, 1, None]
    v = rng.uniform(-speed, speed, size=(n, n_balls, 2))
    return Balls(p, v, r, m)


def _stack(worlds, n: int) -> dict[str, np.ndarray]:
    if isinstance(worlds, World):
        worlds = [worlds] * n
    if len(worlds) != n:
        raise ValueError(f"{len(worlds)} worlds for {n} trajectories")
    return {f.name: np.array([getattr(w, f.name) for w in worlds]) for f in fields(World)}


def _hit_time(d, u, b):
    """Smallest t >= 0 with u t + b t^2 / 2 = d: gap d >= 0, approach speed u, approach
    acceleration b (arrays); inf if never. Written to avoid cancellation."""
    d = np.maximum(d, 0.0)
    disc = u * u + 2 * b * d
    root = np.sqrt(np.maximum(disc, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_fast = 2 * d / (u + root)  # when u > 0: the first crossing
        t_turn = (root - u) / b  # when u <= 0 and b > 0: comes back and hits
    t = np.where(u > 0, t_fast, np.where(b > 0, t_turn, np.inf))
    t = np.where((disc < 0) | ~np.isfinite(t), np.inf, t)
    return np.where(t < 0, np.inf, t)


PAIR_SAMPLES, PAIR_BISECTIONS = 16, 40  # the search for a touch under relative acceleration


def _first_touch(dp, dv, da, R, horizon, slow):
    """First t in (0, horizon] with |dp + dv t + da t^2 / 2| = R, for pairs apart at t = 0; inf
    if the sampled gap never closes or they meet at a normal speed below `slow`. Arrays: dp, dv,
    da (k, 2); R, horizon, slow (k,)."""

    def gap(t):  # (k, ...) squared distance minus R^2 at times t
        d = dp[:, None] + dv[:, None] * t[..., None] + 0.5 * da[:, None] * t[..., None] ** 2
        return (d * d).sum(-1) - (R * R)[:, None]

    ts = horizon[:, None] * np.linspace(0, 1, PAIR_SAMPLES + 1)[None]
    closed = gap(ts) <= 0
    hit = closed.any(1)
    first = closed.argmax(1)  # the first sample at which they touch or overlap
    rows = np.arange(len(R))
    lo, hi = ts[rows, np.maximum(first - 1, 0)], ts[rows, first]
    for _ in range(PAIR_BISECTIONS):  # keep gap(lo) > 0 >= gap(hi)
        mid = 0.5 * (lo + hi)
        inside = gap(mid[:, None])[:, 0] <= 0
        hi, lo = np.where(inside, mid, hi), np.where(inside, lo, mid)
    d = dp + dv * lo[:, None] + 0.5 * da * lo[:, None] ** 2
    closing = -((dv + da * lo[:, None]) * d).sum(-1) / np.maximum(R, 1e-12)
    return np.where(hit & (closing >= slow), lo, np.inf)  # lo: still apart, by rounding


class _Sim:
    def __init__(self, balls: Balls, law: dict, box: Box):
        self.p, self.v, self.r, self.m = balls.position, balls.velocity, balls.radius, balls.mass
        self.law, self.box = law, box
        self.B, self.n = self.r.shape
        self.resting = np.zeros((self.B, self.n), bool)

    def accel(self, g):
        """(B, n, 2) accelerations: -g in flight; sliding friction while resting on the floor."""
        a = np.zeros_like(self.v)
        a[..., 1] = np.where(self.resting, 0.0, -g[:, None])
        slide = -np.sign(self.v[..., 0]) * (self.law["friction"] * g)[:, None]
        a[..., 0] = np.where(self.resting, slide, 0.0)
        return a

    def drift(self, h: float, g: np.ndarray) -> None:
        remaining = np.full(self.B, h)
        W, H = self.box.width, self.box.height
        for _ in range(MAX_EVENTS):
            active = remaining > 0
            if not active.any():
                return
            a, p, v, r = self.accel(g), self.p, self.v, self.r
            walls = np.stack([  # (B, n, 4): left, right, floor, ceiling
                _hit_time(p[..., 0] - r, -v[..., 0], -a[..., 0]),
                _hit_time(W - r - p[..., 0], v[..., 0], a[..., 0]),
                np.where(self.resting, np.inf, _hit_time(p[..., 1] - r, -v[..., 1], -a[..., 1])),
                _hit_time(H - r - p[..., 1], v[..., 1], a[..., 1]),
            ], axis=-1)  # fmt: skip
            moving = self.resting & (self.v[..., 0] != 0) & (a[..., 0] != 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                stop = np.where(moving, np.abs(self.v[..., 0] / a[..., 0]), np.inf)
            t_ball = np.minimum(walls.min(-1), stop).min(-1)
            # the pair's relative acceleration holds until the next wall or stop at the latest
            horizon = np.minimum(remaining, t_ball)
            pair = self._pair_time(a, horizon, g) if self.n == 2 else np.full(self.B, np.inf)
            t_event = np.minimum(t_ball, pair)
            step = np.where(active, np.minimum(t_event, remaining), 0.0)
            self.p = p + v * step[:, None, None] + 0.5 * a * step[:, None, None] ** 2
            self.v = v + a * step[:, None, None]
            happened = active & (t_event <= remaining)
            remaining = remaining - step
            # Resolve every contact that happened at this instant (a corner is two walls at once).
            at = happened[:, None, None] & (walls <= t_event[:, None, None] + 1e-12)
            self._walls(at, g)
            stopped = happened[:, None] & (stop <= t_event[:, None] + 1e-12)
            self.v[..., 0] = np.where(stopped, 0.0, self.v[..., 0])
            if self.n == 2:
                self._collide(happened & (pair <= t_event + 1e-12))
        # Too many contacts in one substep (a ball pinned in a corner, or one chattering on a
        # resting ball): finish it in plain flight, then resolve what that left overlapping.
        a, left = self.accel(g), remaining[:, None, None]
        self.p = self.p + self.v * left + 0.5 * a * left**2
        self.v = self.v + a * left
        self._clamp()
        if self.n == 2:
            self._collide(np.zeros(self.B, bool))

    def _walls(self, at: np.ndarray, g: np.ndarray) -> None:
        e, mu = self.law["restitution"][:, None], self.law["friction"][:, None]
        W, H = self.box.width, self.box.height
        for k, (axis, wall) in enumerate([(0, None), (0, W), (1, None), (1, H)]):
            hit = at[..., k]
            if not hit.any():
                continue
            vn, vt = self.v[..., axis], self.v[..., 1 - axis]
            jn = (1 + e) * np.abs(vn)  # normal speed change
            vt_new = vt - np.sign(vt) * np.minimum(np.abs(vt), mu * jn)
            vn_new = -e * vn
            self.v[..., axis] = np.where(hit, vn_new, vn)
            self.v[..., 1 - axis] = np.where(hit, vt_new, vt)
            place = self.r if wall is None else wall - self.r
            self.p[..., axis] = np.where(hit, place, self.p[..., axis])
            if k == 2:  # the floor: a bounce too small to matter ends in resting contact
                low = hit & (self.v[..., 1] ** 2 <= 2 * g[:, None] * REST_HEIGHT)
                self.resting |= low
                self.v[..., 1] = np.where(low, 0.0, self.v[..., 1])

    def _pair_time(self, acc: np.ndarray, horizon: np.ndarray, g: np.ndarray) -> np.ndarray:
        """When the two balls first touch. In flight both share their acceleration, so their
        relative motion is uniform and the time is closed-form. With a ball on the floor (no
        vertical acceleration, sliding friction) the relative acceleration is constant until the
        next event, and the first touch within `horizon` is found by sampling the gap's sign and
        bisecting the first change (the time returned is the last one found apart). A touch slower
        than a bounce that would rise REST_HEIGHT (a ball settling on the other: otherwise its
        bounces never end) is left to `_collide`'s overlap check at the end of the flight segment,
        as before, and so is a graze too shallow for the samples to see (missed if it is over by
        the segment's end)."""
        dp, dv = self.p[:, 1] - self.p[:, 0], self.v[:, 1] - self.v[:, 0]
        R = self.r.sum(1)
        a, b, c = (dv * dv).sum(-1), (dp * dv).sum(-1), (dp * dp).sum(-1) - R * R
        disc = b * b - a * c
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.maximum(c, 0.0) / (-b + np.sqrt(np.maximum(disc, 0.0)))
        flying = ~self.resting.any(1)
        ok = (b < 0) & (disc >= 0) & flying & np.isfinite(t)
        out = np.where(ok, np.maximum(t, 0.0), np.inf)
        da = acc[:, 1] - acc[:, 0]
        h = horizon  # >= 0; the most the gap can close within it:
        reach = np.linalg.norm(dv, axis=-1) * h + 0.5 * np.linalg.norm(da, axis=-1) * h * h
        near = np.sqrt(np.maximum(c, 0.0) + R * R) - R <= reach
        slow = np.sqrt(2 * g * REST_HEIGHT)
        closing = -b / np.sqrt(np.maximum(c + R * R, 1e-24))  # normal approach speed now
        out = np.where(~flying & (c <= 0) & (closing >= slow), 0.0, out)  # touching, approaching
        rows = np.flatnonzero(~flying & (c > 0) & (h > 0) & near)
        if rows.size:
            out[rows] = _first_touch(dp[rows], dv[rows], da[rows], R[rows], h[rows], slow[rows])
        return out

    def _collide(self, hit: np.ndarray) -> None:
        """Ball-ball contacts: the normal impulse of restitution e, Coulomb friction along the
        tangent; a pair found overlapping (one ball resting) is also separated along the normal."""
        dp = self.p[:, 1] - self.p[:, 0]
        dist = np.linalg.norm(dp, axis=-1)
        normal = dp / np.maximum(dist, 1e-12)[:, None]
        dv = self.v[:, 1] - self.v[:, 0]
        vn = (dv * normal).sum(-1)
        overlap = self.r.sum(1) - dist
        hit = hit | ((overlap > 1e-12) & (vn < 0))
        hit &= vn < 0
        if hit.any():
            self._impulse(hit, normal, dv, vn, overlap)
        self._separate()

    def _impulse(self, hit, normal, dv, vn, overlap) -> None:
        e, mu = self.law["restitution"], self.law["friction"]
        inv = 1 / self.m[:, 0] + 1 / self.m[:, 1]
        jn = -(1 + e) * vn / inv  # normal impulse on ball 1 (on ball 0: minus it)
        tangent = dv - vn[:, None] * normal
        vt = np.linalg.norm(tangent, axis=-1)
        tdir = tangent / np.maximum(vt, 1e-12)[:, None]
        jt = -np.minimum(vt / inv, mu * np.abs(jn))
        J = jn[:, None] * normal + jt[:, None] * tdir
        J = np.where(hit[:, None], J, 0.0)
        self.v[:, 1] += J / self.m[:, 1, None]
        self.v[:, 0] -= J / self.m[:, 0, None]
        push = np.where(hit, np.maximum(overlap, 0.0), 0.0)[:, None] * normal
        w0, w1 = (1 / self.m[:, 0]) / inv, (1 / self.m[:, 1]) / inv
        self.p[:, 1] += w1[:, None] * push
        self.p[:, 0] -= w0[:, None] * push
        # A ball pushed off the floor flies; one pushed into it flies too, so that the floor's
        # contact (found at once: it is touching) bounces it, instead of its resting state letting
        # it sink through the floor with the downward speed it was given.
        lift = hit[:, None] & (self.v[..., 1] != 0)
        self.resting &= ~lift
        self._clamp()

    def _separate(self) -> None:
        """Two balls still overlapping (a ball against the floor or a wall cannot give way, so
        the clamp takes back its share of the push; or a pair already moving apart) are moved
        apart along the normal: ball 1 first, then ball 0 for what the walls leave."""
        for ball, sign in ((1, 1.0), (0, -1.0)):
            dp = self.p[:, 1] - self.p[:, 0]
            dist = np.linalg.norm(dp, axis=-1)
            left = np.maximum(self.r.sum(1) - dist, 0.0)
            if not (left > 0).any():
                return
            self.p[:, ball] += sign * left[:, None] * dp / np.maximum(dist, 1e-12)[:, None]
            self._clamp()
            self.resting &= self.p[..., 1] - self.r <= 1e-12  # a ball lifted off the floor flies

    def _clamp(self) -> None:
        lo = self.r[..., None]
        hi = np.array([self.box.width, self.box.height]) - self.r[..., None]
        self.p = np.clip(self.p, lo, hi)


def simulate(worlds, balls: Balls, n_steps: int, dt: float = 1 / 30, substeps: int = 1,
             box: Box = Box(), t0: float = 0.0) -> np.ndarray:  # fmt: skip
    """Trajectories (B, n_steps + 1, n, 4): x, y, vx, vy of every ball at every frame, the start
    included. `worlds` is one World for all B trajectories or a list of B."""
    if n_steps < 0 or not dt > 0 or substeps < 1:
        raise ValueError(
            f"need n_steps >= 0, dt > 0, substeps >= 1; got {n_steps}, {dt}, {substeps}"
        )
    balls = balls.check(box)
    law = _stack(worlds, balls.radius.shape[0])
    world = lambda t: law["gravity"] * (1 + law["wave"] * np.sin(law["omega"] * t))  # noqa: E731
    sim = _Sim(balls, law, box)
    sim.resting = (sim.p[..., 1] - sim.r <= 1e-12) & (sim.v[..., 1] == 0)
    out = np.empty((len(sim.r), n_steps + 1, sim.n, 4))
    out[:, 0] = np.concatenate([sim.p, sim.v], -1)
    h = dt / substeps
    for step in range(n_steps):
        for s in range(substeps):
            t = t0 + step * dt + s * h
            decay = np.exp(-law["damping"] * h / 2)[:, None, None]
            sim.v *= decay
            sim.drift(h, world(t + h / 2))
            sim.v *= decay
        out[:, step + 1] = np.concatenate([sim.p, sim.v], -1)
    return out


def energy(traj: np.ndarray, mass: np.ndarray, worlds, dt: float = 1 / 30, t0: float = 0.0):
    """Kinetic plus potential energy (B, T) in joules; potential m g(t) y, y from the floor."""
    law = _stack(worlds, traj.shape[0])
    t = t0 + dt * np.arange(traj.shape[1])
    g = law["gravity"][:, None] * (1 + law["wave"][:, None] * np.sin(law["omega"][:, None] * t))
    kinetic = 0.5 * (mass[:, None, :] * (traj[..., 2] ** 2 + traj[..., 3] ** 2)).sum(-1)
    return kinetic + (mass[:, None, :] * traj[..., 1]).sum(-1) * g


# The training worlds: gravity from Mars to Earth; the other laws in these ranges.
TRAIN = {"gravity": (3.7, 9.8), "friction": (0.0, 0.3), "restitution": (0.6, 1.0),
         "damping": (0.0, 0.2)}  # fmt: skip
SPLITS = ("iid", "near", "moon", "jupiter", "timevarying")
MOON, JUPITER, NEAR = 1.6, 24.8, 0.10  # m/s^2, m/s^2, fraction beyond the training range
WAVE, OMEGA = 0.3, 0.5  # time-varying gravity: g0 (1 + 0.3 sin(0.5 t))


def draw_worlds(split: str, n: int, rng: np.random.Generator) -> list[World]:
    """n worlds of a split. Friction, restitution and damping always come from TRAIN; gravity:
    iid from TRAIN, near up to NEAR beyond its top, moon and jupiter fixed, timevarying a TRAIN
    g0 modulated by WAVE and OMEGA."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    law = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in TRAIN.items()}
    top = TRAIN["gravity"][1]
    law["gravity"] = {
        "iid": law["gravity"],
        "near": rng.uniform(top, top * (1 + NEAR), n),
        "moon": np.full(n, MOON),
        "jupiter": np.full(n, JUPITER),
        "timevarying": law["gravity"],
    }[split]
    wave = WAVE if split == "timevarying" else 0.0
    laws = zip(law["gravity"], law["friction"], law["restitution"], law["damping"], strict=True)
    return [World(float(g), float(f), float(e), float(d), wave, OMEGA) for g, f, e, d in laws]


@dataclass
class Trajectories:
    """n trajectories as one array: states (n, T, 2, 4), the second ball zero where absent."""

    states: np.ndarray
    present: np.ndarray  # (n, 2) bool
    radius: np.ndarray  # (n, 2), 0 where absent
    mass: np.ndarray  # (n, 2), 0 where absent
    worlds: list[World]
    dt: float

    def __len__(self) -> int:
        return len(self.worlds)

    def subset(self, rows, n_frames: int | None = None) -> Trajectories:
        """Some trajectories (and only their first n_frames frames)."""
        rows = np.asarray(rows)
        s = self.states[rows] if n_frames is None else self.states[rows, :n_frames]
        return Trajectories(s, self.present[rows], self.radius[rows], self.mass[rows],
                            [self.worlds[i] for i in rows], self.dt)  # fmt: skip

    def groups(self):
        """(k, rows) for the trajectories with k = 1 and k = 2 balls (the simulator wants one k)."""
        for k in (1, 2):
            rows = np.flatnonzero(self.present.sum(1) == k)
            if len(rows):
                yield k, rows

    def balls(self, rows, k: int, t: int) -> Balls:
        """The k-ball trajectories `rows` at frame t, as simulator input."""
        s = self.states[rows, t, :k]
        return Balls(s[..., :2], s[..., 2:], self.radius[rows, :k], self.mass[rows, :k])

    def rerun(self, worlds: list[World], box: Box = Box()) -> Trajectories:
        """The same starting states under other worlds, for as many frames as these have."""
        if len(worlds) != len(self):
            raise ValueError(f"{len(worlds)} worlds for {len(self)} trajectories")
        out = Trajectories(np.zeros_like(self.states), self.present.copy(), self.radius,
                           self.mass, list(worlds), self.dt)  # fmt: skip
        steps = self.states.shape[1] - 1
        for k, rows in self.groups():
            chosen = [worlds[i] for i in rows]
            out.states[rows, :, :k] = simulate(
                chosen, self.balls(rows, k, 0), steps, self.dt, box=box
            )
        return out


def dataset(split: str, n: int, seed: int, n_steps: int = 300, dt: float = 1 / 30,
            box: Box = Box()) -> Trajectories:  # fmt: skip
    """n trajectories of a split, half with one ball and half with two, from one seed."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if n < 2:
        raise ValueError(f"need at least 2 trajectories (one of each ball count), got {n}")
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    worlds = draw_worlds(split, n, rng)
    states = np.zeros((n, n_steps + 1, 2, 4))
    present, radius, mass = np.zeros((n, 2), bool), np.zeros((n, 2)), np.zeros((n, 2))
    for n_balls, rows in ((1, np.arange(0, n, 2)), (2, np.arange(1, n, 2))):
        balls = random_balls(len(rows), n_balls, rng, box)
        traj = simulate([worlds[i] for i in rows], balls, n_steps, dt, box=box)
        states[rows, :, :n_balls] = traj
        present[rows, :n_balls] = True
        radius[rows, :n_balls], mass[rows, :n_balls] = balls.radius, balls.mass
    return Trajectories(states, present, radius, mass, worlds, dt)


def paired_splits(n: int, seed: int, n_steps: int = 300, dt: float = 1 / 30,
                  splits=SPLITS) -> dict[str, Trajectories]:  # fmt: skip
    """Every split from the same starting states and the same friction, restitution and damping
    (the iid draw of `dataset`), differing only in gravity: near draws its own values beyond the
    training range, Moon and Jupiter are fixed, timevarying modulates the iid gravity."""
    unknown = [s for s in splits if s not in SPLITS]
    if unknown:
        raise ValueError(f"unknown split {unknown[0]!r}; known: {', '.join(SPLITS)}")
    base = dataset("iid", n, seed, n_steps, dt)
    rng = np.random.default_rng([seed, len(SPLITS)])  # a stream of its own: near's gravity
    top = TRAIN["gravity"][1]
    near = rng.uniform(top, top * (1 + NEAR), n)
    out = {}
    for split in splits:
        worlds = []
        for i, w in enumerate(base.worlds):
            g = {"iid": w.gravity, "near": near[i], "moon": MOON, "jupiter": JUPITER,
                 "timevarying": w.gravity}[split]  # fmt: skip
            wave = WAVE if split == "timevarying" else 0.0
            worlds.append(World(float(g), w.friction, w.restitution, w.damping, wave, OMEGA))
        out[split] = base if split == "iid" else base.rerun(worlds)
    return out
