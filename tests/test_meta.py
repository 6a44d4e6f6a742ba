"""Meta-learning: random grammars and their interpreter, SCAN episodes and the modifications they
never contain, resumable meta-training, `solve` and its errors."""

import random
import subprocess
import sys

import pytest
import torch

from distinv.meta import experiment as mx
from distinv.meta import grammars as gr
from distinv.meta import scan_episodes as se
from distinv.meta import train as mt
from distinv.scan import grammar as scan
from distinv.scan import mods as scan_mods

# a -> A, b -> B; f: u1 f -> [u1] [u1]; g: x1 g x2 -> [x2] [x1] (binds tighter than h);
# h: x1 h x2 -> [x1] [x2] [x1]
G = gr.Grammar(
    (("a", "A"), ("b", "B")),
    (gr.Rule("f", 1, (0, 0)), gr.Rule("g", 2, (1, 0)), gr.Rule("h", 2, (0, 1, 0))),
)


@pytest.mark.parametrize(
    "command, output",
    [
        ("a", "A"),
        ("a f", "A A"),
        ("a f f", "A A A A"),
        ("a g b", "B A"),
        ("a f g b", "B A A"),
        ("a g b h a", "B A A B A"),  # (a g b) h a
        ("a h b g a", "A A B A"),  # a h (b g a)
        ("a g b g a", "A B A"),  # left-associative: (a g b) g a
        ("a b", "A B"),  # the default rule: side by side concatenates
        ("a f b g a", "A A A B"),  # loosest of all: (a f) (b g a)
    ],
)
def test_interpreter(command, output):
    assert gr.interpret(G, command) == output


@pytest.mark.parametrize(
    "command, match",
    [
        ("a c", "'c' is not a word"),
        ("a b f g", "expected a primitive at word 5"),
        ("f a", "expected a primitive"),
        ("a g", "expected"),
    ],
)
def test_interpreter_refuses_malformed(command, match):
    with pytest.raises(ValueError, match=match):
        gr.interpret(G, command)


def test_forms_are_every_production():
    assert [gr.form_name(1, f) for f in gr.FORMS[1]] == ["u1", "u1 u1", "u1 u1 u1", "u1 u1 u1 u1"]
    assert len(gr.FORMS[2]) == 2 + 6 + 14 and ("x2", "x1") not in gr.FORMS[2]
    assert set(gr.TABU) <= {gr.form_name(a, f) for a in (1, 2) for f in gr.FORMS[a]}


def test_key_ignores_postfix_order_only():
    f, f2 = gr.Rule("f", 1, (0, 0)), gr.Rule("k", 1, (0,))
    g, h = gr.Rule("g", 2, (1, 0)), gr.Rule("h", 2, (0, 1, 0))
    prims = (("a", "A"), ("b", "B"))
    assert gr._key(gr.Grammar(prims, (f, f2, g, h))) == gr._key(gr.Grammar(prims, (f2, f, g, h)))
    assert gr._key(gr.Grammar(prims, (f, g, h))) != gr._key(gr.Grammar(prims, (f, h, g)))


def test_training_grammars_avoid_heldout_and_tabu():
    held, val, sampler = mt.grammar_sets()
    assert sum(bool(set(g.forms) & set(gr.TABU)) for g in held) == len(held) // 2
    held_keys = {gr._key(g) for g in held}
    assert not held_keys & {gr._key(g) for g in val}
    rng = random.Random(0)
    for _ in range(2000):
        g = sampler.sample(rng)
        assert not set(g.forms) & set(gr.TABU)
        assert gr._key(g) not in held_keys and gr._key(g) not in {gr._key(v) for v in val}


def test_episode_shape():
    rng = random.Random(1)
    for _ in range(50):
        g = gr.sample_grammar(rng)
        e = gr.episode(g, rng)
        study = dict(e.study)
        assert len(e.study) == gr.N_STUDY and len(e.queries) == gr.N_QUERY
        assert all(study[w] == s for w, s in g.primitives)
        for c, out in e.study + e.queries:
            assert gr.interpret(g, c) == out
        for c, out in e.queries:
            assert c not in study and 2 <= len(c.split()) <= gr.MAX_WORDS
            assert len(out.split()) <= gr.MAX_OUT
        shown = [w for c in study for w in c.split()]
        assert all(shown.count(r.word) >= 2 for r in g.rules)


def test_scan_base_is_scan():
    assert all(se.interpret(se.BASE, c) == scan.interpret(c) for c in scan.commands())


@pytest.mark.parametrize("mod", scan_mods.MODIFICATIONS, ids=lambda m: m.name)
def test_modification_languages_follow_the_labeller(mod):
    lang = se.modification_language(mod)
    for c, actions in scan_mods.affected(mod, 300, 0):  # the chapter-05 labeller is the truth
        assert se.interpret(lang, c) == actions
    for c, actions in scan_mods.unaffected(mod, 300, 0):
        assert se.interpret(lang, c) == actions
    assert se.is_modification(lang)


def test_training_languages_hold_no_kind_of_modification():
    rng = random.Random(0)
    for _ in range(5000):
        lang = se.sample_language(rng)
        assert not se.is_modification(lang) and ("jump", ("I_JUMP",)) not in lang.primitives
        meanings = [a for _, a in lang.primitives]
        assert len(meanings) == 4 and all(len(a) == 1 for a in meanings)
        assert len(set(meanings)) == 4  # no two words with one meaning
        assert lang.counts[0] != 3 and lang.turns != se.TURNS[::-1]


def test_pool_is_addjump_and_aroundright_training():
    pool = set(se.pool())
    assert "jump" in pool and not any("around right" in c for c in pool)
    assert not any("jump" in c.split() and c != "jump" for c in pool)
    train = [
        {c for c, _ in scan.split(n, 0).train} for n in ("addprim_jump", "template_around_right")
    ]
    assert pool == train[0] & train[1]


def test_meta_training_composes_jump_but_never_as_add_jump_tests_it():
    """`jump` stands in composed commands (in another primitive's place), never meaning I_JUMP,
    and no meta-training example is a test example of add-jump or around-right."""
    rng = random.Random(3)
    for _ in range(5000):  # jump composed: then no word means I_JUMP, so no output of a command
        lang = se.sample_language(rng)  # with jump among other words is an add-jump test's
        if "jump" in [w for w, _ in lang.primitives][:3]:
            assert all(a != ("I_JUMP",) for _, a in lang.primitives), lang
    tests = {p for n in ("addprim_jump", "template_around_right") for p in scan.split(n, 0).test}
    composed = 0
    for i in range(400):
        study, queries = se.training_episode(rng, alone=i % 2 == 1)
        assert not set(study + queries) & tests
        composed += sum("jump" in c.split() and c != "jump" for c, _ in study + queries)
    assert composed > 100


def test_alone_episode_shows_one_primitive_only_alone():
    rng = random.Random(4)
    for _ in range(50):
        study, queries = se.training_episode(rng, alone=True)
        prims = [c for c, _ in study[:4]]  # every primitive alone comes first
        alone = [w for w in prims if not any(w in c.split() for c, _ in study[4:])]
        assert any(all(w in c.split() and c != w for c, _ in queries) for w in alone)


def test_training_episode_covers_function_words():
    rng = random.Random(2)
    for _ in range(30):
        study, queries = se.training_episode(rng)
        assert len(study) == se.N_STUDY and len(queries) == se.N_QUERY
        shown = {w for c, _ in study for w in c.split()}
        assert set(se.COVER) <= shown
        assert all(len(a.split()) <= se.MAX_STUDY_OUT for _, a in study)


TINY = dict(steps=6, batch=3, warmup=2, snapshots=2, d_model=16, layers=1)


@pytest.mark.parametrize("world", mt.WORLDS)
def test_resumed_training_equals_uninterrupted(world, tmp_path):
    torch.set_num_threads(1)
    recipe = mt.Recipe(world, **TINY)
    whole, _ = mt.load(mt.train(recipe, tmp_path / "a"))
    mt.train(recipe, tmp_path / "b", stop_after=3)
    partial = mt.checkpoint_path(tmp_path / "b", recipe).with_suffix(".pt.partial")
    assert partial.is_file() and not mt.checkpoint_path(tmp_path / "b", recipe).is_file()
    resumed, record = mt.load(mt.train(recipe, tmp_path / "b"))
    assert not partial.is_file() and len(record["losses"]) == 6 and len(record["snapshots"]) == 2
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_checkpoint_reused_and_keyed_by_recipe(tmp_path):
    recipe = mt.Recipe("grammar", **TINY)
    path = mt.train(recipe, tmp_path)
    stamp = path.stat().st_mtime_ns
    assert mt.train(recipe, tmp_path) == path and path.stat().st_mtime_ns == stamp
    other = mt.Recipe("grammar", **{**TINY, "lr": 0.01})
    assert mt.checkpoint_path(tmp_path, other) != path


def test_ablation_has_no_pointer(tmp_path):
    """Recipe(copy=False) trains a model whose output is the vocabulary's softmax alone."""
    recipe = mt.Recipe("grammar", copy=False, **TINY)
    model, _ = mt.load(mt.train(recipe, tmp_path))
    assert model.cfg.copy is False
    study = [("w0", "s0"), ("w1", "s1")]
    mem = model.encode_study([study])
    seq = torch.tensor([model.ids("w0 ->".split())])
    h = model.norm(model.hidden(mem[0], mem[1], seq))
    expected = torch.log_softmax(model.out(h), -1)
    assert torch.allclose(model.log_probs(mem, seq), expected)
    assert mt.config("scan", copy=False).copy is False and mt.config("scan").copy is True


def test_curriculum_grows_query_length():
    recipe = mt.Recipe("grammar", steps=100, curriculum=0.5)
    assert mt.max_words(recipe, 0) == 1 and mt.max_words(recipe, 50) == gr.MAX_WORDS
    assert all(len(c.split()) == 1 for _, q in mt.episodes(recipe, 0) for c, _ in q)


def test_recipe_refuses_bad_values():
    with pytest.raises(ValueError, match="unknown world 'lego'"):
        mt.Recipe("lego")
    with pytest.raises(ValueError, match="steps >= 1"):
        mt.Recipe("scan", steps=0)


@pytest.fixture(scope="module", params=[False, True], ids=["study-copy", "query-pointer"])
def tiny_checkpoint(request, tmp_path_factory):
    recipe = mt.Recipe("grammar", point=request.param, **TINY)
    return mt.train(recipe, tmp_path_factory.mktemp("meta"))


def test_query_pointer_needs_the_copy_pointer():
    with pytest.raises(ValueError, match="needs copy=True"):
        mt.config("grammar", copy=False, point=True)
    with pytest.raises(ValueError, match="needs copy=True"):
        mt.Recipe("grammar", copy=False, point=True)


def _pointer_model():
    """An untrained model with the query pointer whose gate shuts the vocabulary: every output
    comes from the copy. Its study set, and two queries of different lengths side by side."""
    torch.manual_seed(3)
    model = mt.MetaTransformer(mt.config("grammar", d_model=16, layers=1, point=True)).eval()
    model.gate.weight.zero_()
    model.gate.bias.fill_(-50.0)
    study = [("w0", "s0"), ("w1", "s1"), ("w2 w0", "s0 s2 s0")]
    mem = model._expand(model.encode_study([study]), [2])
    # side by side, so that the first query's arrow and outputs lie among the second's words
    rows = [model.ids("w0 w2 w1 -> s0 s1".split()), model.ids("w0 w2 w1 w0 w2 -> s0".split())]
    seq = torch.zeros(2, 7, dtype=torch.long)
    for i, r in enumerate(rows):
        seq[i, : len(r)] = torch.tensor(r)
    return model, mem, rows, seq


@torch.no_grad()
def test_query_pointer_copies_the_meaning_of_the_word_it_aims_at():
    """With the gate shut on the vocabulary, the probability of a symbol at an output position is,
    summed over the query's words, the pointer's weight on the word times the weight of that
    symbol's study tokens in the word's look-up (computed here one term at a time)."""
    model, mem, rows, seq = _pointer_model()
    memory, mask, copyable, owner = mem
    logp = model.log_probs(mem, seq)
    states = model.norm(model.hidden(memory, mask, seq, owner))
    d = states.shape[-1]
    tokens = copyable[0].tolist()
    for r, row in enumerate(rows):
        h, words = states[r], row.index(model.index["->"])
        for t in range(words, len(row)):  # from the arrow on
            expected = torch.zeros(len(model.cfg.vocab))
            aims = torch.softmax(
                torch.stack(
                    [model.point_q(h[t]) @ model.point_k(h[j]) / d**0.5 for j in range(words)]
                ),
                0,
            )
            for j in range(words):  # the query's words
                scores = torch.tensor(
                    [
                        model.copy_q(h[j]) @ model.copy_k(memory[0, m]) / d**0.5
                        if tok
                        else float("-inf")
                        for m, tok in enumerate(tokens)
                    ]
                )
                for m, w in enumerate(torch.softmax(scores, 0)):
                    expected[tokens[m]] += aims[j] * w
            assert torch.allclose(logp[r, t].exp(), expected + 1e-9, atol=1e-5)


@torch.no_grad()
def test_query_pointer_answers_as_it_scores():
    """Greedy decoding (one position per row) reads the query's words as scoring does: its
    log-probabilities at a position are the full pass's, and each answer is, step by step, the
    argmax of its own teacher-forced log-probabilities over the output symbols and the end."""
    model, mem, rows, seq = _pointer_model()
    at = torch.tensor([4, 6])
    full = model.log_probs(mem, seq)
    assert torch.allclose(model.log_probs(mem, seq, at=at), full[torch.arange(2), at], atol=1e-6)
    with pytest.raises(ValueError, match="needs the query's words"):
        model.log_probs_of(torch.zeros(2, 1, model.cfg.d_model), mem)
    study = [("w0", "s0"), ("w1", "s1"), ("w2 w0", "s0 s2 s0")]
    queries = ["w0 w2 w1", "w0 w2 w1 w0 w2"]
    answers = model.answer(study, queries, max_out=4)
    allowed = [model.index["<eos>"], *model.ids(list(model.cfg.outputs))]
    for q, a in zip(queries, answers, strict=True):
        ids = model.ids(q.split() + ["->"] + a.split())
        one = model._expand(model.encode_study([study]), [1])
        lp = model.log_probs(one, torch.tensor([ids]))[0]
        start = len(q.split())
        picked = [allowed[int(lp[t, allowed].argmax())] for t in range(start, len(ids))]
        assert picked[:-1] == ids[start + 1 :]
        width = max(len(q.split()) for q in queries) + 1 + 4 + 1  # the batch's longest row
        assert picked[-1] == model.index["<eos>"] or len(ids) == width  # it stopped, or was cut


def test_solve_maps_words_and_back(tiny_checkpoint):
    study = [("dax", "RED"), ("wif", "GREEN"), ("dax fep", "RED RED"), ("wif fep", "GREEN GREEN")]
    out = mx.solve(study, ["dax fep fep", "wif"], tiny_checkpoint)
    assert len(out) == 2
    # the symbols the study set used come back in the user's words (an untrained model may also
    # emit a token no study example used: it stays a token)
    assert not {w for o in out for w in o.split()} & {"s0", "s1"}


@pytest.mark.parametrize(
    "study, queries, match",
    [
        ([], ["a"], "study set is empty"),
        ([("dax", "RED")], ["dax zup"], "'zup' appears in no study example"),
        ([(" ".join(f"v{i}" for i in range(20)), "R")], ["v1"], "more distinct input words"),
        ([("dax", "")], ["dax"], "empty input or output"),
    ],
)
def test_solve_refuses(study, queries, match, tiny_checkpoint):
    with pytest.raises(ValueError, match=match):
        mx.solve(study, queries, tiny_checkpoint)


def test_solve_refuses_too_many_symbols(tiny_checkpoint):
    study = [(f"v{i}", f"S{i}") for i in range(12)]
    with pytest.raises(ValueError, match="more distinct output symbols"):
        mx.solve(study, ["v1"], tiny_checkpoint)


def _padded(rows: list[list[int]]) -> torch.Tensor:
    seq = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
    for i, r in enumerate(rows):
        seq[i, : len(r)] = torch.tensor(r)
    return seq


def _log_probs(model, episodes):
    """log-probabilities at every position of each query's full sequence (query, arrow, output)."""
    mem = model._expand(model.encode_study([s for s, _ in episodes]), [len(q) for _, q in episodes])
    rows = [model.ids(c.split() + ["->"] + o.split()) for _, q in episodes for c, o in q]
    seq = _padded(rows)
    return model.log_probs(mem, seq), rows


@torch.no_grad()
def test_queries_read_their_episode_memory(tiny_checkpoint):
    """Each query row reads its own episode's memory, projected once per episode: the same
    log-probabilities as with the memory copied out for every row."""
    model, _ = mt.load(tiny_checkpoint)
    rng = random.Random(5)
    eps = [gr.episode(gr.sample_grammar(rng), rng, n_query=q) for q in (3, 1, 4)]
    jobs = [(list(e.study), list(e.queries)) for e in eps]
    shared, rows = _log_probs(model, jobs)
    mem = model.encode_study([s for s, _ in jobs])
    copied = tuple(m[torch.tensor([0, 0, 0, 1, 2, 2, 2, 2])] for m in mem)
    seq = _padded(rows)
    assert torch.allclose(shared, model.log_probs(copied, seq), atol=1e-5)
    swapped = (*mem, torch.tensor([0, 0, 0, 2, 1, 1, 1, 1]))  # rows reading the wrong episodes
    assert not torch.allclose(shared, model.log_probs(swapped, seq), atol=1e-3)
    with pytest.raises(ValueError, match="3 episode memories for 8 rows"):
        model.log_probs(mem, seq)
    order = torch.tensor([5, 0, 3, 7, 1, 6, 2, 4])  # rows out of their episodes' order
    mixed = (*mem, torch.tensor([0, 0, 0, 1, 2, 2, 2, 2])[order])
    assert torch.allclose(shared[order], model.log_probs(mixed, seq[order]), atol=1e-5)
    owner = torch.tensor([0, 0, 0, 1, 2, 2, 2, 2])
    live = torch.tensor([0, 2, 3])  # the last episode's queries done (greedy decoding drops them)
    picked = model._select((*mem, owner), live)
    assert torch.allclose(shared[live], model.log_probs(picked, seq[live]), atol=1e-5)


@torch.no_grad()
def test_study_memory_is_each_example_encoded_alone_end_to_end(tiny_checkpoint):
    """An episode's memory holds each study example's encoding (the example read on its own, no
    padding) one after another, then padding up to the longest episode's; copyable ids are the
    output-side tokens."""
    model, _ = mt.load(tiny_checkpoint)
    studies = [[("w2", "s2"), ("w0 w1", "s0 s1 s0")], [("w1", "s1")]]  # the longest not first
    memory, mask, copyable = model.encode_study(studies)
    for b, study in enumerate(studies):
        states, ids, outs = [], [], []
        for inp, out in study:
            words, symbols = inp.split() + ["->"], out.split()
            tok = torch.tensor([model.ids(words + symbols)])
            pos = torch.tensor([list(range(len(words))) + list(range(len(symbols)))])
            side = torch.tensor([[0] * len(words) + [1] * len(symbols)])
            x = model.tok(tok) + model.pos(pos) + model.side(side)
            states.append(model.encoder(x)[0])
            ids += tok[0].tolist()
            outs += [0] * len(words) + model.ids(symbols)
        n = len(ids)
        assert torch.allclose(memory[b, :n], torch.cat(states), atol=1e-5)
        assert not mask[b, :n].any() and mask[b, n:].all()
        assert copyable[b, :n].tolist() == outs and not copyable[b, n:].any()
    assert memory.shape[1] == 6 + 3  # the longest episode, end to end: no padding inside


@torch.no_grad()
def test_episodes_with_as_many_queries_each_read_their_memory(tiny_checkpoint):
    """Training's layout (every episode as many queries, in order) takes a shortcut; it gives the
    same log-probabilities as the rows in another order."""
    model, _ = mt.load(tiny_checkpoint)
    rng = random.Random(6)
    eps = [gr.episode(gr.sample_grammar(rng), rng, n_query=2) for _ in range(3)]
    jobs = [(list(e.study), list(e.queries)) for e in eps]
    shared, rows = _log_probs(model, jobs)
    mem = model.encode_study([s for s, _ in jobs])
    seq = _padded(rows)
    order = torch.tensor([3, 0, 5, 1, 4, 2])
    mixed = (*mem, torch.tensor([0, 0, 1, 1, 2, 2])[order])
    assert torch.allclose(shared[order], model.log_probs(mixed, seq[order]), atol=1e-5)
    swapped = (*mem, torch.tensor([1, 1, 0, 0, 2, 2]))  # in order, but the wrong episodes
    assert not torch.allclose(shared, model.log_probs(swapped, seq), atol=1e-3)


@torch.no_grad()
def test_decoder_matches_torch_transformer_decoder(tiny_checkpoint):
    """`hidden` runs the decoder layers by hand; nn.TransformerDecoder's own forward on the same
    weights, with the memory copied out for every row, gives the same states."""
    model, _ = mt.load(tiny_checkpoint)
    rng = random.Random(9)
    eps = [gr.episode(gr.sample_grammar(rng), rng, n_query=q) for q in (2, 3)]
    jobs = [(list(e.study), list(e.queries)) for e in eps]
    _, rows = _log_probs(model, jobs)
    seq = _padded(rows)
    memory, mask, _ = model.encode_study([s for s, _ in jobs])
    idx = torch.tensor([0, 0, 1, 1, 1])
    n = seq.shape[1]
    x = model.tok(seq) + model.pos(torch.arange(n)) + model.side.weight[2]
    expected = model.decoder(
        x,
        memory[idx],
        tgt_mask=torch.triu(torch.ones(n, n, dtype=torch.bool), 1),
        tgt_key_padding_mask=seq == 0,
        memory_key_padding_mask=mask[idx],
        tgt_is_causal=True,
    )
    real = seq != 0  # the states at padded positions are never read
    assert torch.allclose(model.hidden(memory, mask, seq, idx)[real], expected[real], atol=1e-5)


@torch.no_grad()
def test_padding_does_not_change_the_answer(tiny_checkpoint):
    """An episode scored alone and beside longer ones (more padding in its memory and its rows)
    gets the same log-probabilities, up to float rounding."""
    model, _ = mt.load(tiny_checkpoint)
    rng = random.Random(7)
    eps = [gr.episode(gr.sample_grammar(rng), rng) for _ in range(3)]
    eps.sort(key=lambda e: len(max(e.study, key=lambda p: len(p[1]))[1]))  # the first is shortest
    jobs = [(list(e.study), list(e.queries)) for e in eps]
    together, _ = _log_probs(model, jobs)
    alone, rows = _log_probs(model, jobs[:1])
    for i, r in enumerate(rows):
        assert torch.allclose(together[i, : len(r)], alone[i, : len(r)], atol=1e-4)


@torch.no_grad()
def test_loss_scores_the_outputs_and_the_end(tiny_checkpoint):
    model, _ = mt.load(tiny_checkpoint)
    study = [("w0", "s0"), ("w1", "s1")]
    episode = [(study, [("w0 w1", "s0 s1")])]
    logp, rows = _log_probs(model, episode)
    eos = model.index["<eos>"]
    targets = [*model.ids(["s0", "s1"]), eos]  # predicted at the arrow and after each symbol
    manual = -sum(float(logp[0, 2 + k, t]) for k, t in enumerate(targets)) / len(targets)
    assert abs(float(model.loss(episode)) - manual) < 1e-5


def test_solve_scan_world_takes_new_words():
    tok, mapped, qs = mx.map_episode("scan", [("skip", "I_SKIP"), ("jump", "I_JUMP")], ["skip"])
    assert mapped == [("X0", "Y0"), ("jump", "I_JUMP")] and qs == ["X0"]
    assert tok.back("Y0 I_JUMP") == "I_SKIP I_JUMP"


def test_cli_meta_solve_errors(tmp_path, tiny_checkpoint):
    study = tmp_path / "study.txt"
    study.write_text("IN: dax OUT: RED\nIN: dax fep OUT: RED RED\n")
    cmd = [
        sys.executable,
        "-m",
        "distinv",
        "meta",
        "solve",
        str(study),
        "dax fep",
        "--checkpoint",
        str(tiny_checkpoint),
    ]
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("IN: dax fep OUT: ")
    bad = subprocess.run(
        cmd[:-3] + ["blick", "--checkpoint", str(tiny_checkpoint)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
    assert "'blick' appears in no study example" in bad.stderr
    study.write_text("dax -> RED\n")
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "expected 'IN: <command> OUT: <actions>'" in bad.stderr


def test_baselines_run_on_an_episode():
    e = gr.episode(gr.sample_grammar(random.Random(3)), random.Random(4))
    ok = mx.transformer_alone(list(e.study), list(e.queries), steps=5, seed=0)
    assert len(ok) == gr.N_QUERY
    # trained long enough, the per-episode Transformer fits its own study examples
    assert all(mx.transformer_alone(list(e.study), list(e.study), steps=200, seed=0))
    ok, why = mx.neurosymbolic_alone(list(e.study), list(e.queries))
    assert len(ok) == gr.N_QUERY and why  # SCAN's grammar cannot express a random grammar
    study = [(c, scan.interpret(c)) for c in ("walk", "jump", "walk twice", "walk left")]
    ok, why = mx.neurosymbolic_alone(study, [("jump left", "I_TURN_LEFT I_JUMP")])
    assert len(ok) == 1 and why == ""  # SCAN-shaped data it can express


def test_modification_episodes_show_the_change():
    mod = next(m for m in scan_mods.MODIFICATIONS if m.name == "twice thrice")
    eps = mx.modification_episodes(mod, 20, 0)
    for study, queries in eps["affected"]:
        assert sum("twice" in c.split() for c, _ in study) >= 1
        assert not {c for c, _ in study} & {c for c, _ in queries}
    unaffected = [c for _, q in eps["unaffected"] for c, _ in q]
    assert unaffected and not set(unaffected) & set(se.pool())
    assert all("twice" not in c.split() for c in unaffected)


def test_modification_episodes_use_standins_for_new_words():
    mod = next(m for m in scan_mods.MODIFICATIONS if m.name == "new word")
    eps = mx.modification_episodes(mod, 10, 0)
    assert eps["outside"]
    study, queries = eps["affected"][0]
    words = {w for c, _ in study + queries for w in c.split()}
    symbols = {s for _, a in study + queries for s in a.split()}
    assert "skip" not in words and "X0" in words and "I_SKIP" not in symbols and "Y0" in symbols
    composed = next(m for m in scan_mods.MODIFICATIONS if m.name == "composed")
    eps = mx.modification_episodes(composed, 10, 0)
    assert not eps["outside"] and eps["unaffected"]  # no command outside the pool avoids its words


def test_scan_split_episodes_show_jump_alone():
    eps = mx.scan_split_episodes("addprim_jump", 30, 0)
    assert sum(len(q) for _, q in eps) == 30
    assert all(("jump", "I_JUMP") in study for study, _ in eps)


def test_by_rule_form_counts_each_rule_used():
    eps = [([("a", "A")], [("a f", "A A"), ("a g b", "B A"), ("a f g b", "B A A")])]
    out = mx.by_rule_form([G], eps, [True, False, True])
    assert out == {"u1 u1": [True, True], "x2 x1": [False, True]}


def test_default_checkpoint_missing(tmp_path, monkeypatch):
    (tmp_path / "book").mkdir()
    (tmp_path / "_toc.yml").write_text("root: book/00_intro\n")
    monkeypatch.setenv("DISTINV_ROOT", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no grammar checkpoint recorded"):
        mx.default_checkpoint()
    (tmp_path / "_build" / "checkpoints").mkdir(parents=True)
    (tmp_path / "_build" / "checkpoints" / "meta.json").write_text('{"grammar": "g.pt"}')
    assert mx.default_checkpoint("grammar") == tmp_path / "_build" / "checkpoints" / "g.pt"
    with pytest.raises(FileNotFoundError, match="no scan checkpoint recorded"):
        mx.default_checkpoint("scan")


PARENT = """
import multiprocessing as mp, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from distinv import cpus
if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"),
                               initializer=cpus.die_with_parent)
    print(pool.submit(os.getpid).result(), flush=True)
    pool.submit(time.sleep, 60)
    time.sleep(60)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_pool_workers_die_with_their_parent(tmp_path):
    """A killed chapter leaves no training worker behind (meta.train.train_all's initializer)."""
    import os
    import signal
    import time

    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    for _ in range(100):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError("the pool worker outlived its parent")
