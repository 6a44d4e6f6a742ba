"""The shared fit/predict interface (groundwork for the compositional-SCAN chapter)."""

import pytest
import torch

from distinv import scan, seq2seq
from distinv.scan.learners import Seq2SeqLearner


def _toy(n_words: int = 4):
    """Each input word stands for one symbol; the output spells the input (a learnable map)."""
    words = [f"w{i}" for i in range(n_words)]
    pairs = []
    for a in words:
        for b in words:
            pairs.append((f"{a} {b}", f"S{a[1:]} S{b[1:]}"))
    return pairs


@pytest.mark.parametrize("kind, steps, lr", [("lstm", 300, 0.01), ("transformer", 600, 0.003)])
def test_fit_then_predict_reproduces_a_tiny_copy_task(kind, steps, lr):
    pairs = _toy()
    learner = Seq2SeqLearner(kind, steps=steps, batch_size=16, lr=lr, seed=0, max_out=4)
    history = learner.fit(pairs).history
    assert history[-1]["loss"] < history[0]["loss"]
    assert learner.predict([inp for inp, _ in pairs]) == [out for _, out in pairs]  # every pair


def test_same_seed_same_predictions_and_unknown_words_get_an_answer():
    pairs = scan.split("simple").train[:200]
    runs, weights = [], []
    for seed in (3, 3, 4):
        learner = Seq2SeqLearner("lstm", steps=20, batch_size=8, seed=seed, max_out=8)
        learner.fit(pairs)
        runs.append(learner.predict(["jump twice", "skip twice"]))  # "skip" is not in SCAN
        weights.append(torch.cat([w.flatten() for w in learner.model.state_dict().values()]))
    assert runs[0] == runs[1] and torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])  # the seed is what fixes the run
    symbols = {s for _, out in pairs for s in out.split()}
    for p in runs[0]:  # an answer of known output symbols, within the length limit
        assert set(p.split()) <= symbols and len(p.split()) <= 8, p


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


@pytest.mark.parametrize("kind", seq2seq.KINDS)
def test_fast_greedy_decoding_agrees_with_the_full_forward_pass(kind):
    """Greedy decoding encodes once (and steps the LSTM one symbol at a time); the teacher-forced
    forward pass on its own output must pick the same ids."""
    torch.manual_seed(0)
    model = seq2seq.build(seq2seq.Seq2SeqConfig(9, 7, kind=kind, max_out=12)).eval()
    x = seq2seq.pad([[1, 2, 3], [4, 5], [8, 7, 6, 5]])
    y = model.greedy(x)
    assert y.shape[1] > 1
    with torch.no_grad():
        again = model(x, y[:, :-1]).argmax(-1)
    assert torch.equal(again, y[:, 1:])


def test_grow_keeps_every_trained_row():
    torch.manual_seed(0)
    model = seq2seq.build(seq2seq.Seq2SeqConfig(5, 6, kind="lstm"))
    bigger = seq2seq.grow(model, 7, 9)
    assert bigger.src.weight.shape[0] == 7 and bigger.out.weight.shape[0] == 9
    assert torch.equal(bigger.src.weight[:5], model.src.weight)
    assert torch.equal(bigger.out.bias[:6], model.out.bias)
    with pytest.raises(ValueError, match="only adds rows"):
        seq2seq.grow(model, 4, 6)


def test_adapt_learns_a_new_word_and_a_new_symbol():
    pairs = _toy()
    learner = Seq2SeqLearner("lstm", steps=300, batch_size=16, lr=0.01, seed=0, max_out=4)
    learner.fit(pairs)
    new = [("w9 w0", "S9 S0"), ("w1 w9", "S1 S9"), ("w9 w9", "S9 S9")]
    before = learner.predict(["w9 w2"])[0]
    learner.adapt(new + pairs, steps=200)
    assert "S9" not in before  # it could not emit a symbol it had never seen
    assert learner.history[-1]["loss"] < learner.history[0]["loss"]
    assert learner.predict(["w9 w2"]) == ["S9 S2"]  # an unseen combination with the new word
    assert learner.predict(["w2 w3"]) == ["S2 S3"]
    with pytest.raises(RuntimeError, match="adapt before fit"):
        Seq2SeqLearner().adapt(new, steps=1)


def test_represent_is_one_row_per_input_and_ignores_padding():
    learner = Seq2SeqLearner("transformer", steps=5, batch_size=8, seed=0).fit(_toy())
    alone = learner.represent(["w1 w2"])
    batched = learner.represent(["w1 w2", "w0 w1 w2 w3 w0"])
    assert batched.shape == (2, 32)
    assert abs(alone[0] - batched[0]).max() < 1e-5


def test_transformer_token_embeddings_do_not_drown_the_positions():
    """Embeddings are scaled by sqrt(d) before positions are added; initialised at unit variance
    they were sqrt(d) times larger than the positional code and the model could not count."""
    torch.manual_seed(0)
    model = seq2seq.build(seq2seq.Seq2SeqConfig(20, 20, kind="transformer", d_model=64))
    token = (model.src.weight.detach() * 64**0.5).norm(dim=1).mean()
    position = model.pe[:20].norm(dim=1).mean()
    assert 0.5 < float(token / position) < 2.0
