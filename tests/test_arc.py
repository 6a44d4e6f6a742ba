"""ARC: the DSL's primitives, the program search, the scoring rule, the CLI's errors."""

import json
from types import SimpleNamespace

import numpy as np
import pytest

from distinv import arc
from distinv.arc import local, primitives, recolour, solver
from distinv.cli import main

G = np.array


def test_primitives_on_small_grids():
    g = G([[0, 0, 0, 0], [0, 3, 3, 0], [0, 0, 3, 0], [0, 0, 0, 0]])
    assert primitives.crop(g).tolist() == [[3, 3], [0, 3]]
    assert primitives.gravity(G([[1, 0], [0, 0], [0, 2]]), 0).tolist() == [[0, 0], [0, 0], [1, 2]]
    ring = G([[0, 0, 0, 0, 0], [0, 4, 4, 4, 0], [0, 4, 0, 4, 0], [0, 4, 4, 4, 0], [0, 0, 0, 0, 0]])
    assert primitives.fill_enclosed(ring)[2, 2] == 4
    assert np.array_equal(primitives.fill_enclosed(g), g)  # nothing enclosed: the grid as it is
    halves = G([[1, 0, 5, 1, 1], [0, 0, 5, 0, 1]])  # a separator column of 5s
    assert primitives.combine(halves, 1, "and").tolist() == [[1, 0], [0, 0]]
    assert primitives.combine(halves, 1, "xor").tolist() == [[0, 1], [0, 1]]
    two = G([[1, 0, 0, 0, 0], [0, 0, 0, 2, 2], [0, 0, 0, 2, 2]])  # background 0: the most common
    assert arc.PRIMITIVES["largest_object"](two).tolist() == [[2, 2], [2, 2]]
    assert arc.PRIMITIVES["smallest_object"](two).tolist() == [[1]]
    noisy = G([[1, 0, 0], [0, 0, 0], [0, 2, 2]])
    assert primitives.denoise(noisy).tolist() == [[0, 0, 0], [0, 0, 0], [0, 2, 2]]


def test_search_finds_a_rotation_with_a_colour_map_and_predicts_the_test():
    rng = np.random.default_rng(0)
    grids = [rng.integers(0, 3, size=(3, 4)) for _ in range(4)]
    swap = np.array([0, 2, 1, 3, 4, 5, 6, 7, 8, 9])  # colours 1 and 2 swap
    train = [(g, swap[np.rot90(g)]) for g in grids[:3]]
    result = arc.search(train, [grids[3]], depth=1)
    assert result.programs[0] == "rot90 | colours 1->2 2->1"
    assert np.array_equal(result.predictions[0][0], swap[np.rot90(grids[3])])
    task = SimpleNamespace(id="toy", train=train, test=[(grids[3], swap[np.rot90(grids[3])])])
    assert arc.solved(task, result) and not arc.false_positive(task, result)
    wrong = SimpleNamespace(id="toy", train=train, test=[(grids[3], np.zeros((1, 1), int))])
    assert not arc.solved(wrong, result) and arc.false_positive(wrong, result)


def test_the_budget_stops_the_search():
    g = np.arange(12).reshape(3, 4) % 10
    result = arc.search([(g, g + 0)], [g], budget=1, depth=3)
    assert result.exhausted and not result.capped and result.tried <= 1


def test_the_result_depends_on_the_count_not_the_clock(monkeypatch):
    """The same task and budget give the same result on a machine ten times slower; a search
    that reaches the safety cap is recorded as capped."""
    task = arc.load("train")[1]
    fast = arc.solve(task, budget=4000, depth=2)
    assert fast.exhausted and not fast.capped

    real = solver.time.perf_counter
    clock = {"t": real()}

    def slow():  # every reading of the clock is 10 ms later than the last
        clock["t"] += 0.01
        return clock["t"]

    monkeypatch.setattr(solver.time, "perf_counter", slow)
    slowed = arc.solve(task, budget=4000, depth=2)
    assert (slowed.programs, slowed.predictions, slowed.tried, slowed.cell_trials) == (
        fast.programs, fast.predictions, fast.tried, fast.cell_trials)  # fmt: skip
    assert slowed.seconds > fast.seconds
    capped = arc.solve(task, budget=4000, depth=2, cap=1.0)  # 100 clock readings
    assert capped.capped and not capped.exhausted and capped.trials < fast.trials
    with pytest.raises(ValueError, match="budget of at least 1 trial"):
        arc.solve(task, budget=0)


def test_the_cli_defaults_are_the_solvers():
    from distinv.cli import parser

    args = parser().parse_args(["arc", "eval"])
    assert (args.budget, args.cap) == (arc.solver.BUDGET, arc.solver.CAP)


def test_malformed_tasks_and_unknown_ids_are_refused(capsys):
    with pytest.raises(ValueError, match="at least one training pair"):
        arc.search([], [])
    with pytest.raises(ValueError, match="non-empty 2-D"):
        arc.search([(np.zeros((0, 3), int), np.zeros((1, 1), int))], [])
    with pytest.raises(ValueError, match="unknown split"):
        arc.load("test")
    assert main(["arc", "solve", "not-a-task"]) == 2
    assert "unknown ARC-AGI-1 task id 'not-a-task'" in capsys.readouterr().err


def test_arc_agi_1_is_pinned_and_a_known_task_is_solved(capsys):
    assert len(arc.load("train")) == 400 and len(arc.load("eval")) == 400
    assert main(["arc", "solve", "1e0a9b12", "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "program 1: gravity_down" in out and out.rstrip().endswith("solved")


def test_self_kron_and_dedupe():
    g = G([[0, 7], [7, 7]])
    out = primitives.self_kron(g)
    assert out.shape == (4, 4) and (out[:2, :2] == 0).all() and np.array_equal(out[2:, 2:], g)
    assert primitives.dedupe(G([[1, 1, 2], [1, 1, 2], [3, 3, 4]])).tolist() == [[1, 2], [3, 4]]


def test_a_local_rule_is_kept_only_if_it_generalises_within_the_training_pairs():
    # Rule: a cell left of a 1 becomes 2; each pair shows patterns the others also show.
    def make(row):
        a = G([row])
        b = a.copy()
        b[0, :-1][a[0, 1:] == 1] = 2
        return a, b

    pairs = [make([0, 0, 1, 0]), make([0, 0, 0, 1, 0]), make([0, 0, 1, 0, 0])]
    table = local.local_rule(pairs)
    assert table is not None
    program = arc.Program((), local=table)
    assert program(G([[0, 0, 0, 1, 0, 0]])).tolist() == [[0, 0, 2, 1, 0, 0]]
    # One pair whose pattern no other pair shows cannot be checked by leave-one-out: refused.
    assert local.local_rule([make([0, 0, 1, 0]), (G([[5, 5]]), G([[6, 6]]))]) is None
    assert local.local_rule([make([0, 0, 1, 0])]) is None  # one pair: nothing to check against


def test_directional_primitives_move_the_way_they_are_named():
    g = G([[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    assert arc.PRIMITIVES["gravity_right"](g).tolist()[0] == [0, 0, 1]
    assert arc.PRIMITIVES["gravity_left"](g).tolist()[0] == [1, 0, 0]
    assert arc.PRIMITIVES["gravity_down"](g).tolist()[2] == [0, 1, 0]
    assert arc.PRIMITIVES["shift_right"](g).tolist()[0] == [0, 0, 1]
    assert arc.PRIMITIVES["shift_left"](g).tolist()[0] == [1, 0, 0]
    assert arc.PRIMITIVES["shift_down"](g).tolist()[1] == [0, 1, 0]
    assert arc.PRIMITIVES["shift_up"](g).tolist() == [[0, 0, 0]] * 3


def test_marks_lines_and_patterns():
    ring = G([[0, 3, 3, 3, 0], [0, 3, 0, 3, 0], [0, 3, 3, 3, 0], [0, 0, 0, 0, 0]])
    assert (primitives.mark(ring, "enclosed") == arc.MARK).sum() == 1
    assert primitives.mark(ring, "halo")[3].tolist() == [10, 10, 10, 10, 10]
    assert primitives.mark(G([[0, 0], [0, 0]]), "enclosed").tolist() == [[0, 0], [0, 0]]
    assert primitives.connect(G([[2, 0, 0, 2, 0]]), 1).tolist() == [[2, 2, 2, 2, 0]]
    assert primitives.connect_diagonal(G([[5, 0, 0], [0, 0, 0], [0, 0, 5]]))[1, 1] == 5
    assert primitives.rays(G([[0, 0, 0], [0, 4, 0]]), "v").tolist() == [[0, 4, 0], [0, 4, 0]]
    tiled = np.tile(G([[1, 2], [3, 4]]), (3, 3))
    holed = tiled.copy()
    holed[1:3, 2:4] = 0
    assert np.array_equal(primitives.complete_period(holed), tiled)
    stripes = (np.add.outer(np.arange(5), np.arange(5)) % 3) + 1
    assert np.array_equal(primitives.complete_period(np.triu(stripes[::-1])[::-1]), stripes)
    assert primitives.period_crop(tiled).tolist() == [[1, 2], [3, 4]]
    divided = G(
        [[1, 0, 5, 0, 0], [0, 0, 5, 0, 2], [5, 5, 5, 5, 5], [0, 0, 5, 0, 0], [0, 3, 5, 0, 0]]
    )
    assert len(primitives.cells(divided)) == 4
    assert primitives.cell_by(divided, "overlay").tolist() == [[1, 0], [0, 2]]


def test_objects_recoloured_by_a_property_learned_from_the_pairs():
    def pair(sizes):  # one-cell-high bars of the given lengths, the longest painted 2, others 1
        a, b = np.zeros((2 * len(sizes), 6), int), np.zeros((2 * len(sizes), 6), int)
        for i, n in enumerate(sizes):
            a[2 * i, :n] = 5
            b[2 * i, :n] = 2 if n == max(sizes) else 1
        return a, b

    train = [pair([3, 5]), pair([2, 4, 1])]
    rule = recolour.recolour_rule(train)
    assert rule is not None and rule[0] == "size rank"
    test, want = pair([1, 6, 2])
    result = arc.search(train, [test], depth=1)
    assert result.programs[0] == "identity | objects recoloured by size rank"
    assert np.array_equal(result.predictions[0][0], want)


def test_a_training_pair_that_needs_no_change_does_not_stop_a_primitive():
    joined = (G([[2, 0, 0, 2], [0, 0, 0, 0]]), G([[2, 2, 2, 2], [0, 0, 0, 0]]))
    apart = (G([[2, 0, 0, 3], [0, 0, 0, 0]]), G([[2, 0, 0, 3], [0, 0, 0, 0]]))  # nothing to join
    test = G([[0, 0, 0, 0], [4, 0, 0, 4]])
    result = arc.search([joined, apart], [test], depth=1)
    assert result.programs[0] == "connect_h"
    assert result.predictions[0][0] == [[0, 0, 0, 0], [4, 4, 4, 4]]


def test_the_search_skips_programs_that_repeat_a_reached_state():
    g = G([[7]])  # every turn and flip of one cell is the cell itself: one state, not dozens
    result = arc.search([(g, G([[7, 7, 7, 7]]))], [g], depth=2)
    assert len(result.programs) == 1  # every program predicts the same test grid: one attempt
    # Unpruned, depth 2 means every primitive after every primitive; here only the few distinct
    # grids of depth 1 are extended, and the search still runs to its end (one attempt only).
    assert not result.exhausted and result.tried < 10 * len(arc.PRIMITIVES)
    assert result.states < 2 * len(arc.PRIMITIVES)


def test_arc_eval_writes_per_task_results(tmp_path, capsys):
    out = tmp_path / "results.json"
    args = ["arc", "eval", "--split", "train", "--limit", "2", "--budget", "3000", "--depth", "1"]
    assert main([*args, "--workers", "1", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["tasks"]
    assert [r["task"] for r in rows] == [t.id for t in arc.load("train")[:2]]
    for r in rows:
        assert (r["solved_by"] is not None) == r["solved"]
        assert isinstance(r["capped"], bool) and r["tried"] <= r["trials"] <= 3000 + arc.CELL_TRIAL
    assert "ARC-AGI-1 train:" in capsys.readouterr().out


def test_every_primitive_survives_odd_grids():
    rng = np.random.default_rng(0)
    odd = [G([[0]]), G([[5]]), G([[0, 3, 0]]), G([[1], [0], [1]]), np.zeros((4, 4), int),
           rng.integers(0, 10, (30, 30)), rng.integers(0, 2, (7, 3)) * 4]  # fmt: skip
    odd += [np.asarray(a) for t in arc.load("train")[:40] for a, _ in t.train]
    for name in arc.PRIMITIVES:
        for g in odd:
            out = solver._apply(name, g)  # None where it does not apply; never an exception
            assert out is None or (out.ndim == 2 and out.size > 0), name
