"""The per-task cell rule (decision trees over cell features) and its place in the ARC search."""

from types import SimpleNamespace

import numpy as np

from distinv import arc
from distinv.arc import cell_rule as arc_cells


def crowded(g: np.ndarray) -> np.ndarray:
    """The rule to learn: every background cell with exactly two blue neighbours turns yellow."""
    p = np.pad(g == 1, 1)
    n = sum(p[1 + di : 1 + di + g.shape[0], 1 + dj : 1 + dj + g.shape[1]]
            for di in (-1, 0, 1) for dj in (-1, 0, 1) if di or dj)  # fmt: skip
    return np.where((g == 0) & (n == 2), 4, g)


def grids(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.random((7, 7)) < 0.25).astype(int) for _ in range(n)]


def test_features_are_per_cell_and_take_the_search_mark():
    g = np.array([[0, 1, 2], [3, arc.MARK, 0]])
    f = arc_cells.features(g)
    assert f.shape[0] == g.size and np.isfinite(f).all()
    assert np.array_equal(f, arc_cells.features(g.copy()))
    assert np.array_equal(f[:, 0], g.ravel())  # the first feature is the cell's colour


def test_the_cell_rule_learns_a_neighbourhood_rule_and_carries_it_to_new_grids():
    pairs = [(g, crowded(g)) for g in grids(4, 0)]
    rule = arc_cells.cell_rule(pairs)
    assert rule is not None and "tree" in str(rule)
    for g in grids(5, 1):
        assert np.array_equal(rule(g), crowded(g))


def test_the_cell_rule_refuses_what_it_cannot_check_or_carry():
    pairs = [(g, crowded(g)) for g in grids(3, 0)]
    assert arc_cells.cell_rule(pairs[:1]) is None  # leave-one-out needs two pairs
    assert arc_cells.cell_rule([pairs[0], (np.zeros((2, 2), int), np.zeros((3, 3), int))]) is None
    rng = np.random.default_rng(2)  # outputs unrelated to the inputs: fits, but fails leave-one-out
    noise = [(g, rng.integers(0, 10, g.shape)) for g in grids(3, 3)]
    assert arc_cells.cell_rule(noise) is None


def test_the_search_ends_in_a_cell_rule_where_nothing_else_fits():
    train = [(g, crowded(g)) for g in grids(4, 0)]
    test = grids(1, 1)[0]
    result = arc.search(train, [test], depth=1)
    assert result.kinds[0] == "cell rule" and "cell rule" in result.programs[0]
    assert np.array_equal(result.predictions[0][0], crowded(test))
    task = SimpleNamespace(train=train, test=[(test, crowded(test))])
    assert arc.solved_by(task, result) == "cell rule"
    assert "cell rule" in result.programs[arc.solving_program(task, result)]
    task.test = [(test, crowded(test) + 1)]
    assert arc.solved_by(task, result) is None
    none = arc.search(train, [test], depth=1, cell_depth=-1)
    assert "cell rule" not in none.kinds
