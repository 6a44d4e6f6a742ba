"""The shapes world: renderer, rules and parser, measures, and the generators' contracts."""

from pathlib import Path

import numpy as np
import pytest
import torch

from distinv import shapes
from distinv.book.chapters import find
from distinv.shapes import design, models, rules, world
from distinv.shapes import experiment as ex
from distinv.shapes import train as st


def test_render_shapes_range_and_seed():
    F = rules.CELLS[::97]
    a, b = world.render(F, 1), world.render(F, 1)
    assert a.shape == (len(F), 32, 32, 3) and a.dtype == np.float32
    assert 0 <= a.min() and a.max() <= 1
    assert np.array_equal(a, b)
    assert not np.array_equal(a, world.render(F, 2))  # nuisance differs with the seed
    exact = world.render(F, 1, nuisance=False)
    assert np.array_equal(exact, world.render(F, 2, nuisance=False))


def test_render_one_dict_and_names():
    one = shapes.render({"shape": "heart", "hue": "blue", "scale": 0, "x": 3, "y": "y5"})
    assert one.shape == (32, 32, 3)
    idx = world.check({"shape": "heart", "hue": "blue", "scale": 0, "x": 3, "y": "y5"})
    assert idx.tolist() == [[3, 4, 0, 3, 5]]


def test_objects_are_several_pixels_and_grow_with_scale():
    for s in range(len(world.SHAPES)):
        cover = []
        for c in range(len(world.SCALES)):
            im = world.render([[s, 0, c, 4, 4]], nuisance=False)[0]
            cover.append(float((im[..., 0] > 0.3).sum()))
        assert cover[0] >= 9, (s, cover)  # at least 3x3 pixels
        assert all(a < b for a, b in zip(cover, cover[1:], strict=False)), (s, cover)


def test_colour_and_position_follow_the_factors():
    im = world.render([[0, 4, 2, 0, 7]], nuisance=False)[0]  # blue square, bottom left
    ys, xs = np.nonzero(im.sum(-1) > 0.6)
    assert xs.mean() < 12 and ys.mean() > 20
    assert im[ys, xs, 2].mean() > im[ys, xs, 0].mean() + 0.3


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ({"shape": "dog", "hue": 0, "scale": 0, "x": 0, "y": 0}, "shape must be one of"),
        ({"shape": 0, "hue": 9, "scale": 0, "x": 0, "y": 0}, "hue must be an index 0..5"),
        ({"shape": 0, "hue": 0, "scale": 0, "x": 0}, "missing"),
        ({"shape": 0, "hue": 0, "scale": 0, "x": 0, "y": 0, "z": 1}, "unknown"),
        ([[0, 0, 4, 0, 0]], "scale must be an index 0..3"),
        ([[0, 0, 0, 0]], "shape (N, 5)"),
        ([[0.5, 0, 0, 0, 0]], "integers"),
    ],
)
def test_bad_factors_name_the_factor(bad, says):
    with pytest.raises(ValueError, match=None) as e:
        world.check(bad)
    assert says in str(e.value), str(e.value)


def test_split_counts_and_training_support():
    assert len(rules.combos((0, 1))) == 12
    assert len(rules.combos(2)) == 39 and len(rules.combos(3)) == 45
    d = rules.distribution(rules.BASE_RULES, max_distance=1)
    support = rules.CELLS[d.p > 0]
    assert (rules.distance(support) <= 1).all()
    assert len(np.unique(support[:, 3:], axis=0)) == world.GRID**2  # every position is trained


def test_base_rules_hold_on_samples():
    F = rules.distribution(rules.BASE_RULES).sample(3000, 0)
    for r in rules.parse(rules.BASE_RULES):
        if r.per_sample:
            assert r.holds(F).all(), r
    corr = np.corrcoef(F[:, 2], F[:, 3])[0, 1]
    assert corr > 0.3, corr
    G = rules.distribution(rules.edit(rules.BASE_RULES, "size shrinks with x")).sample(3000, 0)
    assert np.corrcoef(G[:, 2], G[:, 3])[0, 1] < -0.3


def test_parse_forms_and_edit_replaces_subject():
    r = rules.parse("Hearts are blue ; no squares; size shrinks with x; no y0")
    assert r == [rules.Are(3, 4), rules.No(0, 0), rules.Couple(2, 3, -1), rules.No(4, 0)]
    new = rules.edit(rules.BASE_RULES, "hearts are blue")
    assert rules.Are(3, 0) not in new and rules.Are(3, 4) in new and rules.Are(2, 0) in new
    new = rules.edit(rules.BASE_RULES, "x grows with size")  # the same pair: replaced
    assert sum(isinstance(q, rules.Couple) for q in new) == 1
    assert [str(q) for q in rules.parse("no hearts; size grows with y")] == [
        "no hearts", "size grows with y"]  # fmt: skip
    assert rules.slug("hearts are blue; no squares") == "hearts_are_blue__no_squares"


@pytest.mark.parametrize(
    ("request_", "says"),
    [
        ("dogs are red", "unknown shape 'dogs'"),
        ("hearts are pink", "hues: red, yellow"),
        ("hue grows with x", "not ordered"),
        ("weight grows with x", "unknown factor 'weight'"),
        ("x grows with x", "itself"),
        ("no purple", "accepted forms"),
        ("make it pretty", "accepted forms"),
        ("", "non-empty"),
        ("hearts are red;", "empty clause"),
        ("hearts are red; hearts are blue", "two things"),
    ],
)
def test_bad_requests_list_what_is_accepted(request_, says):
    with pytest.raises(ValueError) as e:
        rules.parse(request_)
    assert says in str(e.value), str(e.value)


def test_rules_that_leave_nothing_are_an_error():
    with pytest.raises(ValueError, match="leave no image"):
        rules.distribution("no squares; no ellipses; no triangles; no hearts")


def test_tv():
    p = np.array([0.5, 0.5, 0.0])
    assert rules.tv(p, p) == 0
    assert rules.tv(p, np.array([0.0, 0.0, 1.0])) == 1


def test_sample_is_seeded():
    a, fa = shapes.sample("no squares", 20, seed=3)
    b, fb = shapes.sample("no squares", 20, seed=3)
    assert np.array_equal(a, b) and np.array_equal(fa, fb) and (fa[:, 0] != 0).all()


def test_requests_at_distance():
    R = ex.requests(2, 3, 0)
    assert len(R) == 39 * 3 and (rules.distance(R) == 2).all()
    assert len(np.unique(R[:, :3], axis=0)) == 39


def _generated(requested, read):
    return ex.Generated(np.zeros((len(read), 32, 32, 3), np.float32), requested, read,
                        np.zeros((len(read), 4)))  # fmt: skip


def test_grade_edit_perfect_and_broken():
    request = "hearts are blue"
    dist = rules.distribution(rules.edit(rules.BASE_RULES, request))
    F = dist.sample(4000, 0)
    e = ex.grade_edit(_generated(F, F), request)
    assert e.obeyed == {"hearts are blue": 1.0} and e.intact == 1.0
    assert e.intact_tv["size grows with x"] < 0.05
    wrong = F.copy()
    wrong[F[:, 0] == 3, 1] = 0  # every heart comes out red
    wrong[F[:, 0] == 2, 1] = 1  # and every triangle yellow: an untouched rule broken
    e = ex.grade_edit(_generated(F, wrong), request)
    assert e.obeyed["hearts are blue"] == 0.0
    assert e.intact == pytest.approx(1 - (F[:, 0] == 2).mean())
    e = ex.grade_edit(_generated(F, F), "size shrinks with x")  # graded as a histogram
    assert e.tv["size shrinks with x"] > 0.2  # F was drawn with size growing with x


def test_accuracy_frechet_and_hull():
    F = rules.CELLS[:10]
    per, prod = ex.accuracy(F, F)
    assert prod == 1 and (per == 1).all()
    G = F.copy()
    G[::2, 1] = (G[::2, 1] + 1) % 6
    assert ex.accuracy(G, F)[1] == 0.5
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 3))
    assert ex.frechet(a, a) == pytest.approx(0, abs=1e-6)
    assert ex.frechet(a, a + 1) == pytest.approx(3, rel=0.01)
    X = rng.uniform(-1, 1, (200, 2))
    assert ex.outside(X, np.array([[0.0, 0.0], [5.0, 5.0]])) == 0.5


def test_judge_rejects_nan():
    oracle = models.Oracle().eval()
    bad = np.full((2, 32, 32, 3), np.nan, np.float32)
    with pytest.raises(ValueError, match="NaN"):
        ex.judge(bad, rules.CELLS[:2], oracle)


def test_nearest_copies_the_nearest_training_image():
    X, F = shapes.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 300, 0)
    near = st.Nearest(X, F)
    out = near.generate(F[:5])
    for i in range(5):  # an exact training request gets a training image of its own factors
        assert any(np.array_equal(out[i], X[j]) for j in np.flatnonzero((F == F[i]).all(1)))
    far = near.generate([[3, 4, 0, 0, 0]])  # a small blue heart: nothing in training is near
    j = next(j for j in range(len(X)) if np.array_equal(far[0], X[j]))
    assert rules.distance(F[j : j + 1])[0] <= 1


def test_generators_are_seeded_and_shaped():
    X, F = shapes.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 64, 0)
    ae, losses = st.train_autoencoder(X, 3, 0, batch=16)
    assert len(losses) == 3
    dif = st.train_diffusion(ae, X, F, 4, 0, batch=16, snapshots=2)
    assert sorted(dif.snapshots) == [2, 4]
    a = dif.generate(F[:3], seed=5, guidance=2.0, steps=3)
    assert a.shape == (3, 32, 32, 3) and np.array_equal(a, dif.generate(F[:3], 5, 2.0, 3))
    cvae = st.train_cvae(X, F, 3, 0, batch=16)
    b = cvae.generate(F[:3], seed=5)
    assert b.shape == (3, 32, 32, 3) and np.array_equal(b, cvae.generate(F[:3], seed=5))
    assert 0 <= a.min() and a.max() <= 1 and 0 <= b.min() and b.max() <= 1


def test_star_sampler_is_the_plain_conditional_on_training_combinations():
    X, F = shapes.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 64, 0)
    ae, _ = st.train_autoencoder(X, 2, 0, batch=16)
    dif = st.train_diffusion(ae, X, F, 3, 0, batch=16)
    near = np.concatenate([F[:6], [[0, 0, 1, 3, 3]]])  # distance 1, and the base (distance 0)
    a, b = (dif.generate(near, 5, 2.0, 3, sampler=s) for s in ("star", "joint"))
    assert np.allclose(a, b, atol=1e-5)
    far = np.array([[3, 4, 0, 2, 5], [1, 2, 3, 0, 7]])  # distance 3 and distance 3
    a, b = (dif.generate(far, 5, 2.0, 3, sampler=s) for s in ("star", "joint"))
    assert np.abs(a - b).max() > 1e-3
    with pytest.raises(ValueError, match="sampler must be one of joint, star"):
        dif.generate(far[:0], 5, sampler="product")


class Additive(torch.nn.Module):
    """A stand-in denoiser whose estimate adds one term per factor value: on it the star sampler
    and the joint one must agree at every distance, and one step can be computed by hand."""

    def __init__(self):
        super().__init__()
        self.W = torch.randn(len(world.CARD), max(world.CARD) + 1, models.LATENT, 8, 8,
                             generator=torch.Generator().manual_seed(0))  # fmt: skip

    def forward(self, z, t, f):
        return 0.1 * z + sum(self.W[j, f[:, j]] for j in range(len(world.CARD)))


def test_star_equals_joint_where_the_factors_add_and_guidance_is_classifier_free():
    dif = st.Diffusion(models.AutoEncoder().eval(), torch.tensor(0.0), torch.tensor(1.0),
                       Additive())  # fmt: skip
    far = np.array([[3, 4, 0, 2, 5], [1, 2, 3, 0, 7], [2, 5, 1, 4, 4], [0, 0, 1, 1, 1]])
    for g in (1.0, 2.0, 3.0):
        a, b = (dif.generate(far, 5, g, 3, sampler=s) for s in ("star", "joint"))
        assert np.allclose(a, b, atol=1e-4), g
    # one DDIM step by hand: eps = (1 - g) eps(unknown) + g eps(factors), from t=1 to t=0
    g, f = 2.0, torch.as_tensor(far)
    z = torch.randn(len(f), models.LATENT, 8, 8, generator=torch.Generator().manual_seed(5))
    null = models.FactorEmbedding.null(len(f))
    eps = (1 - g) * dif.denoiser(z, None, null) + g * dif.denoiser(z, None, f)
    a0, a1 = models.alpha_bar(torch.tensor(1.0)), models.alpha_bar(torch.tensor(0.0))
    x0 = ((z - (1 - a0).sqrt() * eps) / a0.sqrt()).clamp(-st.X0_CLIP, st.X0_CLIP)
    with torch.no_grad():
        want = models.to_images(dif.ae.decoder(a1.sqrt() * x0 + (1 - a1).sqrt() * eps))
        for spacing in st.SPACINGS:  # one step runs from t=1 to t=0 on either spacing
            got = dif.generate(far, 5, g, 1, sampler="star", solver="ddim", spacing=spacing)
            assert np.allclose(got, want, atol=1e-4)
        # DPM-Solver++'s first step, in log-SNR form: the same step unless x0 was clipped
        h = models.log_snr(torch.tensor(0.0)) - models.log_snr(torch.tensor(1.0))
        z_dpm = ((1 - a1) / (1 - a0)).sqrt() * z - a1.sqrt() * torch.expm1(-h) * x0
        want = models.to_images(dif.ae.decoder(z_dpm))
    assert np.allclose(dif.generate(far, 5, g, 1, sampler="star"), want, atol=1e-4)


def _gaussian_eps(var: float):
    """The exact noise estimate when clean latents are N(0, var): E[eps | z_t]."""

    def eps_of(z, t):
        a = models.alpha_bar(t)
        return (1 - a).sqrt() * z / (a * var + 1 - a)

    return eps_of


def test_solvers_converge_to_the_exact_flow_at_their_order():
    # For Gaussian latents the probability-flow ODE keeps z_t / std(z_t): its end is known exactly.
    z1 = torch.randn(200, models.LATENT, 8, 8, generator=torch.Generator().manual_seed(0))
    for var in (0.25, 4.0):
        a1, a0 = models.alpha_bar(torch.tensor(1.0)), models.alpha_bar(torch.tensor(0.0))
        exact = z1 * ((a0 * var + 1 - a0) / (a1 * var + 1 - a1)).sqrt()

        def err(solver, steps, var=var, exact=exact):
            z = st.solve(_gaussian_eps(var), z1, st._times(steps, "log_snr"), solver)
            return float((z - exact).norm() / exact.norm())

        assert err("dpm2m", 40) < 0.005 and err("dpm2m", 20) / err("dpm2m", 40) > 3  # 2nd order
        assert 1.7 < err("ddim", 20) / err("ddim", 40) < 2.3  # first order
        assert err("dpm2m", 10) < err("ddim", 10) / 3


def test_dpm2m_second_step_by_hand_on_uneven_steps():
    # Lu et al. 2022, DPM-Solver++(2M) in its own notation, on steps of unequal log-SNR (r != 1)
    z = torch.randn(5, models.LATENT, 8, 8, generator=torch.Generator().manual_seed(1))
    eps_of, ts = _gaussian_eps(2.0), torch.tensor([1.0, 0.6, 0.5])
    alpha = [models.alpha_bar(t).sqrt() for t in ts]
    sigma = [(1 - models.alpha_bar(t)).sqrt() for t in ts]
    lam = [(a / s).log() for a, s in zip(alpha, sigma, strict=True)]
    x0 = [(z - sigma[0] * eps_of(z, ts[0])) / alpha[0]]
    h1, h2 = lam[1] - lam[0], lam[2] - lam[1]
    z1 = sigma[1] / sigma[0] * z - alpha[1] * torch.expm1(-h1) * x0[0]
    x0.append((z1 - sigma[1] * eps_of(z1, ts[1])) / alpha[1])
    r = h1 / h2
    d = (1 + 1 / (2 * r)) * x0[1] - 1 / (2 * r) * x0[0]
    z2 = sigma[2] / sigma[1] * z1 - alpha[2] * torch.expm1(-h2) * d
    assert abs(float(r) - 1) > 0.3  # the steps are uneven enough to test r
    assert torch.allclose(st.solve(eps_of, z, ts), z2, atol=1e-5)
    with pytest.raises(ValueError, match="solver must be one of dpm2m, ddim; got 'rk4'"):
        st.solve(eps_of, z, ts, "rk4")


def test_step_times_are_uniform_in_time_or_in_log_snr():
    t = st._times(8, "time")
    assert torch.allclose(t, torch.linspace(1, 0, 9))
    t = st._times(8, "log_snr")
    assert t[0] == 1 and t[-1] == 0 and bool((t[1:] < t[:-1]).all())
    gaps = models.log_snr(t[1:]) - models.log_snr(t[:-1])
    assert torch.allclose(gaps, gaps.mean().expand(8), rtol=1e-3), gaps
    lam = torch.linspace(-4, 4, 9)
    assert torch.allclose(models.log_snr(models.time_of(lam)), lam, atol=1e-4)


def test_generate_refuses_unknown_solver_spacing_and_steps():
    X, F = shapes.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 16, 0)
    ae, _ = st.train_autoencoder(X, 1, 0, batch=8)
    dif = st.train_diffusion(ae, X, F, 1, 0, batch=8)
    for kwargs, msg in (({"solver": "euler"}, "solver must be one of dpm2m, ddim; got 'euler'"),
                        ({"spacing": "karras"}, "spacing must be one of log_snr, time"),
                        ({"steps": 0}, "steps must be a positive integer; got 0"),
                        ({"steps": 2.5}, "steps must be a positive integer"),
                        ({"steps": True}, "steps must be a positive integer")):  # fmt: skip
        with pytest.raises(ValueError, match=msg):
            dif.generate(F[:2], 0, **kwargs)


def test_star_terms_change_one_factor_of_the_base_each():
    f = torch.tensor([[3, 4, 0, 2, 5], [0, 4, 1, 1, 1], [0, 0, 1, 6, 6]])  # distance 3, 1, 0
    (r, base, w), *changes = st._terms(f, "star")
    assert r.tolist() == [0, 2] and w.tolist() == [-2.0, 1.0]  # 1 - distance; none at distance 1
    assert base.tolist() == [[*rules.BASE_COMBO, 2, 5], [*rules.BASE_COMBO, 6, 6]]
    assert [r.tolist() for r, _, _ in changes] == [[0], [0, 1], [0]]
    assert [c.tolist() for _, c, _ in changes] == [[[3, 0, 1, 2, 5]],
                                                  [[0, 4, 1, 2, 5], [0, 4, 1, 1, 1]],
                                                  [[0, 0, 0, 2, 5]]]  # fmt: skip
    assert all(w.tolist() == [1.0] * len(w) for _, _, w in changes)


def test_star_terms_take_another_base():
    f = torch.tensor([[1, 2, 2, 0, 0], [0, 0, 1, 3, 3]])  # the development base; distance 3
    (r, base, w), *changes = st._terms(f, "star", design.DEV_BASE)
    assert r.tolist() == [0, 1] and w.tolist() == [1.0, -2.0]
    assert base.tolist() == [[1, 2, 2, 0, 0], [1, 2, 2, 3, 3]]
    assert [c.tolist() for _, c, _ in changes] == [[[0, 2, 2, 3, 3]], [[1, 0, 2, 3, 3]],
                                                  [[1, 2, 1, 3, 3]]]  # fmt: skip
    assert [r.tolist() for r, _, _ in changes] == [[1], [1], [1]]
    assert all(w.tolist() == [1.0] for _, _, w in changes)


def test_generate_takes_the_base_it_is_given():
    dif = st.Diffusion(models.AutoEncoder().eval(), torch.tensor(0.0), torch.tensor(1.0),
                       models.Denoiser().eval())  # fmt: skip
    near = np.array([[1, 2, 2, 0, 0], [0, 2, 2, 3, 1], [1, 5, 2, 7, 7]])  # dev distance 0, 1, 1
    joint = dif.generate(near, 3, 2.0, 2, sampler="joint")
    assert np.array_equal(joint, dif.generate(near, 3, 2.0, 2, base=design.DEV_BASE))
    assert not np.allclose(joint, dif.generate(near, 3, 2.0, 2))  # around the chapter's base
    for bad in ((0, 99, 0), (0, 0, 1, 0, 0), 7):
        with pytest.raises(ValueError, match="base must be"):
            dif.generate(near, 3, base=bad, sampler="joint")


def _reach(net, shape, at) -> tuple[int, int]:
    """Rows and columns of the input that one output cell depends on (by gradient)."""
    x = torch.randn(1, *shape, requires_grad=True)
    net(x)[(0, 0, *at)].backward()
    rows, cols = (
        torch.nonzero(x.grad[0].abs().sum(0))[:, 0],
        torch.nonzero(x.grad[0].abs().sum(0))[:, 1],
    )
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_local_autoencoder_sees_a_window_and_draws_from_a_few_cells():
    torch.manual_seed(0)
    for local, window, cells in ((True, 9, 4), (False, 17, 8)):
        ae = models.AutoEncoder(local=local)
        z = ae.encoder(torch.zeros(2, 3, 32, 32))
        assert z.shape == (2, models.LATENT, 8, 8) and ae.decoder(z).shape == (2, 3, 32, 32)
        assert _reach(ae.encoder, (3, 32, 32), (4, 4)) == (window, window)
        assert _reach(ae.decoder, (models.LATENT, 8, 8), (16, 16)) == (cells, cells)


def test_design_check_leaves_its_combinations_out_of_training(monkeypatch):
    seen = []
    real = st.train_autoencoder

    def spy(images, steps, seed, **kw):
        seen.append((len(images), kw["local"]))
        return real(images, steps, seed, **kw)

    monkeypatch.setattr(st, "train_autoencoder", spy)
    out = design.leave_out(models.Oracle().eval(), True, 0, n=400, steps=2, per_combo=3)
    assert list(out) == ["validation", *map(design._name, design.LEFT_OUT)]
    assert all(0.0 <= v <= 1.0 for v in out.values())
    X, F = rules.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 400, 0)
    left = (F[:, None, :3] == np.array(design.LEFT_OUT)[None]).all(2).any(1)
    assert 0 < left.sum() and seen == [(400 - left.sum(), True)]


def test_sampler_check_trains_and_asks_around_the_development_base(monkeypatch):
    trained, asked = [], []
    real_train, real_gen = st.train_diffusion, st.Diffusion.generate

    def train_spy(ae, images, factors, *a, **kw):
        trained.append(factors)
        return real_train(ae, images, factors, *a, **kw)

    def gen_spy(self, factors, *a, **kw):
        asked.append((kw["base"], kw["sampler"], rules.distance(factors, design.DEV_BASE)))
        return real_gen(self, factors, *a, **kw)

    monkeypatch.setattr(st, "train_diffusion", train_spy)
    monkeypatch.setattr(st.Diffusion, "generate", gen_spy)
    out = design.sampler_check(models.Oracle().eval(), 0, n=300, ae_steps=2, steps=2,
                               per_combo=1, sample_steps=2)  # fmt: skip
    assert list(out) == ["validation", "star d2", "joint d2", "star d3", "joint d3"]
    assert all(0.0 <= v <= 1.0 for v in out.values())
    # trained on the development split's own distance 0 and 1 only (all held out by the chapter)
    (F,) = trained
    dev = design.DEV_BASE
    assert len(F) == 300 and (rules.distance(F, dev) <= 1).all() and (rules.distance(F) >= 2).all()
    all3 = np.unique(rules.CELLS[:, :3], axis=0)
    assert len(np.unique(F[:, :3], axis=0)) == (rules.distance(all3, dev) <= 1).sum()
    # asked around DEV_BASE: validation at distance 0-1, then every distance-2 and -3 combination
    assert [(b, s) for b, s, _ in asked] == [(design.DEV_BASE, "star")] + [
        (design.DEV_BASE, s) for _ in (2, 3) for s in ("star", "joint")]  # fmt: skip
    assert (asked[0][2] <= 1).all()
    for (_, _, d), want in zip(asked[1:], (2, 2, 3, 3), strict=True):
        assert (d == want).all() and len(d) == (rules.distance(all3, dev) == want).sum()


def test_training_is_deterministic():
    X, F = shapes.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 64, 0)
    for noise in (0.0, 0.1):
        w = [st.train_autoencoder(X, 3, 7, batch=16, latent_noise=noise)[0].state_dict()
             for _ in range(2)]  # fmt: skip
        assert all(torch.equal(w[0][k], w[1][k]) for k in w[0])
    with pytest.raises(ValueError, match="latent_noise must be at least 0"):
        st.train_autoencoder(X, 3, 7, latent_noise=-0.1)


def test_with_coords_puts_the_grid_after_the_first_part_channels_last():
    x, extra = torch.rand(2, 3, 8, 8), torch.rand(2, 4, 8, 8)
    out = models.with_coords(x, extra)
    assert torch.equal(out, torch.cat([x, models.coords(2, 8), extra], 1))
    assert out.is_contiguous(memory_format=torch.channels_last)


def test_chunks_change_no_reading_and_no_sample():
    X, F = shapes.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 41, 0)
    torch.manual_seed(0)
    oracle = models.Oracle(8).eval()
    (fa, ha), (fb, hb) = st.read(oracle, X), st.read(oracle, X, batch=7)
    assert np.array_equal(fa, fb) and np.allclose(ha, hb, atol=1e-5)
    dif = st.Diffusion(models.AutoEncoder().eval(), torch.tensor(0.0), torch.tensor(1.0),
                       models.Denoiser().eval())  # fmt: skip
    cvae = st.ConditionalVAE(models.CVAE().eval())
    for make in (lambda **k: dif.generate(F, 3, 2.0, 3, **k), lambda **k: cvae.generate(F, 3, **k)):
        a, b = make(), make(batch=7)
        assert np.allclose(a, b, atol=1e-5)  # the noise is drawn once, then cut
        assert not np.allclose(a, b[::-1], atol=1e-3)  # the rows differ


def test_oracle_heads():
    out = models.Oracle()(torch.zeros(2, 3, 32, 32))
    assert [o.shape[1] for o in out] == list(world.CARD)


def test_generate_draws_the_edited_world_and_reads_it():
    X, F = shapes.sample(rules.distribution(rules.BASE_RULES, max_distance=1), 100, 0)
    oracle = models.Oracle().eval()
    g = ex.generate(st.Nearest(X, F).generate, oracle, "no squares", 12, seed=1,
                    base=rules.BASE_RULES)  # fmt: skip
    assert g.images.shape == (12, 32, 32, 3) and g.read.shape == (12, 5)
    assert (g.requested[:, 0] != 0).all()  # the edit: no squares asked for
    assert rules.Are(3, 0).holds(g.requested).all()  # the untouched base rule still holds
    with pytest.raises(ValueError, match="unknown shape"):
        ex.generate(st.Nearest(X, F).generate, oracle, "dogs are red", 4, base=rules.BASE_RULES)


def test_design_check_uses_the_chapters_settings():
    params = find("09_shapes", Path(__file__).resolve().parents[1]).params
    assert design.N_ORACLE == params["n_oracle"].default
    assert design.LATENT_NOISE == params["ae_noise"].default
