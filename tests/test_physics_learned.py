"""The learned simulator (06_physics): its graph's symmetries, its errors, that it learns how the
gravity it is told acts; paired splits and their intervals."""

import numpy as np
import pytest
import torch

from distinv import physics, stats
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
    model.net.wall_mean = torch.zeros(learned.WALL_IN - 1)  # as saved before the contact flag
    with pytest.raises(ValueError, match="saved by an older distinv .* run 06_physics again"):
        model.rollout(small, 0, 1)


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
