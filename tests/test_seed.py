"""One seed fixes NumPy, torch and MLX draws."""

import numpy as np
import pytest
import torch

from distinv import seed_everything


def draws(seed):
    rng = seed_everything(seed)
    return rng.random(3), np.random.rand(3), torch.rand(3).numpy()


def test_same_seed_same_draws():
    for a, b in zip(draws(7), draws(7), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(draws(7)[2], draws(8)[2])


def test_mlx_is_seeded():
    mx = pytest.importorskip("mlx.core")
    seed_everything(3)
    a = np.array(mx.random.uniform(shape=(3,)))
    seed_everything(3)
    np.testing.assert_array_equal(a, np.array(mx.random.uniform(shape=(3,))))


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        seed_everything(bad)
