"""The physics chapter's verdicts in words (06_physics), computed from its measured numbers.

Every function takes the numbers the chapter measured and returns the sentence it glues; whether a
sentence says "within" or "not", "all three" or "two of the three", is decided here from the
numbers, never typed by hand. `mse` and `drift` map (model, split) to a mean over trajectories.
"""

from __future__ import annotations

import numpy as np

from distinv import stats

FAR = ("near", "moon", "jupiter")  # the splits whose gravity lies outside the training range
SHIFTED = (*FAR, "timevarying")  # every split that is not in distribution
GOAL_RATIO = 2.0  # the goal: rollout error within twice the in-distribution error
GOAL_DRIFT = 10.0  # the goal: energy error ten times below the blind model's


def ratio(mse: dict, model: str, split: str) -> float:
    """A model's error on a split over its own in-distribution error."""
    return mse[model, split] / mse[model, "iid"]


def ratio_ci(per_trajectory: dict[str, np.ndarray], split: str, seed: int) -> tuple[float, float]:
    """Paired 95% bootstrap interval of a model's error on `split` over its in-distribution error
    (`per_trajectory`: split -> error per trajectory, the same starting states in every split)."""
    return stats.ratio_interval(
        per_trajectory[split], per_trajectory["iid"], seed=seed, paired=True
    )


def _names(items: list[str]) -> str:
    return ", ".join(items[:-1]) + " and " + items[-1] if len(items) > 1 else items[0]


def goal_text(mse: dict, per_trajectory: dict[str, np.ndarray], seed: int) -> str:
    """Whether the structured model's error stays within GOAL_RATIO times its in-distribution
    error on each FAR split, with a bootstrap interval per ratio (`per_trajectory`: split -> the
    structured model's error on each trajectory) and how heavy the in-distribution tail is."""
    r = {s: ratio(mse, "structured", s) for s in FAR}
    within = [s for s in FAR if r[s] <= GOAL_RATIO]
    # Every split starts from the same states, so each ratio gets a paired bootstrap interval
    # (reported only; nothing is chosen by it).
    ci = {s: ratio_ci(per_trajectory, s, seed) for s in FAR}
    iid_err = np.sort(per_trajectory["iid"])[::-1]
    n_test = len(per_trajectory["iid"])
    straddle = [s for s in FAR if ci[s][0] <= GOAL_RATIO < ci[s][1]]
    if straddle:
        spread = f"{_names(straddle)} could fall on either side of 2x with another test draw."
    else:
        spread = "the intervals settle on which side of 2x each split lies."
    split_errors = ", ".join(
        f"{s} {mse['structured', s]:.2g} m², {r[s]:.2f}x [{ci[s][0]:.2f}, {ci[s][1]:.2f}]"
        for s in FAR
    )
    tail = iid_err[: max(1, len(iid_err) // 20)].sum() / iid_err.sum()
    return (
        "The structured model's rollout error stays within twice its own in-distribution error on "
        + ("all three" if len(within) == 3 else f"{len(within)} of the three")
        + " gravities outside the training range (in distribution "
        + f"{mse['structured', 'iid']:.2g} m²; "
        + split_errors
        + "; in brackets paired 95% bootstrap "
        f"intervals over the {n_test} trajectories of each split). Per trajectory, the "
        f"in-distribution median error is {np.median(iid_err):.2g} m² and the worst 5% carry "
        f"{tail:.0%} of the mean, so " + spread
    )


def blind_text(mse: dict) -> str:
    """The blind model's error on each shifted split, relative to its in-distribution error."""
    return (
        "The blind model's error, relative to its own in-distribution error: "
        + ", ".join(f"{s} {ratio(mse, 'blind', s):.2f}x" for s in SHIFTED)
        + "."
    )


def blind_verdict(mse: dict) -> str:
    """Whether the blind model's worst shift is an order of magnitude, and why not if not."""
    worst = max(ratio(mse, "blind", s) for s in SHIFTED)
    if worst >= 10:
        return "That is an order of magnitude or more."
    return (
        f"At most {worst:.1f}x: not orders of magnitude, because its error is already "
        f"large in distribution ({mse['blind', 'iid']:.2g} m², against "
        f"{mse['structured', 'iid']:.2g} m² for the structured model)."
    )


def drift_ratio(drift: dict, model: str) -> float:
    """The blind model's in-distribution energy error over `model`'s."""
    return drift["blind", "iid"] / max(drift[model, "iid"], 1e-300)


def drift_text(drift: dict, law_err: dict, shown: dict, ref_drift: float, observe: int) -> str:
    """Whether the structured model's energy error is GOAL_DRIFT times below the blind model's; if
    not, where its error comes from: the contact laws (`law_err`: (law, split) -> mean absolute
    error), how often the window shows them (`shown`: law -> fraction), and a reference that
    knows every law its window shows (`ref_drift`, its energy error)."""
    d_ratio = drift_ratio(drift, "structured")
    ref_ratio = drift["blind", "iid"] / max(ref_drift, 1e-300)
    head = (
        f"In distribution the structured model's energy error ({drift['structured', 'iid']:.3g}) "
        f"is {d_ratio:.1f} times below the blind model's ({drift['blind', 'iid']:.3g})"
    )
    if d_ratio >= GOAL_DRIFT:
        return head + "."
    return head + (
        ", short of the tenfold gap set as the goal. With the true laws "
        "its rollout is the data itself (a unit test checks this), so all of its error comes from "
        "the laws it infers (mean absolute errors of friction and restitution "
        f"{law_err['friction', 'iid']:.2f} and {law_err['restitution', 'iid']:.2f}). Those two act "
        f"only at contacts; the {observe} observed frames show friction in "
        f"{shown['friction']:.0%} of the in-distribution trajectories and restitution in "
        f"{shown['restitution']:.0%} (`dynamics.visible`: the window, simulated again with the law "
        "at either end of its training range, changes). A reference that knows every law its "
        "window shows exactly and takes the training mean for the others "
        f"(`dynamics.window_reference`) has energy error {ref_drift:.3g}, {ref_ratio:.1f} times "
        "below the blind model's"
        + (
            ": even it falls short of tenfold, so a better fit of the same window is unlikely to "
            "close the gap; a longer window, or more than one guess at the laws, might."
            if ref_ratio < GOAL_DRIFT
            else "."
        )
    )


GOAL_LEARNED = 2.0  # the learned simulator: in distribution within twice the structured model's
GOAL_LEARNED_FAR = 3.0  # and out of range within three times its own (upper end of the interval)


def learned_text(mse: dict, drift: dict, ratio_hi: dict, what: dict, model: str = "learned") -> str:
    """The learned simulator's goals, each said to be met or not from the numbers: in
    distribution against the structured model, each FAR split against its own in-distribution
    error (`ratio_hi`: (model, split) -> the paired interval's upper end), energy against the
    blind model, and the what-ifs `what` ({change: (its error, its in-distribution error)})."""
    r_iid = mse[model, "iid"] / mse["structured", "iid"]
    hi = {s: ratio_hi[model, s] for s in FAR}
    far_ok = [s for s in FAR if hi[s] <= GOAL_LEARNED_FAR]
    d_ratio = drift_ratio(drift, model)
    parts = [
        f"Told the true laws, the learned simulator's in-distribution rollout error is "
        f"{mse[model, 'iid']:.3g} m², {r_iid:.2f} times the structured model's ("
        + ("within" if r_iid <= GOAL_LEARNED else "outside")
        + f" the goal of {GOAL_LEARNED:g}x)",
        "out of range, the upper ends of its paired intervals are "
        + ", ".join(f"{s} {hi[s]:.2f}x" for s in FAR)
        + f" its own in-distribution error ({len(far_ok)} of {len(FAR)} within "
        f"{GOAL_LEARNED_FAR:g}x)",
        f"its energy error is {d_ratio:.1f} times below the blind model's ("
        + ("meeting" if d_ratio >= GOAL_DRIFT else "short of")
        + f" the {GOAL_DRIFT:g}x goal)",
    ]
    ok = [c for c, (e, base) in what.items() if e <= GOAL_RATIO * base]
    parts.append(
        "told the structured model's inferred laws changed as asked, its error against the true "
        "counterfactual is "
        + ", ".join(f"{c} {e / base:.2f}x" for c, (e, base) in what.items())
        + f" its in-distribution error ({len(ok)} of {len(what)} within {GOAL_RATIO:g}x)"
    )
    return "; ".join(parts) + "."


def units_text(mse: dict, ratio_hi: dict, model: str = "learned", ablation: str = "learned_raw"):
    """What the edges' units change: the simulator against its ablation with raw edges (which
    take gravity multilinearly, as the other laws, instead of through their scale), its error on
    each FAR split and the upper ends of the paired intervals over its own in-distribution error."""
    lower = [s for s in FAR if mse[model, s] < mse[ablation, s]]
    return (
        f"Without its edges' units ({ablation}: raw edges, which take gravity multilinearly "
        "like the other laws rather than through their scale), the same graph's rollout error is "
        + ", ".join(f"{s} {mse[ablation, s]:.3g} m²" for s in ("iid", *FAR))
        + " (with them "
        + ", ".join(f"{mse[model, s]:.3g}" for s in ("iid", *FAR))
        + "), and the upper ends of its paired intervals out of range are "
        + ", ".join(f"{s} {ratio_hi[ablation, s]:.2f}x" for s in FAR)
        + f" (with them {', '.join(f'{ratio_hi[model, s]:.2f}x' for s in FAR)}): the units "
        + f"lower the error on {_names(lower) if lower else 'none of the three'}."
    )


def whatif_cause_text(what: dict, told_true: dict, structured: dict, told_ref: dict) -> str:
    """The learned simulator's what-if errors told the inferred laws changed (`what`: {change:
    (error, its in-distribution error)}) beside the same simulator told the true laws changed
    (`told_true`: {change: error}), the structured model's (`structured`: {change: error}, the
    exact equations with the same inferred laws), and the simulator's told the window reference's
    laws changed (`told_ref`: {change: error}; `dynamics.window_reference`): whether even those
    leave a change outside the what-if goal, and whether the simulator itself does (told the true
    laws changed)."""
    own = [c for c, (_, base) in what.items() if told_true[c] > GOAL_RATIO * base]
    beyond = [
        c for c, (_, base) in what.items() if told_ref[c] > GOAL_RATIO * base and c not in own
    ]
    clauses = []
    if beyond:
        clauses.append(
            f"even then {_names(beyond)} stay{'s' if len(beyond) == 1 else ''} outside the "
            f"{GOAL_RATIO:g}x goal, so what the window shows limits "
            f"{'it' if len(beyond) == 1 else 'them'}, not the fit"
        )
    if own:
        clauses.append(
            f"told even the true laws changed, the simulator misses the {GOAL_RATIO:g}x goal on "
            f"{_names(own)}, so it is its own limit there"
        )
    verdict = (
        "; ".join(clauses) + "."
        if clauses
        else f"within the {GOAL_RATIO:g}x goal, so a fit that knew what the window shows would "
        "meet it."
    )
    return (
        "Told the true laws changed as asked instead of the inferred ones, the same simulator's "
        "errors are "
        + ", ".join(
            f"{c} {told_true[c]:.3g} m² ({told_true[c] / base:.2f}x its in-distribution "
            f"error, against {e:.3g} m² told the inferred laws)"
            for c, (e, base) in what.items()
        )  # fmt: skip
        + ": the difference is what the inferred laws cost it. The structured model, whose "
        "equations are exact, errs by "
        + ", ".join(f"{structured[c]:.3g} m²" for c in what)
        + " with the same inferred laws. Told what an inference that knew every law the window "
        "shows would tell it (those laws exact, the training mean for the rest), changed as "
        "asked, its errors are "
        + ", ".join(
            f"{c} {told_ref[c]:.3g} m² ({told_ref[c] / base:.2f}x)" for c, (_, base) in what.items()
        )  # fmt: skip
        + f": {verdict}"
    )


def energy_parts_text(parts: dict[str, tuple[int, float]]) -> str:
    """Where the learned simulator's one-frame energy error arises (`learned.energy_by_edge`):
    each kind of frame's share of the summed error against its share of the frames."""
    frames = sum(n for n, _ in parts.values())
    total = max(sum(e for _, e in parts.values()), 1e-300)
    names = {"free": "in free flight", "wall": "with a wall near",
             "pair": "with the other ball near"}  # fmt: skip
    shares = [f"{e / total:.0%} ({n / frames:.0%}) {names[k]}" for k, (n, e) in parts.items()]
    return (
        "Stepped one frame at a time from the true states, the share of its summed one-frame "
        f"energy error (against the share of frames) is {_names(shares)}."
    )


def timevarying_text(mse: dict, ratio_hi: dict) -> str:
    """What telling a model constant laws costs under gravity that varies in time: the structured
    model fits constant laws to its window and the learned simulator is told g0 (the base value);
    the conditioned model is told g(t) at every frame, the blind model nothing."""
    return (
        "Under gravity that varies in time, the structured model fits constant laws to its window "
        "and the learned simulator is told g0, the base of the varying gravity (the conditioned "
        "model is told g(t) at every frame). Their errors there are "
        f"{ratio(mse, 'structured', 'timevarying'):.2f}x (upper end "
        f"{ratio_hi['structured', 'timevarying']:.2f}x) and "
        f"{ratio(mse, 'learned', 'timevarying'):.2f}x (upper end "
        f"{ratio_hi['learned', 'timevarying']:.2f}x) their in-distribution errors; the blind "
        f"model's {ratio(mse, 'blind', 'timevarying'):.2f}x, the conditioned model's "
        f"{ratio(mse, 'conditioned', 'timevarying'):.2f}x."
    )
