"""Gradient estimators against the exact gradient; the slot task; the categorical VAE; the loop."""

import math

import numpy as np
import pytest
import torch

from distinv import cat_vae, estimators, seed_everything, slots
from distinv.train import fit

C = 5
THETA = torch.tensor([0.5, -1.0, 0.2, 1.1, -0.3])
VALUES = torch.linspace(0, 1, C)


def f(y):
    return (y @ VALUES - 0.4) ** 2


def test_exact_gradient_by_finite_differences():
    def expected(theta):
        return float((torch.softmax(theta, -1) * f(torch.eye(C))).sum())

    h = 1e-3
    fd = [
        (expected(THETA + h * torch.eye(C)[i]) - expected(THETA - h * torch.eye(C)[i])) / (2 * h)
        for i in range(C)
    ]
    np.testing.assert_allclose(estimators.exact_gradient(THETA, f), fd, atol=1e-4)


def test_reinforce_is_unbiased_and_relaxation_is_not_at_high_temperature():
    seed_everything(0)
    n = 40_000
    true = estimators.exact_gradient(THETA, f)
    g = estimators.sample_gradients(THETA, f, "reinforce", n)
    se = g.std(0) / n**0.5
    assert ((g.mean(0) - true).abs() < 4 * se + 1e-6).all()
    bias, _ = estimators.bias_variance(THETA, f, "gumbel", n, tau=5.0)
    assert bias > 0.5 * true.norm()


def test_unknown_estimator():
    with pytest.raises(ValueError, match="unknown estimator 'hard'"):
        estimators.sample_gradients(THETA, f, "hard", 4)
    model = slots.SlotSelector(4)
    batch = slots.SlotTask(n_slots=3, key_dim=4).batch(2, torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="unknown estimator 'hard'"):
        slots.slot_loss(model, batch, "hard")


def test_argmax_passes_no_gradient_and_the_others_do():
    seed_everything(0)
    task = slots.SlotTask(n_slots=6, key_dim=8)
    batch = task.batch(16, torch.Generator().manual_seed(0))
    model = slots.SlotSelector(8)
    assert not slots.slot_loss(model, batch, "argmax").requires_grad
    for how in ("softmax", "gumbel", "st_gumbel", "reinforce"):
        (grad,) = torch.autograd.grad(slots.slot_loss(model, batch, how), model.W)
        assert grad.norm() > 0, how


def test_slot_task_is_learned_with_straight_through():
    seed_everything(0)
    task = slots.SlotTask(n_slots=8, key_dim=16)
    gen = torch.Generator().manual_seed(0)
    test = task.batch(1000, torch.Generator().manual_seed(1))
    model = slots.SlotSelector(16)
    before = slots.slot_accuracy(model, test)
    fit(model, lambda s: slots.slot_loss(model, task.batch(32, gen), "st_gumbel"), 300, 0.01)
    assert before < 0.3 and slots.slot_accuracy(model, test) > 0.9


def test_vae_objectives_and_evaluation():
    seed_everything(0)
    cfg = cat_vae.CatVAEConfig(n_pixels=16, n_latents=3, n_classes=4, hidden=32)
    model = cat_vae.CategoricalVAE(cfg)
    x = (torch.rand(20, 16) > 0.5).float()
    for how in cat_vae.ESTIMATORS:
        loss = cat_vae.vae_loss(model, x, how, tau=0.7)
        loss.backward()
        assert torch.isfinite(loss) and model.encoder[0].weight.grad.abs().sum() > 0
        model.zero_grad()
    # The KL term against the uniform prior is 0 for a uniform encoder and positive otherwise.
    assert cat_vae._kl_uniform(torch.zeros(2, 3, 4)).abs().max() < 1e-6
    assert (cat_vae._kl_uniform(torch.randn(2, 3, 4)) > 0).all()
    assert cat_vae.reconstruct(model, x).shape == (20, 16)
    assert cat_vae.sample_images(model, 5, torch.Generator().manual_seed(0)).shape == (5, 16)
    with pytest.raises(ValueError, match="unknown estimator"):
        cat_vae.vae_loss(model, x, "argmax")


def test_negative_elbo_is_the_discrete_bound():
    """One latent of 4 classes, so every code can be enumerated: the estimate must be the exact
    negative ELBO (expected reconstruction NLL under q plus KL to the uniform prior), and no less
    than the exact negative log-likelihood of the discrete model."""
    torch.manual_seed(0)
    cfg = cat_vae.CatVAEConfig(n_pixels=6, n_latents=1, n_classes=4, hidden=8)
    model = cat_vae.CategoricalVAE(cfg)
    x = (torch.rand(5, 6) > 0.5).float()
    codes = torch.eye(4)[:, None, None, :].expand(4, 5, 1, 4)
    with torch.no_grad():
        nll = torch.stack([cat_vae._recon_nll(model, x, z) for z in codes])  # (code, image)
    neg_log_px = (math.log(4) - torch.logsumexp(-nll, 0)).mean().item()
    last = model.encoder[-1]
    with torch.no_grad():  # an encoder certain of class 2 for every image: KL = log 4
        last.weight.zero_()
        last.bias.copy_(torch.tensor([0.0, 0.0, 60.0, 0.0]))
    certain = cat_vae.negative_elbo(model, x, n_samples=3)
    assert certain == pytest.approx(nll[2].mean().item() + math.log(4), rel=1e-5)
    assert certain >= neg_log_px
    with torch.no_grad():  # a uniform encoder: KL = 0, the NLL averaged over the codes
        last.bias.zero_()
    n = 20_000
    uniform = cat_vae.negative_elbo(model, x, n_samples=n)
    se = (nll.var(0, unbiased=False).mean() / (5 * n)).sqrt().item()
    assert abs(uniform - nll.mean().item()) < 4 * se + 1e-6
    assert uniform >= neg_log_px


@pytest.mark.parametrize("how", cat_vae.ESTIMATORS)
def test_each_vae_estimator_trains_the_encoder(how):
    """Two complementary 16-pixel images: a code that tells them apart brings the negative ELBO
    near the KL cost of a code; without one no decoder beats 16 log 2 nats. Each estimator must get
    below half of that, which only a trained encoder can (the decoder alone cannot)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: threads only contend for busy cores
    try:
        seed_everything(0)
        model = cat_vae.CategoricalVAE(
            cat_vae.CatVAEConfig(n_pixels=16, n_latents=2, n_classes=4, hidden=32)
        )
        a = torch.tensor([1.0, 0.0] * 8)
        x = torch.stack([a, 1 - a] * 16)
        uninformative = 16 * math.log(2)
        assert cat_vae.negative_elbo(model, x) > 0.95 * uninformative
        fit(model, lambda s: cat_vae.vae_loss(model, x, how, tau=0.7), 150, 2e-2)
        assert cat_vae.negative_elbo(model, x) < 0.5 * uninformative
    finally:
        torch.set_num_threads(threads)


def test_fit_history_and_bad_input():
    model = torch.nn.Linear(1, 1)
    history = fit(
        model,
        lambda s: (model.weight - 3.0).pow(2).sum(),
        200,
        0.1,
        evaluate=lambda: {"w": model.weight.item()},
        eval_every=50,
    )
    assert [r["step"] for r in history] == [50, 100, 150, 200]
    assert abs(history[-1]["w"] - 3.0) < 0.1
    with pytest.raises(ValueError):
        fit(model, lambda s: model.weight.sum(), 10, lr=0.0)
    with pytest.raises(FloatingPointError, match="loss became nan"):
        fit(model, lambda s: model.weight.sum() * float("nan"), 3, 0.1)
