"""A learned simulator of the ball worlds (06_physics): no equations of motion, told the laws.

It predicts, for every ball and frame, a change of velocity dv and a position correction dx, and
the frame is advanced outside the network: v' = v + dv, x' = x + dt v + dx. What it is given:

- *Integration outside the network* (the update above) and the state it acts on.
- *A graph over balls and walls* (as in graph network simulators): the prediction for a ball is
  the sum of a node function of its own velocity and radius and one edge function per wall or
  ball it is near; far edges contribute nothing. An edge is near when its gap is under
  `REACH_M` plus `REACH_FRAMES` frames of straight-line approach (a hand-written connectivity
  rule, like a graph network simulator's connectivity radius). The four walls share one edge
  function, read in the wall's own frame (normal, tangent) with the wall's identity as an input;
  the other ball's edge is read in the frame of the line between the centres. Each edge is told
  its time to contact at the current velocities and whether that falls within this frame (a
  hand-written flag, law-free). Balls are interchangeable by construction.
- *Each edge is told where the node function's flight would leave it* (`flight_gaps`): its gap
  at the end of the frame if the balls flew as the node function predicts, ignoring every edge,
  and whether that gap is closed (the flight reaches the wall or the other ball within the frame).
  A hand-written comparison of the prediction with the geometry; the flight itself, gravity's
  pull included, is the node function's learned prediction from the laws it is told. Without it
  an edge must locate, from its inputs, where gravity's pull within the frame turns a contact
  due 1.1 frames ahead at the current velocity into one within this frame: a sharp boundary that
  its smooth functions blurred into part of a bounce a frame early.
- *Two wall contacts within a frame act in the order they happen* (a hand-written composition
  rule, a rough version of how an event-driven simulator resolves them): where the flight reaches
  two walls within the frame (a corner), the later wall's edge reads the velocity before the
  frame plus the earlier wall edge's change (`wall_state`; the node function's own change and the
  gap's shrinking up to the first contact are left out), not the velocity before either. Summed
  independently, the two edges each applied their friction to the velocity before the other's
  reflection, and a corner could send a ball off faster than it came. A wall and the other ball
  within one frame are still summed independently. Corners are rare in training (a few in ten
  thousand ball-frames), so the later edge reads states its function rarely learned from.
- *Laws enter every function multilinearly.* A function outputs coefficients, one set per term
  of phi(laws) = [1, each law, each product of two different laws] (11 terms, laws scaled to
  about 1 by their training ranges), and its prediction is their sum weighted by phi: affine in
  each law with the others fixed. Which direction gravity pulls, how damping slows a flight, how
  much of a bounce restitution keeps: each is a coefficient the network computes from the state,
  learned. No term adds a law's effect to the prediction by hand.
- *Edges in units of their own speed* (`units=True`, the default with multilinear laws). A
  contact looks nearly the same when every length and gravity are scaled by one factor and time
  is not: that is what the units of the quantities say (dimensional analysis), not a law of these
  worlds; only the world's few fixed lengths (the box, the resting threshold, the connectivity
  reach) do not scale. So an edge reads its state in units of a speed scale S = |v| + g dt (v:
  the velocity along and across the edge's normal, g: the gravity it is told), its inputs left
  unchanged by that scaling (gap / (S dt), v / S, g dt / S, the time to contact in frames, the
  gap after the flight over S dt), and its prediction is S times the network's output, taking
  friction, restitution and damping (per second) multilinearly: phi's 7 terms without gravity.
  Gravity enters an edge through that scale, a hand-written use of a law (the graph's own inputs
  stay law-free); how a bounce, friction or a resting contact acts is learned. A contact under
  Jupiter's gravity, faster than any in training, then reads like a slower one under Earth's.

What it learns: the node and edge functions (MLPs), from one-frame transitions of training worlds.
The node function learns from frames with no near edge only; edges learn what the node function
leaves (the two are told apart by the connectivity rule, not by the data).

`units=False` is the ablation of the edges' units: every edge reads raw speeds and gaps (the gap
after the flight over the gap's spread in training) and takes all four laws multilinearly, gravity
as one more law. `law_mode="input"` ablates the multilinear entry: the same graph, its edges raw
unless `units=True` is asked, the laws as more inputs of every function (the three but gravity
for edges in units) and one output set, the way the conditioned step model takes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import torch
from torch import nn

from distinv import physics
from distinv.physics.dynamics import LAWS, LOGGED, StepRecipe, law_arrays, train_logged
from distinv.seed import seed_everything

SCALE = np.array([10.0, 0.3, 1.0, 0.2])  # each law divided by about its training maximum
LAW_MODES = ("multilinear", "input")
N_TERMS = 11  # phi(laws): 1, four laws, six products of two
REACH_M, REACH_FRAMES = 0.05, 2.0  # an edge is near within this gap plus frames of approach
TTC_CAP = 3.0  # frames: times to contact are capped here
NODE_IN, WALL_IN, PAIR_IN = 3, 10, 8  # features of a node, a wall edge, a pair edge (`graph`)
WALL_UNITS_IN, PAIR_UNITS_IN = 10, 9  # the same in units of the edge's speed (`in_units`)
FLIGHT_IN = 2  # an edge's gap after the frame in the node's flight, and whether that closes it
OTHER_TERMS = [0, 2, 3, 4, 8, 9, 10]  # phi's terms without gravity (edges in units take these)
GRAPH_VERSION = 4  # what a saved simulator's network was built for (older ones are refused)
UNIT_SPEED = 3.0  # m/s: an edge in units predicts S / UNIT_SPEED times its network's output
GAP_FRAMES = (-2.0, 10.0)  # gap / (S dt) is clipped here (frames of travel at speed S)
NORMALS = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, -1.0], [0.0, 1.0]])  # left, right, floor, top


def basis(laws: np.ndarray) -> np.ndarray:
    """phi(laws): (k, 11) from (k, 4) laws, scaled: 1, the four laws, the six products of two."""
    z = np.asarray(laws, dtype=float) / SCALE
    pairs = [z[:, i] * z[:, j] for i, j in combinations(range(4), 2)]
    return np.column_stack([np.ones(len(z)), z, *pairs])


def _ttc(gap: np.ndarray, speed: np.ndarray, dt: float) -> np.ndarray:
    """Frames until a gap closes at a constant approach speed, capped at TTC_CAP."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(speed > 0, np.maximum(gap, 0) / speed / dt, np.inf)
    return np.minimum(np.nan_to_num(t, nan=TTC_CAP, posinf=TTC_CAP), TTC_CAP)


BOX = physics.Box()


def graph(s: np.ndarray, radius: np.ndarray, mass: np.ndarray, present: np.ndarray, dt: float,
          box: physics.Box = BOX) -> dict[str, np.ndarray]:  # fmt: skip
    """The graph of one frame for k trajectories from states (k, 2, 4):

    - node (k, 2, 3): velocity, radius;
    - wall (k, 2, 4, 10): per wall, in its frame: gap, approach speed (along the outward normal),
      tangential speed, time to contact (frames), whether that contact falls within this frame
      (time to contact at most one frame: 1 or 0), radius, the wall's identity (4);
    - wall_on (k, 2, 4): which walls are near; wall_frame (4, 2, 2): normal and tangent;
    - pair (k, 2, 8): the other ball in the frame of the line of centres: gap, approach speed,
      tangential relative speed, time to contact, whether it falls within this frame, own and
      other radius, the other's share of the pair's mass; pair_on (k, 2); pair_frame (k, 2, 2, 2).

    Times to contact assume the current velocities (no law enters the graph). The within-frame
    flag is a step function of the time to contact, which a network of smooth units would
    otherwise have to approximate (during development, on the validation sets, a bounce due about
    one frame ahead was predicted as the average of bouncing and not, and the ball lost it)."""
    p, v, r = s[..., :2], s[..., 2:], radius
    k = len(s)
    gaps = np.stack(  # (k, 2, 4): left, right, floor, top
        [p[..., 0] - r, box.width - r - p[..., 0], p[..., 1] - r, box.height - r - p[..., 1]], -1
    )
    tangents = NORMALS[:, ::-1] * np.array([-1.0, 1.0])  # (-n_y, n_x)
    vn = v @ NORMALS.T  # (k, 2, 4): speed towards each wall
    vt = v @ tangents.T
    ident = np.broadcast_to(np.eye(4), (k, 2, 4, 4))
    ttc = _ttc(gaps, vn, dt)
    wall = np.concatenate(
        [np.stack([gaps, vn, vt, ttc, ttc <= 1, np.broadcast_to(r[..., None], gaps.shape)], -1),
         ident],
        -1,
    )  # fmt: skip
    wall_on = (gaps <= REACH_M + REACH_FRAMES * dt * np.maximum(vn, 0)) & present[..., None]
    # The other ball, from each ball's side.
    dp, dv = p[:, ::-1] - p, v[:, ::-1] - v
    dist = np.linalg.norm(dp, axis=-1)
    n = dp / np.maximum(dist, 1e-12)[..., None]
    t = np.stack([-n[..., 1], n[..., 0]], -1)
    gap = dist - r.sum(1)[:, None]
    approach = -(dv * n).sum(-1)
    both = present.all(1)[:, None] & present
    share = mass[:, ::-1] / np.maximum(mass.sum(1)[:, None], 1e-12)
    ttc = _ttc(gap, approach, dt)
    pair = np.stack([gap, approach, (dv * t).sum(-1), ttc, ttc <= 1, r, r[:, ::-1], share],
                    -1) * both[..., None]  # fmt: skip
    pair_on = both & (gap <= REACH_M + REACH_FRAMES * dt * np.maximum(approach, 0))
    return {
        "node": np.concatenate([v, r[..., None]], -1),
        "wall": wall,
        "wall_on": wall_on,
        "wall_frame": np.stack([NORMALS, tangents], 1),
        "pair": pair,
        "pair_on": pair_on,
        "pair_frame": np.stack([n, t], -2),
    }


def _mlp(n_in: int, n_out: int, width: int, depth: int) -> nn.Sequential:
    layers, d = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(d, width), nn.SiLU()]
        d = width
    return nn.Sequential(*layers, nn.Linear(d, n_out))


def in_units(x: torch.Tensor, laws: torch.Tensor, name: str, dt: float):
    """An edge's features (`graph`: wall (..., 10) or pair (..., 8)) and its told laws (k, 4),
    scaled as `Net` takes them, in units of the edge's speed scale S = |v| + g dt: returns the
    unit-free inputs (..., 10) or (..., 9) and S (...). Walls: gap / (S dt) (clipped to
    GAP_FRAMES, over 5), v_n / S, v_t / S, g dt / S, time to contact / TTC_CAP, the within-frame
    flag, the wall's identity; pairs the same up to the flag, then the own radius's share of the
    two, (r + r') / (S dt) (clipped to 20, over 10) and the other's mass share. The other three
    laws are not among them: `Net` takes them multilinearly (or as inputs)."""
    shape = (len(laws),) + (1,) * (x.dim() - 2)
    g = (laws[:, 0] * float(SCALE[0])).clamp_min(0).view(shape)
    vn, vt = x[..., 1], x[..., 2]
    S = torch.sqrt(vn**2 + vt**2) + g * dt + 1e-3
    cols = [(x[..., 0] / (S * dt)).clamp(*GAP_FRAMES) / 5, vn / S, vt / S, g * dt / S,
            x[..., 3] / TTC_CAP, x[..., 4]]  # fmt: skip
    cols = [c[..., None] for c in cols]
    if name == "wall":
        cols.append(x[..., 6:10])
    else:
        both = x[..., 5] + x[..., 6]
        cols += [(x[..., 5] / both.clamp_min(1e-9))[..., None],
                 ((both / (S * dt)).clamp(0, 20) / 10)[..., None], x[..., 7:8]]  # fmt: skip
    return torch.cat(cols, -1), S


def flight_gaps(g: dict, node: torch.Tensor, dt: float,
                v: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """Each edge's gap at the end of the frame if every ball flew as the node function predicts
    (moved by v dt plus its position change, `node[..., 2:]`; v the graph's velocities unless
    given, (k, 2, 2)), the other edges ignored: walls
    (k, 2, 4) along their normal; pairs (k, 2) between the balls' surfaces (the distance of the
    centres less both radii; meaningless where the other ball is absent, which no edge reads). At
    or below zero, the flight reaches the wall or the other ball within the frame."""
    fly = (g["node"][..., :2] if v is None else v) * dt + node[..., 2:]  # (k, 2, 2)
    wall = g["wall"][..., 0] - torch.einsum("kbd,wd->kbw", fly, g["wall_frame"][:, 0])
    pair, reach = g["pair"], g["pair"][..., 5] + g["pair"][..., 6]
    centres = (pair[..., 0] + reach)[..., None] * g["pair_frame"][..., 0, :] + fly.flip(1) - fly
    return wall, centres.norm(dim=-1) - reach


def wall_state(g: dict, v: torch.Tensor, dt: float) -> torch.Tensor:
    """The wall features of `graph` (k, 2, 4, 10) with the speeds, time to contact and
    within-frame flag read from velocities v (k, 2, 2) instead; gaps, radius, identity kept."""
    vn = torch.einsum("kbd,wd->kbw", v, g["wall_frame"][:, 0])
    vt = torch.einsum("kbd,wd->kbw", v, g["wall_frame"][:, 1])
    gap = g["wall"][..., 0]
    ttc = torch.where(vn > 0, gap.clamp_min(0) / (vn.clamp_min(1e-12) * dt), TTC_CAP)
    ttc = ttc.clamp_max(TTC_CAP)
    x = g["wall"].clone()
    x[..., 1], x[..., 2], x[..., 3], x[..., 4] = vn, vt, ttc, (ttc <= 1).float()
    return x


class Net(nn.Module):
    """Node, wall and pair functions; each outputs (dv, dx) in its own frame per law term (edges
    in units: per term of the laws but gravity, times their speed scale)."""

    def __init__(self, law_mode: str, width: int = 128, depth: int = 3, units: bool = False,
                 dt: float = 1 / 30):  # fmt: skip
        super().__init__()
        self.law_mode, self.units, self.dt = law_mode, units, dt
        self.graph_version = GRAPH_VERSION
        told = law_mode == "input"
        self.terms = N_TERMS if law_mode == "multilinear" else 1
        self.node = _mlp(NODE_IN + 4 * told, 4 * self.terms, width, depth)
        if units:  # gravity enters through the speed scale; the other three laws as below
            terms = len(OTHER_TERMS) if law_mode == "multilinear" else 1
            self.wall = _mlp(WALL_UNITS_IN + FLIGHT_IN + 3 * told, 4 * terms, width, depth)
            self.pair = _mlp(PAIR_UNITS_IN + FLIGHT_IN + 3 * told, 4 * terms, width, depth)
        else:
            self.wall = _mlp(WALL_IN + FLIGHT_IN + 4 * told, 4 * self.terms, width, depth)
            self.pair = _mlp(PAIR_IN + FLIGHT_IN + 4 * told, 4 * self.terms, width, depth)
        for name, n in (("node", NODE_IN), ("wall", WALL_IN), ("pair", PAIR_IN)):
            self.register_buffer(f"{name}_mean", torch.zeros(n))
            self.register_buffer(f"{name}_std", torch.ones(n))
        self.register_buffer("free_std", torch.ones(4))  # output scales without / with near edges
        self.register_buffer("near_std", torch.ones(4))

    def _apply(self, fn, x, laws, phi, name, after=None):
        """A node or edge function on its features x (`graph`), told laws (k, 4) and their terms
        phi (k, 11); an edge also on its gap after the frame in the node's flight (`after`)."""
        if self.units and name != "node":
            x, speed = in_units(x, laws, name, self.dt)
            gap = after / (speed * self.dt)
            scale, laws, phi = (speed / UNIT_SPEED)[..., None], laws[:, 1:], phi[:, OTHER_TERMS]
        else:
            x = (x - getattr(self, f"{name}_mean")) / getattr(self, f"{name}_std")
            gap = None if after is None else after / getattr(self, f"{name}_std")[0]
            scale = 1.0
        if after is not None:
            flight = [(gap.clamp(*GAP_FRAMES) / 5)[..., None], (after <= 0).float()[..., None]]
            x = torch.cat([x, *flight], -1)
        if self.law_mode == "input":
            told = laws.view(len(laws), *[1] * (x.dim() - 2), -1).expand(*x.shape[:-1], -1)
            return fn(torch.cat([x, told], -1)) * scale
        out = fn(x).view(*x.shape[:-1], phi.shape[-1], 4)
        return (out * phi.view(len(phi), *[1] * (x.dim() - 2), phi.shape[-1], 1)).sum(-2) * scale

    def _edges(self, fn, x, on, laws, phi, name, after):
        """An edge function on its near edges only (far ones contribute nothing, and are most of
        them), in physical units; zero elsewhere. (..., 4) like x's leading dimensions."""
        out = x.new_zeros(*x.shape[:-1], 4)
        if on.any():
            rows = on.nonzero()[:, 0]  # each near edge's trajectory
            out[on] = self._apply(fn, x[on], laws[rows], phi[rows], name, after[on]) * self.near_std
        return out

    def spread(self, near: torch.Tensor) -> torch.Tensor:
        """(k, 2, 4): the spread of the targets it learned, near an edge or in free flight."""
        return torch.where(near[..., None], self.near_std, self.free_std)

    def forward(self, g: dict, laws: torch.Tensor, phi: torch.Tensor, detach_node: bool = False):
        """(k, 2, 4): dv and dx per ball, in physical units; also whether any edge is near."""
        node = self._apply(self.node, g["node"], laws, phi, "node") * self.free_std
        near = g["wall_on"].any(-1) | g["pair_on"]
        if detach_node:  # a frame with a near edge teaches the edges, not the node function
            node = torch.where(near[..., None], node.detach(), node)
        wall_after, pair_after = flight_gaps(g, node.detach(), self.dt)
        wall = self._edges(self.wall, g["wall"], g["wall_on"], laws, phi, "wall", wall_after)
        frame = g["wall_frame"]  # (4, 2, 2): normal, tangent per wall
        closed = g["wall_on"] & (wall_after <= 0)  # walls the flight reaches within the frame
        corner = closed.sum(-1, keepdim=True) >= 2  # (k, 2, 1)
        if corner.any():  # the later contact reads what the first left
            gap = g["wall"][..., 0]
            when = gap.clamp_min(0) / (gap - wall_after).clamp_min(1e-12)  # fraction of frame
            first = torch.where(closed, when, torch.inf).argmin(-1)  # (k, 2); a tie: lower wall
            dv = torch.einsum("kbwc,wcd->kbwd", wall[..., :2].detach(), frame)
            v1 = (
                g["node"][..., :2]
                + dv.gather(2, first[..., None, None].expand(-1, -1, 1, 2))[:, :, 0]
            )
            after2 = flight_gaps(g, node.detach(), self.dt, v1)[0]
            later = closed & corner & (torch.arange(4) != first[..., None])
            wall2 = self._edges(self.wall, wall_state(g, v1, self.dt), later, laws, phi, "wall",
                                after2)  # fmt: skip
            wall = torch.where(later[..., None], wall2, wall)
        wall_v = torch.einsum("kbwc,wcd->kbd", wall[..., :2], frame)
        wall_x = torch.einsum("kbwc,wcd->kbd", wall[..., 2:], frame)
        pair = self._edges(self.pair, g["pair"], g["pair_on"], laws, phi, "pair", pair_after)
        pf = g["pair_frame"]  # (k, 2, 2, 2)
        pair_v = torch.einsum("kbc,kbcd->kbd", pair[..., :2], pf)
        pair_x = torch.einsum("kbc,kbcd->kbd", pair[..., 2:], pf)
        return node + torch.cat([wall_v + pair_v, wall_x + pair_x], -1), near


def _tensors(g: dict) -> dict:
    return {k: torch.tensor(v, dtype=torch.bool if v.dtype == bool else torch.float32)
            for k, v in g.items()}  # fmt: skip


@dataclass(frozen=True)
class Recipe(StepRecipe):
    """The step models' recipe, with the learning rate decaying to zero over the steps."""

    cosine: bool = True


def _laws_at(worlds, rows, frames, dt) -> np.ndarray:
    """(k, 4): g at each frame's time, friction, restitution, damping."""
    out = law_table([worlds[i] for i in rows])
    out[:, 0] = [worlds[i].g(f * dt) for i, f in zip(rows, frames, strict=True)]
    return out


def law_table(worlds) -> np.ndarray:
    """(n, 4): each world's constant laws (g0 for time-varying gravity), in LAWS order."""
    w = law_arrays(worlds)
    return np.stack([w[k] for k in LAWS], 1).reshape(-1, len(LAWS))


def _law_rows(laws, n: int) -> np.ndarray:
    """`laws` as an (n, 4) float array; a ValueError unless that is its shape and all are finite."""
    L = np.asarray(laws, dtype=float)
    if L.shape != (n, 4) or not np.isfinite(L).all():
        raise ValueError(f"need finite laws for {n} trajectories, got shape {L.shape}")
    return L


def _index(g: dict, idx) -> dict:
    return {k: (v if k == "wall_frame" else v[idx]) for k, v in g.items()}


class LearnedSimulator:
    """Learned from one-frame transitions of training worlds; rolled out from its own predictions,
    told the laws of each trajectory (constant in time). `units`: the edges read their state in
    units of their own speed (the module's docstring; False: raw; None, the default: units with
    multilinear laws, raw with laws as inputs)."""

    def __init__(self, recipe: Recipe = Recipe(), seed: int = 0, law_mode: str = "multilinear",
                 units: bool | None = None):  # fmt: skip
        if law_mode not in LAW_MODES:
            raise ValueError(f"unknown law_mode {law_mode!r}; known: {', '.join(LAW_MODES)}")
        units = law_mode == "multilinear" if units is None else bool(units)
        self.recipe, self.seed, self.law_mode, self.units = recipe, seed, law_mode, units
        self.net: Net | None = None
        self.history: list[dict] = []

    @staticmethod
    def targets(s0: np.ndarray, s1: np.ndarray, dt: float) -> np.ndarray:
        """What the network must predict, (k, 2, 4): dv = v' - v and dx = x' - x - dt v."""
        dv = s1[..., 2:] - s0[..., 2:]
        return np.concatenate([dv, s1[..., :2] - s0[..., :2] - dt * s0[..., 2:]], -1)

    def fit(self, data: physics.Trajectories) -> LearnedSimulator:
        seed_everything(self.seed)
        T = data.states.shape[1]
        rows, frames = np.repeat(np.arange(len(data)), T - 1), np.tile(np.arange(T - 1), len(data))
        s0, s1 = data.states[rows, frames], data.states[rows, frames + 1]
        G = _tensors(graph(s0, data.radius[rows], data.mass[rows], data.present[rows], data.dt))
        laws = _laws_at(data.worlds, rows, frames, data.dt)
        L = torch.tensor(laws / SCALE, dtype=torch.float32)
        P = torch.tensor(basis(laws), dtype=torch.float32)
        Y = torch.tensor(self.targets(s0, s1, data.dt), dtype=torch.float32)
        M = torch.tensor(data.present[rows], dtype=torch.bool)
        net = self.net = Net(self.law_mode, self.recipe.width, self.recipe.depth, self.units,
                             data.dt)  # fmt: skip
        near = G["wall_on"].any(-1) | G["pair_on"]
        for name, x, on in (("node", G["node"], M), ("wall", G["wall"], G["wall_on"]),
                            ("pair", G["pair"], G["pair_on"])):  # fmt: skip
            x = x[on] if on.any() else x.reshape(-1, x.shape[-1])
            getattr(net, f"{name}_mean").copy_(x.mean(0))
            getattr(net, f"{name}_std").copy_(x.std(0).clamp_min(1e-6))
        for name, on in (("free_std", M & ~near), ("near_std", M & near)):
            if on.any():
                getattr(net, name).copy_(Y[on].std(0).clamp_min(1e-6))
        scale = net.spread(near)  # (k, 2, 4)
        gen = torch.Generator().manual_seed(self.seed)
        fixed = torch.randint(len(Y), (LOGGED,), generator=gen)

        def loss_on(idx):
            pred, _ = net(_index(G, idx), L[idx], P[idx], detach_node=True)
            err = ((pred - Y[idx]) / scale[idx]).pow(2).sum(-1)
            return (err * M[idx]).sum() / M[idx].sum()

        self.history = train_logged(
            net,
            loss_on,
            len(Y),
            gen,
            fixed,
            self.recipe,
            f"learned ({self.law_mode}{', units' if self.units else ''})",
            cosine=self.recipe.cosine,
        )
        return self

    @torch.no_grad()
    def step(self, s: np.ndarray, data: physics.Trajectories, laws: np.ndarray) -> np.ndarray:
        """One frame for every trajectory: states (n, 2, 4) -> (n, 2, 4); `laws` (n, 4)."""
        self._ready(data.dt)
        return self._step(s, data, *self._told(laws))

    def _ready(self, dt: float) -> None:
        """Refuse, in one line, a simulator never fitted, saved with an older graph, or asked for
        frames of another length than it learned; put the network in evaluation mode."""
        if self.net is None:
            raise RuntimeError("step before fit")
        if getattr(self.net, "graph_version", 0) != GRAPH_VERSION:
            raise ValueError(
                "this learned simulator was saved by an older distinv (another graph): run "
                "06_physics again"
            )
        if not np.isclose(dt, self.net.dt, rtol=1e-9, atol=0):
            raise ValueError(f"this learned simulator learned frames of {self.net.dt:.6g} s; "
                             f"these trajectories have {dt:.6g} s")  # fmt: skip
        self.net.eval()

    def _told(self, laws: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """The laws as the network takes them: scaled, and their terms phi."""
        return (torch.tensor(laws / SCALE, dtype=torch.float32),
                torch.tensor(basis(laws), dtype=torch.float32))  # fmt: skip

    @torch.no_grad()
    def _step(self, s, data, laws_t, phi_t) -> np.ndarray:
        G = _tensors(graph(s, data.radius, data.mass, data.present, data.dt))
        out = self.net(G, laws_t, phi_t)[0].double().numpy()
        v = s[..., 2:] + out[..., :2]
        x = s[..., :2] + data.dt * s[..., 2:] + out[..., 2:]
        return np.where(data.present[..., None], np.concatenate([x, v], -1), 0.0)

    @torch.no_grad()
    def residuals(self, data: physics.Trajectories, laws: np.ndarray, frames: int) -> np.ndarray:
        """How far each of the first `frames` true transitions lies from this simulator's step
        told `laws` (n, 4): (n, frames, 2), per frame the squared error of its prediction summed
        over the balls and its four outputs, in units of the spread it learned (near an edge or in
        free flight) and raw ((m/s)^2 and m^2 summed). An energy in the sense of energy-based
        models: small where the frames follow the laws told."""
        if not 1 <= frames < data.states.shape[1]:
            raise ValueError(f"need 1 <= frames < {data.states.shape[1]} (the trajectories' "
                             f"frames), got {frames}")  # fmt: skip
        self._ready(data.dt)
        told = self._told(_law_rows(laws, len(data)))
        present = torch.as_tensor(data.present, dtype=torch.float32)
        out = np.zeros((len(data), frames, 2))
        for f in range(frames):
            s0, s1 = data.states[:, f], data.states[:, f + 1]
            G = _tensors(graph(s0, data.radius, data.mass, data.present, data.dt))
            pred, near = self.net(G, *told)
            err = pred - torch.as_tensor(self.targets(s0, s1, data.dt), dtype=torch.float32)
            for k, e in enumerate((err / self.net.spread(near), err)):
                out[:, f, k] = (e.pow(2).sum(-1) * present).sum(-1).numpy()
        return out

    def rollout(self, data: physics.Trajectories, start: int, n_steps: int,
                laws: dict | np.ndarray | None = None) -> np.ndarray:  # fmt: skip
        """(n, n_steps + 1, 2, 4) from the true frame `start`, told `laws` ({law: (n,)} or
        (n, 4); default each trajectory's true constant laws, g0 for time-varying gravity)."""
        if isinstance(laws, dict):
            laws = np.stack([np.asarray(laws[k], dtype=float) for k in LAWS], 1)
        L = _law_rows(law_table(data.worlds) if laws is None else laws, len(data))
        self._ready(data.dt)
        told = self._told(L)  # the same every frame
        s = data.states[:, start].copy()
        out = [s]
        for _ in range(n_steps):
            s = self._step(s, data, *told)
            out.append(s)
        return np.stack(out, 1)


EDGE_KINDS = ("free", "wall", "pair")  # what is near a trajectory's balls in a frame


def energy_by_edge(model: LearnedSimulator, data: physics.Trajectories, start: int,
                   n_steps: int) -> dict[str, tuple[int, float]]:  # fmt: skip
    """Where a simulator's energy error arises: one frame at a time from the true state (frames
    start .. start + n_steps - 1, told the true laws; g0 for time-varying gravity), the absolute
    error of the energy after the frame as a fraction of the trajectory's true energy at `start`,
    summed by what is near its balls in that frame: "pair" (the other ball, by `graph`'s rule),
    else "wall", else "free".
    Returns {kind: (frames, summed error)}."""
    if not 0 <= start < start + n_steps < data.states.shape[1]:
        raise ValueError(f"need 0 <= start < start + n_steps < {data.states.shape[1]} frames")
    laws = law_table(data.worlds)
    true = physics.energy(data.states[:, start : start + n_steps + 1], data.mass, data.worlds,
                          data.dt, start * data.dt)  # fmt: skip  # (n, n_steps + 1)
    out = {k: [0, 0.0] for k in EDGE_KINDS}
    for i, t in enumerate(range(start, start + n_steps)):
        s = data.states[:, t]
        pred = model.step(s, data, laws)[:, None]
        e = physics.energy(pred, data.mass, data.worlds, data.dt, (t + 1) * data.dt)[:, 0]
        err = np.abs(e - true[:, i + 1]) / true[:, 0]
        g = graph(s, data.radius, data.mass, data.present, data.dt)
        wall = g["wall_on"].any((1, 2))  # absent balls have no near edge
        kind = np.where(g["pair_on"].any(1), 2, np.where(wall, 1, 0))
        for j, k in enumerate(EDGE_KINDS):
            out[k][0] += int((kind == j).sum())
            out[k][1] += float(err[kind == j].sum())
    return {k: (n, e) for k, (n, e) in out.items()}
