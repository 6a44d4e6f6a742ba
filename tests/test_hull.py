"""distinv.hull against Qhull and an independent QP, on degenerate sets, and on bad input."""

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.spatial import ConvexHull

from distinv import hull
from distinv.synthetic import Manifold, gaussian, uniform_ball


def qhull_inside(X, Q, slack=1e-9):
    eq = ConvexHull(X).equations  # rows (normal, offset): normal.x + offset <= 0 inside
    return (Q @ eq[:, :-1].T + eq[:, -1] <= slack).all(axis=1), eq


@pytest.mark.parametrize("d", [2, 3, 4, 5])
def test_agrees_with_qhull(d):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((40, d))
    ch = ConvexHull(X)
    Q = rng.standard_normal((150, d)) * 1.2
    expected, eq = qhull_inside(X, Q)
    margin = np.abs(Q @ eq[:, :-1].T + eq[:, -1]).min(axis=1)
    clear = margin > 1e-6  # leave out points within rounding of a facet
    for workers in (1, 2):
        got = hull.inside(X, Q, workers=workers)
        np.testing.assert_array_equal(got[clear], expected[clear])
    base = np.array([hull.lp_inside(X, q) for q in Q])
    np.testing.assert_array_equal(base[clear], expected[clear])
    # Points on facets (convex combinations of a facet's vertices) and the vertices themselves.
    w = rng.dirichlet(np.ones(d), size=len(ch.simplices))
    on_facets = np.einsum("fk,fkd->fd", w, X[ch.simplices])
    boundary = np.vstack([on_facets, X[ch.vertices]])
    assert hull.inside(X, boundary).all()
    assert all(hull.lp_inside(X, q) for q in boundary)


def test_fast_path_equals_plain_lp_in_batch():
    rng = np.random.default_rng(0)
    for X, Q in [
        (gaussian(400, 8, rng), gaussian(120, 8, rng)),
        (uniform_ball(300, 6, rng), uniform_ball(80, 6, rng) * 1.1),
        (Manifold(16).sample(400, rng), Manifold(16).sample(80, rng)),
    ]:
        fast, stats = hull.inside(X, Q, workers=2, return_stats=True)
        base = np.array([hull.lp_inside(X, q) for q in Q])
        np.testing.assert_array_equal(fast, base)
        assert 0 < fast.mean() < 1, "the batch must hold both answers to test anything"
        assert stats.box + stats.hyperplane + stats.wolfe + stats.subset_lp + stats.full_lp == len(
            Q
        )


def test_relative_interior_of_a_flat_training_set():
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.standard_normal((5, 2)))[0].T  # a plane in 5-D
    X = rng.standard_normal((30, 2)) @ basis + 3.0
    Q = rng.dirichlet(np.ones(30), size=20) @ X  # inside, in the plane
    assert hull.inside(X, Q).all()
    off = Q + 1e-3 * np.linalg.svd(basis)[2][-1]  # pushed off the plane
    assert not hull.inside(X, off).any()
    np.testing.assert_allclose(hull.distance(X, off), 1e-3, rtol=1e-3)


def test_degenerate_training_sets():
    X = np.array([[1.0, 2.0, 3.0]])
    assert hull.inside(X, [[1.0, 2.0, 3.0], [1.0, 2.0, 3.1]]).tolist() == [True, False]
    np.testing.assert_allclose(hull.distance(X, [[1.0, 2.0, 4.0]]), [1.0])
    dup = np.repeat(
        np.eye(3), 4, axis=0
    )  # every vertex of a triangle four times; N < d + 1 after dedup
    tri = np.array([[1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0.0], [0.5, 0.5, 0.1]])
    assert hull.inside(dup, tri).tolist() == [True, True, False]
    X5 = np.random.default_rng(2).standard_normal((3, 5))  # N < d + 1
    assert hull.inside(X5, [X5.mean(axis=0), X5.mean(axis=0) + 0.1]).tolist() == [True, False]


def _qp_distance(X, q):
    n = len(X)
    res = minimize(
        lambda lam: np.sum((lam @ X - q) ** 2),
        np.full(n, 1.0 / n),
        jac=lambda lam: 2 * X @ (lam @ X - q),
        bounds=[(0, None)] * n,
        constraints=[{"type": "eq", "fun": lambda lam: lam.sum() - 1}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    return np.sqrt(res.fun)


def test_distance_against_an_independent_qp():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((25, 4))
    Q = rng.standard_normal((10, 4)) * 3
    got = hull.distance(X, Q)
    want = np.array([_qp_distance(X, q) for q in Q])
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert (got[~hull.inside(X, Q)] > 0).all()


def test_distance_to_a_square_is_closed_form():
    X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    Q = np.array([[0.5, 0.5], [2.0, 0.5], [2.0, 2.0], [-3.0, 0.0]])
    np.testing.assert_allclose(hull.distance(X, Q), [0.0, 1.0, np.sqrt(2), 3.0], atol=1e-9)


def test_classify_and_scale():
    X = np.array([[i, j] for i in range(5) for j in range(5)], dtype=float)  # grid, spacing 1
    assert hull.nn_scale(X) == pytest.approx(1.0)
    report = hull.classify(X, [[2.0, 2.0], [4.5, 2.0], [7.0, 2.0]], near=1.0)
    assert report.label.tolist() == ["inside", "near", "far"]
    np.testing.assert_allclose(report.distance, [0.0, 0.5, 3.0], atol=1e-9)
    assert report.fractions() == pytest.approx({"inside": 1 / 3, "near": 1 / 3, "far": 1 / 3})


@pytest.mark.parametrize(
    "X, Q, match",
    [
        ([[0.0, np.nan]], [[0.0, 0.0]], "training set contains NaN or infinite"),
        ([[0.0, 1.0]], [[np.inf, 0.0]], "queries contain NaN or infinite"),
        ([[0.0, 1.0]], [[0.0, 1.0, 2.0]], r"queries must have shape \(M, 2\)"),
        ([1.0, 2.0], [[0.0, 1.0]], "non-empty 2-D array"),
        (np.zeros((0, 3)), [[0.0, 1.0, 2.0]], "non-empty 2-D array"),
    ],
)
def test_bad_input(X, Q, match):
    for fn in (hull.inside, hull.distance, hull.classify):
        with pytest.raises(ValueError, match=match):
            fn(X, Q)


def test_bad_parameters():
    X = np.eye(3)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        hull.inside(X, X, tol=-1.0)
    with pytest.raises(ValueError, match="near must be > 0"):
        hull.classify(X, X, near=0.0)
    with pytest.raises(ValueError, match="n_baseline"):
        hull.benchmark(X, X, n_baseline=0)


def test_benchmark_reports_agreement():
    rng = np.random.default_rng(4)
    X, Q = gaussian(300, 8, rng), gaussian(40, 8, rng)
    out = hull.benchmark(X, Q, n_baseline=10, workers=1)
    assert out["agreement"] == 1.0 and out["n_compared"] == 10
    assert out["fast_qps"] > 0 and out["baseline_qps"] > 0


def test_benchmark_compares_like_with_like_and_counts_each_side_s_fastest_turn(monkeypatch):
    """Turns of 10 s then 1 s (fast path, one process), 5 s then 0.5 s (fast path, two), 20 s then
    2 s (baseline): the fastest of each count, and the ratio is the one-process fast path's."""
    clock = iter([0.0, 10.0, 10.0, 15.0, 15.0, 35.0, 35.0, 36.0, 36.0, 36.5, 36.5, 38.5])
    monkeypatch.setattr(hull.time, "perf_counter", lambda: next(clock))
    seen = []

    def fake_inside(X, Q, **kw):
        seen.append(kw["workers"])
        return (np.ones(len(Q), bool), None) if kw.get("return_stats") else np.ones(len(Q), bool)

    monkeypatch.setattr(hull, "inside", fake_inside)
    monkeypatch.setattr(hull, "lp_inside", lambda X, q, tol: True)
    X = np.zeros((3, 2))
    out = hull.benchmark(X, np.zeros((4, 2)), n_baseline=2, workers=2, repeats=2)
    assert out["fast_qps"] == 4.0 and out["baseline_qps"] == 1.0 and out["speedup"] == 4.0
    assert out["parallel_qps"] == 8.0 and out["parallel_gain"] == 2.0
    assert seen == [1, 2, 1, 2]  # the timed ratio's fast path ran in one process, as the LPs did
    with pytest.raises(ValueError, match="repeats"):
        hull.benchmark(X, X, n_baseline=1, repeats=0)


def test_in_process_path_holds_blas_to_one_thread(monkeypatch):
    """The one-process fast path (the benchmark's side) runs on one BLAS thread, as workers do."""
    from threadpoolctl import threadpool_info, threadpool_limits

    seen = []
    certify, lp_decide = hull._certify, hull._lp_decide

    def threads():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    def spy_certify(*a):
        seen.append(("certify", threads()))
        res, n_wolfe, n_plane = certify(*a)
        return np.full_like(res, -1), 0, 0  # leave every query to the LPs

    def spy_lp(*a):
        seen.append(("lp", threads()))
        return lp_decide(*a)

    monkeypatch.setattr(hull, "_certify", spy_certify)
    monkeypatch.setattr(hull, "_lp_decide", spy_lp)
    rng = np.random.default_rng(5)
    X, Q = gaussian(200, 4, rng), 0.1 * gaussian(3, 4, rng)
    with threadpool_limits(2):
        out = hull.inside(X, Q, workers=1)
        assert threads() == {2}  # restored afterwards
    assert out.tolist() == [hull.lp_inside(X, q) for q in Q]
    assert [name for name, _ in seen] == ["certify", "lp", "lp", "lp"]
    assert all(t == {1} for _, t in seen), seen


def test_lp_path_in_worker_processes(monkeypatch):
    # Without Wolfe's certificates every undecided query goes to the LPs, in two processes.
    monkeypatch.setattr(hull, "WOLFE_FACTOR", 0)
    rng = np.random.default_rng(5)
    X, Q = gaussian(200, 5, rng), gaussian(30, 5, rng)
    for workers in (1, 2):
        fast, stats = hull.inside(X, Q, workers=workers, return_stats=True)
        np.testing.assert_array_equal(fast, [hull.lp_inside(X, q) for q in Q])
        assert stats.subset_lp > 0 and stats.full_lp > 0


def test_certificates_in_worker_processes(monkeypatch):
    # A batch large enough to be shared out gives the plain LP's answers too.
    monkeypatch.setattr(hull, "MIN_CERTIFY_PER_WORKER", 8)
    rng = np.random.default_rng(6)
    X, Q = gaussian(300, 6, rng), gaussian(60, 6, rng)
    fast, stats = hull.inside(X, Q, workers=2, return_stats=True)
    np.testing.assert_array_equal(fast, [hull.lp_inside(X, q) for q in Q])
    assert stats.wolfe > 0 and sum(vars(stats).values()) == len(Q)
