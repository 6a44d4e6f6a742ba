"""What the three worlds share: clauses of a request, the critic, and the measures."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.stats import rankdata
from torch import nn

from distinv import train
from distinv.seed import seed_everything


def one_line(text: str) -> str:
    """A help text as one line, for an error message."""
    return " ".join(text.split())


def listed(words: list[str]) -> str:
    """Words as prose: "a", "a and b", "a, b and c"."""
    return " and ".join([", ".join(words[:-1]), words[-1]] if len(words) > 1 else words)


def clauses(request: str, accepted: str) -> list[list[str]]:
    """A request's clauses (joined by ';', never 'and': a SCAN word), each as its words."""
    if not isinstance(request, str) or not request.strip():
        raise ValueError(f"a request must be a non-empty string; {accepted}")
    out = []
    for clause in request.split(";"):
        words = clause.split()
        if not words:
            raise ValueError(f"empty clause in {request!r}; {accepted}")
        out.append(words)
    return out


@dataclass
class Check:
    """The critic's verdict on samples of a rule set: each sample's score (the probability that
    it obeys every rule), and the fraction it accepts (score at least `threshold`)."""

    scores: np.ndarray
    threshold: float = 0.5

    @property
    def accepted(self) -> float:
        return float(self.keep().mean()) if len(self.scores) else float("nan")

    def keep(self) -> np.ndarray:
        """The samples the consistency enforcer keeps (the critic accepts them)."""
        return self.scores >= self.threshold


@dataclass
class Grade:
    """The reference labeller's grades of samples of a changed world, one flag per sample:
    `obeyed` (the sample follows the changed rule; NaN where the change concerns no sample) and
    `intact` (it still follows every rule the request did not touch)."""

    obeyed: np.ndarray  # (n,) 1, 0, or NaN where the changed rule says nothing of the sample
    intact: np.ndarray  # (n,) 1, 0, or NaN where the untouched rules cannot be told apart
    extra: dict = field(default_factory=dict)  # a world's own numbers (e.g. a histogram's TV)

    def __post_init__(self):
        self.obeyed = np.asarray(self.obeyed, float)
        self.intact = np.asarray(self.intact, float)

    def summary(self, keep: np.ndarray | None = None) -> dict[str, float]:
        """Mean obeyed and intact over the samples they concern (of those kept)."""
        k = np.ones(len(self.intact), bool) if keep is None else np.asarray(keep, bool)

        def mean(x):
            x = x[k]
            x = x[~np.isnan(x)]
            return float(x.mean()) if len(x) else float("nan")

        return {"obeyed": mean(self.obeyed), "intact": mean(self.intact)}

    @property
    def correct(self) -> np.ndarray:
        """Samples that obey the change and are intact, wherever each applies."""
        return (np.nan_to_num(self.obeyed, nan=1.0) == 1) & (
            np.nan_to_num(self.intact, nan=1.0) == 1
        )


class _MLP(nn.Module):
    def __init__(self, n_in: int, width: int):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_in, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(),
            nn.Linear(width, 1),
        )  # fmt: skip
        self.register_buffer("mean", torch.zeros(n_in))
        self.register_buffer("std", torch.ones(n_in))

    def standardise(self, X: torch.Tensor) -> None:
        self.mean.copy_(X.mean(0))
        self.std.copy_(X.std(0).clamp_min(1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net((x - self.mean) / self.std).squeeze(-1)


class Critic:
    """A classifier of rows (n, features), what a sample shows about the rules it is told: the
    probability that the sample obeys them. An MLP trained by logistic loss on positives and
    near-miss negatives; standardised inputs; Adam on minibatches; fixed steps; seeded."""

    def __init__(self, width: int = 64, steps: int = 1500, lr: float = 2e-3, batch: int = 256,
                 seed: int = 0):  # fmt: skip
        self.width, self.steps, self.lr, self.batch, self.seed = width, steps, lr, batch, seed
        self.net: _MLP | None = None

    def fit(self, X: np.ndarray, y: np.ndarray, desc: str = "critic") -> Critic:
        X, y = np.asarray(X, np.float32), np.asarray(y, np.float32)
        if X.ndim != 2 or len(X) != len(y) or not len(X) or not np.isfinite(X).all():
            raise ValueError("the critic needs as many finite rows (n, features) as labels, at "
                             "least one")  # fmt: skip
        n_in = X.shape[-1]
        seed_everything(self.seed)
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        net = _MLP(n_in, self.width)
        net.standardise(Xt)
        self.net = net
        gen = torch.Generator().manual_seed(self.seed)
        loss_fn = nn.BCEWithLogitsLoss()

        def loss(_step):
            idx = torch.randint(len(Xt), (min(self.batch, len(Xt)),), generator=gen)
            return loss_fn(net(Xt[idx]), yt[idx])

        train.fit(net, loss, self.steps, self.lr, desc=desc, cosine=True)
        net.eval()
        return self

    @torch.no_grad()
    def score(self, X: np.ndarray) -> np.ndarray:
        if self.net is None:
            raise RuntimeError("score before fit")
        X = np.asarray(X, np.float32)
        if not len(X):
            return np.zeros(0)
        return torch.sigmoid(self.net(torch.as_tensor(X))).double().numpy()


def auroc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random
    negative (ties count one half)."""
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if not len(pos) or not len(neg):
        return float("nan")
    ranks = rankdata(np.concatenate([pos, neg]))  # ties share their mean rank
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def mmd(a: np.ndarray, b: np.ndarray, scale: float | None = None) -> float:
    """Maximum mean discrepancy (biased estimate, squared) between two samples of vectors with a
    Gaussian kernel; `scale` its width (default: the median distance within `a`)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if scale is None:
        d = np.sqrt(((a[:, None] - a[None]) ** 2).sum(-1))
        scale = float(np.median(d[d > 0])) if (d > 0).any() else 1.0

    def k(x, y):
        return np.exp(-((x[:, None] - y[None]) ** 2).sum(-1) / (2 * scale**2))

    return float(k(a, a).mean() + k(b, b).mean() - 2 * k(a, b).mean())
