"""The physics chapter's models: step MLPs, the structured model's fit, what-if; its verdicts."""

import numpy as np
import pytest

from distinv import cpus, physics, stats
from distinv.physics import dynamics
from distinv.physics import report as verdicts


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


def test_the_structured_fit_gives_the_same_laws_in_any_number_of_processes(monkeypatch):
    """Chunks of FIT_CHUNK trajectories with one ball count, each from its own random stream:
    fitted in this process or in two, the laws are equal (four chunks here)."""
    monkeypatch.delenv(cpus.ENV, raising=False)  # a sweep's run would cap it at one process
    data = physics.dataset("iid", 2 * dynamics.FIT_CHUNK + 10, 5, n_steps=6)
    one = dynamics.Structured(observe=5, candidates=8, iterations=2, seed=1).infer(data)
    two = dynamics.Structured(observe=5, candidates=8, iterations=2, seed=1, workers=2).infer(data)
    assert all(np.array_equal(one[k], two[k]) for k in dynamics.LAWS)
    other = dynamics.Structured(observe=5, candidates=8, iterations=2, seed=2).infer(data)
    assert not np.array_equal(one["gravity"], other["gravity"])


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


def test_a_blind_model_reading_the_previous_frame_sees_the_change_but_no_law(small):
    rows, frames = np.array([0, 1, 2]), np.array([1, 5, 9])
    x = dynamics.inputs(small, rows, frames, previous=True)
    one = dynamics.inputs(small, rows, frames)
    assert x.shape == (3, 20) and np.array_equal(x[:, :12], one)
    change = small.states[rows, frames] - small.states[rows, frames - 1]
    assert np.array_equal(x[:, 12:], change.reshape(3, 8))
    with pytest.raises(ValueError, match="frames >= 1"):
        dynamics.inputs(small, [0], [0], previous=True)

    recipe = dynamics.StepRecipe(steps=60, batch_size=64, width=32, depth=2)
    m = dynamics.StepModel("blind", recipe, seed=0, previous=True).fit(small)
    assert m.history[-1]["fixed_loss"] < m.history[0]["fixed_loss"]
    out = m.rollout(small, 5, 10)
    assert out.shape == (len(small), 11, 2, 4) and np.isfinite(out).all()
    assert np.allclose(out[:, 0], small.states[:, 5])
    # the first step reads the true frame before the start; later steps the model's own frames
    moved = small.states.copy()
    moved[:, 4] += 0.5
    other = physics.Trajectories(moved, small.present, small.radius, small.mass, small.worlds,
                                 small.dt)  # fmt: skip
    assert not np.allclose(m.rollout(other, 5, 1), out[:, :2])
    moved = small.states.copy()
    moved[:, 6:] += 0.5  # the frames after the start: a rollout reads none of them
    other = physics.Trajectories(moved, small.present, small.radius, small.mass, small.worlds,
                                 small.dt)  # fmt: skip
    assert np.array_equal(m.rollout(other, 5, 10), out)
    heavier = [physics.World(gravity=24.8) for _ in small.worlds]
    assert np.allclose(m.rollout(small, 5, 3), m.rollout(small, 5, 3, worlds=heavier))  # blind
    with pytest.raises(ValueError, match="from frame 1 on"):
        m.rollout(small, 0, 3)
    old = dynamics.StepModel("blind")
    assert old.previous is False
    del old.__dict__["previous"]  # as a model saved before the option existed loads
    assert old.previous is False


class Frozen:
    """A step model that predicts nothing moves: every frame is the start frame."""

    def rollout(self, data, start, n_steps):
        return np.repeat(data.states[:, start : start + 1], n_steps + 1, axis=1)


class Oracle:
    """A step model that predicts the truth."""

    def rollout(self, data, start, n_steps):
        return data.states[:, start : start + n_steps + 1].copy()


def test_evaluate_scores_every_model_and_the_truth(small):
    """The truth scores zero; a model that predicts nothing moves scores its own squared
    displacement; the structured model with its laws inferred scores far below that."""
    models = {
        "structured": dynamics.Structured(observe=10, candidates=32, iterations=8),
        "oracle": Oracle(),
        "frozen": Frozen(),
    }
    out = dynamics.evaluate(models, small, 10, 20)
    assert set(out) == {"true", "structured", "oracle", "frozen"}
    assert np.allclose(out["true"]["pred"], small.states[:, 10:31])
    assert (out["oracle"]["mse"] == 0).all() and np.allclose(out["oracle"]["energy"], 0)
    assert out["oracle"]["laws"] is None
    # by hand, for the frozen model: the squared distance each present ball travels from frame 10
    moved = ((small.states[:, 11:31, :, :2] - small.states[:, 10:11, :, :2]) ** 2).mean((1, 3))
    by_hand = (moved * small.present).sum(1) / small.present.sum(1)
    assert np.allclose(out["frozen"]["mse"], by_hand) and (by_hand > 0).all()
    r = out["structured"]
    assert set(r["laws"]) == set(dynamics.LAWS)
    assert r["mse"].shape == r["energy"].shape == (len(small),)
    assert r["mse"].mean() < 0.1 * out["frozen"]["mse"].mean(), (r["mse"], by_hand)


def test_the_learned_prior_decides_a_law_the_frames_cannot_show():
    """One ball in free flight, no bounce in sight: restitution cannot be read off the frames.
    The world's restitution (0.3) is far from the training worlds' (0.6 to 1): with the prior
    learned from them the fit lands near their mean, not on the truth, and gravity still follows
    the data."""
    data = one_ball(physics.World(gravity=15.0, restitution=0.3), 5.0, 10)
    assert not dynamics.visible(data, "restitution", 10)[0]
    train = physics.dataset("iid", 200, 4, n_steps=2)
    prior_mean = dynamics.law_arrays(train.worlds)["restitution"].mean()
    assert abs(prior_mean - 0.3) > 0.4
    model = dynamics.Structured(observe=10, iterations=20, prior_weight=1e-3).fit(train)
    laws = model.infer(data)
    assert abs(laws["restitution"][0] - prior_mean) < 0.05
    assert abs(laws["gravity"][0] - 15.0) < 0.3
    assert dynamics.Structured().fit().prior is None
    with pytest.raises(ValueError, match="prior_weight"):
        dynamics.Structured(prior_weight=-1.0)


def test_the_frames_decide_a_law_they_show_over_the_prior():
    """The same world and the same prior, but the ball starts 1 m up and hits the floor within the
    observed frames: the fit reads restitution 0.3 off the bounce, far from the prior's mean (about
    0.8) and outside the training range."""
    data = one_ball(physics.World(gravity=15.0, restitution=0.3), 1.0, 20)
    assert dynamics.visible(data, "restitution", 20)[0]  # the frames include a bounce
    train = physics.dataset("iid", 200, 4, n_steps=2)
    model = dynamics.Structured(observe=20, iterations=20, prior_weight=1e-3).fit(train)
    laws = model.infer(data)
    assert abs(laws["restitution"][0] - 0.3) < 0.05, laws
    assert abs(laws["gravity"][0] - 15.0) < 0.5, laws


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


def test_fit_rounds_spend_the_same_simulated_frames_at_every_window():
    assert [dynamics.fit_rounds(102400, 128, w) for w in (10, 20, 40, 80)] == [80, 40, 20, 10]
    assert dynamics.fit_rounds(100, 128, 80) == 1  # at least one round
    assert dynamics.parse_windows("40, 10,20,10") == [10, 20, 40]
    for bad in ("10,x", "10,,20", "1"):
        with pytest.raises(ValueError, match="windows"):
            dynamics.parse_windows(bad)
    with pytest.raises(ValueError, match="fit_frames"):
        dynamics.fit_rounds(0, 128, 20)


class Still:
    """A stand-in step model: every ball stays where it is at the start frame."""

    def rollout(self, data, start, n_steps):
        return np.repeat(data.states[:, start : start + 1], n_steps + 1, axis=1)


def test_window_study_keeps_the_window_whose_worse_structured_error_is_smallest(small):
    band = dynamics.with_gravity(small, 15.0)
    window, scores, worse = dynamics.window_study(small, {"a": small, "b": band}, [10, 5], 20,
                                           {"still": Still()}, fit_frames=8 * 2 * 10,
                                           candidates=8, prior_weight=0.0)  # fmt: skip
    assert set(scores) == {
        (s, w, m) for s in "ab" for w in (5, 10) for m in ("still", "structured")
    }
    assert worse == {w: max(scores["a", w, "structured"], scores["b", w, "structured"])
                     for w in (5, 10)}  # fmt: skip
    assert window == min(worse, key=worse.get)
    still = Still().rollout(small, 10, 20)
    expected = dynamics.position_mse(still, small.states[:, 10:31], small.present).mean()
    assert scores["a", 10, "still"] == pytest.approx(expected)
    with pytest.raises(ValueError, match="frames"):  # 41 frames cannot hold 30 + 20
        dynamics.window_study(small, {"a": small}, [30], 20, {}, 160, 8, 0.0)


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


def _mse(structured: dict, blind: dict) -> dict:
    """(model, split) -> error, from each model's errors on iid and the shifted splits."""
    return {("structured", k): v for k, v in structured.items()} | {
        ("blind", k): v for k, v in blind.items()
    }


BLIND = {"iid": 2.0, "near": 2.2, "moon": 4.0, "jupiter": 6.0, "timevarying": 3.0}


def test_goal_text_counts_the_splits_within_twice_and_their_intervals():
    mse = _mse({"iid": 0.1, "near": 0.15, "moon": 0.18, "jupiter": 0.3}, BLIND)
    # every trajectory of a split has the same error: each interval is the ratio itself
    per = {s: np.full(20, mse["structured", s]) for s in ("iid", "near", "moon", "jupiter")}
    text = verdicts.goal_text(mse, per, seed=0)
    assert "error on 2 of the three gravities" in text
    assert (
        "near 0.15 m², 1.50x [1.50, 1.50]" in text and "jupiter 0.3 m², 3.00x [3.00, 3.00]" in text
    )
    assert "over the 20 trajectories" in text and "median error is 0.1 m²" in text
    assert "the worst 5% carry 5% of the mean" in text
    assert text.endswith("the intervals settle on which side of 2x each split lies.")
    mse["structured", "jupiter"] = 0.19
    per["jupiter"] = np.full(20, 0.19)
    assert "on all three gravities" in verdicts.goal_text(mse, per, seed=0)


def test_goal_text_names_the_splits_whose_interval_straddles_twice():
    mse = _mse({"iid": 1.0, "near": 1.0, "moon": 2.0, "jupiter": 2.0}, BLIND)
    rng = np.random.default_rng(0)
    per = {"iid": np.full(50, 1.0), "near": np.full(50, 1.0)}
    for s in ("moon", "jupiter"):  # mean 2, heavy-tailed: the interval reaches both sides of 2
        per[s] = rng.exponential(2.0, 50)
        per[s] *= 2.0 / per[s].mean()
    text = verdicts.goal_text(mse, per, seed=0)
    assert text.endswith("moon and jupiter could fall on either side of 2x with another test draw.")
    lo, hi = stats.ratio_interval(per["moon"], per["iid"], seed=0)
    assert f"moon 2 m², 2.00x [{lo:.2f}, {hi:.2f}]" in text and lo < 2 < hi


def test_blind_text_and_verdict():
    mse = _mse({"iid": 0.1}, BLIND)
    assert verdicts.blind_text(mse) == (
        "The blind model's error, relative to its own in-distribution error: near 1.10x, "
        "moon 2.00x, jupiter 3.00x, timevarying 1.50x."
    )
    assert verdicts.blind_verdict(mse) == (
        "At most 3.0x: not orders of magnitude, because its error is already large in "
        "distribution (2 m², against 0.1 m² for the structured model)."
    )
    mse["blind", "jupiter"] = 20.0
    assert verdicts.blind_verdict(mse) == "That is an order of magnitude or more."


def test_drift_text_explains_a_missed_goal_and_says_a_met_one_plainly():
    law_err = {("friction", "iid"): 0.04, ("restitution", "iid"): 0.061}
    shown = {"friction": 0.25, "restitution": 0.5}
    met = {("blind", "iid"): 0.3, ("structured", "iid"): 0.02, ("conditioned", "iid"): 0.3}
    assert verdicts.drift_ratio(met, "structured") == pytest.approx(15.0)
    assert verdicts.drift_text(met, law_err, shown, 0.01, 20) == (
        "In distribution the structured model's energy error (0.02) is 15.0 times below the blind "
        "model's (0.3)."
    )
    missed = {**met, ("structured", "iid"): 0.1}
    text = verdicts.drift_text(missed, law_err, shown, 0.05, 20)
    assert text.startswith(
        "In distribution the structured model's energy error (0.1) is 3.0 times below the blind "
        "model's (0.3), short of the tenfold gap set as the goal."
    )
    assert "friction and restitution 0.04 and 0.06" in text
    assert "the 20 observed frames show friction in 25%" in text and "restitution in 50%" in text
    assert "has energy error 0.05, 6.0 times below the blind model's: even it falls short" in text
    text = verdicts.drift_text(missed, law_err, shown, 0.01, 20)
    assert text.endswith("has energy error 0.01, 30.0 times below the blind model's.")
    assert verdicts.drift_ratio({("blind", "iid"): 0.3, ("x", "iid"): 0.0}, "x") > 1e299


def test_units_text_names_the_splits_the_units_improve():
    mse = {("learned", "iid"): 0.05, ("learned_raw", "iid"): 0.07,
           ("learned", "near"): 0.06, ("learned_raw", "near"): 0.1,
           ("learned", "moon"): 0.02, ("learned_raw", "moon"): 0.01,
           ("learned", "jupiter"): 0.08, ("learned_raw", "jupiter"): 0.9}  # fmt: skip
    hi = {("learned", "near"): 1.2, ("learned", "moon"): 1.5, ("learned", "jupiter"): 2.0,
          ("learned_raw", "near"): 2.5, ("learned_raw", "moon"): 1.1,
          ("learned_raw", "jupiter"): 19.0}  # fmt: skip
    assert verdicts.units_text(mse, hi) == (
        "Without its edges' units (learned_raw: raw edges, which take gravity multilinearly "
        "like the other laws rather than through their scale), the same graph's rollout error is "
        "iid 0.07 m², near 0.1 m², moon 0.01 m², jupiter 0.9 m² (with them 0.05, 0.06, 0.02, "
        "0.08), and the upper ends of its paired "
        "intervals out of range are near 2.50x, moon 1.10x, jupiter 19.00x (with them 1.20x, "
        "1.50x, 2.00x): the units lower the error on near and jupiter."
    )
    mse.update({k: 0.001 for k in mse if k[0] == "learned_raw"})
    assert verdicts.units_text(mse, hi).endswith("the units lower the error on none of the three.")


def test_whatif_cause_text_sets_the_true_laws_beside_the_inferred():
    what = {"no friction": (0.2, 0.05), "gravity +10%": (0.12, 0.05)}
    text = verdicts.whatif_cause_text(what, {"no friction": 0.06, "gravity +10%": 0.055},
                                      {"no friction": 0.15, "gravity +10%": 0.14},
                                      {"no friction": 0.13, "gravity +10%": 0.09})  # fmt: skip
    assert text == (
        "Told the true laws changed as asked instead of the inferred ones, the same simulator's "
        "errors are no friction 0.06 m² (1.20x its in-distribution error, against 0.2 m² told the "
        "inferred laws), gravity +10% 0.055 m² (1.10x its in-distribution error, against 0.12 m² "
        "told the inferred laws): the difference is what the inferred laws cost it. The "
        "structured model, whose equations are exact, errs by 0.15 m², 0.14 m² with the same "
        "inferred laws. Told what an inference that knew every law the window shows would tell "
        "it (those laws exact, the training mean for the rest), changed as asked, its errors are "
        "no friction 0.13 m² (2.60x), gravity +10% 0.09 m² (1.80x): even then no friction stays "
        "outside the 2x goal, so what the window shows limits it, not the fit."
    )
    within = verdicts.whatif_cause_text(what, {c: 0.05 for c in what}, {c: 0.1 for c in what},
                                        {c: 0.08 for c in what})  # fmt: skip
    assert within.endswith(
        "(1.60x): within the 2x goal, so a fit that knew what the window shows would meet it."
    )
    own = verdicts.whatif_cause_text(what, {"no friction": 0.11, "gravity +10%": 0.055},
                                     {c: 0.1 for c in what}, {c: 0.13 for c in what})  # fmt: skip
    assert own.endswith(
        "(2.60x): even then gravity +10% stays outside the 2x goal, so what the window shows "
        "limits it, not the fit; told even the true laws changed, the simulator misses the 2x "
        "goal on no friction, so it is its own limit there."
    )


def test_energy_parts_text_gives_each_kind_its_share():
    parts = {"free": (80, 0.1), "wall": (15, 0.8), "pair": (5, 0.1)}
    assert verdicts.energy_parts_text(parts) == (
        "Stepped one frame at a time from the true states, the share of its summed one-frame "
        "energy error (against the share of frames) is 10% (80%) in free flight, 80% (15%) with a "
        "wall near and 10% (5%) with the other ball near."
    )


def test_timevarying_text_says_what_constant_laws_cost():
    mse = {(m, s): v for m, (a, b) in {"structured": (0.1, 0.3), "learned": (0.05, 0.2),
                                       "blind": (1.0, 1.5), "conditioned": (1.0, 0.9)}.items()
           for s, v in (("iid", a), ("timevarying", b))}  # fmt: skip
    hi = {("structured", "timevarying"): 3.5, ("learned", "timevarying"): 4.8}
    assert verdicts.timevarying_text(mse, hi).endswith(
        "Their errors there are 3.00x (upper end 3.50x) and 4.00x (upper end 4.80x) their "
        "in-distribution errors; the blind model's 1.50x, the conditioned model's 0.90x."
    )
