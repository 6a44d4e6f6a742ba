"""Sequence-to-sequence baselines for the binding chapter: a Transformer and an LSTM with attention.

Both read the program's tokens and write the output symbols one at a time (teacher forcing while
training, greedy at test time). Output ids: 0 padding, 1 start, 2 end, then the symbols.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

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
        layer = dict(
            d_model=d, nhead=cfg.heads, dim_feedforward=2 * d, dropout=0.0, batch_first=True
        )
        enc = nn.TransformerEncoderLayer(**layer)
        self.encoder = nn.TransformerEncoder(enc, cfg.layers, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), cfg.layers)
        self.out = nn.Linear(d, cfg.n_out)
        self.register_buffer("pe", _sinusoid(256, d), persistent=False)

    def forward(self, x: torch.Tensor, y_in: torch.Tensor) -> torch.Tensor:
        """x (B, T) tokens, y_in (B, U) START + target[:-1] -> logits (B, U, n_out)."""
        scale = math.sqrt(self.cfg.d_model)
        src = self.src(x) * scale + self.pe[: x.shape[1]]
        tgt = self.tgt(y_in) * scale + self.pe[: y_in.shape[1]]
        causal = nn.Transformer.generate_square_subsequent_mask(y_in.shape[1])
        memory = self.encoder(src, src_key_padding_mask=x == 0)
        h = self.decoder(
            tgt, memory, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=x == 0
        )
        return self.out(h)


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

    def forward(self, x: torch.Tensor, y_in: torch.Tensor) -> torch.Tensor:
        """x (B, T) tokens, y_in (B, U) START + target[:-1] -> logits (B, U, n_out)."""
        enc, state = self.encoder(self.src(x))
        mask = (x == 0).unsqueeze(1)
        context = enc.new_zeros(x.shape[0], 1, enc.shape[-1])
        logits = []
        for u in range(y_in.shape[1]):
            step = torch.cat([self.tgt(y_in[:, u : u + 1]), context], dim=-1)
            h, state = self.decoder(step, state)
            scores = (h @ enc.transpose(1, 2)).masked_fill(mask, -1e9)
            context = scores.softmax(-1) @ enc
            logits.append(self.out(torch.cat([h, context], dim=-1)))
        return torch.cat(logits, dim=1)


def pad(rows: list[list[int]]) -> torch.Tensor:
    """Id sequences -> (B, longest) long tensor, PAD (0) after each row's end."""
    x = torch.full((len(rows), max(map(len, rows), default=1)), PAD, dtype=torch.long)
    for i, r in enumerate(rows):
        x[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return x


def build(cfg: Seq2SeqConfig) -> nn.Module:
    return TransformerSeq2Seq(cfg) if cfg.kind == "transformer" else LSTMSeq2Seq(cfg)


def loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Teacher-forced cross-entropy; y (B, U) is target + END, PAD-padded."""
    y_in = F.pad(y[:, :-1], (1, 0), value=START)
    logits = model(x, y_in)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten(), ignore_index=PAD)


@torch.no_grad()
def greedy(model: nn.Module, x: torch.Tensor) -> list[list[int]]:
    """Greedy decoding until END (or max_out symbols): x (B, T) -> output ids without END."""
    y = torch.full((x.shape[0], 1), START, dtype=torch.long)
    for _ in range(model.cfg.max_out):
        nxt = model(x, y)[:, -1].argmax(-1, keepdim=True)
        y = torch.cat([y, nxt], dim=1)
        if bool((y == END).any(1).all()):
            break
    out = []
    for row in y[:, 1:].tolist():
        out.append(row[: row.index(END)] if END in row else row)
    return out
