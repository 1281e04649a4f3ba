"""S2VT: shapes, causality, scheduled sampling, greedy vs beam search, and memorising captions."""

from dataclasses import replace

import pytest
import torch

from dljournal.data.captions import BOS, EOS, PAD, Vocab, encode_captions
from dljournal.models.s2vt import (
    S2VT,
    CaptionTrainConfig,
    Encoded,
    caption_eval_loss,
    caption_loss,
    fit_captioner,
    sampling_at,
)

VARIANTS = [("lstm", False), ("gru", True)]


@pytest.fixture(autouse=True)
def one_thread():
    """Models this small run fastest on one thread; on a busy machine, far faster."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(cell="lstm", attention=False, vocab=9, seed=0):
    torch.manual_seed(seed)
    return S2VT(vocab, feat_dim=6, hidden=16, embed=8, cell=cell, attention=attention).eval()


def captions(batch, length, vocab=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    caps = torch.randint(4, vocab, (batch, length), generator=g)
    caps[:, 0] = BOS
    return caps


@pytest.mark.parametrize("cell,attention", VARIANTS)
def test_logits_shape_causality_and_batch_independence(cell, attention):
    model, feats, caps = tiny(cell, attention), torch.randn(3, 5, 6), captions(3, 7)
    logits = model(feats, caps)
    assert logits.shape == (3, 6, 9)
    longer = torch.cat([caps, torch.full((3, 4), PAD)], dim=1)  # extra padding changes no earlier step
    torch.testing.assert_close(model(feats, longer)[:, :6], logits, rtol=0, atol=1e-6)
    changed = caps.clone()
    changed[:, 4:] = 4  # later words do not reach earlier predictions
    torch.testing.assert_close(model(feats, changed)[:, :4], logits[:, :4], rtol=0, atol=1e-6)
    torch.testing.assert_close(model(feats[1:2], caps[1:2]), logits[1:2], rtol=0, atol=1e-5)
    assert not torch.allclose(model(feats.flip(1), caps), logits)  # frame order matters


@pytest.mark.parametrize("cell,attention", VARIANTS)
def test_full_scheduled_sampling_feeds_back_the_greedy_words(cell, attention):
    model, feats = tiny(cell, attention, vocab=6, seed=1), torch.randn(4, 5, 6)
    caps = captions(4, 9, vocab=6)
    own = model(feats, caps, sampling=1.0).argmax(-1).tolist()  # every fed word is the model's own
    expected = [seq[: seq.index(EOS)] if EOS in seq else seq for seq in own]
    assert model.greedy(feats, max_words=8) == expected


@pytest.mark.parametrize("cell,attention", VARIANTS)
def test_beam_of_one_is_greedy(cell, attention):
    for seed in range(3):
        model, feats = tiny(cell, attention, vocab=6, seed=seed), torch.randn(5, 4, 6)
        assert model.beam_search(feats, beam=1, max_words=7) == model.greedy(feats, max_words=7)
        for seq in model.beam_search(feats, beam=3, max_words=7):
            assert len(seq) <= 7 and EOS not in seq


class Markov(S2VT):
    """A stand-in whose next-word probabilities depend on the previous word only (a fixed table)."""

    def __init__(self, table: torch.Tensor):
        super().__init__(len(table), feat_dim=1, hidden=1, embed=1)
        self.logits = table.log()

    def encode(self, feats):
        zeros = feats.new_zeros(1, len(feats), 1)
        return Encoded(feats.new_zeros(len(feats), 1, 1), None, zeros, zeros)

    def step(self, word, enc):
        return self.logits[word], enc


def test_beam_search_outlives_cheap_early_endings():
    # words 4..7 = a b c d; from <BOS>: a .9, <EOS> .05, b .05; a -> b, b -> c, c -> d (.95, else <EOS>);
    # d -> <EOS> .99. Short endings ("", "a") finish first, but "a b c d" has by far the best score.
    table = torch.full((8, 8), 1e-9)
    for prev, nxt in {
        BOS: {4: 0.9, EOS: 0.05, 5: 0.05},
        4: {5: 0.95, EOS: 0.05},
        5: {6: 0.95, EOS: 0.05},
        6: {7: 0.95, EOS: 0.05},
        7: {EOS: 0.99, 6: 0.01},
    }.items():
        for word, p in nxt.items():
            table[prev, word] = p
    model, feats = Markov(table), torch.zeros(1, 1, 1)
    assert model.greedy(feats, max_words=10) == [[4, 5, 6, 7]]
    for beam in (1, 2, 4):
        for alpha in (0.0, 1.0):
            assert model.beam_search(feats, beam=beam, max_words=10, alpha=alpha) == [[4, 5, 6, 7]]
    # two words at most: "a b" then a forced <EOS> (log p -3.16 / 3) beats "a" <EOS> (-3.10 / 2)
    assert model.beam_search(feats, beam=3, max_words=2) == model.greedy(feats, max_words=2) == [[4, 5]]


def test_loss_ignores_padding_and_schedule_ramps():
    caps = torch.tensor([[BOS, 4, 5, EOS, PAD, PAD]])
    logits = torch.randn(1, 5, 9)
    other = logits.clone()
    other[:, 3:] = torch.randn(1, 2, 9)  # the targets there are <PAD>
    assert caption_loss(logits, caps) == caption_loss(other, caps)
    manual = -logits[0, :3].log_softmax(-1)[torch.arange(3), torch.tensor([4, 5, EOS])].mean()
    torch.testing.assert_close(caption_loss(logits, caps), manual)
    cfg = CaptionTrainConfig(epochs=5, sampling_max=0.4)
    assert [sampling_at(e, cfg) for e in range(1, 6)] == pytest.approx([0, 0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("cell,attention", VARIANTS)
def test_memorises_a_few_captions_exactly(cell, attention):
    texts = ["a man is running", "a cat eats fish", "the dog is jumping over a fence", "a girl swims"]
    vocab = Vocab.build(texts, min_count=1)
    caps = encode_captions(vocab, texts, max_words=8)
    feats = torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(0))
    owner = torch.arange(4)
    torch.manual_seed(0)
    model = S2VT(len(vocab), feat_dim=6, hidden=32, embed=16, cell=cell, attention=attention)
    cfg = CaptionTrainConfig(epochs=120, batch_size=4, lr=1e-2, sampling_max=0.25)
    history = fit_captioner(model, feats, caps, owner, cfg, val=(feats, caps, owner), seed=0)
    assert history.epochs["sampling"][-1] == 0.25 and len(history.epochs["val_loss"]) == 120
    assert history.epochs["train_loss"][-1] < 0.05 * history.epochs["train_loss"][0]
    model.eval()
    assert caption_eval_loss(model, feats, caps, owner, cfg) < 0.05
    assert [vocab.decode(s) for s in model.greedy(feats, max_words=10)] == texts
    assert [vocab.decode(s) for s in model.beam_search(feats, beam=3, max_words=10)] == texts


def test_fit_captioner_is_fit_with_a_caption_step():
    """The engine's loop: fit's history format (validation untimed, after the step's own logs), its
    callbacks and time budget."""
    from dljournal.train import GradNorm

    texts = ["a man is running", "a cat eats fish", "a girl swims"]
    vocab = Vocab.build(texts, min_count=1)
    caps, owner = encode_captions(vocab, texts, max_words=8), torch.tensor([0, 1, 0])
    feats = torch.randn(2, 4, 6, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = S2VT(len(vocab), feat_dim=6, hidden=8, embed=8)
    cfg = CaptionTrainConfig(epochs=3, batch_size=2, sampling_max=0.5)
    history = fit_captioner(model, feats, caps, owner, cfg, val=(feats, caps, owner), callbacks=[GradNorm()])
    assert list(history.epochs) == ["epoch", "train_loss", "sampling", "val_loss", "lr", "seconds"]
    assert history.epochs["sampling"] == [0.0, 0.25, 0.5] and history.steps["step"] == [0, 1, 2, 3, 4, 5]
    budget = fit_captioner(model, feats, caps, owner, replace(cfg, max_seconds=1e-9))
    assert budget.epochs["epoch"] == [1.0] and "val_loss" not in budget.epochs
