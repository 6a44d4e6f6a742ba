"""Exact convex-hull membership and distance for training sets, fast in batch.

Membership is LP feasibility: q is inside when some lambda >= 0 with sum(lambda) = 1 has
|X^T lambda - q|_inf <= tol_abs, where tol_abs = tol * max(1, max|X|). Every shortcut taken before
the LP is an exact certificate for that same definition, so it changes the cost, not the answer:

- outside the bounding box of X, widened by tol_abs: outside;
- a hyperplane w with w.q > max_i w.x_i + tol_abs * |w|_1: outside (directions tried: from the
  centroid of X, every hyperplane found so far, and the one Wolfe's nearest-point algorithm finds);
- inside the hull of a subset of X (the query's nearest neighbours, by a small LP): inside.

Distance is the Euclidean distance to the hull, from Wolfe's (1976) nearest-point algorithm, which
certifies its own error: the true distance lies in [d - gap / d, d].
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from threadpoolctl import threadpool_limits

from distinv import cpus

LABELS = ("inside", "near", "far")
K_FACTOR = 8  # the subset LP uses the K_FACTOR * (d + 1) nearest training points
WOLFE_FACTOR = 10  # Wolfe's certificates get WOLFE_FACTOR * (d + 1) iterations before any LP


def _check(X, Q=None) -> tuple[np.ndarray, np.ndarray | None]:
    """Training set (N, d) and queries (M, d) as float arrays, or ValueError naming the problem."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"training set must be a non-empty 2-D array (N, d), got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("training set contains NaN or infinite values")
    if Q is None:
        return X, None
    Q = np.asarray(Q, dtype=float)
    Q = Q[None, :] if Q.ndim == 1 else Q
    if Q.ndim != 2 or Q.shape[1] != X.shape[1]:
        raise ValueError(
            f"queries must have shape (M, {X.shape[1]}) to match the training set, got {Q.shape}"
        )
    if not np.isfinite(Q).all():
        raise ValueError("queries contain NaN or infinite values")
    return X, Q


def tol_abs(X: np.ndarray, tol: float) -> float:
    """The absolute tolerance: `tol` times the scale of X (its largest |coordinate|, at least 1)."""
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0, got {tol}")
    return tol * max(1.0, float(np.abs(X).max()))


def lp_inside(X: np.ndarray, q: np.ndarray, tol: float = 1e-6) -> bool:
    """The plain baseline: one LP-feasibility problem for one query. X (N, d), q (d,)."""
    X, Q = _check(X, q)
    return _lp(X, Q[0], tol_abs(X, tol))


def _lp(X: np.ndarray, q: np.ndarray, eps: float) -> bool:
    # X^T lam + s = q, sum(lam) = 1, lam >= 0, |s| <= eps: the tolerance as bounds on d slacks.
    n, d = X.shape
    A = np.zeros((d + 1, n + d))
    A[:d, :n], A[:d, n:], A[d, :n] = X.T, np.eye(d), 1.0
    bounds = [(0, None)] * n + [(-eps, eps)] * d
    # HiGHS's simplex occasionally ends with status "unknown" in high dimension; its interior-point
    # method then decides. Both are exact LP solvers.
    for method in ("highs", "highs-ipm"):
        res = linprog(np.zeros(n + d), A_eq=A, b_eq=np.append(q, 1.0), bounds=bounds, method=method)
        if res.status in (0, 2):
            return res.status == 0
    raise RuntimeError(f"hull LP ended with status {res.status}: {res.message}")


def _separates(W: np.ndarray, Q: np.ndarray, X: np.ndarray, eps: float) -> np.ndarray:
    """For rows w of W and q of Q: w.q > max_i w.x_i + eps |w|_1 (an exact outside certificate)."""
    out = np.zeros(len(Q), dtype=bool)
    for s in range(0, len(Q), 256):  # bounds the (chunk, N) product's memory
        w = W[s : s + 256]
        top = (w @ X.T).max(axis=1) + eps * np.abs(w).sum(axis=1)
        out[s : s + 256] = np.einsum("ij,ij->i", w, Q[s : s + 256]) > top
    return out


def _wolfe(P: np.ndarray, eps: float, max_iter: int, outside_only: bool = False):
    """Nearest point to the origin in conv(rows of P), by Wolfe's algorithm. P (N, d).

    Returns (x, gap): x (d,) the point reached and gap = |x|^2 - min_i p_i.x >= 0, so the distance
    lies in [|x| - gap/|x|, |x|]. Stops once that interval is narrower than eps, once |x| <= eps, or
    (with `outside_only`) as soon as min_i p_i.x > eps |x|_1, a hyperplane that certifies the origin
    outside the hull widened by eps.
    """
    norms = np.einsum("ij,ij->i", P, P)
    S = [int(np.argmin(norms))]
    lam = np.ones(1)
    x = P[S[0]].copy()
    gap = np.inf
    for _ in range(max_iter):
        dots = P @ x
        j = int(np.argmin(dots))
        gap = max(float(x @ x - dots[j]), 0.0)
        nx = float(np.sqrt(x @ x))
        if outside_only and dots[j] > eps * np.abs(x).sum():
            break
        if nx <= eps or gap <= eps * nx or j in S:
            break
        S.append(j)
        lam = np.append(lam, 0.0)
        while True:  # minor cycle: the affine nearest point of S, pulled back into the simplex
            PS = P[S]
            k = len(S)
            M = np.ones((k + 1, k + 1))
            M[:k, :k] = PS @ PS.T
            M[k, k] = 0.0
            rhs = np.zeros(k + 1)
            rhs[k] = 1.0
            try:
                alpha = np.linalg.solve(M, rhs)[:k]
            except np.linalg.LinAlgError:  # affinely dependent points in S (duplicates, say)
                alpha = np.linalg.lstsq(M, rhs, rcond=None)[0][:k]
            if (alpha > 1e-12).all():
                lam = alpha
                break
            neg = alpha <= 1e-12
            theta = np.min(lam[neg] / np.maximum(lam[neg] - alpha[neg], 1e-300))
            lam = np.clip(lam + theta * (alpha - lam), 0.0, None)
            keep = lam > 1e-12
            if keep.all():  # numerical stall: drop the smallest weight
                keep[np.argmin(lam)] = False
            S = [s for s, kp in zip(S, keep, strict=True) if kp]
            lam = lam[keep] / lam[keep].sum()
        x = lam @ P[S]
    return x, gap


@dataclass
class Stats:
    """How many queries each certificate decided."""

    box: int = 0
    hyperplane: int = 0
    wolfe: int = 0
    subset_lp: int = 0
    full_lp: int = 0


def _certify(X: np.ndarray, Q: np.ndarray, eps: float) -> tuple[np.ndarray, int, int]:
    """Wolfe's certificates for the queries in order; each outside hyperplane is tried on the rest.

    Returns (result, n_wolfe, n_hyperplane): result (M,) int8 is 1 inside, 0 outside, -1 undecided.
    """
    result = np.full(len(Q), -1, dtype=np.int8)
    n_wolfe = n_plane = 0
    for i in range(len(Q)):
        if result[i] >= 0:  # excluded by the hyperplane of an earlier query
            continue
        x, _ = _wolfe(X - Q[i], eps, WOLFE_FACTOR * (X.shape[1] + 1), outside_only=True)
        if np.abs(x).max() <= eps:  # x = sum_i lam_i x_i - q, lam in the simplex: LP-feasible
            result[i], n_wolfe = 1, n_wolfe + 1
        elif _separates(-x[None], Q[i][None], X, eps)[0]:
            result[i], n_wolfe = 0, n_wolfe + 1
            rest = i + 1 + np.flatnonzero(result[i + 1 :] < 0)
            hit = _separates(np.broadcast_to(-x, Q[rest].shape), Q[rest], X, eps)
            result[rest[hit]] = 0
            n_plane += int(hit.sum())
    return result, n_wolfe, n_plane


def _lp_decide(X: np.ndarray, q: np.ndarray, eps: float, k: int) -> tuple[bool, str]:
    """Inside or not by LP: over the k nearest training points first, then over all of them."""
    if k < len(X):
        near = np.argpartition(((X - q) ** 2).sum(axis=1), k)[:k]
        if _lp(X[near], q, eps):
            return True, "subset_lp"
    return _lp(X, q, eps), "full_lp"


_WORKER_X: np.ndarray | None = None  # a worker process's training set, set by its initializer


def _init_worker(X: np.ndarray) -> None:
    global _WORKER_X
    _WORKER_X = X
    threadpool_limits(1)  # the processes share the cores; threaded BLAS in each would oversubscribe


def _pool(X: np.ndarray, n_workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(n_workers, initializer=_init_worker, initargs=(X,))


def _certify_in_worker(Q: np.ndarray, eps: float) -> tuple[np.ndarray, int, int]:
    return _certify(_WORKER_X, Q, eps)


def _lp_decide_in_worker(q: np.ndarray, eps: float, k: int) -> tuple[bool, str]:
    return _lp_decide(_WORKER_X, q, eps, k)


# Below these counts per worker, starting processes costs more than it saves.
MIN_CERTIFY_PER_WORKER = 64
MIN_LPS = 4
REPEATS = 3  # turns each side of `benchmark` takes; its fastest counts


def inside(
    X, Q, tol: float = 1e-6, workers: int | None = None, return_stats: bool = False
) -> np.ndarray | tuple[np.ndarray, Stats]:
    """Exact membership of each query in the convex hull of X. X (N, d), Q (M, d) -> bool (M,).

    Gives the same answers as `lp_inside` on every query. Large batches are shared out to
    `workers` processes (default: every core), and so are the LPs the certificates leave. Each
    process, this one included, runs the certificates and LPs with BLAS held to one thread: their
    matrix products are small (on two busy cores, BLAS threads once made them about 8x slower).
    """
    X, Q = _check(X, Q)
    eps = tol_abs(X, tol)
    stats = Stats()
    result = np.full(len(Q), -1, dtype=np.int8)  # -1 undecided, 0 outside, 1 inside
    box = ((Q < X.min(axis=0) - eps) | (Q > X.max(axis=0) + eps)).any(axis=1)
    result[box] = 0
    stats.box = int(box.sum())
    todo = np.flatnonzero(result < 0)
    if len(todo):
        sep = _separates(Q[todo] - X.mean(axis=0), Q[todo], X, eps)
        result[todo[sep]] = 0
        stats.hyperplane += int(sep.sum())
    todo = np.flatnonzero(result < 0)
    n_workers = cpus.allowed(workers)
    pool = None
    try:
        if n_workers > 1 and len(todo) >= MIN_CERTIFY_PER_WORKER * n_workers:
            pool = _pool(X, n_workers)
            chunks = [todo[w::n_workers] for w in range(n_workers)]
            parts = list(pool.map(_certify_in_worker, [Q[c] for c in chunks], [eps] * n_workers))
        else:
            with threadpool_limits(1):
                chunks, parts = [todo], [_certify(X, Q[todo], eps)]
        for chunk, (res, n_wolfe, n_plane) in zip(chunks, parts, strict=True):
            result[chunk] = res
            stats.wolfe += n_wolfe
            stats.hyperplane += n_plane
        pending = np.flatnonzero(result < 0)
        k = min(len(X), K_FACTOR * (X.shape[1] + 1))
        if n_workers > 1 and len(pending) >= MIN_LPS:
            pool = pool or _pool(X, n_workers)
            n = len(pending)
            answers = list(pool.map(_lp_decide_in_worker, Q[pending], [eps] * n, [k] * n))
        else:
            with threadpool_limits(1):
                answers = [_lp_decide(X, Q[i], eps, k) for i in pending]
    finally:
        if pool is not None:
            pool.shutdown()
    for i, (ans, how) in zip(pending, answers, strict=True):
        result[i] = ans
        setattr(stats, how, getattr(stats, how) + 1)
    out = result.astype(bool)
    return (out, stats) if return_stats else out


def distance(X, Q, tol: float = 1e-6, max_iter: int = 100_000) -> np.ndarray:
    """Euclidean distance from each query to the hull of X, certified to within tol_abs. (M,)."""
    X, Q = _check(X, Q)
    eps = tol_abs(X, tol)
    out = np.zeros(len(Q))
    for i, q in enumerate(Q):
        x, gap = _wolfe(X - q, eps, max_iter)
        dist = float(np.linalg.norm(x))
        if dist > eps and gap > eps * dist:
            raise RuntimeError(f"distance of query {i} not certified within {eps:g} (gap {gap:g})")
        out[i] = dist if dist > eps else 0.0
    return out


def nn_scale(X) -> float:
    """The median distance from a training point to its nearest other (distinct) training point."""
    X, _ = _check(X)
    X = np.unique(X, axis=0)
    if len(X) < 2:
        raise ValueError("a scale needs at least two distinct training points")
    sq = (X * X).sum(axis=1)
    nearest = np.empty(len(X))
    for s in range(0, len(X), 1024):
        d2 = sq[s : s + 1024, None] - 2 * X[s : s + 1024] @ X.T + sq[None, :]
        d2[np.arange(len(d2)), np.arange(s, s + len(d2))] = np.inf
        nearest[s : s + 1024] = d2.min(axis=1)
    return float(np.sqrt(np.maximum(np.median(nearest), 0.0)))


@dataclass(frozen=True)
class Report:
    """Where each query lies relative to the hull of a training set."""

    inside: np.ndarray  # (M,) bool
    distance: np.ndarray  # (M,) Euclidean distance to the hull; 0 inside
    scale: float  # the training set's median nearest-neighbour distance
    near: float  # queries outside within near * scale are "near"
    label: np.ndarray  # (M,) "inside", "near" or "far"

    def fractions(self) -> dict[str, float]:
        return {name: float(np.mean(self.label == name)) for name in LABELS}


def classify(X, Q, near: float = 1.0, tol: float = 1e-6, workers: int | None = None) -> Report:
    """Inside, near or far: outside queries within `near` median nearest-neighbour distances of the
    hull are near extrapolation, the rest far. X (N, d), Q (M, d)."""
    if not near > 0:
        raise ValueError(f"near must be > 0, got {near}")
    X, Q = _check(X, Q)
    ins = inside(X, Q, tol=tol, workers=workers)
    dist = np.zeros(len(Q))
    if (~ins).any():
        dist[~ins] = distance(X, Q[~ins], tol=tol)
    scale = nn_scale(X)
    label = np.where(ins, "inside", np.where(dist <= near * scale, "near", "far"))
    return Report(ins, dist, scale, near, label)


def benchmark(X, Q, n_baseline: int, tol: float = 1e-6, workers: int | None = None,
              repeats: int = REPEATS) -> dict:  # fmt: skip
    """Queries per second of `inside` on all of Q against one plain LP per query on Q[:n_baseline].

    Like with like: the fast path and the baseline each run in this one process (`speedup`); the
    fast path in `workers` processes is timed apart, and its gain over one process is reported as
    `parallel_gain` (the LPs would gain from more processes too, so it is not part of the ratio).
    The sides take turns `repeats` times; each side's fastest turn counts (as `timeit` does: the
    one least slowed by whatever else the machine was doing). `agreement` is the fraction of the
    baseline's queries on which the two answers are identical (it must be 1.0).
    """
    X, Q = _check(X, Q)
    if not 1 <= n_baseline <= len(Q):
        raise ValueError(f"n_baseline must be in [1, {len(Q)}], got {n_baseline}")
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    n_workers = cpus.allowed(workers)
    t_fast = t_parallel = t_base = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fast, stats = inside(X, Q, tol=tol, workers=1, return_stats=True)
        t_fast = min(t_fast, time.perf_counter() - start)
        if n_workers > 1:
            start = time.perf_counter()
            inside(X, Q, tol=tol, workers=n_workers)
            t_parallel = min(t_parallel, time.perf_counter() - start)
        start = time.perf_counter()
        base = np.array([lp_inside(X, q, tol) for q in Q[:n_baseline]])
        t_base = min(t_base, time.perf_counter() - start)
    fast_qps, base_qps = len(Q) / t_fast, n_baseline / t_base
    return {
        "fast_qps": fast_qps,
        "baseline_qps": base_qps,
        "speedup": fast_qps / base_qps,
        "parallel_qps": len(Q) / t_parallel if n_workers > 1 else fast_qps,
        "parallel_gain": t_fast / t_parallel if n_workers > 1 else 1.0,
        "workers": n_workers,
        "agreement": float(np.mean(fast[:n_baseline] == base)),
        "n_agree": int(np.sum(fast[:n_baseline] == base)),
        "n_compared": n_baseline,
        "p_inside": float(fast.mean()),
        "stats": stats,
    }
