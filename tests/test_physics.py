"""The ball simulator against closed forms: energy, time of flight, bounces, friction, damping."""

import numpy as np
import pytest

from distinv import physics
from distinv.physics import Balls, Box, World


def one_ball(x, y, vx, vy, r=0.25, m=1.0):
    return Balls(np.array([[[x, y]]]), np.array([[[vx, vy]]]), np.array([[r]]), np.array([[m]]))


def test_energy_is_conserved_without_friction_damping_or_loss():
    """Exact flight between contacts: only rounding is left. Tolerance: 1e-9 of the energy."""
    rng = np.random.default_rng(0)
    worlds = [World(gravity=g) for g in rng.uniform(1.6, 24.8, 200)]
    for n_balls in (1, 2):
        balls = physics.random_balls(200, n_balls, rng, speed=8.0)
        traj = physics.simulate(worlds, balls, 300)
        e = physics.energy(traj, balls.mass, worlds)
        assert np.abs(e / e[:, :1] - 1).max() < 1e-9
        assert np.isfinite(traj).all()


def test_time_of_flight_matches_the_closed_form():
    """Dropped from rest, h above the floor: lands after sqrt(2h/g) at speed sqrt(2gh), and with
    restitution 1 is back at rest at its start after twice that."""
    g, h, r = 9.81, 3.0, 0.25
    t_fall = np.sqrt(2 * h / g)
    k = 40
    traj = physics.simulate(World(gravity=g), one_ball(5.0, h + r, 0.0, 0.0, r), 2 * k,
                            dt=t_fall / k)  # fmt: skip
    land, back = traj[0, k, 0], traj[0, 2 * k, 0]
    assert abs(land[1] - r) < 1e-9 and abs(abs(land[3]) - np.sqrt(2 * g * h)) < 1e-9
    assert abs(back[1] - (h + r)) < 1e-9 and abs(back[3]) < 1e-9


@pytest.mark.parametrize("e", [0.0, 0.3, 0.8, 1.0])
def test_a_bounce_keeps_restitution_squared_of_the_normal_energy(e):
    # No gravity, so speeds between contacts are constant and the frames show them directly.
    traj = physics.simulate(World(gravity=0.0, restitution=e), one_ball(5.0, 1.0, 1.5, -2.0), 30)
    before, after = traj[0, 0, 0], traj[0, -1, 0]
    assert abs(after[3] ** 2 - e**2 * before[3] ** 2) < 1e-12
    assert abs(after[2] - before[2]) < 1e-12  # no friction: tangential speed kept


def test_friction_at_a_bounce_and_while_sliding():
    mu, e = 0.2, 0.5
    traj = physics.simulate(World(gravity=0.0, restitution=e, friction=mu),
                            one_ball(5.0, 1.0, 1.5, -2.0), 30)  # fmt: skip
    # Coulomb impulse: the tangential speed drops by mu times the normal speed change.
    assert abs(traj[0, -1, 0, 2] - (1.5 - mu * (1 + e) * 2.0)) < 1e-12
    # Sliding on the floor from 3 m/s: stops after v^2 / (2 mu g) metres.
    g, v0, r = 9.81, 3.0, 0.25
    traj = physics.simulate(World(gravity=g, friction=mu), one_ball(1.0, r, v0, 0.0, r), 90)
    assert abs(traj[0, -1, 0, 0] - (1.0 + v0**2 / (2 * mu * g))) < 1e-9
    assert traj[0, -1, 0, 2] == 0.0 and abs(traj[0, -1, 0, 1] - r) < 1e-12


def test_a_lossy_ball_comes_to_rest_on_the_floor():
    traj = physics.simulate(World(restitution=0.5), one_ball(5.0, 4.0, 0.0, 0.0), 300)
    assert abs(traj[0, -1, 0, 1] - 0.25) < 1e-12 and traj[0, -1, 0, 3] == 0.0


def test_elastic_collision_of_equal_balls_exchanges_velocities():
    balls = Balls(np.array([[[3.0, 5.0], [7.0, 5.0]]]), np.array([[[2.0, 0.0], [-1.0, 0.0]]]),
                  np.full((1, 2), 0.3), np.ones((1, 2)))  # fmt: skip
    traj = physics.simulate(World(gravity=0.0), balls, 60)  # they meet after 1.13 s
    assert np.allclose(traj[0, -1, :, 2:], [[-1.0, 0.0], [2.0, 0.0]], atol=1e-12)
    unequal = Balls(balls.position, balls.velocity, balls.radius, np.array([[1.0, 3.0]]))
    end = physics.simulate(World(gravity=0.0, restitution=0.6), unequal, 60)[0, -1]
    momentum = (np.array([1.0, 3.0])[:, None] * end[:, 2:]).sum(0)
    assert np.allclose(momentum, [2.0 - 3.0, 0.0], atol=1e-12)


def test_damping_decays_velocity_exponentially():
    k = 0.7
    traj = physics.simulate(World(gravity=0.0, damping=k), one_ball(5.0, 5.0, 0.3, 0.1), 30)
    t = np.arange(31) / 30
    assert np.allclose(traj[0, :, 0, 2], 0.3 * np.exp(-k * t), rtol=1e-12)


def test_time_varying_gravity_and_its_energy_bookkeeping():
    w = World(gravity=9.81, wave=0.3, omega=0.5)
    assert np.isclose(w.g(np.pi), 9.81 * (1 + 0.3 * np.sin(0.5 * np.pi)))
    # A ball that never touches anything: vertical speed is minus the integral of g(t).
    traj = physics.simulate(w, one_ball(5.0, 9.0, 0.0, 0.0), 6, substeps=20)
    t = 6 / 30
    exact = -9.81 * (t + 0.3 * (1 - np.cos(0.5 * t)) / 0.5)
    assert abs(traj[0, -1, 0, 3] - exact) < 1e-6


def test_same_seed_same_trajectories():
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(7)
        runs.append(physics.simulate(World(friction=0.1, restitution=0.8),
                                     physics.random_balls(20, 2, rng), 50))  # fmt: skip
    assert np.array_equal(runs[0], runs[1])


def test_bad_parameters_are_refused():
    for bad in [
        dict(gravity=float("nan")),
        dict(restitution=1.2),
        dict(restitution=-0.1),
        dict(friction=-1.0),
        dict(damping=-0.1),
        dict(wave=1.0),
        dict(gravity=-9.8),
    ]:
        with pytest.raises(ValueError):
            World(**bad)
    ball = one_ball(5.0, 5.0, 0.0, 0.0)
    for field, value in [("radius", -0.1), ("mass", -1.0), ("mass", 0.0)]:
        kw = dict(vars(ball))
        kw[field] = np.array([[value]])
        with pytest.raises(ValueError, match="positive"):
            physics.simulate(World(), Balls(**kw), 1)
    with pytest.raises(ValueError, match="NaN"):
        physics.simulate(World(), one_ball(5.0, float("nan"), 0.0, 0.0), 1)
    with pytest.raises(ValueError, match="inside the box"):
        physics.simulate(World(), one_ball(11.0, 5.0, 0.0, 0.0), 1)
    with pytest.raises(ValueError, match="worlds for"):
        physics.simulate([World(), World()], ball, 1)
    with pytest.raises(ValueError, match="positive"):
        Box(width=-1.0)


def _inside(traj: np.ndarray, radius: np.ndarray) -> bool:
    """Every ball of every frame inside the default box; traj (B, T, n, 4), radius (B, n)."""
    p, r, box = traj[..., :2], radius[:, None, :, None], Box()
    return bool(((p >= r - 1e-9) & (p <= np.array([box.width, box.height]) - r + 1e-9)).all())


def test_a_ball_resting_on_the_floor_and_hit_from_above_stays_in_the_box():
    """A falling ball lands on the upper side of one resting on the floor: the resting one is
    pushed down and sideways; the floor must bounce it, never let it sink (it did: a resting ball
    kept the downward speed a collision gave it and went through the floor)."""
    r = 0.3
    balls = Balls(np.array([[[5.0, r], [5.25, 2.0]]]), np.zeros((1, 2, 2)), np.full((1, 2), r),
                  np.ones((1, 2)))  # fmt: skip
    traj = physics.simulate(World(restitution=0.5), balls, 120)
    assert _inside(traj, balls.radius)
    # A contact found at the end of a frame is resolved at the start of the next one, so a ball may
    # be seen once on the floor moving down, never twice in a row.
    sinking = (traj[0, :, :, 1] - r < 1e-9) & (traj[0, :, :, 3] < 0)
    assert not (sinking[1:] & sinking[:-1]).any()
    assert np.abs(traj[0, :, 0, 2]).max() > 0.1  # the lower ball was hit (pushed sideways)


def test_a_ball_dropped_on_a_resting_one_keeps_its_energy():
    """Lossless world: the contact with a ball resting on the floor is found when they touch, not
    after they overlap (then the push that separated them lifted the falling ball: 2% of the
    energy gained at g = 9.8, 6% under Jupiter's gravity). Tolerance: 1e-9 of the energy."""
    r = 0.3
    for x, mass in ((5.1, 1.0), (5.0, 1.0), (5.1, 100.0)):  # aside, straight on top, heavy on light
        balls = Balls(np.array([[[5.0, r], [x, 3.0]]]), np.zeros((1, 2, 2)), np.full((1, 2), r),
                      np.array([[1.0, mass]]))  # fmt: skip
        for g in (3.7, 9.8, 24.8):
            world = World(gravity=g, friction=0.0, restitution=1.0, damping=0.0)
            traj = physics.simulate(world, balls, 120)
            e = physics.energy(traj, balls.mass, [world])
            assert np.abs(e / e[:, :1] - 1).max() < 1e-9, (x, mass, g)
            assert traj[0, :, 1, 1].min() > r + 1e-3  # they met: the falling one never reached
            # the floor


def test_every_ball_of_a_dataset_stays_in_the_box():
    data = physics.dataset("iid", 200, 0, n_steps=300)
    assert _inside(data.states, data.radius)


def _min_gap(data) -> float:
    two = data.present[:, 1]
    p = data.states[two, :, :, :2]
    return float((np.linalg.norm(p[:, :, 1] - p[:, :, 0], axis=-1)
                  - data.radius[two].sum(1)[:, None]).min())  # fmt: skip


def test_two_balls_never_overlap_in_any_frame():
    """A ball falling on one resting on the floor is found only once they overlap, and the floor
    took back the resting ball's share of the push: up to 14 cm of overlap under Jupiter's
    gravity, and a frame that the simulator then refused as a starting state."""
    r = 0.3
    balls = Balls(np.array([[[5.0, r], [5.1, 3.0]]]), np.zeros((1, 2, 2)), np.full((1, 2), r),
                  np.ones((1, 2)))  # fmt: skip
    traj = physics.simulate(World(gravity=24.8), balls, 60)
    gap = np.linalg.norm(traj[0, :, 1, :2] - traj[0, :, 0, :2], axis=-1) - 2 * r
    assert gap.min() > -1e-9, gap.min()
    assert _min_gap(physics.dataset("iid", 200, 0, n_steps=300)) > -1e-9
    for split in physics.paired_splits(100, 1, n_steps=130).values():
        assert _min_gap(split) > -1e-9


def test_a_ball_chattering_on_a_resting_one_ends_the_frame_apart():
    """A light ball sliding down a heavier one that lies on the floor, under Jupiter's gravity
    (a state from a 1,000-trajectory test split): the frame takes more contacts than MAX_EVENTS
    and finishes in plain flight, which left the balls overlapping by 0.85 mm, a frame the
    simulator then refused as a starting state."""
    p = np.array(
        [[[4.817752614408445, 0.40890054766933714], [4.428531012415335, 0.9085427645686922]]]
    )
    v = np.array([[[0.21562244918733517, -0.5484884361427464],
                   [-1.2031203306073908, -1.2255348232605112]]])  # fmt: skip
    r = np.array([[0.40890054766933714, 0.22445227688123232]])
    m = np.array([[1.0917742345132166, 1.9797570422658093]])
    world = World(24.8, 0.29036503753436455, 0.6039205877352477, 0.17571948183628258)
    traj = physics.simulate(world, Balls(p, v, r, m), 10)
    gap = np.linalg.norm(traj[0, :, 1, :2] - traj[0, :, 0, :2], axis=-1) - r.sum()
    assert gap.min() > -1e-9, gap.min()
