"""One training loop for the book's small torch models: Adam, a progress bar, evaluation."""

from __future__ import annotations

from collections.abc import Callable

import torch

from distinv.progress import progress


def fit(
    model: torch.nn.Module,
    loss_fn: Callable[[int], torch.Tensor],
    steps: int,
    lr: float,
    evaluate: Callable[[], dict] | None = None,
    eval_every: int = 0,
    desc: str = "training",
    cosine: bool = False,
) -> list[dict]:
    """Minimise loss_fn(step) with Adam; returns rows {step, loss, **evaluate()} every eval_every.

    `cosine` decays the learning rate to zero over the steps (a half cosine).
    A loss that does not depend on any parameter (argmax selection, say) is allowed: the step is
    then a no-op, which is exactly what such a model learns.
    """
    if steps < 0 or lr <= 0:
        raise ValueError(f"need steps >= 0 and lr > 0, got steps={steps}, lr={lr}")
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps)) if cosine else None
    history = []
    for step in progress(range(1, steps + 1), desc=desc):
        model.train()
        loss = loss_fn(step)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{desc}: loss became {loss.item()} at step {step}")
        opt.zero_grad()
        if loss.requires_grad:
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
        if evaluate is not None and eval_every and (step % eval_every == 0 or step == steps):
            model.eval()
            with torch.no_grad():
                history.append({"step": step, "loss": loss.item(), **evaluate()})
    return history
