"""The shared fit/predict interface (groundwork for the compositional-SCAN chapter)."""

import pytest

from distinv.data import scan
from distinv.learners import Seq2SeqLearner


def _toy(n_words: int = 4):
    """Each input word stands for one symbol; the output spells the input (a learnable map)."""
    words = [f"w{i}" for i in range(n_words)]
    pairs = []
    for a in words:
        for b in words:
            pairs.append((f"{a} {b}", f"S{a[1:]} S{b[1:]}"))
    return pairs


@pytest.mark.parametrize("kind, steps, lr", [("lstm", 300, 0.01), ("transformer", 600, 0.003)])
def test_fit_then_predict_learns_a_toy_map(kind, steps, lr):
    pairs = _toy()
    learner = Seq2SeqLearner(kind, steps=steps, batch_size=16, lr=lr, seed=0, max_out=4)
    history = learner.fit(pairs)
    assert history[-1]["loss"] < history[0]["loss"]
    pred = learner.predict([inp for inp, _ in pairs])
    assert sum(p == out for p, (_, out) in zip(pred, pairs, strict=True)) >= 0.9 * len(pairs)


def test_same_seed_same_predictions_and_unknown_words_get_an_answer():
    pairs = scan.split("simple").train[:200]
    runs = []
    for _ in range(2):
        learner = Seq2SeqLearner("lstm", steps=20, batch_size=8, seed=3, max_out=8)
        learner.fit(pairs)
        runs.append(learner.predict(["jump twice", "skip twice"]))  # "skip" is not in SCAN
    assert runs[0] == runs[1]
    assert all(isinstance(p, str) for p in runs[0])


def test_bad_use_is_refused():
    with pytest.raises(ValueError, match="unknown model 'gru'"):
        Seq2SeqLearner("gru")
    with pytest.raises(ValueError, match="need steps >= 1"):
        Seq2SeqLearner(steps=0)
    with pytest.raises(RuntimeError, match="predict before fit"):
        Seq2SeqLearner().predict(["walk"])
    with pytest.raises(ValueError, match="at least one"):
        Seq2SeqLearner().fit([])
    with pytest.raises(ValueError, match="empty input or output"):
        Seq2SeqLearner().fit([("walk", "")])
