"""The physics chapter's models: step MLPs, the structured model's fit, what-if."""

import numpy as np
import pytest

from distinv import physics
from distinv.physics import dynamics


@pytest.fixture(scope="module")
def small():
    return physics.dataset("iid", 12, 3, n_steps=40)


def test_the_simulator_restarted_from_any_frame_reproduces_the_trajectory(small):
    laws = dynamics.true_laws(small)
    again = dynamics.Structured().rollout(small, 10, 30, laws=laws)
    assert np.allclose(again, small.states[:, 10:41], atol=1e-9)


def one_ball(world: physics.World, y: float, n_frames: int) -> physics.Trajectories:
    """One ball of radius 0.3 m at x = 5 m, height y, thrown at (0.5, 1.0) m/s."""
    balls = physics.Balls(np.array([[[5.0, y]]]), np.array([[[0.5, 1.0]]]),
                          np.array([[0.3]]), np.array([[1.0]]))  # fmt: skip
    data = physics.Trajectories(
        np.zeros((1, n_frames + 1, 2, 4)), np.array([[True, False]]), np.array([[0.3, 0.0]]),
        np.array([[1.0, 0.0]]), [world], 1 / 30,
    )  # fmt: skip
    data.states[:, :, :1] = physics.simulate(world, balls, n_frames)
    return data


def test_structured_fit_recovers_gravity_outside_the_training_range():
    """Free flight in the middle of the box, g = 20 m/s^2 (training tops out at 9.8)."""
    data = one_ball(physics.World(gravity=20.0, restitution=0.8, damping=0.1), 8.0, 15)
    laws = dynamics.Structured(observe=15, iterations=20, seed=0).infer(data)
    assert abs(laws["gravity"][0] - 20.0) < 0.2
    assert abs(laws["damping"][0] - 0.1) < 0.05


def test_what_if_changes_the_inferred_laws_and_simulates_on(small):
    model = dynamics.Structured(observe=10, candidates=8, iterations=2)
    base = model.infer(small)
    laws, traj = dynamics.what_if(model, small, 20, scale={"gravity": 1.1}, value={"friction": 0})
    assert np.allclose(laws["gravity"], 1.1 * base["gravity"]) and (laws["friction"] == 0).all()
    assert traj.shape == (len(small), 21, 2, 4)
    assert np.allclose(traj[:, 0], small.states[:, 10])
    truth = dynamics.counterfactual(small, 10, 20, scale={"gravity": 1.0})
    assert np.allclose(truth, small.states[:, 10:31], atol=1e-9)  # no change: the data itself
    with pytest.raises(ValueError, match="unknown law 'mass'"):
        dynamics.changed(base, scale={"mass": 2.0})
    with pytest.raises(ValueError, match="restitution larger than 1"):
        dynamics.changed(
            {**base, "restitution": np.full(len(small), 0.9)}, scale={"restitution": 2}
        )
    with pytest.raises(ValueError, match="finite number"):
        dynamics.changed(base, value={"gravity": float("nan")})


def test_step_models_learn_roll_out_and_hear_the_laws(small):
    recipe = dynamics.StepRecipe(steps=60, batch_size=64, width=32, depth=2)
    blind = dynamics.StepModel("blind", recipe, seed=0).fit(small)
    told = dynamics.StepModel("conditioned", recipe, seed=0).fit(small)
    for m in (blind, told):
        assert m.history[-1]["fixed_loss"] < m.history[0]["fixed_loss"]
        out = m.rollout(small, 5, 10)
        assert out.shape == (len(small), 11, 2, 4) and np.isfinite(out).all()
        assert (out[~small.present[:, 1], :, 1] == 0).all()  # an absent ball stays absent
        assert m.represent(small, [0, 1], [3, 4]).shape == (2, 32)
    heavier = [physics.World(gravity=24.8) for _ in small.worlds]
    assert not np.allclose(told.rollout(small, 5, 3), told.rollout(small, 5, 3, worlds=heavier))
    assert np.allclose(blind.rollout(small, 5, 3), blind.rollout(small, 5, 3, worlds=heavier))
    with pytest.raises(ValueError, match="unknown step model"):
        dynamics.StepModel("gru")


def test_evaluate_scores_every_model_and_the_truth(small):
    models = {"structured": dynamics.Structured(observe=10, candidates=8, iterations=2)}
    out = dynamics.evaluate(models, small, 10, 20)
    assert set(out) == {"true", "structured"}
    r = out["structured"]
    assert r["mse"].shape == r["energy"].shape == (len(small),) and (r["mse"] >= 0).all()
    assert set(r["laws"]) == set(dynamics.LAWS)


def test_the_learned_prior_decides_a_law_the_frames_cannot_show():
    """One ball in free flight, no bounce in sight: restitution cannot be read off the frames.
    Without a prior the fit leaves it where the search happens to end; with the prior learned
    from training worlds it lands near their mean, and gravity still follows the data."""
    data = one_ball(physics.World(gravity=15.0, restitution=0.8), 5.0, 10)
    train = physics.dataset("iid", 200, 4, n_steps=2)
    prior_mean = dynamics.law_arrays(train.worlds)["restitution"].mean()
    model = dynamics.Structured(observe=10, iterations=20, prior_weight=1e-3).fit(train)
    laws = model.infer(data)
    assert abs(laws["restitution"][0] - prior_mean) < 0.05
    assert abs(laws["gravity"][0] - 15.0) < 0.3
    assert dynamics.Structured().fit().prior is None
    with pytest.raises(ValueError, match="prior_weight"):
        dynamics.Structured(prior_weight=-1.0)


def test_choose_prior_weight_keeps_the_smallest_worst_case_error(small):
    band = dynamics.with_gravity(small, 15.0)
    assert [w.gravity for w in band.worlds] == [15.0] * len(small)
    assert np.allclose(band.states[:, 0], small.states[:, 0])
    cem = dict(observe=10, candidates=8, iterations=2)
    weight, scores = dynamics.choose_prior_weight(small, {"a": small, "b": band}, [0.0, 1e-2],
                                                  20, **cem)  # fmt: skip
    worst = {w: max(scores["a", w], scores["b", w]) for w in (0.0, 1e-2)}
    assert weight == min(worst, key=worst.get) and len(scores) == 4
    with pytest.raises(ValueError, match="at least one weight"):
        dynamics.choose_prior_weight(small, {}, [0.0], 20, **cem)


def test_visible_tells_which_laws_the_window_shows():
    """Friction and restitution show only once the ball hits something; gravity and drag always."""
    world = physics.World(gravity=9.8, friction=0.2, restitution=0.7, damping=0.1)
    flight, bounce = one_ball(world, 8.0, 15), one_ball(world, 0.35, 15)
    for law, in_flight in (("gravity", True), ("damping", True), ("friction", False),
                           ("restitution", False)):  # fmt: skip
        assert dynamics.visible(flight, law, 15)[0] == in_flight, law
        assert dynamics.visible(bounce, law, 15)[0], law
    assert not dynamics.visible(bounce, "restitution", 3)[0]  # the bounce comes later
    with pytest.raises(ValueError, match="unknown law"):
        dynamics.visible(flight, "wind", 15)
    mean = {"gravity": 6.0, "friction": 0.15, "restitution": 0.8, "damping": 0.1}
    ref = dynamics.window_reference(flight, 15, mean)
    assert (ref["gravity"][0], ref["friction"][0], ref["restitution"][0]) == (9.8, 0.15, 0.8)
    ref = dynamics.window_reference(bounce, 15, mean)
    assert (ref["friction"][0], ref["restitution"][0]) == (0.2, 0.7)
