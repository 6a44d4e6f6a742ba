"""One request through one world's inventor, end to end (`distinv invent`, and the chapter)."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from distinv.invent.common import Check, Grade

N_OBSERVED = {"language": 14, "physics": 200, "shapes": 1000}  # base samples extract reads


@dataclass
class Outcome:
    request: str
    rules: object  # what extract returned
    changed: object  # what modify returned
    samples: object
    check: Check
    grade: Grade

    def summary(self) -> dict[str, float]:
        """Obeyed and intact of every sample, and of those the critic keeps (the enforcer)."""
        keep = self.check.keep()
        every, kept = self.grade.summary(), self.grade.summary(keep)
        return {
            "obeyed": every["obeyed"],
            "intact": every["intact"],
            "critic_accepted": self.check.accepted,
            "enforced_obeyed": kept["obeyed"],
            "enforced_intact": kept["intact"],
        }


def pipeline(inv, rules, request: str, n: int, seed: int) -> Outcome:
    """modify, generate, check and grade one request against extracted rules."""
    changed = inv.modify(rules, request)
    samples = inv.generate(changed, n, seed)
    return Outcome(request, rules, changed, samples, inv.check(samples, changed),
                   inv.grade(samples, request))  # fmt: skip


def attempt(inv, rules, request: str, n: int, seed: int) -> Outcome | str:
    """`pipeline`, or the reason it made nothing: a request that contradicts the extracted rules
    (a shape asked for that the rules ban everywhere) counts as generated wrongly, not skipped."""
    try:
        return pipeline(inv, rules, request, n, seed)
    except ValueError as e:
        if "leave no image" not in str(e):
            raise
        return str(e)


THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)  # the enforcer's thresholds to choose among
MIN_KEEP = 0.25  # a threshold must keep at least this fraction of every request's samples


def choose_threshold(outcomes: list[Outcome | str], grid=THRESHOLDS, min_keep=MIN_KEEP) -> float:
    """The consistency enforcer's threshold for one world, chosen on its development requests'
    outcomes: of the thresholds in `grid` (ascending) that keep at least `min_keep` of every
    request's samples, the one with the highest fraction of correct samples (obeyed and intact)
    among those kept, averaged over the requests; the lower on ties; `grid[0]` when none keeps
    enough or no request made anything. The fraction rewards purity only, so the choice leans to
    the highest threshold that still keeps `min_keep`."""
    grid = tuple(grid)
    if not grid or list(grid) != sorted(grid):
        raise ValueError(f"the thresholds must be a non-empty ascending list, got {grid}")
    if not 0 <= min_keep <= 1:
        raise ValueError(f"min_keep must be a fraction in [0, 1], got {min_keep}")
    made = [o for o in outcomes if not isinstance(o, str)]
    best, best_score = grid[0], -1.0
    for t in grid if made else ():
        keeps = [o.check.scores >= t for o in made]
        if any(k.mean() < min_keep for k in keeps):
            continue
        score = float(
            np.mean([o.grade.correct[k].mean() for o, k in zip(made, keeps, strict=True)])
        )
        if score > best_score:
            best, best_score = t, score
    return best


def summary(outcome: Outcome | str) -> dict[str, float]:
    """`Outcome.summary`, or for a request that made nothing (`attempt`): nothing obeyed, nothing
    intact, and no critic."""
    if isinstance(outcome, str):
        return {"obeyed": 0.0, "intact": 0.0, "critic_accepted": float("nan"),
                "enforced_obeyed": float("nan"), "enforced_intact": float("nan")}  # fmt: skip
    return outcome.summary()


def _clean(x):
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def invent(world: str, request: str, n: int = 200, seed: int = 0, out: str | Path | None = None,
           sources: str = "auto", log=print) -> dict:  # fmt: skip
    """Extract the base world's rules, change them by `request`, generate n samples, check and
    grade them; write samples and report.json into `out` (atomically); return the report."""
    from distinv.invent import world_class

    cls = world_class(world)
    cls.parse(request)  # a request that is not understood stops here, before any model loads
    if n < 2:
        raise ValueError(f"need --n >= 2 samples, got {n}")
    options = {"held_out": (request,)} if world == "shapes" else {}
    inv = cls(sources=sources, seed=seed, **options).fit()
    rules = inv.extract(inv.observe(N_OBSERVED[world], seed + 1000))
    outcome = pipeline(inv, rules, request, n, seed)
    report = {"world": world, "request": request, "n": n, "seed": seed,
              "extracted": inv.describe(rules), "changed": inv.describe(outcome.changed),
              "critic_threshold": outcome.check.threshold,
              **{k: _clean(v) for k, v in outcome.summary().items()}}  # fmt: skip
    if world == "shapes":
        report["distribution_tv"] = outcome.grade.extra["tv"]
    if out is not None:
        out = Path(out)
        if out.exists() and any(out.iterdir()):
            raise ValueError(f"output folder {out} already exists and is not empty")
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        inv.save(outcome.samples, partial)
        np.save(partial / "critic_scores.npy", outcome.check.scores)
        (partial / "report.json").write_text(json.dumps(report, indent=2) + "\n")
        if out.exists():
            out.rmdir()
        partial.rename(out)
    return report
