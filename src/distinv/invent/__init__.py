"""The distribution inventor (book/10_invent.md): one interface, three worlds.

    inv = invent.for_world("physics").fit()            # the chapter's models; trains the critic
    rules = inv.extract(observed)                      # named rules with values and their spread
    changed = inv.modify(rules, "gravity is 10% stronger")
    samples = inv.generate(changed, n=1000, seed=0)    # a new distribution: samples, not one answer
    report = inv.check(samples, changed)               # the critic: each sample's score
    grade = inv.grade(samples, changed)                # the reference labeller: obeyed and intact

Worlds: `language` (SCAN-shaped languages; the meta-learner of 08_meta), `physics` (the ball
worlds; the law inference and learned simulator of 06_physics), `shapes` (the visual world; the
oracle and generators of 09_shapes). Each world reads requests in its own small language, parsed
by one parser (`Inventor.parse`, listed by `Inventor.REQUESTS`); clauses join with ';'. A request
that is not understood is a ValueError listing what the world accepts, before anything is made.

Each world's parts, learned and given, are listed in its module's docstring and in the chapter's
given/learned table; the reference labellers (the SCAN interpreter, the simulator, the renderer's
truth and the oracle's reading) only grade, never generate.
"""

from __future__ import annotations

from distinv.invent.common import Check, Critic, Grade, auroc, mmd

WORLDS = ("language", "physics", "shapes")
CHAPTERS = {"language": "08_meta", "physics": "06_physics", "shapes": "09_shapes"}

# Fixed before any run: development requests (the only ones a design choice may look at) and test
# requests (looked at only to report), per world; they differ in laws, values, words and
# combinations (tests/test_invent.py checks that no clause is shared).
DEV = {
    "language": ("jump means walk", "left and right swap", "twice means thrice"),
    "physics": ("gravity is 10% stronger", "no friction", "restitution is 0.7"),
    "shapes": ("hearts are blue", "no squares", "size shrinks with x"),
}
TEST = {
    "language": ("look means run", "and and after swap", "walk means I_TURN_RIGHT I_JUMP",
                 "run and look swap; right means left"),
    "physics": ("gravity is 30% weaker", "damping is 0.25", "restitution is 0.4; friction is 0.2"),
    "shapes": ("triangles are green", "no large", "ellipses are yellow; no x0",
               "size grows with y"),
}  # fmt: skip
# Rules held out from the shapes critic that no request uses: the check its design (and its
# reader's size) was chosen on (the chapter reports it). `no` rules on a scale, two positions and
# a shape: with the requests' own, a factor still keeps values the critic trains on; no hue, since
# a hue near miss of a heart or triangle also breaks the base rule that makes them red.
CRITIC_CHECK = ("no small", "no x5", "no y7", "no ellipses")
# The insight carried back: invented worlds the blind physics model also trains on. None has
# gravity within CARRY_MARGIN of a test split's, and none varies gravity in time.
CARRY = ("gravity is 14", "gravity is 17", "gravity is 20")
CARRY_MARGIN = 0.10
# The carry-back's development analog (`invent.physics.development_analog`): invented worlds under
# these requests, the learners' error at gravity CARRY_DEV_AT from fresh starts; no test split.
CARRY_DEV = ("gravity is 14", "gravity is 17")
CARRY_DEV_AT = 20.0
CARRY_DEV_N = (300, 1000)  # the invented trajectories per request it compared
# The language carry-back (`invent.language.carry_back`): invented languages in which jump takes
# each other primitive's meaning, and each other primitive takes jump's; its development analog
# holds out walk composed instead (`language.carry_split("walk")`) and moves walk's meaning the
# same way. Six requests rather than four (to and from two primitives) was chosen on the analog.
CARRY_LANGUAGE = ("jump means walk", "jump means look", "jump means run",
                  "walk means jump", "look means jump", "run means jump")  # fmt: skip
CARRY_LANGUAGE_DEV = ("walk means look", "walk means run", "walk means jump",
                      "look means walk", "run means walk", "jump means walk")  # fmt: skip
# How many times each invented pair stands in the training set: the candidates compared on the
# analog with the six requests (the chapter's `repeat_language` is the one kept).
CARRY_LANGUAGE_REPEATS = (1, 3, 6)
# How many readings (study sets of the base language, each changed by the request) must give an
# invented command the same answer for it to be kept: the candidates compared on the analog with
# the six requests and three repeats (the chapter's `readings_language` is the one kept; 1: all).
CARRY_LANGUAGE_READINGS = (1, 3, 5, 9)
# Invented commands per request: the candidates compared on the analog with the six requests and
# three repeats (the chapter's `n_carry_language` is the one kept).
CARRY_LANGUAGE_PER = (500, 1000, 1500)


def world_class(world: str):
    """The Inventor class of a world (no model is loaded)."""
    if world == "language":
        from distinv.invent.language import LanguageInventor as cls
    elif world == "physics":
        from distinv.invent.physics import PhysicsInventor as cls
    elif world == "shapes":
        from distinv.invent.shapes import ShapesInventor as cls
    else:
        raise ValueError(f"unknown world {world!r}; known: {', '.join(WORLDS)}")
    return cls


def for_world(world: str, sources: str = "auto", **options):
    """The inventor of `world`, reading its chapter's models from `sources` (see
    `distinv.artifacts.run_folder`); `options` go to its constructor."""
    return world_class(world)(sources=sources, **options)


__all__ = ["CARRY", "CARRY_DEV", "CARRY_DEV_AT", "CARRY_DEV_N", "CARRY_LANGUAGE",
           "CARRY_LANGUAGE_DEV", "CARRY_LANGUAGE_PER", "CARRY_LANGUAGE_READINGS",
           "CARRY_LANGUAGE_REPEATS", "CARRY_MARGIN", "CHAPTERS",
           "CRITIC_CHECK", "DEV", "TEST", "WORLDS", "Check", "Critic", "Grade", "auroc",
           "for_world", "mmd", "world_class"]  # fmt: skip
