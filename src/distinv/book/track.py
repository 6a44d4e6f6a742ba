"""Runs tracked offline with MLflow: a SQLite store under `_build/` (no server, no network).

Each tracked run is one MLflow run in the experiment named after its chapter: its parameters
(every one, defaults included), its metrics, its seconds, and as tags its chapter, profile, cache
key and folder (and its sweep's folder), with the executed notebook as an artifact. Logging a
folder that is already tracked does nothing, so a rerun sweep logs each run once. Browse with
`mlflow ui --backend-store-uri sqlite:///_build/mlflow.db`.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from pathlib import Path

STORE_ENV = "DISTINV_MLFLOW_DIR"  # another folder for the store and its artifacts


def store_dir(root: Path) -> Path:
    """`_build/` of the checkout, or `$DISTINV_MLFLOW_DIR`: it holds mlflow.db and the artifacts."""
    return Path(os.environ.get(STORE_ENV) or Path(root) / "_build").resolve()


def store_uri(root: Path) -> str:
    return f"sqlite:///{store_dir(root) / 'mlflow.db'}"


def _client(root: Path):
    for name in ("alembic", "mlflow"):  # the store's creation logs every migration at INFO
        logging.getLogger(name).setLevel(logging.WARNING)
    # MLflow's SQL store configures its mappers with a loader SQLAlchemy 2.1 deprecates: not ours
    warnings.filterwarnings("ignore", message=".*noload.*", category=DeprecationWarning)
    from mlflow.tracking import MlflowClient

    store_dir(root).mkdir(parents=True, exist_ok=True)
    return MlflowClient(tracking_uri=store_uri(root))


def _experiment(client, name: str, root: Path) -> str:
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    location = (store_dir(root) / "mlflow-artifacts" / name).as_uri()
    return client.create_experiment(name, artifact_location=location)


def log_run(folder: Path, root: Path, sweep: Path | None = None) -> str:
    """Log the finished run in `folder` (its `run.json`, `metrics.json` and notebook); returns the
    MLflow run id (the existing one if this folder was logged before)."""
    from mlflow.entities import Metric, Param, RunTag

    from distinv.book.chapters import find
    from distinv.metrics import RUN_FILE, load

    folder = Path(folder).resolve()
    record = json.loads((folder / RUN_FILE).read_text())
    metrics = load(folder)
    if metrics is None:
        raise FileNotFoundError(f"{folder} holds no metrics.json: only finished runs are tracked")
    client = _client(root)
    exp_id = _experiment(client, record["chapter"], root)
    # The same folder, the same cache key and finish time, logged to the end: a folder run again
    # (--force, or a deleted sweep folder) is a new run, and an interrupted log does not count.
    known = client.search_runs(
        [exp_id],
        filter_string=f"tags.folder = '{folder}' and tags.key = '{record['key']}' and "
        f"tags.finished = '{record['finished']}' and attributes.status = 'FINISHED'",
        max_results=1,
    )
    if known:
        return known[0].info.run_id
    params = {p.name: p.default for p in find(record["chapter"], root).params.values()}
    params |= record["params"]
    tags = {
        "chapter": record["chapter"],
        "profile": record["profile"] or "default",
        "key": record["key"],
        "folder": str(folder),
        "finished": record["finished"],
    }
    if sweep is not None:
        tags["sweep"] = str(Path(sweep).resolve())
    name = folder.parent.name if sweep is not None else folder.name
    run = client.create_run(exp_id, run_name=name, tags=tags)
    now = int(time.time() * 1000)
    client.log_batch(
        run.info.run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in sorted(metrics.items())]
        + [Metric("seconds", float(record["seconds"]), now, 0)],
        params=[Param(k, str(v)) for k, v in sorted(params.items())],
        tags=[RunTag("distinv", record["distinv"])],
    )
    notebook = folder / f"{record['chapter']}.ipynb"
    if notebook.is_file():
        client.log_artifact(run.info.run_id, str(notebook))
    client.set_terminated(run.info.run_id)
    return run.info.run_id
