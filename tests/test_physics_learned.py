"""The learned simulator (06_physics): its graph's symmetries, its errors, that it learns how the
gravity it is told acts; paired splits and their intervals."""

import numpy as np
import pytest
import torch

from distinv import cpus, physics, stats
from distinv.physics import dynamics, learned


@pytest.fixture(scope="module")
def small():
    return physics.dataset("iid", 40, 0, n_steps=30)


def test_paired_splits_differ_only_in_gravity():
    splits = physics.paired_splits(8, 3, n_steps=5)
    iid = splits["iid"]
    for name, d in splits.items():
        assert np.array_equal(d.states[:, 0], iid.states[:, 0]), name
        for a, b in zip(d.worlds, iid.worlds, strict=True):
            assert (a.friction, a.restitution, a.damping) == (b.friction, b.restitution, b.damping)
    lo, hi = physics.TRAIN["gravity"]
    assert all(hi <= w.gravity <= hi * (1 + physics.NEAR) for w in splits["near"].worlds)
    assert {w.gravity for w in splits["jupiter"].worlds} == {physics.JUPITER}
    assert all(w.wave == physics.WAVE for w in splits["timevarying"].worlds)
    assert not np.array_equal(splits["moon"].states, iid.states)
    with pytest.raises(ValueError, match="unknown split 'mars'"):
        physics.paired_splits(4, 0, 5, splits=("iid", "mars"))


def test_paired_interval_is_narrower_than_the_independent_one():
    rng = np.random.default_rng(0)
    den = rng.lognormal(0, 1, 200)  # heavy-tailed, like rollout errors
    num = 1.5 * den * rng.uniform(0.9, 1.1, 200)  # the same items, a bit worse
    lo, hi = stats.ratio_interval(num, den, paired=True)
    ilo, ihi = stats.ratio_interval(num, den)
    assert lo <= 1.5 <= hi and hi - lo < (ihi - ilo) / 3, (lo, hi, ilo, ihi)
    with pytest.raises(ValueError, match="paired samples"):
        stats.ratio_interval(num, den[:-1], paired=True)


def test_swapping_the_balls_swaps_the_prediction(small):
    """One shared function per node and edge: the balls are interchangeable by construction."""
    torch.manual_seed(0)
    model = learned.LearnedSimulator(learned.Recipe(steps=1), 0).fit(small)
    two = small.subset(np.flatnonzero(small.present.all(1)))
    laws = learned.law_table(two.worlds)
    s = two.states[:, 3]
    swapped = physics.Trajectories(two.states[:, :, ::-1].copy(), two.present[:, ::-1].copy(),
                                   two.radius[:, ::-1].copy(), two.mass[:, ::-1].copy(),
                                   two.worlds, two.dt)  # fmt: skip
    a = model.step(s, two, laws)
    b = model.step(s[:, ::-1].copy(), swapped, laws)
    assert np.abs(a - b[:, ::-1]).max() < 1e-5


def test_each_edge_is_told_whether_its_contact_falls_within_the_frame():
    """Ball 0 falls at 6 m/s, its floor contact half a frame ahead; ball 1, beside it at the same
    height, falls at 2 m/s (its floor contact one and a half frames ahead) and approaches ball 0
    sideways at 3 m/s, a quarter of a frame ahead. In the second trajectory ball 1 is absent: the
    pair edge says nothing."""
    dt, r = 1 / 30, 0.2
    s = np.zeros((2, 2, 4))
    s[:, 0] = [1.0, r + 0.5 * 6 * dt, 0.0, -6.0]
    s[:, 1] = [1.0 + 2 * r + 0.25 * 3 * dt, r + 0.5 * 6 * dt, -3.0, -2.0]
    present = np.array([[True, True], [True, False]])
    g = learned.graph(s, np.full((2, 2), r), np.ones((2, 2)), present, dt)
    assert g["wall"].shape[-1] == learned.WALL_IN and g["pair"].shape[-1] == learned.PAIR_IN
    floor_ttc, floor_flag = g["wall"][0, :, 2, 3], g["wall"][0, :, 2, 4]
    assert np.allclose(floor_ttc, [0.5, 1.5]) and floor_flag.tolist() == [1.0, 0.0]
    assert g["wall"][0, :, 3, 4].tolist() == [0.0, 0.0]  # moving away from the top
    assert np.allclose(g["pair"][0, :, 3], 0.25) and g["pair"][0, :, 4].tolist() == [1.0, 1.0]
    assert g["pair"][1, :, 4].tolist() == [0.0, 0.0]


def test_a_simulator_saved_with_the_old_graph_is_refused_in_one_line(small):
    model = learned.LearnedSimulator(learned.Recipe(steps=1), 0).fit(small)
    model.rollout(small, 0, 1)
    model.net.graph_version = learned.GRAPH_VERSION - 1  # as saved before edges were told flight
    with pytest.raises(ValueError, match="saved by an older distinv .* run 06_physics again"):
        model.rollout(small, 0, 1)
    del model.net.graph_version  # as saved before the graph had a version
    with pytest.raises(ValueError, match="saved by an older distinv .* run 06_physics again"):
        model.rollout(small, 0, 1)


def test_an_edge_is_told_its_gap_after_the_frame_in_the_node_functions_flight():
    """Ball 0 falls at 3 m/s, 0.15 m above the floor: at that speed the floor is 1.5 frames away
    (the within-frame flag is off), but the node function's flight (here a position change of
    6 cm further down, an arbitrary value) reaches it within the frame. Ball 1 flies towards
    ball 0 along the line of centres; their gap after the frame is what both flights leave of
    it."""
    dt, r = 1 / 30, 0.1
    s = np.zeros((1, 2, 4))
    s[0, 0] = [1.0, r + 0.15, 0.0, -3.0]
    s[0, 1] = [1.5, r + 0.15, -1.5, 0.0]
    g = learned._tensors(learned.graph(s, np.full((1, 2), r), np.ones((1, 2)),
                                       np.ones((1, 2), bool), dt))  # fmt: skip
    assert g["wall"][0, 0, 2, 4] == 0  # the straight-line flag: no contact in this frame
    node = torch.zeros(1, 2, 4)
    node[0, 0, 3] = -0.06  # ball 0's position change beyond v dt
    node[0, 1, 2] = -0.01  # ball 1's
    wall, pair = learned.flight_gaps(g, node, dt)
    assert wall.shape == (1, 2, 4) and pair.shape == (1, 2)
    assert torch.isclose(wall[0, 0, 2], torch.tensor(0.15 - 0.1 - 0.06, dtype=torch.float32))
    right = learned.BOX.width - r - 1.5 + (1.5 * dt + 0.01)  # ball 1 flies away from it
    assert torch.isclose(wall[0, 1, 1], torch.tensor(right, dtype=torch.float32))
    centres = np.hypot(0.5 - 1.5 * dt - 0.01, 3 * dt + 0.06)  # ball 0 falls meanwhile
    assert torch.allclose(pair[0], torch.tensor(centres - 2 * r, dtype=torch.float32))


def test_wall_state_reads_the_walls_as_the_graph_does_at_other_velocities(small):
    s = small.states[:, 10].copy()
    g = learned._tensors(learned.graph(s, small.radius, small.mass, small.present, small.dt))
    v = np.random.default_rng(0).normal(0, 3, s[..., 2:].shape)
    s[..., 2:] = v
    want = learned.graph(s, small.radius, small.mass, small.present, small.dt)["wall"]
    got = learned.wall_state(g, torch.tensor(v, dtype=torch.float32), small.dt).numpy()
    assert np.allclose(got, want, atol=1e-5)


def test_in_a_corner_the_later_wall_reads_the_velocity_the_first_contact_left():
    """Trajectory 0: ball 0 flies into the bottom-left corner and reaches the floor first (a
    quarter of a frame ahead), then the left wall (three quarters); ball 1 reaches the floor only.
    Trajectory 1: ball 0 flies into the bottom-right corner and reaches the right wall first. The
    later wall's edge is computed from the velocity before the frame plus the earlier wall edge's
    change; a single contact is computed as before."""
    dt, r, width = 1 / 30, 0.2, learned.BOX.width
    s = np.zeros((2, 2, 4))
    s[0, 0] = [r + 0.75 * 4 * dt, r + 0.25 * 8 * dt, -4.0, -8.0]  # floor, then left wall
    s[0, 1] = [5.0, r + 0.25 * 8 * dt, 0.0, -8.0]  # onto the floor only
    s[1, 0] = [width - r - 0.2 * 6 * dt, r + 0.6 * 8 * dt, 6.0, -8.0]  # right wall, then floor
    s[1, 1] = [5.0, 5.0, 0.0, 0.0]  # far from everything
    g = learned._tensors(learned.graph(s, np.full((2, 2), r), np.ones((2, 2)),
                                       np.ones((2, 2), bool), dt))  # fmt: skip
    net = learned.Net("multilinear", width=16, depth=2, units=True, dt=dt)
    for p in net.node[-1].parameters():  # a node function that predicts straight flight
        torch.nn.init.zeros_(p)
    laws = np.array([[9.8, 0.2, 0.8, 0.1], [5.0, 0.1, 0.9, 0.05]])
    L = torch.tensor(laws / learned.SCALE, dtype=torch.float32)
    P = torch.tensor(learned.basis(laws), dtype=torch.float32)
    frame = g["wall_frame"]
    with torch.no_grad():
        pred, _ = net(g, L, P)
        node = net._apply(net.node, g["node"], L, P, "node") * net.free_std
        after, _ = learned.flight_gaps(g, node, dt)

        def edge(k, b, x, gap, wall):
            out = net._apply(net.wall, x[k : k + 1, b, wall], L[k : k + 1], P[k : k + 1],
                             "wall", gap[k : k + 1, b, wall])[0] * net.near_std  # fmt: skip
            return torch.cat([out[:2] @ frame[wall], out[2:] @ frame[wall]])

        def expected(k, b, walls):
            first = edge(k, b, g["wall"], after, walls[0])
            if len(walls) == 1:
                return node[k, b] + first
            v1 = g["node"][..., :2].clone()
            v1[k, b] += first[:2]  # after the earlier contact
            x2 = learned.wall_state(g, v1, dt)
            gap2 = g["wall"][..., 0] - torch.einsum("kbd,wd->kbw", v1 * dt + node[..., 2:],
                                                    frame[:, 0])  # fmt: skip
            assert torch.allclose(gap2, learned.flight_gaps(g, node, dt, v1)[0])
            return node[k, b] + first + edge(k, b, x2, gap2, walls[1])

        closed = g["wall_on"] & (after <= 0)
        cases = {(0, 0): [2, 0], (0, 1): [2], (1, 0): [1, 2]}  # walls in the order reached
        for (k, b), walls in cases.items():
            assert sorted(closed[k, b].nonzero().flatten().tolist()) == sorted(walls)
            assert torch.allclose(pred[k, b], expected(k, b, walls), atol=1e-5), (k, b)
        assert not closed[1, 1].any() and torch.allclose(pred[1, 1], node[1, 1])


def test_a_simulator_refuses_frames_of_another_length(small):
    model = learned.LearnedSimulator(learned.Recipe(steps=1), 0).fit(small)
    other = physics.dataset("iid", 4, 1, n_steps=3, dt=1 / 60)
    with pytest.raises(ValueError, match="learned frames of 0.0333333 s; these .* 0.0166667 s"):
        model.rollout(other, 0, 1)


@pytest.mark.parametrize("name", ["wall", "pair"])
def test_an_edge_in_units_reads_a_scaled_contact_as_the_same_one(name):
    """Lengths and gravity scaled by one factor (time not): every unit-free input is unchanged and
    the speed scale grows by the factor, so the edge predicts a change of velocity and position
    grown by it (an untrained edge here). Gravity left as it was, the inputs change."""
    dt, factor = 1 / 30, 2.5
    rng = np.random.default_rng(0)
    n = 64
    x = torch.tensor(rng.uniform(-1, 1, (n, 2, learned.WALL_IN if name == "wall" else 8)),
                     dtype=torch.float32)  # fmt: skip
    x[..., 0] = torch.tensor(rng.uniform(0, 0.3, (n, 2)))  # gaps
    x[..., 5:7] = 0.2 if name == "pair" else x[..., 5:7]
    laws = torch.tensor(np.column_stack([rng.uniform(3.7, 9.8, n), rng.uniform(0, 0.3, n),
                                         rng.uniform(0.6, 1, n), rng.uniform(0, 0.2, n)])
                        / learned.SCALE, dtype=torch.float32)  # fmt: skip
    scaled, told = x.clone(), laws.clone()
    scaled[..., :3] *= factor  # gap, approach and tangential speed
    if name == "pair":
        scaled[..., 5:7] *= factor  # the radii are lengths too
    told[:, 0] *= factor
    z, speed = learned.in_units(x, laws, name, dt)
    z2, speed2 = learned.in_units(scaled, told, name, dt)
    # the scale's 1 mm/s floor (against speeds of 0.12 m/s and more here) is all that differs
    assert torch.allclose(z, z2, atol=5e-3) and torch.allclose(speed2, factor * speed, rtol=5e-3)
    same_g = laws.clone()
    z3, _ = learned.in_units(scaled, same_g, name, dt)
    assert (z3 - z).abs().max() > 0.05
    phi = torch.tensor(learned.basis(laws.numpy() * learned.SCALE), dtype=torch.float32)
    phi2 = torch.tensor(learned.basis(told.numpy() * learned.SCALE), dtype=torch.float32)
    after = x[..., 0] - 0.1  # the gap after the frame, a length too
    net = learned.Net("multilinear", width=16, depth=2, units=True, dt=dt)
    with torch.no_grad():
        fn = getattr(net, name)
        out = net._apply(fn, x, laws, phi, name, after)
        out2 = net._apply(fn, scaled, told, phi2, name, factor * after)
    assert (out2 - factor * out).abs().max() < 1e-2 * (factor * out).abs().max()


def test_learned_simulator_refuses_bad_input(small):
    with pytest.raises(ValueError, match="unknown law_mode 'additive'"):
        learned.LearnedSimulator(law_mode="additive")
    with pytest.raises(RuntimeError, match="before fit"):
        learned.LearnedSimulator().rollout(small, 0, 2)
    model = learned.LearnedSimulator(learned.Recipe(steps=1), 0).fit(small)
    bad = learned.law_table(small.worlds)
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite laws"):
        model.rollout(small, 0, 2, laws=bad)
    with pytest.raises(ValueError, match="finite laws"):
        model.rollout(small, 0, 2, laws=bad[:3])


def test_learned_simulator_learns_how_gravity_acts():
    """Trained briefly on training-range worlds, its free-flight acceleration follows the gravity
    it is told, Jupiter's included (slope within 0.1 of -1 over 1 to 25 m/s^2); the same graph
    with the laws as plain inputs (the ablation) is trained alike for comparison only."""
    train = physics.dataset("iid", 200, 0, n_steps=100)
    test = physics.dataset("iid", 60, 1, n_steps=25)
    model = learned.LearnedSimulator(learned.Recipe(steps=1500), 0).fit(train)
    loss = [row["fixed_loss"] for row in model.history]
    assert loss[-1] < loss[0] / 10, loss
    g = np.array([1.0, 5.0, 10.0, 25.0])
    slope = np.polyfit(g, dynamics.gravity_response(model, test, 20, g), 1)[0]
    assert abs(slope + 1) < 0.1, slope


def test_fitting_side_by_side_gives_the_models_fitted_one_at_a_time(small, monkeypatch):
    """`fit_all` in two processes: every model's weights equal those fitted in this process."""
    monkeypatch.delenv(cpus.ENV, raising=False)  # a sweep's run would cap it at one process

    def unfitted():
        recipe = learned.Recipe(steps=20, batch_size=32)
        return {
            "learned": learned.LearnedSimulator(recipe, 3),
            "raw": learned.LearnedSimulator(recipe, 3, units=False),
            "blind": dynamics.StepModel("blind", dynamics.StepRecipe(steps=20), 3),
        }

    one, _ = dynamics.fit_all(unfitted(), small, workers=1)
    two, seconds = dynamics.fit_all(unfitted(), small, workers=2)
    assert set(seconds) == set(one) == set(two) and min(seconds.values()) > 0
    for name in one:
        a, b = one[name].net.state_dict(), two[name].net.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a), name


def test_energy_by_edge_counts_every_frame_once_and_refuses_a_window_too_long(small):
    model = learned.LearnedSimulator(learned.Recipe(steps=1), 0).fit(small)
    parts = learned.energy_by_edge(model, small, 5, 10)
    assert set(parts) == set(learned.EDGE_KINDS)
    assert sum(n for n, _ in parts.values()) == 10 * len(small)
    assert all(e >= 0 for _, e in parts.values()) and parts["free"][0] > 0
    with pytest.raises(ValueError, match="need 0 <= start"):
        learned.energy_by_edge(model, small, 25, 10)

    class Exact:  # steps to the true next frame: no error anywhere
        def step(self, s, data, laws):
            t = next(t for t in range(data.states.shape[1]) if np.array_equal(data.states[:, t], s))
            return data.states[:, t + 1]

    assert all(e < 1e-12 for _, e in learned.energy_by_edge(Exact(), small, 5, 10).values())


@pytest.mark.parametrize("units", [True, False])
def test_only_near_edges_are_computed_and_far_ones_add_nothing(small, units):
    """The edge functions run on near edges only; the prediction equals every edge computed and
    the far ones masked out (how it was done before, at many times the cost)."""
    net = learned.Net("multilinear", width=16, depth=2, units=units, dt=small.dt)
    rows, frames = np.repeat(np.arange(len(small)), 29), np.tile(np.arange(29), len(small))
    s = small.states[rows, frames]
    g = learned._tensors(learned.graph(s, small.radius[rows], small.mass[rows],
                                       small.present[rows], small.dt))  # fmt: skip
    laws = learned.law_table([small.worlds[i] for i in rows])
    L = torch.tensor(laws / learned.SCALE, dtype=torch.float32)
    P = torch.tensor(learned.basis(laws), dtype=torch.float32)
    assert g["wall_on"].any() and not g["wall_on"].all()
    with torch.no_grad():
        pred, _ = net(g, L, P)
        node = net._apply(net.node, g["node"], L, P, "node") * net.free_std
        wall_after, pair_after = learned.flight_gaps(g, node, small.dt)
        wall = net._apply(net.wall, g["wall"], L, P, "wall", wall_after) * net.near_std
        wall = wall * g["wall_on"][..., None]
        pair = net._apply(net.pair, g["pair"], L, P, "pair", pair_after) * net.near_std
        pair = pair * g["pair_on"][..., None]
        pf = g["pair_frame"]
        v = (torch.einsum("kbwc,wcd->kbd", wall[..., :2], g["wall_frame"])
             + torch.einsum("kbc,kbcd->kbd", pair[..., :2], pf))  # fmt: skip
        x = (torch.einsum("kbwc,wcd->kbd", wall[..., 2:], g["wall_frame"])
             + torch.einsum("kbc,kbcd->kbd", pair[..., 2:], pf))  # fmt: skip
        full = node + torch.cat([v, x], -1)
    assert torch.allclose(pred, full, atol=1e-5), (pred - full).abs().max()


@pytest.mark.parametrize("units", [True, False])
def test_laws_as_inputs_run_with_either_kind_of_edge(small, units):
    """The ablation of the multilinear entry (`law_mode="input"`): its edges take the three laws
    but gravity as inputs in units, all four raw; a few steps give finite rollouts either way."""
    model = learned.LearnedSimulator(learned.Recipe(steps=3, batch_size=16), 0, "input", units)
    pred = model.fit(small).rollout(small, 0, 5)
    assert pred.shape == (len(small), 6, 2, 4) and np.isfinite(pred).all()
    assert model.net.wall[0].in_features == (
        learned.WALL_UNITS_IN + learned.FLIGHT_IN + 3
        if units
        else learned.WALL_IN + learned.FLIGHT_IN + 4
    )
