"""Meta-learning the rules of a language from a few examples (08_meta).

Modules: `grammars` (random interpretation grammars over abstract tokens, their interpreter and
episodes), `scan_episodes` (SCAN's commands with the meanings of its words resampled), `model`
(the encoder-decoder Transformer that reads an episode), `train` (meta-training with a reusable,
resumable checkpoint) and `experiment` (the chapter's measures, baselines and `solve`).
"""

from distinv.meta.experiment import default_checkpoint, solve

__all__ = ["default_checkpoint", "solve"]
