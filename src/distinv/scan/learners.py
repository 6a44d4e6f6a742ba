"""One interface for the book's sequence models: `fit(pairs)`, then `predict(inputs)`.

Groundwork for the compositional-SCAN chapter (issue 6), where every model must share it. A pair is
(input words, output symbols), both space-separated strings, as in `distinv.scan.grammar`.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from distinv import seq2seq
from distinv.seed import seed_everything
from distinv.train import fit

PAD, UNK = 0, 1  # input ids; output ids are seq2seq's PAD, START, END, then the symbols


class Seq2SeqLearner:
    """A Transformer or LSTM encoder-decoder behind fit/predict; vocabularies come from training.

    Input words never seen in training map to one unknown-word id, so a test command with a new
    word gets an answer (usually a wrong one) instead of an error.
    """

    def __init__(
        self,
        kind: str = "lstm",
        steps: int = 1000,
        batch_size: int = 64,
        lr: float = 0.003,
        seed: int = 0,
        max_out: int = 64,
        log_every: int = 50,
        **arch,
    ):
        if kind not in seq2seq.KINDS:
            raise ValueError(f"unknown model {kind!r}; known: {', '.join(seq2seq.KINDS)}")
        if steps < 1 or batch_size < 1 or not lr > 0:
            raise ValueError(f"need steps >= 1, batch_size >= 1, lr > 0; got {steps}, {batch_size}")
        self.kind, self.steps, self.batch_size, self.lr, self.seed = (
            kind,
            steps,
            batch_size,
            lr,
            seed,
        )
        self.max_out, self.arch, self.log_every = max_out, arch, max(1, log_every)
        self.model: torch.nn.Module | None = None

    def _encode_inputs(self, inputs: list[str]) -> torch.Tensor:
        return seq2seq.pad([[self.in_ids.get(w, UNK) for w in s.split()] for s in inputs])

    def _encode_outputs(self, outputs: list[str]) -> torch.Tensor:
        return seq2seq.pad([[self.out_ids[s] for s in o.split()] + [seq2seq.END] for o in outputs])

    def fit(self, pairs: list[tuple[str, str]]) -> Seq2SeqLearner:
        """Train from scratch on (input, output) pairs; `history` holds {step, loss, seconds}
        every `log_every` steps."""
        _check(pairs)
        words = sorted({w for inp, _ in pairs for w in inp.split()})
        symbols = sorted({s for _, out in pairs for s in out.split()})
        self.in_ids = {w: i + 2 for i, w in enumerate(words)}
        self.out_ids = {s: i + 3 for i, s in enumerate(symbols)}
        self.symbols = symbols
        seed_everything(self.seed)
        cfg = seq2seq.Seq2SeqConfig(
            len(words) + 2, len(symbols) + 3, kind=self.kind, max_out=self.max_out, **self.arch
        )
        self.model = seq2seq.build(cfg)
        self.history = self._train(pairs, self.steps, self.lr, self.seed, "fit")
        return self

    def adapt(self, pairs: list[tuple[str, str]], steps: int, lr: float | None = None):
        """Fine-tune the trained model on more pairs; words and symbols it never saw get new rows.

        How a sequence model is told about a changed rule: show it examples that follow the rule.
        `history` is replaced by this run's rows.
        """
        if self.model is None:
            raise RuntimeError("adapt before fit: call fit(pairs) first")
        _check(pairs)
        for w in sorted({w for inp, _ in pairs for w in inp.split()} - set(self.in_ids)):
            self.in_ids[w] = len(self.in_ids) + 2
        for s in sorted({s for _, out in pairs for s in out.split()} - set(self.out_ids)):
            self.out_ids[s] = len(self.symbols) + 3
            self.symbols.append(s)
        self.model = seq2seq.grow(self.model, len(self.in_ids) + 2, len(self.symbols) + 3)
        self.history = self._train(pairs, steps, lr or self.lr, self.seed + 1, "adapt")
        return self

    def _train(self, pairs, steps: int, lr: float, seed: int, what: str) -> list[dict]:
        gen = torch.Generator().manual_seed(seed)

        def loss_fn(step: int) -> torch.Tensor:
            idx = torch.randint(len(pairs), (self.batch_size,), generator=gen).tolist()
            batch = [pairs[i] for i in idx]
            x = self._encode_inputs([inp for inp, _ in batch])
            return seq2seq.loss(self.model, x, self._encode_outputs([out for _, out in batch]))

        start = time.perf_counter()
        return fit(
            self.model, loss_fn, steps, lr, desc=f"{self.kind} {what}",
            evaluate=lambda: {"seconds": time.perf_counter() - start}, eval_every=self.log_every,
        )  # fmt: skip

    @torch.no_grad()
    def predict(self, inputs: list[str], batch_size: int = 500) -> list[str]:
        """Greedy output for each input (at most max_out symbols)."""
        if self.model is None:
            raise RuntimeError("predict before fit: call fit(pairs) first")
        self.model.eval()
        out = []
        for i in range(0, len(inputs), batch_size):
            ids = seq2seq.greedy(self.model, self._encode_inputs(inputs[i : i + batch_size]))
            out += [" ".join(self.symbols[s - 3] if s >= 3 else "?" for s in row) for row in ids]
        return out

    @torch.no_grad()
    def represent(self, inputs: list[str], batch_size: int = 500) -> np.ndarray:
        """Each input's encoder states averaged over its words: (len(inputs), width)."""
        if self.model is None:
            raise RuntimeError("represent before fit: call fit(pairs) first")
        self.model.eval()
        rows = []
        for i in range(0, len(inputs), batch_size):
            x = self._encode_inputs(inputs[i : i + batch_size])
            keep = (x != PAD).unsqueeze(-1).float()
            rows.append((self.model.encode(x) * keep).sum(1) / keep.sum(1))
        return torch.cat(rows).numpy()


def _check(pairs: list[tuple[str, str]]) -> None:
    if not pairs:
        raise ValueError("fit needs at least one (input, output) pair")
    for inp, out in pairs:
        if not inp.split() or not out.split():
            raise ValueError(f"empty input or output in pair {(inp, out)!r}")
