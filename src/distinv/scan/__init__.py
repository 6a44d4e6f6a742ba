"""SCAN and its changed rules (01_scan, 05_compositional).

Modules: `grammar` (the grammar, its splits and file format; its names are the package's API),
`mods` (rule modifications and their reference labellers), `neurosymbolic` (a learner given the
grammar), `learners` (the sequence learners' common interface) and `compositional` (every model on
every split and modification).
"""

from distinv.scan.grammar import (
    ACTIONS,
    DIRECTIONS,
    PRIMITIVES,
    SPLITS,
    WORDS,
    Pair,
    Split,
    bigram_vocabulary,
    commands,
    dataset,
    export,
    features,
    format_pairs,
    interpret,
    load,
    read_pairs,
    split,
)

__all__ = [
    "ACTIONS",
    "DIRECTIONS",
    "PRIMITIVES",
    "Pair",
    "SPLITS",
    "Split",
    "WORDS",
    "bigram_vocabulary",
    "commands",
    "dataset",
    "export",
    "features",
    "format_pairs",
    "interpret",
    "load",
    "read_pairs",
    "split",
]
