"""The distribution inventor: request parsers, the changed worlds, the critic and measures, the
artifacts it loads, and the command line. Nothing here needs a chapter's trained models."""

import dataclasses
import inspect
import random
import types

import numpy as np
import pytest
import torch

from distinv import artifacts, invent, physics
from distinv.cli import main
from distinv.invent import common
from distinv.invent import language as lang
from distinv.invent import physics as iphys
from distinv.invent import run as irun
from distinv.invent import shapes as ishapes
from distinv.meta import scan_episodes as se
from distinv.physics import dynamics
from distinv.scan import grammar as scan
from distinv.scan import mods as scan_mods
from distinv.shapes import rules as R
from distinv.shapes import world

PARSERS = {"language": lang.parse, "physics": iphys.parse, "shapes": R.parse}


def _clauses(request):
    return {" ".join(c.split()) for c in request.split(";")}


def test_requests_parse_and_dev_and_test_share_no_clause():
    for w in invent.WORLDS:
        for r in invent.DEV[w] + invent.TEST[w]:
            assert PARSERS[w](r)
        dev = set().union(*map(_clauses, invent.DEV[w]))
        test = set().union(*map(_clauses, invent.TEST[w]))
        assert not dev & test, (w, dev & test)
        # a test request is never a development one with its value changed only in wording
        assert not set(invent.DEV[w]) & set(invent.TEST[w])
    # the shapes critic's check rules: `no` rules, and no rule of any request
    requests = set().union(*map(_clauses, invent.DEV["shapes"] + invent.TEST["shapes"]))
    check = [r for q in invent.CRITIC_CHECK for r in R.parse(q)]
    assert all(isinstance(r, R.No) for r in check)
    assert not {str(r) for r in check} & {str(r) for q in requests for r in R.parse(q)}


def test_carry_back_requests_stay_away_from_every_test_split():
    for r in invent.CARRY:
        ((law, how, g),) = iphys.parse(r)
        assert law == "gravity" and how == "value"
        for test_g in (physics.MOON, physics.JUPITER):
            assert abs(g - test_g) > invent.CARRY_MARGIN * test_g
        top = physics.TRAIN["gravity"][1] * (1 + physics.NEAR)  # iid and near lie below this
        assert g > top * (1 + invent.CARRY_MARGIN)
    # the development analog: its invented gravities lie below the one it is judged at, which is
    # no test split's gravity either
    dev = [iphys.parse(r)[0][2] for r in invent.CARRY_DEV]
    assert all(top * (1 + invent.CARRY_MARGIN) < g < invent.CARRY_DEV_AT for g in dev)
    assert abs(invent.CARRY_DEV_AT - physics.JUPITER) > invent.CARRY_MARGIN * physics.JUPITER
    # languages: the carry-back requests move jump's meaning to and from each other primitive,
    # its analog's walk's; none is a test request of the inventor
    test = set().union(*map(_clauses, invent.TEST["language"]))
    for requests, word in ((invent.CARRY_LANGUAGE, "jump"), (invent.CARRY_LANGUAGE_DEV, "walk")):
        assert not set(requests) & test
        for r in requests:
            ((change,),) = [lang.parse(r)]
            assert change.kind == "means" and word in (change.a, *change.b)
        others = [p for p in scan.PRIMITIVES if p != word]
        assert sorted(requests) == sorted(
            [f"{word} means {p}" for p in others] + [f"{p} means {word}" for p in others]
        )


class _Inventor:
    """Stands in for a fitted physics inventor: the simulator itself generates the worlds asked
    for, and the blind model's recipe is tiny."""

    config = {"seed": 0, "n_train": 6, "n_frames": 12, "n_test": 4, "observe": 3, "horizon": 4}
    blind = types.SimpleNamespace(recipe=dynamics.StepRecipe(steps=8, batch_size=16, width=8,
                                                             depth=1))  # fmt: skip

    def modify(self, rules, request):
        return iphys.Laws(iphys.apply(rules.values, request), rules.values)

    def generate(self, rules, n, seed, n_frames, drop_invalid):
        data = physics.dataset("iid", n, seed, n_steps=n_frames)
        return iphys.Samples(data.rerun(iphys._worlds(rules.values[:n])), rules.values[:n])


def test_carry_back_trains_both_learners_from_each_initialisation_on_both_data_sets():
    rules = iphys.Laws(np.tile([5.0, 0.1, 0.8, 0.05], (4, 1)))
    out = iphys.carry_back(_Inventor(), rules, ("gravity is 14", "gravity is 20"), 2, 0, 0.1, 2)
    splits = set(physics.SPLITS)
    assert set(out["error"]) == {(learner, name, s) for learner in iphys.LEARNERS
                                 for name in ("base", "invented") for s in splits}  # fmt: skip
    for k, v in out["errors"].items():
        assert len(v) == 2 and out["error"][k] == pytest.approx(np.mean(v))
    assert out["n_invented"] == out["n_asked"] == 4 and out["n_base"] == 6
    assert out["overlap"] == dict.fromkeys(splits, 0)
    one, two = out["errors"]["one frame", "base", "iid"], out["errors"]["two frames", "base", "iid"]
    assert one[0] != one[1] and one != two  # two initialisations; two learners
    inits = {(learner, name): sorted(m.seed for (a, b, _), m in out["models"].items()
                                     if (a, b) == (learner, name))
             for learner in iphys.LEARNERS for name in ("base", "invented")}  # fmt: skip
    assert all(v == [0, 1] for v in inits.values())  # the same initialisations on both sets
    assert all(m.previous == iphys.LEARNERS[k[0]] for k, m in out["models"].items())
    # the base models saw the training set alone, the others it and the invented worlds
    cfg = _Inventor.config
    base = physics.dataset("iid", cfg["n_train"], cfg["seed"], n_steps=cfg["n_frames"])
    T = cfg["n_frames"] + 1
    x = dynamics.inputs(base, np.repeat(np.arange(6), T - 1), np.tile(np.arange(T - 1), 6))
    mean = {name: out["models"]["one frame", name, 0].net.x_mean.numpy()
            for name in ("base", "invented")}  # fmt: skip
    assert np.allclose(mean["base"], x.mean(0), atol=1e-5)
    assert not np.allclose(mean["invented"], x.mean(0), atol=1e-3)

    data = physics.dataset("iid", 4, 9, n_steps=8)
    own = iphys.carry_back(_Inventor(), rules, ("gravity is 14",), 2, 0, 0.1, 1, {"mine": data})
    assert {s for *_, s in own["error"]} == {"mine"} and own["overlap"] == {"mine": 0}
    with pytest.raises(ValueError, match="n_inits"):
        iphys.carry_back(_Inventor(), rules, ("gravity is 14",), 2, 0, 0.1, 0)


def test_the_development_analog_judges_beyond_its_invented_worlds_on_fresh_starts():
    rules = iphys.Laws(np.tile([5.0, 0.1, 0.8, 0.05], (4, 1)))
    out = iphys.development_analog(_Inventor(), rules, 2, 0, n_inits=1, n=4)
    assert {s for *_, s in out["error"]} == {"training range", "beyond"}
    assert out["overlap"] == {"training range": 0, "beyond": 0}  # no invented world is judged
    assert out["n_invented"] == 2 * len(invent.CARRY_DEV)
    e = out["error"]  # the same starts, another gravity
    assert e["one frame", "base", "beyond"] != e["one frame", "base", "training range"]


def test_carry_verdict_names_what_is_gained_and_lost():
    assert iphys.carry_verdict({"iid": 1.3, "moon": 1.05, "jupiter": 0.5}) == (
        "gains on jupiter, loses on iid: a trade"
    )
    assert iphys.carry_verdict({"iid": 0.95, "jupiter": 0.8}) == "gains on jupiter"
    assert iphys.carry_verdict({"iid": 1.2, "jupiter": 1.5}) == "loses on iid and jupiter"
    assert iphys.carry_verdict({"iid": 1.2, "moon": 1.3, "near": 0.7, "jupiter": 1.1}) == (
        "gains on near, loses on iid, moon and jupiter: a trade"
    )
    assert iphys.carry_verdict({"iid": 1.0}) == "neither gains nor loses on any split"
    assert iphys.carry_verdict({"iid": float("nan"), "moon": 0.5}) == (
        "gains on moon (no finite error on iid)"
    )
    assert iphys.carry_verdict({"iid": 1.05}, margin=0.01) == "loses on iid"


def test_physics_parser():
    assert iphys.parse("gravity is 10% stronger") == [("gravity", "scale", pytest.approx(1.1))]
    assert iphys.parse("no friction; restitution is 0.5") == [
        ("friction", "value", 0.0), ("restitution", "value", 0.5)]  # fmt: skip
    assert iphys.parse("damping is 20% weaker") == [("damping", "scale", pytest.approx(0.8))]
    bad = ["", "gravity is 10% stronker", "no gravitas", "gravity is x", "gravity is nan",
           "gravity is -1", "gravity is 100% weaker", "gravity is 1; gravity is 2",
           "gravity is 10% stronger and", "gravity is 1;", "restitution is 1.5"]  # fmt: skip
    for b in bad:
        with pytest.raises(ValueError) as e:
            iphys.parse(b)
        assert "\n" not in str(e.value)  # one line
    with pytest.raises(ValueError, match="restitution larger than 1"):
        iphys.apply(np.array([[9.8, 0.1, 0.9, 0.1]]), "restitution is 20% stronger")


def test_physics_apply_changes_only_the_named_law():
    L = np.array([[9.8, 0.1, 0.8, 0.05], [5.0, 0.2, 0.7, 0.1]])
    out = iphys.apply(L, "gravity is 10% stronger; no damping")
    assert np.allclose(out[:, 0], L[:, 0] * 1.1) and np.all(out[:, 3] == 0)
    assert np.array_equal(out[:, 1:3], L[:, 1:3])


def test_physics_overlap_counts_gravity_near_a_test_split():
    tests = physics.paired_splits(4, 0, n_steps=2, splits=("jupiter", "timevarying"))
    inv = iphys.starts(4, 0, 1 / 30)
    inv.worlds = [physics.World(gravity=g) for g in (14.0, 24.0, 27.0, 30.0)]
    assert iphys.overlap(inv, tests, 0.1) == {"jupiter": 2, "timevarying": 0}


@pytest.fixture(scope="module")
def small_physics_critic():
    """The physics critic trained small: its simulator on 200 trajectories for 1,500 steps, its
    classifier on 1,500 trajectories for 800 steps."""
    return iphys.PhysicsInventor(n_critic=1500, critic_steps=800, n_energy=200,
                                 energy_steps=1500, seed=0).fit_critic()  # fmt: skip


def test_physics_starts_and_critic_energy(small_physics_critic):
    """The energy's residuals, per frame and in both units, are finite and larger under a gravity
    far from the truth; the classifier's summary has one row per trajectory."""
    s = iphys.starts(6, 3, 1 / 30)
    assert s.states.shape == (6, 1, 2, 4) and s.present.sum(1).tolist() == [1, 2] * 3
    energy = small_physics_critic.energy
    data = physics.dataset("iid", 40, 5, n_steps=iphys.CRITIC_FRAMES)
    L = iphys._laws(data.worlds)
    r = energy.residuals(data, L, iphys.CRITIC_FRAMES)
    assert r.shape == (40, iphys.CRITIC_FRAMES, 2) and np.isfinite(r).all()
    far = L * [1.5, 1, 1, 1]
    assert (energy.residuals(data, far, iphys.CRITIC_FRAMES).sum(1) > r.sum(1)).mean() > 0.9
    X = iphys.energy_summary(energy, data, L)
    assert X.shape == (40, 2 * (iphys.TOP + 2) + 2 * 2 * len(iphys.LAWS)) and np.isfinite(X).all()
    with pytest.raises(ValueError, match="frames"):
        energy.residuals(data.subset(np.arange(4), 5), L[:4], iphys.CRITIC_FRAMES)
    for bad in (L[:3], L * np.nan):
        with pytest.raises(ValueError, match="finite laws"):
            energy.residuals(data, bad, iphys.CRITIC_FRAMES)


def test_energy_summary_reads_sum_largest_and_mean_log_and_probes_each_law():
    """Per unit of the residuals: the log of their sum, the largest logs first, the mean log;
    then per law moved down and up, the change in the log of their sum. On a stub whose energy
    grows with the distance of the laws told from a truth, a claim with friction too high is
    lowered by moving friction down, raised by moving it up; restitution told at 1 stays there."""
    n = iphys.CRITIC_FRAMES
    r = np.zeros((1, n, 2))
    r[0, :, 0] = np.arange(1, n + 1)  # scaled: 1 .. n
    r[0, :, 1] = 1e-3  # raw: alike in every frame
    truth = np.array([9.8, 0.3, 1.0, 0.1])

    def residuals(data, laws, frames):
        energy = 1 + (((laws - truth) / iphys.RANGE) ** 2).sum(1)
        return r[:, :frames] * energy[:, None, None]

    claim = truth + [0, 2 * iphys.PROBE * iphys.RANGE[1], 0, 0]  # friction too high
    x = iphys.energy_summary(types.SimpleNamespace(residuals=residuals), None, claim[None])[0]
    top, k = iphys.TOP, (1 + 4 * iphys.PROBE**2)  # the energy's factor at the claim
    logs = np.log(np.arange(1, n + 1) * k + 1e-3)
    want = [np.log(n * (n + 1) / 2 * k + 1e-3), *logs[::-1][:top], logs.mean()]
    assert np.allclose(x[: top + 2], want)
    raw = np.log(1e-3 * k + 1e-9)
    assert np.allclose(x[top + 2 : 2 * top + 4], [np.log(n * 1e-3 * k + 1e-9)] + [raw] * (top + 1))
    probe = x[2 * top + 4 :].reshape(4, 2, 2)  # law (gravity, friction, restitution, damping),
    # down or up, unit
    assert np.allclose(probe[..., 0], probe[..., 1], atol=1e-3)  # both units alike here
    assert probe[1, 0, 0] < 0 < probe[1, 1, 0]  # friction: down toward the truth lowers it
    assert (probe[[0, 3], :, 0] > 0).all()  # gravity, damping: either way away from the truth
    assert probe[2, 0, 0] > 0 and probe[2, 1, 0] == 0  # restitution: up is clipped at 1
    claim[1] = 0.0  # friction told 0: down is clipped at 0, up toward the truth lowers the energy
    x = iphys.energy_summary(types.SimpleNamespace(residuals=residuals), None, claim[None])[0]
    probe = x[2 * top + 4 :].reshape(4, 2, 2)
    assert (probe[1, 0] == 0).all() and (probe[1, 1] < 0).all()


def test_physics_near_miss_moves_one_law_within_range():
    rng = np.random.default_rng(0)
    L = np.tile([9.8, 0.0, 1.0, 0.0], (200, 1))
    law = rng.integers(0, 4, 200)
    out = iphys._near_miss(L, rng, law)
    changed = out != L
    assert (changed.sum(1) == 1).all() and (changed.argmax(1) == law).all()
    assert (out >= 0).all() and (out[:, 2] <= 1).all()


@pytest.mark.parametrize("mod", scan_mods.MODIFICATIONS[:4] + scan_mods.MODIFICATIONS[5:])
def test_language_of_a_request_is_the_compositional_chapters_modification(mod):
    request = "; ".join(mod.instructions)
    ours = lang.language(request)
    for c in random.Random(0).sample(scan.commands(), 300):
        assert se.interpret(ours, c) == mod.label(c)


def test_language_swaps_of_every_class():
    for req in (
        "run and look swap",
        "twice and thrice swap",
        "and and after swap",
        "right means left",
        "walk means I_TURN_RIGHT I_JUMP",
        "thrice means twice",
    ):
        L = lang.language(req)
        changes = lang.parse(req)
        for c in random.Random(1).sample(scan.commands(), 200):
            plain, stand_in = lang.rewrite(c, changes)
            out = []
            for a in se.interpret(se.BASE, plain).split():  # the rewrite answered by the truth
                prim = next((p for p in stand_in if f"I_{p.upper()}" == a), None)
                out += list(stand_in[prim]) if prim else [a]
            assert " ".join(out) == se.interpret(L, c), (req, c)


def test_language_parser_errors_are_one_line():
    bad = ["", "jump means twice", "skip means walk", "jump and jump swap", "jump is walk",
           "walk means I_A I_B I_C I_D I_E", "jump means walk; jump means run", "turn means walk",
           "twice means I_WALK", "jump means walk and", "left and walk swap"]  # fmt: skip
    for b in bad:
        with pytest.raises(ValueError) as e:
            lang.parse(b)
        assert "\n" not in str(e.value)


def test_language_near_miss_differs():
    rng = random.Random(0)
    for c in random.Random(2).sample(scan.commands(), 100):
        out = scan.interpret(c)
        miss = lang.near_miss(out, rng)
        assert miss != out and len(miss.split()) <= se.MAX_OUT


class _Reader(lang.LanguageInventor):
    """Stands in for the fitted language inventor: it answers a command by the language its study
    set shows alone for each primitive (the interpreter does the rest); `stubborn` keeps jump's
    old meaning whatever the study set says."""

    def __init__(self, stubborn: bool = False):
        self.stubborn = stubborn

    def answer(self, study, commands):
        shown = dict(study)
        prims = tuple((w, tuple(shown[w].split())) for w in scan.PRIMITIVES)
        if self.stubborn:
            prims = (*prims[:3], ("jump", ("I_JUMP",)))
        lang_ = dataclasses.replace(se.BASE, primitives=prims)
        return [se.interpret(lang_, c) for c in commands]


def _reader_rules():
    reader = _Reader()
    return reader, reader.extract(reader.observe(irun.N_OBSERVED["language"], 1000))


def test_lexicon_reads_each_primitive_alone():
    reader, rules = _reader_rules()
    assert lang.lexicon(reader, rules.pairs) == "walk I_WALK look I_LOOK run I_RUN jump I_JUMP |"
    changed = reader.modify(rules, "jump means walk")
    assert lang.lexicon(reader, changed.pairs).endswith("jump I_WALK |")


def test_carry_split_is_add_jump_or_an_analog_that_touches_no_test_pair():
    data = scan.split("addprim_jump", 0)
    assert lang.carry_split("jump", 0) == (list(data.train), list(data.test))
    train, test = lang.carry_split("walk", 0)
    assert test and all(lang.composes(c, "walk") for c, _ in test)
    assert not any(lang.composes(c, "walk") for c, _ in train)
    assert not (set(train) | set(test)) & set(data.test)  # made from add-jump's training set
    assert sum(c == "walk" for c, _ in train) == sum(c == "jump" for c, _ in data.train)
    with pytest.raises(ValueError, match="unknown primitive"):
        lang.carry_split("hop", 0)


def test_invented_pairs_never_teach_the_held_out_word_composed_with_its_own_meaning():
    reader, rules = _reader_rules()
    requests = ("jump means walk", "walk means jump")
    banned = set(scan.split("addprim_jump", 0).test)
    out = lang.invented_pairs(reader, rules, requests, 40, 0, "jump", banned)
    lexicons = {p.split(" | ")[0] for p, _ in out["pairs"]}
    assert len(lexicons) == 2 and any(x.endswith("jump I_WALK") for x in lexicons)
    bare = [lang.read_lexicon(p)[1] for p, _ in out["pairs"]]
    assert any(lang.composes(c, "jump") for c in bare)  # jump composed, meaning walk
    keeps = [c for (p, _), c in zip(out["pairs"], bare, strict=True) if "jump I_JUMP" in p]
    assert keeps and not any(lang.composes(c, "jump") for c in keeps)
    assert out["n_kept_meaning"] > 0 and out["n_test_pairs"] == 0
    assert lang.leaks(out["pairs"] + out["truth"], banned) == 0
    assert out["n_asked"] == len(out["pairs"]) + out["n_kept_meaning"] == 80
    assert out["obeyed"] == {r: 1.0 for r in requests}
    assert out["truth"] == out["pairs"]  # this reader answers every command right
    # a reader that keeps jump's meaning where the request changes it: its lexicon says so, and
    # every command composing jump is left out
    stubborn = lang.invented_pairs(_Reader(True), rules, requests[:1], 40, 0, "jump", banned)
    assert stubborn["n_kept_meaning"] > 0 and lang.leaks(stubborn["pairs"], banned) == 0
    # a request that changes jump's words but not its meaning keeps it
    same = lang.invented_pairs(reader, rules, ("walk means jump; jump means walk",), 40, 0,
                               "jump", banned)  # fmt: skip
    assert same["n_kept_meaning"] > 0 and lang.leaks(same["pairs"] + same["truth"], banned) == 0
    # the analog withholds jump composed under its own meaning too, and never yields an add-jump
    # test pair
    walk = lang.invented_pairs(reader, rules, invent.CARRY_LANGUAGE_DEV, 60, 0, "walk", banned)
    for p, _ in walk["pairs"] + walk["truth"]:
        entries, c = lang.read_lexicon(p)
        assert not (lang.composes(c, "jump") and entries["jump"] == "I_JUMP")
        assert not (lang.composes(c, "walk") and entries["walk"] == "I_WALK")
    moved = [lang.read_lexicon(p) for p, _ in walk["pairs"]]
    assert any(lang.composes(c, "jump") and e["jump"] != "I_JUMP" for e, c in moved)
    assert any(lang.composes(c, "walk") and e["walk"] != "I_WALK" for e, c in moved)
    assert lang.leaks(walk["pairs"] + walk["truth"], banned) == 0
    with pytest.raises(ValueError, match="n_per"):
        lang.invented_pairs(reader, rules, requests, 0, 0, "jump", banned)
    with pytest.raises(ValueError, match="unknown primitive 'hop'"):
        lang.invented_pairs(reader, rules, requests, 40, 0, "hop", banned)


class _Fickle(_Reader):
    """A reader whose answers to commands with "twice" depend on which study set it reads: right
    from the study set of `primary` (its commands), one action too many from any other."""

    def __init__(self, primary):
        super().__init__()
        self.primary = {c for c, _ in primary}

    def answer(self, study, commands):
        outs = super().answer(study, commands)
        if {c for c, _ in study} == self.primary:
            return outs
        return [o + " I_LOOK" if "twice" in c else o for c, o in zip(commands, outs, strict=True)]


def test_invented_pairs_keep_only_commands_every_reading_answers_alike():
    _, rules = _reader_rules()
    fickle = _Fickle(rules.pairs)
    other = fickle.extract(fickle.observe(irun.N_OBSERVED["language"], 5))
    assert {c for c, _ in other.pairs} != fickle.primary
    banned = set(scan.split("addprim_jump", 0).test)
    one = lang.invented_pairs(fickle, rules, ("walk means look",), 60, 0, "walk", banned)
    two = lang.invented_pairs(fickle, rules, ("walk means look",), 60, 0, "walk", banned, [other])
    twice = [p for p in one["pairs"] if "twice" in p[0]]
    assert twice and one["n_disagree"] == 0
    assert two["pairs"] == [p for p in one["pairs"] if "twice" not in p[0]]
    assert two["truth"] == [p for p in one["truth"] if "twice" not in p[0]]
    assert two["n_disagree"] == len(twice)
    assert two["n_asked"] == (len(two["pairs"]) + two["n_kept_meaning"] + two["n_disagree"]
                              + two["n_test_pairs"])  # fmt: skip
    # the same study set read twice agrees with itself; one reading that disagrees is enough
    same = lang.invented_pairs(fickle, rules, ("walk means look",), 60, 0, "walk", banned, [rules])
    assert same["pairs"] == one["pairs"] and same["n_disagree"] == 0
    mixed = lang.invented_pairs(fickle, rules, ("walk means look",), 60, 0, "walk", banned,
                                [rules, other])  # fmt: skip
    assert mixed["pairs"] == two["pairs"] and mixed["n_disagree"] == len(twice)
    # a test pair is counted as one whether or not its readings agree
    hits = [[p for p in one["pairs"] if "twice" not in p[0]][0], twice[0]]  # agreed, not
    also = {(lang.read_lexicon(x)[1], o) for x, o in hits}
    guarded = lang.invented_pairs(fickle, rules, ("walk means look",), 60, 0, "walk",
                                  banned | also, [other])  # fmt: skip
    assert guarded["n_test_pairs"] == 2 and guarded["n_disagree"] == len(twice) - 1


def test_the_chapter_defaults_are_the_carry_back_choices_it_names():
    from distinv.book.chapters import find

    params = find("10_invent").params
    assert params["n_carry_language"].default == invent.CARRY_LANGUAGE_PER[0]
    assert params["readings_language"].default == invent.CARRY_LANGUAGE_READINGS[0] == 1
    assert params["repeat_language"].default in invent.CARRY_LANGUAGE_REPEATS


@torch.no_grad()
def test_language_critic_features_summarise_each_candidate():
    from distinv.meta import train as mt

    torch.manual_seed(0)
    inv = lang.LanguageInventor.__new__(lang.LanguageInventor)  # an untrained meta-learner
    inv.model = mt.MetaTransformer(mt.config("scan", d_model=16, layers=1)).eval()
    study = [("walk", "I_WALK"), ("jump", "I_JUMP"), ("walk twice", "I_WALK I_WALK")]
    pairs = [("jump twice", "I_JUMP I_JUMP"), ("jump", "I_JUMP"), ("walk", "")]
    X = inv.features(study, pairs)
    assert X.shape == (3, 11) and np.isfinite(X).all()
    assert list(X[:, 5]) == [3, 2, 1]  # positions scored, the end token's included
    assert (X[:, 2] <= X[:, 1]).all() and (X[:, 3] <= X[:, 2]).all()  # lowest <= mean; two lowest
    assert (X[:, 7] <= 0).all() and (X[:, 8] <= 0).all()  # margins: never above the argmax's
    assert X[2, 10] == lang.NO_EARLY and (X[:2, 10] > lang.NO_EARLY).all()
    assert (X[:2, 10] <= 0).all()


def test_leaks_counts_test_pairs_and_jump_composed_under_its_own_meaning():
    banned = {("jump twice", "I_JUMP I_JUMP")}
    base = "walk I_WALK look I_LOOK run I_RUN jump I_JUMP |"
    moved = "walk I_WALK look I_LOOK run I_RUN jump I_WALK |"
    assert lang.read_lexicon(f"{moved} jump twice") == (
        {"walk": "I_WALK", "look": "I_LOOK", "run": "I_RUN", "jump": "I_WALK"},
        "jump twice",
    )
    assert lang.leaks([(f"{moved} jump twice", "I_JUMP I_JUMP")], banned) == 1  # a test pair
    assert lang.leaks([(f"{base} jump left", "I_TURN_LEFT I_JUMP")], banned) == 1  # own meaning
    assert lang.leaks([(f"{moved} jump left", "I_TURN_LEFT I_WALK")], banned) == 0
    assert lang.leaks([(f"{base} jump", "I_JUMP"), (f"{base} walk twice", "I_WALK I_WALK")],
                      banned) == 0  # fmt: skip


def test_language_carry_back_trains_each_arm_on_its_data_from_the_same_initialisations(
    monkeypatch,
):
    from distinv.scan import compositional as comp

    seen = []

    def record(args):
        recipe, init, train, inputs, test = args
        seen.append((init, train))
        return float(len(train))

    monkeypatch.setattr(lang, "_fit_score", record)
    reader, rules = _reader_rules()
    tiny = comp.Recipe(steps=2, batch_size=4, d_model=8, layers=1, heads=2)
    out = lang.carry_back(reader, rules, ("walk means look",), 6, 0, n_inits=2, hold="walk",
                          n_test=5, recipe=tiny, workers=1, ceiling=True)  # fmt: skip
    n_base = len(lang.carry_split("walk", 0)[0])
    assert out["n_base"] == n_base and out["n_test"] == 5 and out["n_inits"] == 2
    assert out["accuracies"] == {"invented": [n_base + out["n_invented"]] * 2,
                                 "true": [n_base + out["n_invented"]] * 2,
                                 "base": [n_base] * 2}  # fmt: skip
    assert [k for k, _ in seen] == [0, 1] * 3  # the same initialisations in every arm
    invented, true = seen[0][1][n_base:], seen[2][1][n_base:]
    assert [x for x, _ in invented] == [x for x, _ in true]  # the same commands and lexicons
    assert seen[0][1][:n_base] == seen[4][1]  # the base world first in every arm
    assert out["overlap"] == 0
    assert out["lexicon"] == "walk I_WALK look I_LOOK run I_RUN jump I_JUMP |"
    with pytest.raises(ValueError, match="n_inits"):
        lang.carry_back(reader, rules, ("walk means look",), 6, 0, n_inits=0)
    # repeated, each invented pair stands that many times in both invented arms, not in the base
    seen.clear()
    out3 = lang.carry_back(reader, rules, ("walk means look",), 6, 0, n_inits=1, hold="walk",
                           n_test=5, recipe=tiny, workers=1, ceiling=True, repeat=3)  # fmt: skip
    assert out3["repeat"] == 3 and out3["n_invented"] == out["n_invented"]
    assert [len(t) for _, t in seen] == [n_base + 3 * out["n_invented"]] * 2 + [n_base]
    assert seen[0][1][n_base:] == invented * 3 and seen[1][1][n_base:] == true * 3
    with pytest.raises(ValueError, match="repeat"):
        lang.carry_back(reader, rules, ("walk means look",), 6, 0, repeat=0)
    # with further readings, the commands they answer otherwise are left out of both arms
    seen.clear()
    fickle = _Fickle(rules.pairs)
    kw = dict(hold="walk", n_test=5, recipe=tiny, workers=1, ceiling=True, n_inits=1)
    one = lang.carry_back(fickle, rules, ("walk means look",), 40, 0, **kw)
    three = lang.carry_back(fickle, rules, ("walk means look",), 40, 0, readings=3, **kw)
    assert one["readings"] == 1 and three["readings"] == 3 and one["n_disagree"] == 0
    assert three["n_disagree"] > 0
    assert three["n_invented"] == one["n_invented"] - three["n_disagree"]
    assert not any("twice" in x for x, _ in seen[3][1][n_base:] + seen[4][1][n_base:])
    with pytest.raises(ValueError, match="readings"):
        lang.carry_back(reader, rules, ("walk means look",), 6, 0, readings=0)


def test_language_carry_back_trains_the_transformer():
    from distinv.scan import compositional as comp

    reader, rules = _reader_rules()
    tiny = comp.Recipe(steps=2, batch_size=4, d_model=8, layers=1, heads=2)
    out = lang.carry_back(reader, rules, ("walk means look",), 6, 0, n_inits=1, hold="walk",
                          n_test=5, recipe=tiny, workers=1)  # fmt: skip
    assert set(out["accuracy"]) == {"base", "invented"}
    assert all(0 <= a <= 1 for a in out["accuracy"].values())


def test_levenshtein():
    assert lang.levenshtein("a b c".split(), "a c".split()) == 1
    assert lang.levenshtein([], "a b".split()) == 2


def _logp(F: np.ndarray, sure: float, rng: np.random.Generator) -> list[np.ndarray]:
    """A stand-in reader's log-probabilities: each factor's true value gets about `sure`."""
    out = []
    for j, card in enumerate(world.CARD):
        p = rng.dirichlet(np.ones(card), len(F)) * (1 - sure)
        p[np.arange(len(F)), F[:, j]] += sure
        out.append(np.log(p))
    return out


def test_shapes_claims_read_the_values_a_rule_names_and_random_rules_skip_the_held_out():
    from distinv.shapes import models
    from distinv.shapes import train as st

    torch.manual_seed(0)
    images = np.random.default_rng(0).random((3, 32, 32, 3)).astype(np.float32)
    small = models.Oracle(width=4).eval()
    logp = ishapes.reading(small, images, batch=2)
    assert [lp.shape for lp in logp] == [(3, c) for c in world.CARD]
    assert np.allclose(np.exp(logp[1]).sum(1), 1)
    whole = ishapes.reading(small, images)  # batches do not change the reading
    assert all(np.allclose(a, b, atol=1e-5) for a, b in zip(logp, whole, strict=True))
    read = st.read(small, images)[0]  # the reader's argmax is what st.read reads
    assert np.array_equal(np.stack([lp.argmax(1) for lp in logp], 1), read)
    assert [lp.shape for lp in ishapes.reading(small, images[:0])] == [(0, c) for c in world.CARD]
    assert ishapes.named_factors(R.Are(3, 4)) == (0, 1)
    assert ishapes.named_factors(R.No(3, 2)) == (3,)
    # the critic's reader is the oracle's architecture at half its width
    assert 2 * ishapes.READER_WIDTH == inspect.signature(models.Oracle).parameters["width"].default
    F = np.array([[3, 4, 1, 0, 0], [0, 2, 1, 5, 5]])
    logp = _logp(F, 0.9, np.random.default_rng(1))
    logp[2][1, 1] = -50.0  # floored
    are, no = ishapes.claims(logp, R.Are(3, 4)), ishapes.claims(logp, R.No(2, 1))
    assert are.shape == no.shape == (2, 6)
    assert are[:, :2].tolist() == [[1, 0]] * 2 and no[:, :2].tolist() == [[0, 1]] * 2
    assert np.allclose(are[:, 2], logp[0][:, 3]) and np.allclose(are[:, 4], logp[1][:, 4])
    assert np.allclose(np.exp(are[:, 3]), 1 - np.exp(logp[0][:, 3]), atol=1e-6)
    assert np.allclose(np.exp(are[:, 5]), 1 - np.exp(logp[1][:, 4]), atol=1e-6)
    assert no[0, 2] == pytest.approx(logp[2][0, 1]) and no[1, 2] == ishapes.LOG_FLOOR
    assert not no[:, 4:].any()
    with pytest.raises(ValueError):
        ishapes.claims(logp, R.Couple(2, 3, 1))
    inv = ishapes.ShapesInventor.__new__(ishapes.ShapesInventor)
    inv.reader = inv.oracle = models.Oracle(width=4).eval()
    assert inv.agreement(images).tolist() == [1.0] * 5
    inv.reader = models.Oracle(width=4).eval()  # another initialisation
    assert inv.agreement(images).shape == (5,) and inv.agreement(images).min() < 1
    banned = {"hearts are blue", "no large"}
    rng = np.random.default_rng(0)
    F = R.CELLS[rng.integers(0, len(R.CELLS), 500)]
    rules_ = [ishapes._random_rule(f, rng, banned) for f in F]
    assert not {str(r) for r in rules_} & banned
    labels = np.array([r.holds(f[None])[0] for r, f in zip(rules_, F, strict=True)])
    assert 0.2 < labels.mean() < 0.8  # near misses among them


def test_shapes_critic_tells_near_misses_of_rules_it_never_trained_on():
    """Trained on random rules with two held out, the critic, reading a reader that is mostly
    right, tells images that obey a held-out rule from near misses that break it."""
    rng = np.random.default_rng(0)
    banned = {"hearts are blue", "no large"}
    F = R.CELLS[rng.integers(0, len(R.CELLS), 3000)]
    logp = _logp(F, 0.8, rng)
    rules_ = [ishapes._random_rule(f, rng, banned) for f in F]
    X = np.concatenate([ishapes.claims([lp[i : i + 1] for lp in logp], r)
                        for i, r in enumerate(rules_)])  # fmt: skip
    grouped = ishapes._rows_by_rule(rules_)  # as the inventor reads them: once per rule
    assert sorted(i for rows in grouped.values() for i in rows) == list(range(len(rules_)))
    for rows in grouped.values():
        assert {str(rules_[i]) for i in rows} == {str(rules_[rows[0]])}
        assert np.array_equal(X[rows], ishapes.claims([lp[rows] for lp in logp], rules_[rows[0]]))
    y = np.array([r.holds(f[None])[0] for r, f in zip(rules_, F, strict=True)])
    critic = common.Critic(width=32, steps=400, seed=0).fit(X, y)
    for rule in R.parse("hearts are blue; no large"):
        good = F[rule.concerns(F) & rule.holds(F)][:200].copy()
        bad = good.copy()
        if isinstance(rule, R.Are):
            bad[:, 1] = (rule.hue + 1) % world.CARD[1]
        else:
            bad[:, rule.factor] = rule.value
        s_good = critic.score(ishapes.claims(_logp(good, 0.8, rng), rule))
        s_bad = critic.score(ishapes.claims(_logp(bad, 0.8, rng), rule))
        assert common.auroc(s_good, s_bad) > 0.95, rule


def test_shapes_modify_lifts_a_ban_the_request_contradicts():
    inv = ishapes.ShapesInventor.__new__(ishapes.ShapesInventor)
    base = ishapes.Rules(tuple(R.parse("no blue; no squares; hearts are red")))
    out = inv.modify(base, "hearts are blue")
    assert str(out) == "no squares; hearts are blue" and list(out.changed) == R.parse(
        "hearts are blue"
    )
    with pytest.raises(ValueError):
        inv.modify(ishapes.Rules(tuple(R.parse("no hearts"))), "no ellipses; no squares; "
                   "no triangles")  # fmt: skip


def test_auroc_mmd_and_check():
    assert common.auroc([2, 3], [0, 1]) == 1.0 and common.auroc([0, 1], [2, 3]) == 0.0
    assert common.auroc([1, 1], [1, 1]) == 0.5
    assert np.isnan(common.auroc([], [1]))
    a = np.random.default_rng(0).normal(size=(50, 3))
    assert abs(common.mmd(a, a)) < 1e-12 and common.mmd(a, a + 3) > 0.1
    c = common.Check(np.array([0.9, 0.2, 0.5]))
    assert c.accepted == pytest.approx(2 / 3) and c.keep().tolist() == [True, False, True]
    c = common.Check(np.array([0.9, 0.2, 0.5]), threshold=0.6)
    assert c.accepted == pytest.approx(1 / 3) and c.keep().tolist() == [True, False, False]


def _outcome(scores, correct):
    scores, correct = np.asarray(scores, float), np.asarray(correct, float)
    g = common.Grade(correct, np.ones(len(correct)))
    return irun.Outcome("r", None, None, None, common.Check(scores), g)


def test_enforcer_threshold_is_chosen_for_correct_kept_samples_keeping_enough():
    # scores above 0.75 are all correct, those below mostly wrong: 0.8 is best, 0.9 keeps too few
    a = _outcome([0.95, 0.85, 0.8, 0.7, 0.6, 0.55, 0.5, 0.5], [1, 1, 1, 0, 0, 1, 0, 0])
    b = _outcome([0.99, 0.82, 0.81, 0.65, 0.52, 0.51, 0.5, 0.5], [1, 1, 1, 0, 1, 0, 0, 0])
    assert irun.choose_threshold([a, b]) == 0.8
    assert irun.choose_threshold([a, b], min_keep=0.5) == 0.6  # 0.7 and up keep too few of b
    assert irun.choose_threshold([a, b, "nothing made"]) == 0.8  # a request that made nothing
    flat = _outcome([0.55] * 4, [1, 0, 1, 0])  # nothing to gain: the lowest threshold
    assert irun.choose_threshold([flat]) == 0.5
    assert irun.choose_threshold([flat], grid=(0.6, 0.7)) == 0.6  # none keeps enough: the first
    sure = _outcome([0.95] * 4, [1, 0, 1, 1])  # every threshold keeps the same: the lowest
    assert irun.choose_threshold([sure]) == 0.5 and irun.choose_threshold(["nothing"]) == 0.5
    for grid, keep in (((), 0.25), ((0.7, 0.5), 0.25), ((0.5,), 1.5)):
        with pytest.raises(ValueError):
            irun.choose_threshold([a], grid=grid, min_keep=keep)


@pytest.mark.parametrize("world", invent.WORLDS)
def test_each_world_checks_at_its_threshold(world, monkeypatch):
    cls = invent.world_class(world)
    inv = cls.__new__(cls)
    inv.threshold = 0.7
    scores = np.array([0.6, 0.8, 0.9])
    inv.critic = types.SimpleNamespace(score=lambda X: scores)  # stands in for the trained critic
    if world == "physics":
        inv.summary = lambda t, laws: None
        monkeypatch.setattr(iphys, "_laws", lambda worlds: None)
        frames = np.zeros((3, iphys.CRITIC_FRAMES + 1))  # long enough for the critic to read
        check = inv.check(iphys.Samples(types.SimpleNamespace(worlds=[], states=frames), None))
    elif world == "shapes":
        inv.score = lambda images, rules: scores
        check = inv.check(ishapes.Samples(None, None), ishapes.Rules(()))
    else:
        inv.features = lambda pairs, samples: None
        check = inv.check(lang.Samples([], None), types.SimpleNamespace(pairs=[]))
    assert check.threshold == 0.7 and check.keep().tolist() == [False, True, True]


def test_grade_summary_skips_unconcerned_samples():
    g = common.Grade([1, np.nan, 0, 1], [1, 1, np.nan, 0])
    assert g.summary() == {"obeyed": pytest.approx(2 / 3), "intact": pytest.approx(2 / 3)}
    assert g.correct.tolist() == [True, True, False, False]
    assert g.summary(np.array([False, True, False, False]))["obeyed"] != g.summary()["obeyed"]


def test_critic_learns_a_separable_rule_and_is_seeded():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)
    a = common.Critic(steps=300, seed=1).fit(X, y).score(X)
    b = common.Critic(steps=300, seed=1).fit(X, y).score(X)
    assert np.array_equal(a, b)
    assert common.auroc(a[y == 1], a[y == 0]) > 0.95
    with pytest.raises(ValueError):
        common.Critic().fit(np.full((3, 2), np.nan), np.ones(3))
    with pytest.raises(ValueError, match="rows"):
        common.Critic().fit(np.repeat(X[:, None], 3, 1), y)  # rows of frames


def test_physics_critic_tells_a_gravity_near_miss_on_fresh_worlds(small_physics_critic):
    """Trained small (`small_physics_critic`), the physics critic already tells fresh
    training-range worlds told their own laws from the same worlds told a gravity 5-30% of its
    training range off."""
    inv = small_physics_critic
    data = physics.dataset("iid", 600, 123, n_steps=iphys.CRITIC_FRAMES)
    L = iphys._laws(data.worlds)
    rng = np.random.default_rng(1)
    wrong = iphys._near_miss(L, rng, np.zeros(len(L), int))  # gravity, 5-30% of its range off
    good = inv.critic.score(inv.summary(data, L))
    bad = inv.critic.score(inv.summary(data, wrong))
    assert common.auroc(good, bad) > 0.75


WALL_STARTS = [[9.0, 5.0, 6.0, 0.0], [5.0, 5.0, 0.5, 0.0], [9.6, 5.0, 0.3, 0.0]]


def _wall_bounces(restitution: float, starts=WALL_STARTS) -> physics.Trajectories:
    """Three one-ball worlds without gravity, friction or drag, simulated for the critic's frames;
    by default a fast ball that bounces on the right wall, a slow one that never reaches a wall,
    and a slow one that touches it (reversing from under REVERSAL)."""
    states = np.zeros((3, iphys.CRITIC_FRAMES + 1, 2, 4))
    states[:, 0, 0] = starts
    data = physics.Trajectories(
        states,
        np.array([[True, False]] * 3),
        np.array([[0.3, 0.0]] * 3),
        np.array([[1.0, 0.0]] * 3),
        [physics.World()] * 3,
        1 / 30,
    )
    return data.rerun([physics.World(0.0, 0.0, restitution, 0.0)] * 3)


def test_bounce_reading_reads_restitution_off_a_wall_bounce():
    """The hand-written diagnostic reads restitution off a ball's bounce on the right wall (no
    gravity, friction or drag) to within 0.01; NaN where the ball never reverses, and where it
    reverses from under REVERSAL (a slow ball that touches the wall)."""
    moved = _wall_bounces(0.8)
    assert (np.diff(np.sign(moved.states[2, :, 0, 2])) != 0).any()  # the slow ball does reverse
    read = iphys.bounce_reading(moved)
    assert abs(read[0] - 0.8) < 0.01 and np.isnan(read[1:]).all()
    assert np.isnan(iphys.bounce_reading(moved, frames=2)[0])  # before the bounce


def test_reading_auroc_counts_true_trajectories_without_a_bounce():
    """`unread` counts the pairs that count whose true trajectory has no bounce to read: of the
    three wall worlds (one bounce, two without), all three shown; their near misses (three fast
    balls) all bounce."""
    inv = iphys.PhysicsInventor()
    inv.summary = lambda t, laws: t.states[:, -1, :, 2:].sum((1, 2))
    inv.critic = types.SimpleNamespace(score=lambda X: X)
    good, bad = _wall_bounces(0.8), _wall_bounces(0.7, [WALL_STARTS[0]] * 3)
    L = np.tile([0.0, 0.0, 0.8, 0.0], (3, 1))
    inv.near_misses = lambda rules, n, seed, laws: (good, bad, L, np.ones(3, bool))
    out = inv.reading_auroc(iphys.Laws(L), 3, 0)
    assert out["unread"] == 2 and out["shows"] == 3, out


def test_reading_auroc_scores_restitution_near_misses_two_ways():
    """On restitution near misses of a world with restitution 0.7 (whatever the request touched),
    the critic's AUROC is the one its scores give on the pairs where the near miss shows, and the
    hand-written reading tells the truth from the near miss (AUROC above 0.75)."""
    inv = iphys.PhysicsInventor()
    inv.dt = 1 / 30
    inv.summary = lambda t, laws: t.states[:, -1, :, 2:].sum((1, 2))  # some feature of the frames
    inv.critic = types.SimpleNamespace(score=lambda X: X)
    rules = iphys.Laws(np.tile([9.8, 0.1, 0.7, 0.1], (5, 1)), touched=("gravity",))
    out = inv.reading_auroc(rules, 300, 0)
    good, bad, L, shows = inv.near_misses(rules, 300, 0, ("restitution",))
    assert (np.abs(bad.states - good.states).max((1, 2, 3)) > 0).sum() >= shows.sum() > 0
    expect = common.auroc(inv.critic.score(inv.summary(good, L))[shows],
                          inv.critic.score(inv.summary(bad, L))[shows])  # fmt: skip
    assert out["critic"] == expect != 0.5 and out["reading"] > 0.75, out
    assert out["shows"] == shows.sum() < out["n"] == 300
    assert out["unread"] == 0  # over the critic's frames, every true trajectory here bounces


def test_physics_critic_reads_a_whole_default_sample():
    """The critic reads every frame of a sample at the default horizon; a horizon shorter than the
    frames it reads is refused before anything is generated, and samples too short to read are
    refused by check in one line."""
    assert iphys.PhysicsInventor().horizon == iphys.CRITIC_FRAMES
    with pytest.raises(ValueError, match="horizon must be at least"):
        iphys.PhysicsInventor(horizon=iphys.CRITIC_FRAMES - 1)
    short = physics.dataset("iid", 2, 0, n_steps=iphys.CRITIC_FRAMES - 1)
    with pytest.raises(ValueError, match="the critic reads"):
        iphys.PhysicsInventor().check(iphys.Samples(short, iphys._laws(short.worlds)))


def test_artifacts_roundtrip_and_missing_runs(tmp_path):
    run = tmp_path / "runs" / "06_physics"
    run.mkdir(parents=True)
    artifacts.save("physics", {"x": 1}, run)
    with pytest.raises(FileNotFoundError, match="no finished run"):
        artifacts.load("06_physics", "physics", tmp_path / "runs")
    (run / "run.json").write_text("{}")
    assert artifacts.load("06_physics", "physics", tmp_path / "runs") == {"x": 1}
    with pytest.raises(FileNotFoundError, match="missing"):
        artifacts.load("06_physics", "other", tmp_path / "runs")
    assert not list(run.glob("*.partial"))


def test_world_class_and_cli(capsys, tmp_path):
    with pytest.raises(ValueError, match="unknown world"):
        invent.world_class("plants")
    assert main(["invent", "physics", "--help-requests"]) == 0
    assert "stronger|weaker" in capsys.readouterr().out
    assert main(["invent", "plants", "x"]) == 2
    # a request that is not understood is refused before any model is looked for
    assert main(["invent", "physics", "gravity is 10% stronker", "--sources", str(tmp_path)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["invent", "shapes", "hearts are blue", "--sources", str(tmp_path)]) == 2
    assert "no finished run of 09_shapes" in capsys.readouterr().err
    assert main(["invent", "language"]) == 2


def test_shapes_inventor_samples_the_way_the_saved_run_did(monkeypatch):
    from distinv.shapes import models
    from distinv.shapes import train as st

    calls = []

    class Spy:
        def generate(self, factors, seed, guidance, steps, **kwargs):
            calls.append((guidance, steps, kwargs))
            return np.zeros((len(factors), 32, 32, 3), np.float32)

    base = {"oracle": models.Oracle().eval(), "diffusion": Spy(), "guidance": 2.0,
            "sample_steps": 7, "sampler": "star", "cvae": None, "temperature": 1.0}  # fmt: skip
    F = st.uniform_cells(2, 0)
    for extra, want in (
        ({"solver": "dpm2m", "spacing": "log_snr"}, ("dpm2m", "log_snr")),
        ({}, ("ddim", "time")),
    ):  # a run saved before the solver was a setting
        monkeypatch.setattr(ishapes.artifacts, "load", lambda *a, extra=extra: base | extra)
        inv = ishapes.ShapesInventor(n_critic=16, critic_steps=1, n_reader=16, reader_steps=1).fit()
        inv.makers["latent_diffusion"](F, 3)
        assert inv.reader is not inv.oracle  # the critic reads through a reader of its own
        assert inv.reader.body[0].out_channels == ishapes.READER_WIDTH
        assert calls[-1] == (2.0, 7, {"sampler": "star", "solver": want[0], "spacing": want[1]})
