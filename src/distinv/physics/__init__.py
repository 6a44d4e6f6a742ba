"""Physics worlds (06_physics).

Modules: `simulator` (balls in a box under four laws; its names are the package's API),
`dynamics` (the models that predict the next frame, and how a law is changed), and `report`
(the chapter's prose about its results, built from them).
"""

from distinv.physics.simulator import (
    FEATURES,
    JUPITER,
    MAX_EVENTS,
    MOON,
    NEAR,
    OMEGA,
    REST_HEIGHT,
    SPLITS,
    TRAIN,
    WAVE,
    Balls,
    Box,
    Trajectories,
    World,
    dataset,
    draw_worlds,
    energy,
    paired_splits,
    random_balls,
    simulate,
)

__all__ = [
    "Balls",
    "Box",
    "FEATURES",
    "JUPITER",
    "MAX_EVENTS",
    "MOON",
    "NEAR",
    "OMEGA",
    "REST_HEIGHT",
    "SPLITS",
    "TRAIN",
    "Trajectories",
    "WAVE",
    "World",
    "dataset",
    "draw_worlds",
    "energy",
    "paired_splits",
    "random_balls",
    "simulate",
]
