"""Gumbel-Softmax: torch against torch's own, MLX against torch, and bad input."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from distinv.gumbel import Temperature, gumbel_noise, gumbel_softmax


@pytest.mark.parametrize("hard", [False, True])
@pytest.mark.parametrize("tau", [0.3, 1.0, 2.5])
def test_torch_matches_torch_gumbel_softmax(hard, tau):
    logits = torch.randn(5, 7, generator=torch.Generator().manual_seed(1))
    w = torch.randn(5, 7, generator=torch.Generator().manual_seed(2))
    outs, grads = [], []
    for fn in (F.gumbel_softmax, gumbel_softmax):
        x = logits.clone().requires_grad_(True)
        torch.manual_seed(0)  # both draw their noise from the global generator, the same way
        y = fn(x, tau=tau, hard=hard)
        (y * w).sum().backward()
        outs.append(y.detach())
        grads.append(x.grad)
    torch.testing.assert_close(outs[0], outs[1])
    torch.testing.assert_close(grads[0], grads[1])
    if hard:
        assert (outs[1].sum(-1) == 1).all() and set(outs[1].unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("hard", [False, True])
def test_mlx_matches_torch_for_the_same_noise(hard):
    mx = pytest.importorskip("mlx.core")
    rng = np.random.default_rng(0)
    logits, noise, w = (rng.standard_normal((4, 6)).astype(np.float32) for _ in range(3))
    tau = 0.7

    x = torch.tensor(logits, requires_grad=True)
    y_t = gumbel_softmax(x, tau, hard, noise=torch.tensor(noise))
    (y_t * torch.tensor(w)).sum().backward()

    def loss(a):
        return (gumbel_softmax(a, tau, hard, noise=mx.array(noise)) * mx.array(w)).sum()

    y_m = gumbel_softmax(mx.array(logits), tau, hard, noise=mx.array(noise))
    g_m = mx.grad(loss)(mx.array(logits))
    np.testing.assert_allclose(np.array(y_m), y_t.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(np.array(g_m), x.grad.numpy(), atol=1e-5)


def test_gumbel_noise_is_standard_gumbel():
    torch.manual_seed(0)
    g = gumbel_noise(torch.zeros(200_000)).numpy()
    assert abs(g.mean() - 0.5772) < 0.01  # Euler-Mascheroni constant
    assert abs(g.var() - math.pi**2 / 6) < 0.03


@pytest.mark.parametrize("tau", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_temperature(tau):
    with pytest.raises(ValueError, match="temperature tau must be a finite number > 0"):
        gumbel_softmax(torch.zeros(3), tau)


def test_bad_logits():
    with pytest.raises(ValueError, match="logits contain NaN"):
        gumbel_softmax(torch.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match="non-empty category axis"):
        gumbel_softmax(torch.zeros(3, 0))
    with pytest.raises(ValueError, match="noise shape"):
        gumbel_softmax(torch.zeros(2, 3), noise=torch.zeros(3))


def test_bad_logits_mlx():
    mx = pytest.importorskip("mlx.core")
    with pytest.raises(ValueError, match="logits contain NaN"):
        gumbel_softmax(mx.array([0.0, float("nan")]))
    with pytest.raises(ValueError, match="non-empty category axis"):
        gumbel_softmax(mx.zeros((3, 0)))


def test_temperature_schedules():
    assert Temperature(2.0)(10_000) == 2.0
    decay = Temperature(tau0=1.0, rate=1e-3, tau_min=0.5)
    assert decay(0) == 1.0
    assert decay(100) == pytest.approx(math.exp(-0.1))
    assert decay(10_000) == 0.5
    for bad in ({"tau0": 0.0}, {"tau_min": -1.0}, {"rate": -0.1}):
        with pytest.raises(ValueError):
            Temperature(**bad)
