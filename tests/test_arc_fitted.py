"""ARC's fitted steps beyond the colour map: object selection, block layouts, symmetry completion,
colour-relative cell rules, and where they rank in the search."""

import numpy as np

from distinv import arc
from distinv.arc import blocks as arc_blocks
from distinv.arc import cell_rule as arc_cells
from distinv.arc import choose as arc_choose
from distinv.arc import primitives, solver
from distinv.arc import select as arc_select
from distinv.arc import symmetry as arc_symmetry

G = np.array


def scene(seed: int, reds: int) -> tuple[np.ndarray, np.ndarray]:
    """Three 3x3 objects on black, one with `reds` red cells (the most); the output is that one."""
    rng = np.random.default_rng(seed)
    g = np.zeros((12, 12), int)
    boxes = []
    for k, (y, x) in enumerate([(0, 0), (0, 7), (7, 3)]):
        box = np.full((3, 3), 3)
        box.flat[rng.permutation(9)[: reds if k == seed % 3 else 1]] = 2
        g[y : y + 3, x : x + 3] = box
        boxes.append(box)
    return g, boxes[seed % 3]


def test_the_selector_learns_which_property_picks_the_object():
    train = [scene(s, 4) for s in range(3)]
    pick = arc_select.selector(train)
    assert pick is not None
    g, want = scene(4, 5)
    assert np.array_equal(pick(g), want)


def test_the_selector_refuses_outputs_no_property_explains():
    g, _ = scene(0, 4)
    assert arc_select.selector([(g, g[5:7, 5:7])]) is None  # a piece of background: no object
    assert arc_select.selector([(g, g)]) is None  # not smaller
    twins = np.zeros((6, 9), int)
    twins[1:3, 1:3], twins[1:3, 5:7] = 4, 6  # two objects alike in every property but colour
    chosen = arc_select.Selector("colour", "size", True)
    assert chosen(twins) is None  # a tie between different crops is no answer


def test_blocks_by_position_and_by_cell():
    rng = np.random.default_rng(0)
    grids = [rng.integers(0, 3, (3, 3)) for _ in range(3)]
    for g in grids:
        g[1, 1] = 0  # black in each: the background
    layout = [(g, np.block([[g, np.fliplr(g)], [np.rot90(g, 2), g]])) for g in grids]
    step = arc_blocks.blocks(layout[:2])
    assert step is not None and step.by == "position"
    assert np.array_equal(step(grids[2]), layout[2][1])
    kron = [(g, np.kron(g != 0, g)) for g in grids]  # the grid copied where a cell is coloured
    step = arc_blocks.blocks(kron[:2])
    assert step is not None and step.by == "background"
    assert np.array_equal(step(grids[2]), kron[2][1])
    assert arc_blocks.blocks([(grids[0], rng.integers(0, 3, (6, 6)))]) is None


def test_symmetry_completion_restores_a_hidden_patch():
    rng = np.random.default_rng(1)
    half = rng.integers(1, 5, (8, 4))
    picture = np.hstack([half, np.fliplr(half)])  # left-right symmetric
    hidden = picture.copy()
    hidden[2:4, 1:4] = 9
    assert np.array_equal(arc_symmetry.fill(hidden), picture)
    assert np.array_equal(arc_symmetry.patch(hidden), picture[2:4, 1:4])
    noise = rng.integers(1, 5, (8, 8))
    noise[2:4, 1:4] = 9
    assert arc_symmetry.fill(noise) is None  # nothing symmetric to read the patch from


def test_a_colour_relative_cell_rule_carries_to_an_unseen_colour():
    def paint(colour: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The cell right of each coloured cell takes its colour, lighter: here the rule is only
        'the rarest colour spreads right'."""
        rng = np.random.default_rng(seed)
        g = np.zeros((6, 6), int)
        g[rng.integers(0, 6, 4), rng.integers(0, 5, 4)] = colour
        out = g.copy()
        out[:, 1:][g[:, :-1] == colour] = colour
        return g, out

    train = [paint(c, s) for s, c in enumerate((1, 2, 3))]
    rule = arc_cells.cell_rule(train)
    assert rule is not None
    g, want = paint(7, 9)  # a colour no training pair has
    assert rule.relative and np.array_equal(rule(g), want)
    table = arc_cells.canonical(G([[3, 3, 1], [5, 1, 3]]))
    assert table[3] == 0 and table[1] == 1 and table[5] == 2 and table[0] == arc_cells.ABSENT


def test_attract_period_patch_and_thirds():
    g = np.zeros((6, 6), int)
    g[0:2, 0:2], g[4, 4] = 5, 2  # the small one shares no band with the big one: it stays
    g[0, 4] = 3  # this one shares the big one's rows: it slides left until it touches
    out = primitives.attract(g, largest=True)
    assert out[0, 2] == 3 and out[0, 4] == 0 and out[4, 4] == 2
    tiled = np.tile(G([[1, 2], [3, 4]]), (3, 3))
    holed = tiled.copy()
    holed[1:3, 2:5] = 0
    assert np.array_equal(primitives.period_patch(holed), tiled[1:3, 2:5])
    assert primitives.third(np.arange(9).reshape(1, 9), 1, last=True).tolist() == [[6, 7, 8]]


def test_a_selection_ranks_after_programs_of_one_more_primitive(monkeypatch):
    train = [scene(s, 4) for s in range(3)]
    g, want = scene(4, 5)
    answers = {a.tobytes(): b for a, b in train}  # a primitive that fits the training pairs only
    memo = {"memo": lambda x: answers.get(x.tobytes(), x[:1, :1])}
    monkeypatch.setattr(solver, "PRIMITIVES", memo)
    result = arc.search(train, [g], depth=1)
    assert result.programs[0] == "memo"  # one primitive, found after the selection, ranks first
    assert result.kinds == ["none", "selection"]
    assert np.array_equal(result.predictions[0][1], want)


def test_a_choice_among_the_training_outputs_learns_what_decides_it():
    yes, no = G([[1]]), G([[7]])  # symmetric grids answer 1, the others 7

    def grid(seed: int, symmetric: bool) -> np.ndarray:
        half = np.random.default_rng(seed).integers(0, 4, (4, 2))
        return np.hstack([half, half[:, ::-1] if symmetric else (half[:, ::-1] + 1) % 4])

    train = [(grid(s, s % 2 == 0), yes if s % 2 == 0 else no) for s in range(4)]
    chosen = arc_choose.choice(train)
    assert chosen is not None and "symmetry" in str(chosen)
    assert np.array_equal(chosen(grid(10, True)), yes)
    assert np.array_equal(chosen(grid(11, False)), no)
    assert arc_choose.choice(train[:2]) is None  # no output recurs: nothing to check a choice on
