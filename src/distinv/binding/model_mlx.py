"""The MLX twin of `distinv.binding.model`: same architecture, same parameter names, same modes.

Weights trained in torch load with `load_torch_state`; `tests/test_binding_model.py` checks that
both compute the same log-probabilities, and that `ctc_loss` here equals torch's.
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn
import numpy as np

from distinv.binding.model import BindingConfig, collapse
from distinv.gumbel import gumbel_softmax


def _windows(x: mx.array, before: int, after: int) -> mx.array:
    """(B, T, ...) -> (B, T, before + 1 + after, ...): x[t - before .. t + after], zero padded."""
    pad = [(0, 0), (before, after)] + [(0, 0)] * (x.ndim - 2)
    xp = mx.pad(x, pad)
    T = x.shape[1]
    return mx.stack([xp[:, i : i + T] for i in range(before + 1 + after)], axis=2)


def _one_hot_argmax(logits: mx.array) -> mx.array:
    idx = mx.argmax(logits, axis=-1, keepdims=True)
    return (mx.arange(logits.shape[-1]) == idx).astype(logits.dtype)


def _log_softmax(x: mx.array) -> mx.array:
    return x - mx.logsumexp(x, axis=-1, keepdims=True)


def _pick(logits: mx.array, hard: bool, straight: bool = False) -> mx.array:
    if hard:
        return _one_hot_argmax(logits)
    y = mx.softmax(logits, axis=-1)
    return mx.stop_gradient(_one_hot_argmax(y) - y) + y if straight else y


def _switch(logits: mx.array, hard: bool, straight: bool = False) -> mx.array:
    if hard:
        return (logits > 0).astype(mx.float32)
    y = mx.sigmoid(logits)
    return mx.stop_gradient((logits > 0).astype(mx.float32) - y) + y if straight else y


def first_occurrence(tokens: mx.array) -> mx.array:
    """(B, T) ids -> (B, T): the position of each token's first occurrence in its program."""
    T = tokens.shape[1]
    same = tokens[:, :, None] == tokens[:, None, :]
    earlier = mx.tril(mx.ones((T, T), dtype=mx.bool_))
    return mx.argmax((same & earlier).astype(mx.int32), axis=-1)


def fresh_slots(logits: mx.array, tokens: mx.array, hard: bool, tau: float) -> mx.array:
    """torch's `fresh_slots`: each token type of a program takes a slot no other type holds."""
    B, T, N = logits.shape
    first = first_occurrence(tokens)
    is_new = first == mx.arange(T)[None]
    fixed = mx.stop_gradient(logits)
    taken, before = mx.zeros((B, N), dtype=mx.bool_), []
    for t in range(T):
        before.append(taken)
        pick = _one_hot_argmax(mx.where(taken, -mx.inf, fixed[:, t])).astype(mx.bool_)
        taken = taken | (pick & is_new[:, t : t + 1])
    before = mx.stack(before, axis=1)
    y = _pick(mx.where(before, -mx.inf, logits / tau), hard=False, straight=hard)
    return mx.take_along_axis(y, mx.broadcast_to(first[..., None], (B, T, N)), axis=1)


class BindingAttention(nn.Module):
    def __init__(self, d_key: int, n_slots: int, mode: str):
        super().__init__()
        self.proj = nn.Linear(d_key, n_slots)
        self.mode = mode
        self.tau = 1.0
        self.hard = True

    def __call__(self, key: mx.array, tokens: mx.array, vocab: int) -> mx.array:
        logits = self.proj(key)
        if self.mode == "soft":
            return mx.softmax(logits, axis=-1)
        if self.mode == "argmax" or (self.mode == "st" and not self.training):
            return _one_hot_argmax(logits)
        if not self.training:
            return fresh_slots(logits, tokens, hard=True, tau=1.0)
        B, T, N = logits.shape
        per_type = mx.random.gumbel((B, vocab, N))  # one sample per token type per program
        idx = mx.broadcast_to(tokens[..., None], (B, T, N))
        noise = mx.take_along_axis(per_type, idx, axis=1)
        if self.mode == "fresh":
            return fresh_slots(logits + noise, tokens, hard=self.hard, tau=self.tau)
        return gumbel_softmax(logits, tau=self.tau, hard=self.hard, noise=noise)


class VariableMemory(nn.Module):
    def __init__(self, n_slots: int, d_value: int):
        super().__init__()
        self.empty = mx.zeros((n_slots, d_value))


class BoundVariableExecutor(nn.Module):
    def __init__(self, cfg: BindingConfig):
        super().__init__()
        width = cfg.emit_before + 1 + cfg.emit_after
        self.cfg = cfg
        self.mlp = [nn.Linear(width * cfg.d_role, cfg.hidden), nn.ReLU()]
        self.mode = nn.Linear(cfg.hidden, cfg.frames * 3)
        self.const = nn.Linear(cfg.hidden, cfg.frames * (cfg.n_out - 1))
        self.pointer = nn.Linear(cfg.hidden, cfg.frames * width)
        self.out = nn.Linear(cfg.d_value, cfg.n_out - 1)

    def __call__(self, roles: mx.array, resolved: mx.array, straight: bool = False) -> mx.array:
        c, (B, T, _) = self.cfg, roles.shape
        b, a, K = c.emit_before, c.emit_after, c.frames
        h = _windows(roles, b, a).reshape(B, T, -1)
        for layer in self.mlp:
            h = layer(h)
        mode = _log_softmax(self.mode(h).reshape(B, T, K, 3))
        const = _log_softmax(self.const(h).reshape(B, T, K, -1))
        pointer = _pick(self.pointer(h).reshape(B, T, K, -1), not self.training, straight)
        value = mx.einsum("btkw,btwd->btkd", pointer, _windows(resolved, b, a))
        read = _log_softmax(self.out(value))
        symbol = mx.logaddexp(mode[..., 1:2] + const, mode[..., 2:3] + read)
        return mx.concatenate([mode[..., :1], symbol], axis=-1).reshape(B, T * K, -1)


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
        self.controller = [
            nn.Linear(w * cfg.d_role, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, 1 + w + cfg.value_window),
        ]
        self.executor = BoundVariableExecutor(cfg)

    def __call__(self, tokens: mx.array) -> mx.array:
        """tokens (B, T) int32, 0 = padding -> log_probs (B, T * frames, n_out)."""
        return self.forward(tokens)[0]

    def forward(self, tokens: mx.array) -> tuple[mx.array, mx.array]:
        """tokens (B, T) int32 -> log_probs (B, T * frames, n_out) and the write gate (B, T, 1)."""
        c, (B, T) = self.cfg, tokens.shape
        w, hard = c.write_window, not self.training
        st = self.training and c.straight and self.binder.hard
        valid = (tokens > 0)[..., None].astype(mx.float32)
        roles = self.role(tokens)
        slots = self.binder(self.key(tokens), tokens, c.vocab)
        literal = _switch(self.literal(roles), hard, st)
        ctrl = _windows(roles, w - 1, 0).reshape(B, T, -1)
        for layer in self.controller:
            ctrl = layer(ctrl)
        gate = _switch(ctrl[..., 0:1], hard, st) * valid
        key_at = _pick(ctrl[..., 1 : 1 + w], hard, st)
        value_at = _pick(ctrl[..., 1 + w :], hard, st)
        write_slot = mx.einsum("btw,btwn->btn", key_at, _windows(slots, w - 1, 0)) * gate
        literal_value = self.value(tokens)
        mem = mx.broadcast_to(self.memory.empty, (B, c.n_slots, c.d_value))
        resolved = [mx.zeros((B, c.d_value))] * (w - 1)
        for t in range(T):
            read = mx.einsum("bn,bnd->bd", slots[:, t], mem)
            resolved.append(literal[:, t] * literal_value[:, t] + (1 - literal[:, t]) * read)
            stored = mx.stack(resolved[-c.value_window :], axis=1)
            value = mx.einsum("bw,bwd->bd", value_at[:, t], stored)
            slot = write_slot[:, t][..., None]
            mem = mem * (1 - slot) + slot * value[:, None, :]
        resolved = mx.stack(resolved[w - 1 :], axis=1) * valid
        return self.executor(roles * valid, resolved, st), gate


def load_torch_state(model: BindingModel, state: dict) -> BindingModel:
    """Load a torch BindingModel's state_dict (same names) into the MLX twin, strictly; returns it
    in test-time mode (`.train()` switches it back)."""
    model.load_weights([(k, mx.array(v.detach().cpu().numpy())) for k, v in state.items()])
    model.eval()
    return model


def greedy_decode(log_probs: mx.array, lengths: np.ndarray, frames: int) -> list[list[int]]:
    """Best symbol per frame, repeats merged, blanks dropped: (B, T * frames, n_out) -> ids."""
    best = np.array(mx.argmax(log_probs, axis=-1)).tolist()
    return collapse(best, (np.asarray(lengths) * frames).tolist())


def training_loss(model: BindingModel, x: mx.array, lengths: np.ndarray, ys: list[list[int]]):
    """torch's `experiment._loss`: CTC, plus the write cost once choices are straight-through."""
    log_probs, gate = model.forward(x)
    loss = ctc_loss(log_probs, lengths, ys, model.cfg.frames)
    if model.binder.hard and model.cfg.write_cost:
        loss = loss + model.cfg.write_cost * gate.sum() / float(np.sum(lengths))
    return loss


def ctc_loss(log_probs: mx.array, lengths: np.ndarray, targets: list[list[int]], frames: int):
    """torch's F.ctc_loss(reduction="mean", zero_infinity=True, blank=0), in MLX.

    log_probs (B, F, C) per frame, lengths (B,) in tokens (frames = lengths * frames),
    targets without blanks. The forward (alpha) recursion over the blank-extended labels.
    """
    B = log_probs.shape[0]
    S = 2 * max(map(len, targets)) + 1
    ext = np.zeros((B, S), dtype=np.int32)  # blank, y1, blank, y2, ..., blank
    skip = np.zeros((B, S), dtype=bool)  # may jump over a blank from s - 2
    for b, y in enumerate(targets):
        ext[b, 1 : 2 * len(y) : 2] = y
        for s in range(3, 2 * len(y), 2):
            skip[b, s] = ext[b, s] != ext[b, s - 2]
    n_frames = np.asarray(lengths) * frames
    ext_mx, skip_mx = mx.array(ext), mx.array(skip)
    neg = mx.array(-1e30)
    emit = mx.take_along_axis(
        log_probs, mx.broadcast_to(ext_mx[:, None], (B, log_probs.shape[1], S)), 2
    )
    alpha = mx.where(mx.arange(S)[None] < 2, emit[:, 0], neg)
    for t in range(1, int(n_frames.max())):
        one = mx.pad(alpha[:, :-1], [(0, 0), (1, 0)], constant_values=-1e30)
        two = mx.pad(alpha[:, :-2], [(0, 0), (2, 0)], constant_values=-1e30)
        two = mx.where(skip_mx, two, neg)
        step = mx.logaddexp(mx.logaddexp(alpha, one), two) + emit[:, t]
        alpha = mx.where(mx.array(t < n_frames)[:, None], step, alpha)
    last = mx.array([2 * len(y) for y in targets])
    end = mx.take_along_axis(alpha, last[:, None], 1)[:, 0]
    before = mx.take_along_axis(alpha, mx.maximum(last - 1, 0)[:, None], 1)[:, 0]
    nll = -mx.logaddexp(end, before)
    nll = mx.where(nll > 1e29, 0.0, nll)  # zero_infinity: an impossible alignment adds nothing
    return mx.mean(nll / mx.array([max(len(y), 1) for y in targets], dtype=mx.float32))
