"""`distinv`: list chapters, run one with other parameters, build the book, export SCAN, answer a
binding program with the binding chapter's model, and search ARC tasks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from distinv.book.chapters import chapters, find, profile_overrides, profiles, project_root
from distinv.errors import DistinvError


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def cmd_list(args) -> int:
    root = project_root()
    print(f"profiles: {', '.join(profiles(root)) or '(none)'}")
    for ch in chapters(root):
        print(f"\n{ch.slug}  {ch.title}")
        for p in ch.params.values():
            print(f"  {p.name}: {p.type.__name__} = {p.default!r}  # {p.comment}")
    return 0


def _cached_run(root: Path, ch, params: dict, profile: str | None, out: str | None):
    """A finished run of `ch` that the cache can reuse: in `out`, or the newest in _build/runs."""
    from distinv.book import cache

    source = ch.text
    if out:
        found = cache.fresh(Path(out), source, params, profile, root)
        return (Path(out), found) if found else None
    for folder in sorted((root / "_build" / "runs" / ch.slug).glob("*"), reverse=True):
        if folder.is_dir() and (found := cache.fresh(folder, source, params, profile, root)):
            return folder, found
    return None


def _last_seconds(root: Path, slug: str, profile: str | None) -> float | None:
    """How long the newest earlier run of this chapter with this profile took."""
    for record in sorted((root / "_build" / "runs" / slug).glob("*/run.json"), reverse=True):
        run = json.loads(record.read_text())
        if run.get("profile") == profile:
            return run.get("seconds")
    return None


def cmd_run(args) -> int:
    from distinv.book.run import ChapterFailed, clock, default_run_dir, run_chapter, show_progress
    from distinv.metrics import load

    root = project_root()
    ch = find(args.chapter, root)
    given = dict(args.param or [])
    if len(given) < len(args.param or []):
        raise DistinvError("a parameter is given twice with -p")
    params = ch.resolve({**profile_overrides(ch, args.profile, root), **given})
    hit = None if args.force else _cached_run(root, ch, params, args.profile, args.out)
    if hit is not None:
        out, record = hit
        _err(f"{ch.slug}: from the cache, {out} (ran {record['finished']}, "
             f"{clock(record['seconds'])}); --force executes it again")  # fmt: skip
        metrics = load(out)
    else:
        out = Path(args.out) if args.out else default_run_dir(root, ch)
        if args.force and args.out and out.exists():
            import shutil

            shutil.rmtree(out)
        if out.exists() and any(out.iterdir()):
            raise DistinvError(f"run folder {out} already exists and is not empty")
        last = _last_seconds(root, ch.slug, args.profile)
        _err(f"running {ch.slug} into {out}")
        try:
            metrics = run_chapter(ch, params, out, args.profile, show_progress(), root, last)
        except ChapterFailed as e:
            if e.details:
                _err(e.details)
            _err(f"distinv: error: {e}")
            return 1
    if args.track:
        from distinv.book import track

        _err(f"tracked in MLflow: run {track.log_run(out, root)} ({track.store_uri(root)})")
    if args.json:
        print(json.dumps(metrics, indent=2, sort_keys=True))
    else:
        width = max(map(len, metrics))
        for name, value in sorted(metrics.items()):
            print(f"{name:<{width}}  {value}")
        print(f"\nrun folder: {out}")
    return 0


def cmd_sweep(args) -> int:
    from distinv.book import sweep

    if args.summary:
        if args.chapter or args.param:
            raise DistinvError(
                "--summary DIR prints a finished sweep; give no chapter or -p with it"
            )
        print(sweep.summary_text(Path(args.summary)))
        return 0
    if not args.chapter:
        raise DistinvError("name the chapter to sweep (or --summary DIR)")
    if not args.param:
        raise DistinvError("give at least one -p NAME VALUE [VALUE ...] to sweep over")
    root = project_root()
    grid = sweep.make_grid(args.chapter, args.param, args.profile, root, yes=args.yes)
    out = Path(args.out) if args.out else sweep.default_out(grid, root)
    _err(f"sweep of {grid.chapter.slug}: {len(grid.points)} points into {out}")
    try:
        rows = sweep.run(grid, out, root, args.scheduler, args.workers, not args.no_track, _err)
    except KeyboardInterrupt:
        _err(f"distinv: interrupted; finished runs are kept, rerun the sweep to continue ({out})")
        return 130
    print(sweep.summary_text(out))
    failed = [r["point"] for r in rows.values() if r["status"] == "failed"]
    if failed:
        _err(f"distinv: error: {len(failed)} points failed: {', '.join(failed)} (see {out})")
        return 1
    return 0


def cmd_book(args) -> int:
    from distinv.book.build import execute_all, render
    from distinv.book.run import ChapterFailed

    root = project_root()
    out = Path(args.out) if args.out else root / "_build"
    runs = out / "book-runs"
    for slug in args.rerun or []:
        find(slug, root)  # an unknown chapter is refused before anything runs
    rerun = tuple(find(s, root).slug for s in args.rerun or [])
    if bool(args.seeds) != bool(args.chapters):
        raise DistinvError("--seeds and --chapters go together: which chapters, over which seeds")
    swept = tuple(find(s.strip(), root).slug for s in (args.chapters or "").split(",") if s)
    try:
        execute_all(root, runs, args.profile, log=_err, rerun=rerun, force=args.force,
                    seeds=args.seeds, swept=swept, workers=args.workers)  # fmt: skip
    except ChapterFailed as e:
        if e.details:
            _err(e.details)
        _err(f"distinv: error: {e}")
        return 1
    index = render(root, runs, out)
    print(f"book built: open {index.resolve()}")
    return 0


def cmd_scan_export(args) -> int:
    from distinv import scan

    paths = scan.export(args.folder, seed=args.seed)
    print(f"wrote {len(paths)} files under {Path(args.folder).resolve()}")
    return 0


def cmd_binding_solve(args) -> int:
    from distinv import binding

    path = Path(args.checkpoint) if args.checkpoint else binding.default_checkpoint()
    print(binding.solve(args.program, path))
    return 0


def cmd_meta_solve(args) -> int:
    from distinv import meta
    from distinv.scan import read_pairs

    study = read_pairs(args.study)
    ckpt = Path(args.checkpoint) if args.checkpoint else None
    for query, answer in zip(
        args.query, meta.solve(study, args.query, ckpt, args.world), strict=True
    ):
        print(f"IN: {query} OUT: {answer}")
    return 0


def cmd_arc_solve(args) -> int:
    import numpy as np

    from distinv import arc

    split, task = arc.task_by_id(args.task_id)
    result = arc.solve(task, args.budget, args.depth, args.cap)
    print(f"task {task.id} ({split}), {result.tried} programs and {result.cell_trials} cell-rule "
          f"feature sets tried ({result.trials} of {args.budget} trials) in {result.seconds:.2f} s"
          + (" (stopped at the safety cap)" if result.capped else ""))  # fmt: skip
    if not result.programs:
        print("no program fits every training pair")
        return 1
    for rank, program in enumerate(result.programs[:2], 1):
        print(f"program {rank}: {program}")
    for i, attempts in enumerate(result.predictions):
        for k, grid in enumerate(attempts, 1):
            print(f"test {i}, attempt {k}:")
            print("\n".join("".join(map(str, row)) for row in np.asarray(grid)))
    print("solved" if arc.solved(task, result) else "not solved")
    return 0


def cmd_arc_eval(args) -> int:
    from distinv import arc

    tasks = arc.load(args.split)
    if args.limit:
        tasks = tasks[: args.limit]
    results = arc.evaluate(tasks, args.budget, args.depth, args.workers, args.cap)
    rows = [{"task": t.id, "solved": arc.solved(t, r), "false_positive": arc.false_positive(t, r),
             "solved_by": arc.solved_by(t, r), "programs": r.programs[:2], "tried": r.tried,
             "cell_trials": r.cell_trials, "trials": r.trials, "seconds": r.seconds,
             "exhausted": r.exhausted, "capped": r.capped}
            for t, r in zip(tasks, results, strict=True)]  # fmt: skip
    n_ok = sum(r["solved"] for r in rows)
    out = Path(args.out or f"arc1_{args.split}_results.json")
    out.write_text(json.dumps({"split": args.split, "budget": args.budget, "depth": args.depth,
                               "cap": args.cap, "tasks": rows}, indent=1))  # fmt: skip
    print(
        f"ARC-AGI-1 {args.split}: {n_ok}/{len(rows)} solved ({n_ok / len(rows):.1%}), "
        f"false positives {sum(r['false_positive'] for r in rows)}, budget {args.budget} trials "
        f"per task; {sum(r['capped'] for r in rows)} tasks stopped at the {args.cap:g} s cap"
    )
    print(f"per-task results: {out}")
    return 0


def cmd_invent(args) -> int:
    from distinv import invent
    from distinv.invent import run as invent_run

    cls = invent.world_class(args.world)
    if args.help_requests:
        print(cls.REQUESTS)
        return 0
    if args.request is None:
        raise DistinvError(f"give a request in quotes (see distinv invent {args.world} "
                           "--help-requests)")  # fmt: skip
    report = invent_run.invent(args.world, args.request, args.n, args.seed, args.out, args.sources)
    print(json.dumps(report, indent=2))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="distinv", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="chapters with their parameters").set_defaults(fn=cmd_list)

    r = sub.add_parser("run", help="execute one chapter with papermill")
    r.add_argument("chapter", help="slug (01_scan), name (scan) or number (01)")
    r.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"))
    r.add_argument("--profile", help="named overrides from book/profiles.yml, e.g. smoke")
    r.add_argument("--out", help="run folder (default _build/runs/<slug>/<timestamp>)")
    r.add_argument("--json", action="store_true", help="print only the metrics JSON to stdout")
    r.add_argument("--force", action="store_true", help="execute even if a cached run matches")
    r.add_argument("--track", action="store_true", help="log the run to MLflow (_build/mlflow.db)")
    r.set_defaults(fn=cmd_run)

    w = sub.add_parser("sweep", help="one chapter over a grid of parameter values, on Dask")
    w.add_argument("chapter", nargs="?", help="slug, name or number")
    w.add_argument(
        "-p",
        "--param",
        nargs="+",
        action="append",
        metavar="NAME VALUE",
        help="a parameter and its values, one per word; an integer also takes A:B (0:10 is ten)",
    )
    w.add_argument("--profile", help="named overrides from book/profiles.yml, e.g. smoke")
    w.add_argument("--scheduler", help="an existing Dask cluster, tcp://HOST:PORT")
    w.add_argument("--workers", type=int, help="LocalCluster worker processes (default: cores)")
    w.add_argument("--out", help="sweep folder (default _build/sweeps/<chapter>-<profile>)")
    w.add_argument("--yes", action="store_true", help="run a grid of more than 64 points")
    w.add_argument("--no-track", action="store_true", help="do not log the runs to MLflow")
    w.add_argument("--summary", metavar="DIR", help="print the summary of the sweep in DIR")
    w.set_defaults(fn=cmd_sweep)

    b = sub.add_parser("book", help="execute every chapter and build the HTML book")
    b.add_argument("--profile", help="named overrides from book/profiles.yml, e.g. smoke")
    b.add_argument("--out", help="output folder (default _build): book-runs/, stage/, html/")
    b.add_argument(
        "--rerun",
        action="append",
        metavar="CHAPTER",
        help="execute this chapter even if its cached run matches (repeatable)",
    )
    b.add_argument("--force", action="store_true", help="execute every chapter, cache or not")
    b.add_argument(
        "--seeds",
        nargs="+",
        metavar="SEED",
        help="also sweep --chapters over these seeds (0:5 is five); the dashboard shows the spread",
    )
    b.add_argument("--chapters", help="comma-separated chapters to sweep over --seeds")
    b.add_argument("--workers", type=int, help="sweep worker processes (default: cores)")
    b.set_defaults(fn=cmd_book)

    s = sub.add_parser("scan", help="the SCAN dataset").add_subparsers(dest="scan", required=True)
    e = s.add_parser("export", help="write every split in the published file format")
    e.add_argument("folder")
    e.add_argument("--seed", type=int, default=0, help="seed of the simple split and line order")
    e.set_defaults(fn=cmd_scan_export)

    v = sub.add_parser("binding", help="the variable-binding model")
    vs = v.add_subparsers(dest="binding", required=True).add_parser(
        "solve", help="the trained model's output for a program, e.g. 'X means jump . do X twice .'"
    )
    vs.add_argument("program")
    vs.add_argument("--checkpoint", help="default: _build/checkpoints/binding.pt (make book)")
    vs.set_defaults(fn=cmd_binding_solve)

    m = sub.add_parser("meta", help="the meta-learner of 08_meta")
    ms = m.add_subparsers(dest="meta", required=True).add_parser(
        "solve", help="answer queries after reading study examples ('IN: ... OUT: ...' lines)"
    )
    ms.add_argument(
        "study", help="a file of study examples, one 'IN: <input> OUT: <output>' a line"
    )
    ms.add_argument("query", nargs="+", help="one query (quote it: it is several words)")
    ms.add_argument(
        "--world",
        choices=("grammar", "scan"),
        default="grammar",
        help="grammar: any words (default); scan: SCAN's words, new ones allowed",
    )
    ms.add_argument("--checkpoint", help="default: the one 08_meta's default run recorded")
    ms.set_defaults(fn=cmd_meta_solve)

    arc_budget, arc_cap = 60_000, 120.0  # distinv.arc.solver's BUDGET and CAP (a test checks)
    i = sub.add_parser("invent", help="change a world's rule on request; generate and check")
    i.add_argument("world", help="language, physics or shapes")
    i.add_argument("request", nargs="?", help='e.g. "gravity is 10%% stronger"')
    i.add_argument("--n", type=int, default=200, help="samples to generate (default 200)")
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--out", help="folder for samples and report.json (default: print only)")
    i.add_argument("--help-requests", action="store_true", help="list the request language")
    i.add_argument(
        "--sources",
        default="auto",
        help="folder of chapter runs to load models from (default: the book's)",
    )
    i.set_defaults(fn=cmd_invent)

    a = sub.add_parser("arc", help="ARC-AGI-1 program search").add_subparsers(
        dest="arc", required=True
    )
    a_solve = a.add_parser("solve", help="search one task; print the program and predicted grids")
    a_solve.add_argument("task_id")
    a_eval = a.add_parser("eval", help="score a whole split; per-task results as JSON")
    a_eval.add_argument("--split", choices=("train", "eval"), default="eval")
    a_eval.add_argument("--workers", type=int, default=2)
    a_eval.add_argument("--limit", type=int, default=0, help="only the first N tasks (0: all)")
    a_eval.add_argument("--out", help="JSON file (default arc1_<split>_results.json)")
    for q in (a_solve, a_eval):
        q.add_argument("--budget", type=int, default=arc_budget, help="trials per task")
        q.add_argument("--cap", type=float, default=arc_cap, help="safety cap, seconds per task")
        q.add_argument("--depth", type=int, default=2, help="most primitives in a program")
    a_solve.set_defaults(fn=cmd_arc_solve)
    a_eval.set_defaults(fn=cmd_arc_eval)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.fn(args)
    except (DistinvError, ValueError, FileNotFoundError) as e:
        _err(f"distinv: error: {e}")
        return 2
    except KeyboardInterrupt:
        _err("distinv: interrupted")
        return 130
