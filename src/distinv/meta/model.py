"""The meta-learner: an encoder-decoder Transformer that reads an episode's study examples once
and answers all its queries against them.

The encoder reads each study example on its own; each token carries its own embedding, its
position inside its side of the example and which side (input or output) it is on. An episode's
encoded examples are then laid end to end (padding dropped) as the memory its queries attend to;
the queries of one episode read it together, in one attention product.
The decoder reads the query, an arrow, and writes the output one symbol at a time (teacher forcing
while training, greedy at test time), attending to the encoded study examples. Each output symbol
comes from a mixture, weighted by a learned gate, of a softmax over the vocabulary and a pointer: an
attention over the output-side tokens of the study examples that copies the token it picks (as in
pointer-generator networks). With `MetaConfig.point` the copy is made in two learned steps: a
pointer from the output position over the query's own words, and for each query word a look-up of
its meaning among the study output tokens (given structure: an output symbol may render one query
word, and a word's copied meaning is one symbol). It is given no knowledge of any language: token
ids, the layout of an episode, and the possibility of copying a study output token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PAD, ARROW, EOS = "<pad>", "->", "<eos>"
SPECIALS = (PAD, ARROW, EOS)


@dataclass(frozen=True)
class MetaConfig:
    inputs: tuple[str, ...]  # input words
    outputs: tuple[str, ...]  # output symbols (SPECIALS are added in front of both)
    d_model: int = 64
    heads: int = 4
    enc_layers: int = 2
    dec_layers: int = 2
    ff: int = 128
    max_len: int = 64  # longest side of a study example, longest query + output
    copy: bool = True  # a pointer that copies an output-side study token (the ablation: False)
    point: bool = False  # copy through a pointer over the query's own words (see log_probs_of)

    def __post_init__(self):
        if self.point and not self.copy:
            raise ValueError("point copies through the copy pointer: it needs copy=True")

    @property
    def vocab(self) -> tuple[str, ...]:
        return (*SPECIALS, *self.inputs, *self.outputs)


class _Group:
    """Rows (queries) laid out by the episode they read: `pack` puts row r at slot
    (rows[r], its rank among that episode's rows) of a tensor padded to the most rows of any
    episode, so that an episode's rows attend to its memory in one product; `unpack` reads the
    rows back in their order."""

    def __init__(self, rows: torch.Tensor, episodes: int):
        counts = torch.bincount(rows, minlength=episodes)
        order = torch.argsort(rows, stable=True)
        first = torch.cumsum(counts, 0) - counts
        self.slot = torch.empty_like(rows)
        self.slot[order] = torch.arange(len(rows)) - first[rows[order]]
        self.rows, self.shape = rows, (episodes, int(counts.max()) if len(rows) else 0)
        n = self.shape[1]  # in order with every episode full (training): a reshape will do
        self.full = len(rows) == episodes * n and torch.equal(rows, torch.arange(len(rows)) // n)

    def pack(self, x: torch.Tensor) -> torch.Tensor:
        if self.full:
            return x.reshape(*self.shape, *x.shape[1:])
        out = x.new_zeros(*self.shape, *x.shape[1:])
        out[self.rows, self.slot] = x
        return out

    def unpack(self, x: torch.Tensor) -> torch.Tensor:
        if self.full:
            return x.reshape(len(self.rows), *x.shape[2:])
        return x[self.rows, self.slot]


class MetaTransformer(nn.Module):
    def __init__(self, cfg: MetaConfig):
        super().__init__()
        self.cfg = cfg
        self.index = {t: i for i, t in enumerate(cfg.vocab)}
        d = cfg.d_model
        self.tok = nn.Embedding(len(cfg.vocab), d, padding_idx=0)
        self.pos = nn.Embedding(cfg.max_len, d)
        self.side = nn.Embedding(3, d)  # study input, study output, decoder
        layer = dict(
            d_model=d,
            nhead=cfg.heads,
            dim_feedforward=cfg.ff,
            dropout=0.0,
            batch_first=True,
            norm_first=True,
        )
        # Final norms as in nn.Transformer: with norm_first the stream itself is never normalised,
        # and the decoder's cross-attention reads the encoder's output as it is.
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(**layer),
            cfg.enc_layers,
            norm=nn.LayerNorm(d),
            enable_nested_tensor=False,
        )
        # The decoder's weights. `hidden` runs its layers itself (pre-norm, no dropout, as `layer`
        # says), so that an episode's memory is projected to keys and values once per episode;
        # a test checks it against nn.TransformerDecoder's own forward.
        self.decoder = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer), cfg.dec_layers)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, len(cfg.vocab))
        self.copy_q, self.copy_k, self.gate = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, 1)
        if cfg.point:
            self.point_q, self.point_k = nn.Linear(d, d), nn.Linear(d, d)

    def ids(self, words: list[str]) -> list[int]:
        if len(words) > self.cfg.max_len:
            raise ValueError(
                f"{len(words)} tokens in a row; the model has {self.cfg.max_len} positions"
            )
        try:
            return [self.index[w] for w in words]
        except KeyError as e:
            raise ValueError(f"token {e.args[0]!r} is not in the model's vocabulary") from None

    def encode_study(
        self, studies: list[list[tuple[str, str]]]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(memory, padding mask, copyable token ids) for a batch of study sets: each example is
        encoded on its own (its tokens attend within the example), then an episode's examples are
        laid end to end, their padding dropped. A memory position's copyable id is its token on
        the output side of an example, else 0."""
        rows, owner = [], []
        for b, study in enumerate(studies):
            for inp, out in study:
                tok, pos, side = [], [], []
                for s, part in enumerate((inp.split() + [ARROW], out.split())):
                    ids = self.ids(part)
                    tok += ids
                    pos += range(len(ids))
                    side += [s] * len(ids)
                rows.append((tok, pos, side))
                owner.append(b)
        n = max(len(r[0]) for r in rows)
        t = np.zeros((len(rows), 3, n), np.int64)
        for i, r in enumerate(rows):
            t[i, :, : len(r[0])] = r
        t = torch.from_numpy(t)
        x = self.tok(t[:, 0]) + self.pos(t[:, 1]) + self.side(t[:, 2])
        h = self.encoder(x, src_key_padding_mask=t[:, 0] == 0)
        real = t[:, 0] != 0  # (examples, n): row-major, so an episode's tokens come in order
        tokens = _Group(torch.tensor(owner)[:, None].expand_as(real)[real], len(studies))
        memory = tokens.pack(h[real])
        mask = ~tokens.pack(torch.ones(int(real.sum()), dtype=torch.bool))
        copyable = tokens.pack((t[:, 0] * (t[:, 2] == 1))[real])  # 0: not copyable
        return memory, mask, copyable

    def hidden(
        self,
        memory: torch.Tensor,
        mem_mask: torch.Tensor,
        seq: torch.Tensor,
        rows: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The decoder's states at every position of `seq` (rows: queries, padded with 0); query
        row r reads the memory of episode `rows[r]` (default: its own row). Each layer projects an
        episode's memory to keys and values once, however many queries read it."""
        n = seq.shape[1]
        rows = torch.arange(len(seq)) if rows is None else rows
        x = self.tok(seq) + self.pos(torch.arange(n)) + self.side.weight[2]
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
        self_mask = (causal.unsqueeze(0) | (seq == 0).unsqueeze(1)).unsqueeze(1)  # (R, 1, n, n)
        cross_mask = mem_mask.unsqueeze(1).unsqueeze(2)  # (E, 1, 1, M): per episode
        group = _Group(rows, len(memory))
        for layer in self.decoder.layers:
            x = x + self._attend(layer.self_attn, layer.norm1(x), None, self_mask, group)
            x = x + self._attend(layer.multihead_attn, layer.norm2(x), memory, cross_mask, group)
            x = x + layer.linear2(layer.activation(layer.linear1(layer.norm3(x))))
        return x

    def _attend(
        self,
        attn: nn.MultiheadAttention,
        x: torch.Tensor,
        memory: torch.Tensor | None,
        masked: torch.Tensor,
        group: _Group,
    ) -> torch.Tensor:
        """Multi-head attention with `attn`'s weights: self-attention when `memory` is None, else
        attention from each row of `x` to its episode's memory (keys and values projected once per
        episode; `group` lays the rows out by episode). `masked` is True where a position may not
        be read."""
        d, h = x.shape[-1], self.cfg.heads
        wq, wk, wv = attn.in_proj_weight.split(d)
        bq, bk, bv = attn.in_proj_bias.split(d)

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(*t.shape[:2], h, d // h).transpose(1, 2)

        q = heads(F.linear(x, wq, bq))
        src = x if memory is None else memory
        k, v = heads(F.linear(src, wk, bk)), heads(F.linear(src, wv, bv))
        if memory is None:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=~masked)
        else:  # an episode's queries side by side read its keys once, not a copy per query
            qs = group.pack(q)  # (E, Q, h, L, dh)
            e, n, _, length, dh = qs.shape
            qs = qs.permute(0, 2, 1, 3, 4).reshape(e, h, n * length, dh)
            out = F.scaled_dot_product_attention(qs, k, v, attn_mask=~masked)
            out = group.unpack(out.reshape(e, h, n, length, dh).permute(0, 2, 1, 3, 4))
        return attn.out_proj(out.transpose(1, 2).reshape(x.shape))

    def log_probs(
        self, mem: tuple, seq: torch.Tensor, at: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Log-probabilities of the next token at every position of `seq` (or, with `at`, at one
        position per row). `mem` is an episode memory (one per row of `seq`) or, from `_expand`,
        episodes' memories and the episode each row reads."""
        memory, mask, _, rows = self._rows(mem, len(seq))
        h = self.norm(self.hidden(memory, mask, seq, rows))
        words = self._query_words(h, seq) if self.cfg.point else None
        if at is not None:  # only at these positions, one per row: (R, V) instead of (R, L, V)
            h_at = h[torch.arange(len(at)), at].unsqueeze(1)
            return self.log_probs_of(h_at, mem, words).squeeze(1)
        return self.log_probs_of(h, mem, words)

    def _query_words(self, h: torch.Tensor, seq: torch.Tensor) -> tuple:
        """(states, mask) of the query's words: the positions before the arrow."""
        before = ((seq == self.index[ARROW]).cumsum(1) == 0) & (seq != 0)
        n = int(before.sum(1).max())
        return h[:, :n], before[:, :n]

    def log_probs_of(self, h: torch.Tensor, mem: tuple, words: tuple | None = None) -> torch.Tensor:
        """A mixture, weighted by a learned gate, of the vocabulary's softmax and a copy of one
        output-side study token chosen by attention (the pointer).

        With `cfg.point` the copy is composed of two attentions: a pointer from the output
        position over the query's own words (`words`: their states and mask), and, for each query
        word, a look-up over the output-side study tokens; the copied token is the looked-up
        meaning of the word pointed at. Both attentions are learned."""
        vocab = F.log_softmax(self.out(h), -1)
        if not self.cfg.copy:
            return vocab
        if self.cfg.point and words is None:
            raise ValueError("a model with the query pointer needs the query's words")
        copy = self._lexicon(h if words is None else words[0], mem)
        if words is not None:  # the meaning of the query word pointed at
            states, real = words
            aim = self.point_q(h) @ self.point_k(states).transpose(1, 2) / h.shape[-1] ** 0.5
            aim = torch.softmax(aim.masked_fill(~real.unsqueeze(1), float("-inf")), -1)
            aim = aim.nan_to_num(0.0)  # a query without words: nothing to copy
            copy = aim @ copy  # (R, L, Lq) @ (R, Lq, V)
        gate = torch.sigmoid(self.gate(h))
        return torch.log(gate * vocab.exp() + (1 - gate) * copy + 1e-9)

    def _lexicon(self, h: torch.Tensor, mem: tuple) -> torch.Tensor:
        """(R, L, V): at each position, the output-side study token its attention copies."""
        memory, _, copyable, rows = self._rows(mem, len(h))
        keys = self.copy_k(memory)  # (E, M, d): projected once per episode
        group = _Group(rows, len(memory))
        q = group.pack(self.copy_q(h))  # (E, Q, L, d): an episode's rows read its keys together
        scores = q @ keys.unsqueeze(1).transpose(2, 3) / h.shape[-1] ** 0.5  # (E, Q, L, M)
        scores = scores.masked_fill((copyable == 0)[:, None, None], float("-inf"))
        attend = group.unpack(torch.softmax(scores, -1).nan_to_num(0.0))  # (R, L, M)
        return attend.new_zeros(*attend.shape[:2], len(self.cfg.vocab)).scatter_add_(
            2, copyable[rows].unsqueeze(1).expand(-1, attend.shape[1], -1), attend
        )

    @staticmethod
    def _expand(mem: tuple, counts: list[int]) -> tuple:
        """Episodes' memories and, for each query row, the episode it reads (`counts`: queries
        per episode, in order)."""
        return (*mem[:3], torch.repeat_interleave(torch.arange(len(counts)), torch.tensor(counts)))

    @staticmethod
    def _rows(mem: tuple, n: int) -> tuple:
        """(memory, mask, copyable, rows): a memory without rows has one episode per row."""
        if len(mem) == 4:
            return mem
        if len(mem[0]) != n:
            raise ValueError(f"{len(mem[0])} episode memories for {n} rows: use _expand")
        return (*mem, torch.arange(n))

    @staticmethod
    def _select(mem: tuple, live: torch.Tensor) -> tuple:
        """The memory tuple for the query rows `live` only."""
        return (*mem[:3], mem[3][live])

    def loss(self, episodes: list[tuple[list, list]]) -> torch.Tensor:
        """Mean cross-entropy of every query's output symbols and end, given its episode."""
        mem = self._expand(
            self.encode_study([s for s, _ in episodes]), [len(q) for _, q in episodes]
        )
        seqs, starts = [], []
        for _, queries in episodes:
            for inp, out in queries:
                q = self.ids(inp.split() + [ARROW])
                seqs.append(q + self.ids(out.split()) + [self.index[EOS]])
                starts.append(len(q))
        n = max(map(len, seqs))
        seq = np.zeros((len(seqs), n), np.int64)
        target = np.full((len(seqs), n), -100, np.int64)
        for i, (s, k) in enumerate(zip(seqs, starts, strict=True)):
            seq[i, : len(s)] = s
            target[i, k - 1 : len(s) - 1] = s[k:]
        logp = self.log_probs(mem, torch.from_numpy(seq[:, :-1]))
        target = torch.from_numpy(target[:, :-1]).reshape(-1)
        return F.nll_loss(logp.reshape(-1, logp.shape[-1]), target)

    @torch.no_grad()
    def answer(self, study: list[tuple[str, str]], queries: list[str], max_out: int) -> list[str]:
        """Greedy outputs for `queries` given one study set."""
        return self.answer_batch([(study, queries)], max_out)[0]

    @torch.no_grad()
    def answer_batch(self, episodes: list[tuple[list, list[str]]], max_out: int) -> list[list[str]]:
        mem = self._expand(
            self.encode_study([s for s, _ in episodes]), [len(q) for _, q in episodes]
        )
        prompts = [self.ids(q.split() + [ARROW]) for _, qs in episodes for q in qs]
        n = max(map(len, prompts))
        width = min(n + max_out + 1, self.cfg.max_len)
        seq = torch.zeros(len(prompts), width, dtype=torch.long)
        for i, p in enumerate(prompts):
            seq[i, : len(p)] = torch.tensor(p)
        start = torch.tensor([len(p) for p in prompts])
        length = start.clone()
        done = torch.zeros(len(prompts), dtype=torch.bool)
        allowed = torch.full((len(self.cfg.vocab),), float("-inf"))
        eos = self.index[EOS]
        allowed[[eos, *self.ids(list(self.cfg.outputs))]] = 0.0
        while True:  # each step runs the decoder on the unfinished rows only
            live = torch.nonzero(~done & (length < width)).flatten()
            if len(live) == 0:
                break
            cur = int(length[live].max())
            logp = self.log_probs(self._select(mem, live), seq[live, :cur], at=length[live] - 1)
            nxt = (logp + allowed).argmax(-1)
            done[live[nxt == eos]] = True
            grow = live[nxt != eos]
            seq[grow, length[grow]] = nxt[nxt != eos]
            length[grow] += 1
        words = [
            [self.cfg.vocab[t] for t in seq[i, start[i] : length[i]].tolist()]
            for i in range(len(prompts))
        ]
        out, k = [], 0
        for _, qs in episodes:
            out.append([" ".join(o) for o in words[k : k + len(qs)]])
            k += len(qs)
        return out

    @torch.no_grad()
    def represent(self, episodes: list[tuple[list, list[str]]]) -> torch.Tensor:
        """Each query's decoder state at its arrow: what the model has read before answering."""
        mem = self._expand(
            self.encode_study([s for s, _ in episodes]), [len(q) for _, q in episodes]
        )
        prompts = [self.ids(q.split() + [ARROW]) for _, qs in episodes for q in qs]
        seq = torch.zeros(len(prompts), max(map(len, prompts)), dtype=torch.long)
        for i, p in enumerate(prompts):
            seq[i, : len(p)] = torch.tensor(p)
        h = self.hidden(mem[0], mem[1], seq, mem[3])
        return h[torch.arange(len(prompts)), torch.tensor([len(p) - 1 for p in prompts])]
