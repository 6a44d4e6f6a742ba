"""Sequence-to-sequence baselines for the binding chapter: a Transformer and an LSTM with attention.

Both read the program's tokens and write the output symbols one at a time (teacher forcing while
training, greedy at test time). Output ids: 0 padding, 1 start, 2 end, then the symbols.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

PAD, START, END = 0, 1, 2
KINDS = ("transformer", "lstm")


@dataclass(frozen=True)
class Seq2SeqConfig:
    vocab: int  # input tokens, 0 is padding
    n_out: int  # output ids including PAD, START, END
    kind: str = "transformer"
    d_model: int = 32
    layers: int = 2  # per encoder and decoder (Transformer)
    heads: int = 4
    hidden: int = 48  # LSTM state size
    max_out: int = 16  # longest output decoded at test time

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown baseline {self.kind!r}; known: {', '.join(KINDS)}")


def _sinusoid(n: int, d: int) -> torch.Tensor:
    pos = torch.arange(n).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d, 2) * (-math.log(10_000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


class TransformerSeq2Seq(nn.Module):
    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        self.src = nn.Embedding(cfg.vocab, d)
        self.tgt = nn.Embedding(cfg.n_out, d)
        for emb in (self.src, self.tgt):  # scaled by sqrt(d) below: unit size, like the positions
            nn.init.normal_(emb.weight, std=d**-0.5)
        layer = dict(
            d_model=d, nhead=cfg.heads, dim_feedforward=2 * d, dropout=0.0, batch_first=True
        )
        enc = nn.TransformerEncoderLayer(**layer)
        self.encoder = nn.TransformerEncoder(enc, cfg.layers, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), cfg.layers)
        self.out = nn.Linear(d, cfg.n_out)
        self.register_buffer("pe", _sinusoid(256, d), persistent=False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) tokens -> encoder states (B, T, d_model), the representation the hull sees."""
        src = self.src(x) * math.sqrt(self.cfg.d_model) + self.pe[: x.shape[1]]
        return self.encoder(src, src_key_padding_mask=x == 0)

    def decode(self, memory: torch.Tensor, x: torch.Tensor, y_in: torch.Tensor) -> torch.Tensor:
        tgt = self.tgt(y_in) * math.sqrt(self.cfg.d_model) + self.pe[: y_in.shape[1]]
        causal = nn.Transformer.generate_square_subsequent_mask(y_in.shape[1])
        h = self.decoder(
            tgt, memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=x == 0
        )
        return self.out(h)

    def forward(self, x: torch.Tensor, y_in: torch.Tensor) -> torch.Tensor:
        """x (B, T) tokens, y_in (B, U) START + target[:-1] -> logits (B, U, n_out)."""
        return self.decode(self.encode(x), x, y_in)

    @torch.no_grad()
    def greedy(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1 + n) START and the greedy ids; the encoder runs once."""
        memory = self.encode(x)
        y = torch.full((x.shape[0], 1), START, dtype=torch.long)
        for _ in range(self.cfg.max_out):
            nxt = self.decode(memory, x, y)[:, -1].argmax(-1, keepdim=True)
            y = torch.cat([y, nxt], dim=1)
            if bool((y == END).any(1).all()):
                break
        return y


class LSTMSeq2Seq(nn.Module):
    """LSTM encoder, LSTM decoder with dot-product attention over the encoder states (Luong)."""

    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg
        d, h = cfg.d_model, cfg.hidden
        self.src = nn.Embedding(cfg.vocab, d)
        self.tgt = nn.Embedding(cfg.n_out, d)
        self.encoder = nn.LSTM(d, h, batch_first=True)
        self.decoder = nn.LSTM(d + h, h, batch_first=True)
        self.out = nn.Linear(2 * h, cfg.n_out)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, T) tokens -> encoder states (B, T, hidden), the representation the hull sees."""
        return self.encoder(self.src(x))[0]

    def _start(self, x: torch.Tensor):
        enc, state = self.encoder(self.src(x))
        return enc, (x == 0).unsqueeze(1), state, enc.new_zeros(x.shape[0], 1, enc.shape[-1])

    def _step(self, y_u, enc, mask, state, context):
        """One decoder step (input feeding): y_u (B, 1) -> logits (B, 1, n_out), state, context."""
        h, state = self.decoder(torch.cat([self.tgt(y_u), context], dim=-1), state)
        scores = (h @ enc.transpose(1, 2)).masked_fill(mask, -1e9)
        context = scores.softmax(-1) @ enc
        return self.out(torch.cat([h, context], dim=-1)), state, context

    def forward(self, x: torch.Tensor, y_in: torch.Tensor) -> torch.Tensor:
        """x (B, T) tokens, y_in (B, U) START + target[:-1] -> logits (B, U, n_out)."""
        enc, mask, state, context = self._start(x)
        logits = []
        for u in range(y_in.shape[1]):
            out, state, context = self._step(y_in[:, u : u + 1], enc, mask, state, context)
            logits.append(out)
        return torch.cat(logits, dim=1)

    @torch.no_grad()
    def greedy(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1 + n) START and the greedy ids; one decoder step per symbol."""
        enc, mask, state, context = self._start(x)
        y = torch.full((x.shape[0], 1), START, dtype=torch.long)
        for _ in range(self.cfg.max_out):
            out, state, context = self._step(y[:, -1:], enc, mask, state, context)
            y = torch.cat([y, out.argmax(-1)], dim=1)
            if bool((y == END).any(1).all()):
                break
        return y


def pad(rows: list[list[int]]) -> torch.Tensor:
    """Id sequences -> (B, longest) long tensor, PAD (0) after each row's end."""
    x = torch.full((len(rows), max(map(len, rows), default=1)), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        x[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return x


def build(cfg: Seq2SeqConfig) -> nn.Module:
    return TransformerSeq2Seq(cfg) if cfg.kind == "transformer" else LSTMSeq2Seq(cfg)


def grow(model: nn.Module, vocab: int, n_out: int) -> nn.Module:
    """The same model with room for more input tokens and output ids (new rows initialised fresh).

    What fine-tuning on a new word or a new action needs: the trained rows are kept unchanged.
    """
    cfg = model.cfg
    if vocab < cfg.vocab or n_out < cfg.n_out:
        raise ValueError(f"grow only adds rows: ({cfg.vocab}, {cfg.n_out}) -> ({vocab}, {n_out})")
    bigger = build(replace(cfg, vocab=vocab, n_out=n_out))
    new = bigger.state_dict()
    for name, old in model.state_dict().items():
        new[name][tuple(slice(0, n) for n in old.shape)] = old
    bigger.load_state_dict(new)
    return bigger


def loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Teacher-forced cross-entropy; y (B, U) is target + END, PAD-padded."""
    y_in = F.pad(y[:, :-1], (1, 0), value=START)
    logits = model(x, y_in)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=PAD)


@torch.no_grad()
def greedy(model: nn.Module, x: torch.Tensor) -> list[list[int]]:
    """Greedy decoding until END (or max_out symbols): x (B, T) -> output ids without END."""
    model.eval()
    out = []
    for row in model.greedy(x)[:, 1:].tolist():
        out.append(row[: row.index(END)] if END in row else row)
    return out
