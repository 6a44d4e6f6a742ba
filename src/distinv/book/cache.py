"""The execution cache: a finished run is reused when nothing that could change it changed.

A run's key is a hash of what went into it: the chapter's source, its parameters and profile, the
pinned dependencies with the Python version and platform, and every file the run read (recorded
in the kernel while it ran, see `RECORDER`): the source of each `distinv` module it loaded (lazy
imports included), and each file under the book's root that it opened for reading outside its
own run folder (a checkpoint another chapter wrote; the metrics and run records a dashboard reads).
The key and the files it was computed from are stored in the run's `run.json`; a run is fresh
when the key recomputed from today's files equals the stored one. A failed run is never reused:
it is kept as `<folder>.failed`, never as `<folder>`.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from pathlib import Path

DEPS_FILE = "deps.json"  # written by the recorder's last cell inside the run folder

# Injected as the notebook's first and last cells (tagged remove-cell): an audit hook records every
# file opened, and at the end the files of the `distinv` modules loaded and the reads are saved.
RECORDER_START = """\
import os as _os
import sys as _sys
_distinv_opened = set()
# An audit hook cannot be removed: it still runs while the kernel shuts down and its globals are
# gone, so everything it uses is bound as a default argument, never looked up as a global.
def _distinv_audit(event, args, _opened=_distinv_opened, _os=_os):
    if event != "open" or isinstance(args[0], int):
        return
    mode, flags = args[1], args[2] or 0
    if isinstance(mode, str) and set(mode) & set("wax+"):
        return
    if mode is None and flags & (_os.O_WRONLY | _os.O_RDWR | _os.O_CREAT):
        return
    try:
        _opened.add(_os.fsdecode(args[0]))
    except TypeError:
        pass
_sys.addaudithook(_distinv_audit)
"""
RECORDER_END = """\
import json as _json, os as _os
_distinv_modules = sorted({m.__file__ for n, m in list(_sys.modules.items())
                           if n.split(".")[0] == "distinv" and getattr(m, "__file__", None)})
with open("DEPS_FILE", "w") as _f:
    _json.dump({"modules": _distinv_modules,
                "opened": sorted(_os.path.abspath(p) for p in _distinv_opened)}, _f)
""".replace("DEPS_FILE", DEPS_FILE)


def digest(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def file_digest(path: Path) -> str | None:
    """The hash of a file's bytes; None if it is gone."""
    try:
        return digest(Path(path).read_bytes())
    except OSError:
        return None


def environment() -> dict[str, str]:
    """What the stack is: the installed `distinv`'s pinned dependencies, Python, the platform."""
    from importlib.metadata import requires

    pins = sorted(requires("distinv") or [])
    return {
        "dependencies": digest(json.dumps(pins)),
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
    }


def dependencies(run: Path, root: Path) -> list[str]:
    """The files a finished run read, from its recorder's `deps.json`: its `distinv` modules, and
    the files opened for reading, outside the run folder, under `root` or beside the run (the
    other runs of a build, which a dashboard reads); paths relative to `root` where they lie under
    it. Bytecode caches are left out."""
    record = json.loads((run / DEPS_FILE).read_text())
    root, run = root.resolve(), run.resolve()
    places = (root, run.parent)
    found = set()
    for p in record["modules"]:
        found.add(Path(p).resolve())
    for p in record["opened"]:
        path = Path(p).resolve()
        if path.suffix == ".pyc" or not path.is_file():
            continue
        if any(path.is_relative_to(p) for p in places) and not path.is_relative_to(run):
            found.add(path)
    return sorted(str(p.relative_to(root)) if p.is_relative_to(root) else str(p) for p in found)


def package_digests() -> dict[str, str | None]:
    """The hash of every `distinv` source file now, by absolute path: taken when a run starts, so
    that a module edited while the run goes on is keyed as the run read it, not as it is after."""
    package = Path(__file__).resolve().parents[1]
    return {str(p): file_digest(p) for p in sorted(package.rglob("*.py"))}


def inputs(
    source: str,
    params: dict,
    profile: str | None,
    root: Path,
    deps: list[str],
    at_start: dict[str, str | None] | None = None,
) -> dict:
    """Everything a run's key is made of, with each dependency's hash (a `distinv` module's as it
    was when the run started, where `at_start` has it)."""
    at_start = at_start or {}

    def hashed(d: str) -> str | None:
        path = str((root / d).resolve())
        return at_start[path] if path in at_start else file_digest(root / d)

    return {
        "source": digest(source),
        "params": params,
        "profile": profile,
        "environment": environment(),
        "files": {d: hashed(d) for d in deps},
    }


def key_of(record: dict) -> str:
    return digest(json.dumps(record, sort_keys=True, default=str))[:16]


def fresh(run: Path, source: str, params: dict, profile: str | None, root: Path) -> dict | None:
    """The stored `run.json` of `run` if that run can be reused as it is, else None."""
    from distinv.metrics import METRICS_FILE, RUN_FILE

    try:
        record = json.loads((run / RUN_FILE).read_text())
    except (OSError, ValueError):
        return None
    if not (run / METRICS_FILE).is_file() or "key" not in record:
        return None
    now = inputs(source, params, profile, root, list(record.get("inputs", {}).get("files", {})))
    return record if key_of(now) == record["key"] else None
