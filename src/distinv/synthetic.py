"""Point clouds for the hull chapter: Gaussian, uniform ball, a curved low-dimensional manifold."""

from __future__ import annotations

import numpy as np


def gaussian(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of the standard normal in d dimensions. (n, d)."""
    return rng.standard_normal((n, d))


def uniform_ball(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """n samples uniform in the unit ball of d dimensions. (n, d)."""
    x = rng.standard_normal((n, d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x * rng.random((n, 1)) ** (1.0 / d)


class Manifold:
    """A fixed smooth k-dimensional manifold in d dimensions: x = tanh(z A) B, z ~ N(0, I_k).

    The map (A, B) is drawn once from `map_seed`, so training and query samples share it.
    """

    def __init__(self, d: int, k: int = 4, width: int = 16, map_seed: int = 0):
        if not 1 <= k <= width:
            raise ValueError(f"need 1 <= k <= width, got k={k}, width={width}")
        g = np.random.default_rng(map_seed)
        self.d, self.k = d, k
        self.A = g.standard_normal((k, width))
        self.B = g.standard_normal((width, d)) / np.sqrt(width)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n points on the manifold. (n, d)."""
        return np.tanh(rng.standard_normal((n, self.k)) @ self.A) @ self.B
