"""A slot-memory binding model (torch) that learns where values go from (program, output) pairs.

Reading a program left to right, every token gets three learned embeddings: a *role* (what the
token does), a *key* (which slot it names) and a *value* (what it stands for as a literal).

- BindingAttention maps a token's key embedding to one of `n_slots` slots with a Gumbel-Softmax
  sample (one per token type per program): relaxed early in training, straight-through later, the
  argmax at test time. Its default mode, "fresh", lets a token new to the program pick only a slot
  that no other token of the program holds (ablations: "st" picks from the key alone, "argmax"
  passes no gradient, "soft" uses a softmax mixture).
- VariableMemory holds one value vector per slot. At each position the model *resolves* the token:
  a learned gate mixes its literal value with what its slot holds. A controller that sees the roles
  of the last `write_window` tokens decides whether to write and which of those tokens names the
  slot; the value stored is the resolved value of the token where the write happens
  (`value_window` = 1; with a larger window the controller also chooses among the last few
  tokens, which lets a write copy a neighbour's value); a write overwrites the slot.
- BoundVariableExecutor emits `frames` output symbols per position from the roles of the tokens
  `emit_before` before to `emit_after` after it: each is blank, a learned constant symbol, or the
  symbol read from the resolved value of a token it points to. The frames are aligned to the target
  by CTC.

Training adds a cost per write (`write_cost`, once the choices are straight-through): a write that
no later read depends on costs nothing in the CTC loss, so without it such writes are never
unlearned, and a longer program that does read the slot afterwards gets a wrong value.

The choices of controller and executor (write or not, which token, literal or not) are softmaxes and
sigmoids early in training, straight-through once the binder's samples are (config `straight`), and
their argmax or threshold at test time.

Given as structure: the slots and their number, that the tokens of a program get distinct slots
("fresh"), the left-to-right pass, the window sizes, that a write stores the value of the token
where it happens, overwrites, and a read copies, that output is emitted monotonically, and that a
write costs. Learned: which tokens are variables, when to write and into which token's slot, what
every keyword does (and, without "fresh", which slot each name uses).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from distinv.gumbel import gumbel_noise, gumbel_softmax

BINDERS = ("fresh", "st", "argmax", "soft")


@dataclass(frozen=True)
class BindingConfig:
    vocab: int  # input tokens, 0 is padding
    n_out: int  # output symbols, 0 is the CTC blank
    n_slots: int = 32  # memory slots (given as structure); "fresh" needs one per token type
    d_role: int = 16
    d_key: int = 32
    d_value: int = 32
    hidden: int = 128
    write_window: int = 4  # a write at t sees the roles of tokens t-3 .. t
    value_window: int = 1  # ... and stores the resolved value of one of tokens t-(v-1) .. t
    emit_before: int = 2  # frames at t see the roles of tokens t-2 .. t+2
    emit_after: int = 2
    frames: int = 6  # output frames per input position
    binder: str = "fresh"  # "fresh" (st with free slots only), "st", "argmax" or "soft"
    straight: bool = True  # once the binder turns straight-through, so do the other choices
    write_cost: float = 0.1  # training loss per write per token, from the straight-through phase

    def __post_init__(self):
        if self.binder not in BINDERS:
            raise ValueError(f"unknown binder {self.binder!r}; known: {', '.join(BINDERS)}")
        if not 1 <= self.value_window <= self.write_window:
            raise ValueError(
                f"value_window must be 1 .. write_window ({self.write_window}), "
                f"got {self.value_window}"
            )
        if self.binder == "fresh" and self.n_slots < self.vocab:
            raise ValueError(
                f"the fresh binder gives every token type of a program its own slot: it needs "
                f"n_slots >= vocab ({self.vocab}), got {self.n_slots}"
            )


def _windows(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """(B, T, ...) -> (B, T, before + 1 + after, ...): x[t - before .. t + after], zero padded."""
    pad = [0, 0] * (x.dim() - 2) + [before, after]
    xp = F.pad(x, pad)
    return torch.stack([xp[:, i : i + x.shape[1]] for i in range(before + 1 + after)], dim=2)


def _pick(logits: torch.Tensor, hard: bool, straight: bool = False) -> torch.Tensor:
    """Softmax over the last axis, or its one-hot argmax when hard; `straight`: the one-hot
    forward and the softmax's gradient backward (straight-through)."""
    if hard:
        return F.one_hot(logits.argmax(-1), logits.shape[-1]).to(logits.dtype)
    y = logits.softmax(-1)
    if straight:
        return F.one_hot(y.argmax(-1), y.shape[-1]).to(y.dtype) - y.detach() + y
    return y


def _switch(logits: torch.Tensor, hard: bool, straight: bool = False) -> torch.Tensor:
    """Sigmoid, or its 0/1 threshold when hard; `straight`: threshold forward, sigmoid backward."""
    if hard:
        return (logits > 0).to(logits.dtype)
    y = torch.sigmoid(logits)
    return (logits > 0).to(y.dtype) - y.detach() + y if straight else y


def first_occurrence(tokens: torch.Tensor) -> torch.Tensor:
    """(B, T) ids -> (B, T): the position of each token's first occurrence in its program."""
    T = tokens.shape[1]
    same = tokens.unsqueeze(2) == tokens.unsqueeze(1)  # (B, T, T'): token t equals token t'
    earlier = torch.ones(T, T, dtype=torch.bool).tril()
    return (same & earlier).to(torch.int64).argmax(-1)  # the first True along t'


def fresh_slots(logits: torch.Tensor, tokens: torch.Tensor, hard: bool, tau: float):
    """Slot weights (B, T, N) in which each token type of a program takes a slot no other type of
    that program holds: read left to right, a type met for the first time picks among the slots
    still free (by its logits, with any Gumbel noise already added), and later occurrences reuse
    that pick. Relaxed (a softmax over the free slots) unless `hard`, then straight-through."""
    B, T, N = logits.shape
    first = first_occurrence(tokens)
    is_new = first == torch.arange(T)
    with torch.no_grad():  # which slots are taken before each position: a pass of argmaxes
        taken, before = torch.zeros(B, N, dtype=torch.bool), []
        for t in range(T):
            before.append(taken)
            pick = logits[:, t].masked_fill(taken, float("-inf")).argmax(-1)
            taken = taken | (F.one_hot(pick, N).bool() & is_new[:, t : t + 1])
        before = torch.stack(before, 1)
    y = _pick((logits / tau).masked_fill(before, float("-inf")), hard=False, straight=hard)
    return torch.gather(y, 1, first.unsqueeze(-1).expand(-1, -1, N))


class BindingAttention(nn.Module):
    """Which slot a token names: key embedding (B, T, d_key) -> slot weights (B, T, n_slots).

    Mode "st" draws one Gumbel sample per token *type* per program, so that every occurrence of a
    variable in a program picks the same slot; the sample is relaxed (a softmax) while `hard` is
    False and straight-through (one-hot forward) once it is True. At test time: the argmax.
    Mode "fresh" is "st" in which a type may only pick a slot that no other type of the program
    picked before it (`fresh_slots`): two names of one program never share a slot.
    """

    def __init__(self, d_key: int, n_slots: int, mode: str):
        super().__init__()
        self.proj = nn.Linear(d_key, n_slots)
        self.mode = mode
        self.tau = 1.0
        self.hard = True

    def forward(self, key: torch.Tensor, tokens: torch.Tensor, vocab: int) -> torch.Tensor:
        logits = self.proj(key)
        if self.mode == "soft":
            return logits.softmax(-1)
        if self.mode == "argmax" or (self.mode == "st" and not self.training):
            return _pick(logits, hard=True)
        if not self.training:  # fresh, at test time: no noise, each type its best free slot
            return fresh_slots(logits, tokens, hard=True, tau=1.0)
        B, _, N = logits.shape
        per_type = gumbel_noise(logits.new_empty(B, vocab, N))
        noise = torch.gather(per_type, 1, tokens.unsqueeze(-1).expand(-1, -1, N))
        if self.mode == "fresh":
            return fresh_slots(logits + noise, tokens, hard=self.hard, tau=self.tau)
        return gumbel_softmax(logits, tau=self.tau, hard=self.hard, noise=noise)


class VariableMemory(nn.Module):
    """n_slots value vectors per program; reads are weighted sums, writes overwrite."""

    def __init__(self, n_slots: int, d_value: int):
        super().__init__()
        self.empty = nn.Parameter(torch.zeros(n_slots, d_value))

    def init(self, batch: int) -> torch.Tensor:
        return self.empty.expand(batch, -1, -1)

    @staticmethod
    def read(mem: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
        """mem (B, N, D), slot (B, N) -> (B, D)."""
        return torch.einsum("bn,bnd->bd", slot, mem)

    @staticmethod
    def write(mem: torch.Tensor, slot: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Overwrite: slot (B, N) already scaled by the write gate, value (B, D)."""
        w = slot.unsqueeze(-1)
        return mem * (1 - w) + w * value.unsqueeze(1)


class BoundVariableExecutor(nn.Module):
    """Roles around each position -> `frames` log-distributions over blank + symbols each."""

    def __init__(self, cfg: BindingConfig):
        super().__init__()
        self.cfg = cfg
        width = cfg.emit_before + 1 + cfg.emit_after
        self.mlp = nn.Sequential(nn.Linear(width * cfg.d_role, cfg.hidden), nn.ReLU())
        self.mode = nn.Linear(cfg.hidden, cfg.frames * 3)  # blank, constant, value
        self.const = nn.Linear(cfg.hidden, cfg.frames * (cfg.n_out - 1))
        self.pointer = nn.Linear(cfg.hidden, cfg.frames * width)
        self.out = nn.Linear(cfg.d_value, cfg.n_out - 1)

    def parts(self, roles: torch.Tensor, resolved: torch.Tensor, straight: bool = False):
        """Per frame (B, T, K, ...): the blank's log-probability, each symbol's as a constant and
        as read from a token, and the pointer (its weights over tokens t-before .. t+after)."""
        c, (B, T, _) = self.cfg, roles.shape
        b, a, K = c.emit_before, c.emit_after, c.frames
        h = self.mlp(_windows(roles, b, a).flatten(2))
        mode = self.mode(h).view(B, T, K, 3).log_softmax(-1)
        const = self.const(h).view(B, T, K, -1).log_softmax(-1)
        pointer = _pick(self.pointer(h).view(B, T, K, -1), not self.training, straight)
        value = torch.einsum("btkw,btwd->btkd", pointer, _windows(resolved, b, a))
        read = self.out(value).log_softmax(-1)
        return mode[..., :1], mode[..., 1:2] + const, mode[..., 2:3] + read, pointer

    def forward(self, roles: torch.Tensor, resolved: torch.Tensor, straight: bool = False):
        """roles (B, T, d_role), resolved (B, T, d_value) -> log_probs (B, T * frames, n_out)."""
        blank, const, read, _ = self.parts(roles, resolved, straight)
        log_probs = torch.cat([blank, torch.logaddexp(const, read)], dim=-1)
        return log_probs.view(roles.shape[0], -1, log_probs.shape[-1])


class BindingModel(nn.Module):
    def __init__(self, cfg: BindingConfig):
        super().__init__()
        self.cfg = cfg
        self.role = nn.Embedding(cfg.vocab, cfg.d_role)
        self.key = nn.Embedding(cfg.vocab, cfg.d_key)
        self.value = nn.Embedding(cfg.vocab, cfg.d_value)
        self.literal = nn.Linear(cfg.d_role, 1)
        self.binder = BindingAttention(cfg.d_key, cfg.n_slots, cfg.binder)
        self.memory = VariableMemory(cfg.n_slots, cfg.d_value)
        w = cfg.write_window
        self.controller = nn.Sequential(
            nn.Linear(w * cfg.d_role, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, 1 + w + cfg.value_window),
        )
        self.executor = BoundVariableExecutor(cfg)

    def forward(self, tokens: torch.Tensor) -> dict[str, torch.Tensor]:
        """tokens (B, T) int, 0 = padding -> log_probs (B, T * frames, n_out) and diagnostics."""
        c, (B, T) = self.cfg, tokens.shape
        w, hard = c.write_window, not self.training
        st = self.training and c.straight and self.binder.hard  # straight-through choices
        valid = (tokens > 0).unsqueeze(-1).float()
        roles = self.role(tokens)
        slots = self.binder(self.key(tokens), tokens, c.vocab)  # (B, T, N)
        literal = _switch(self.literal(roles), hard, st)
        ctrl = self.controller(_windows(roles, w - 1, 0).flatten(2))
        gate = _switch(ctrl[..., 0:1], hard, st) * valid
        key_at = _pick(ctrl[..., 1 : 1 + w], hard, st)  # which of the last w tokens names the slot
        value_at = _pick(ctrl[..., 1 + w :], hard, st)  # whose value is stored (1: this token's)
        write_slot = torch.einsum("btw,btwn->btn", key_at, _windows(slots, w - 1, 0)) * gate
        literal_value = self.value(tokens)
        mem = self.memory.init(B)
        resolved = [torch.zeros(B, c.d_value)] * (w - 1)
        for t in range(T):
            read = self.memory.read(mem, slots[:, t])
            resolved.append(literal[:, t] * literal_value[:, t] + (1 - literal[:, t]) * read)
            stored = torch.stack(resolved[-c.value_window :], 1)
            value = torch.einsum("bw,bwd->bd", value_at[:, t], stored)
            mem = self.memory.write(mem, write_slot[:, t], value)
        # padding is masked out of what the executor sees: a program's output must not depend on
        # the longer programs it is batched with (a padding token also reads a slot)
        resolved_t = torch.stack(resolved[w - 1 :], 1) * valid
        roles = roles * valid
        log_probs = self.executor(roles, resolved_t, st)
        return dict(
            log_probs=log_probs,
            slots=slots,
            gate=gate,
            literal=literal,
            write_slot=write_slot,
            roles=roles,
            resolved=resolved_t,
        )


def write_cost(gate: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Writes per token of the batch: gate (B, T, 1), padding already 0; lengths (B,) tokens."""
    return gate.sum() / lengths.sum()


def ctc_loss(log_probs: torch.Tensor, lengths: torch.Tensor, targets, target_lengths, frames: int):
    """Mean CTC loss per target symbol; log_probs (B, T * frames, n_out), lengths (B,) tokens."""
    return F.ctc_loss(
        log_probs.transpose(0, 1),
        targets,
        lengths * frames,
        target_lengths,
        blank=0,
        reduction="mean",
        zero_infinity=True,
    )


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor, frames: int) -> list[list[int]]:
    """Best symbol per frame, repeats merged, blanks dropped: (B, T * frames, n_out) -> ids."""
    return collapse(log_probs.argmax(-1).tolist(), (lengths * frames).tolist())


def collapse(best: list[list[int]], n_frames: list[int]) -> list[list[int]]:
    """Per-frame symbols to output: in each row's first n frames, merge repeats, drop blanks."""
    out = []
    for row, n in zip(best, n_frames, strict=True):
        seq, prev = [], 0
        for s in row[:n]:
            if s != prev and s != 0:
                seq.append(s)
            prev = s
        out.append(seq)
    return out
