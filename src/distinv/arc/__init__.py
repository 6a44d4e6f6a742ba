"""ARC-AGI-1 (07_arc): the tasks, a grid DSL, a program search with fitted last steps, scoring.

Modules: `data` (the tasks), `grids` (background and the eight turns), `primitives` (the DSL),
`solver` (programs, the search, scoring), one module per fitted step (`colour_map`, `select`,
`blocks`, `choose`, `recolour`, `local`, `cell_rule`, and `symmetry`, whose completions are
primitives), and `draw` (grids on a matplotlib axis). The names below are the package's API.
"""

from distinv.arc.data import PUBLISHED, VERSION, load, task_by_id
from distinv.arc.draw import render
from distinv.arc.primitives import MARK, PRIMITIVES
from distinv.arc.solver import (
    BUDGET,
    CALIBRATION,
    CAP,
    CELL_SHARE,
    CELL_TRIAL,
    HELD,
    Program,
    Result,
    evaluate,
    false_positive,
    search,
    solve,
    solved,
    solved_by,
    solving_program,
)

__all__ = [
    "BUDGET", "CALIBRATION", "CAP", "CELL_TRIAL",
    "CELL_SHARE", "HELD", "MARK", "PRIMITIVES", "PUBLISHED", "VERSION", "Program", "Result",
    "evaluate", "false_positive", "load", "render", "search", "solve", "solved", "solved_by",
    "solving_program", "task_by_id",
]  # fmt: skip
