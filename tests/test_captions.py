"""MLDS hw2 captions: tokenisation, vocabulary, the real layout's loader and the synthetic stand-in."""

import json
from collections import Counter

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA

from dljournal.core.project import ProjectError
from dljournal.data import data_identity, load_dataset
from dljournal.data.captions import (
    BOS,
    EOS,
    PAD,
    SPECIALS,
    UNK,
    Vocab,
    encode_captions,
    mlds_files,
    tokenize,
    vocab_sizes,
    word_counts,
)


def test_tokenize_lowercases_and_drops_punctuation():
    assert tokenize("A woman's horse, jumps!") == ["a", "woman's", "horse", "jumps"]
    assert tokenize('Sautéed (1/2") onions.') == ["sautéed", "1", "2", "onions"]
    assert tokenize(" . ") == []


def test_vocab_keeps_frequent_words_after_the_specials():
    caps = ["a cat runs", "a dog runs", "a cat sits", "the bird"]
    v = Vocab.build(caps, min_count=2)
    assert v.words == (*SPECIALS, "a", "cat", "runs")  # a x3, then cat x2 / runs x2 alphabetically
    assert (v.words[PAD], v.words[BOS], v.words[EOS], v.words[UNK]) == SPECIALS
    assert v.encode("A cat flies.") == [BOS, 4, 5, UNK, EOS]
    assert v.encode("a cat runs a cat", max_words=2) == [BOS, 4, 5, EOS]
    assert v.decode([BOS, 4, 5, 6, EOS, 4, PAD]) == "a cat runs"
    assert len(Vocab.build(caps, min_count=1)) == len(SPECIALS) + 7  # a cat runs dog sits the bird
    with pytest.raises(ValueError):
        Vocab(("a", "b"))


def test_encode_captions_pads_to_one_width():
    v = Vocab.build(["a cat runs"], min_count=1)
    ids = encode_captions(v, ["a cat runs", "cat"], max_words=4)
    assert ids.shape == (2, 6) and ids.dtype == torch.long
    assert ids.tolist() == [[BOS, 4, 5, 6, EOS, PAD], [BOS, 5, EOS, PAD, PAD, PAD]]


def test_vocab_sizes_count_words_and_coverage():
    counts = Counter({"a": 5, "b": 3, "c": 1, "d": 1})  # 10 tokens
    rows = vocab_sizes(counts, (1, 2, 5))
    assert [r["words kept"] for r in rows] == [4, 2, 1]
    assert [r["token coverage"] for r in rows] == pytest.approx([1.0, 0.8, 0.5])
    assert rows[1]["<UNK> rate"] == pytest.approx(0.2)
    assert word_counts(["A a.", "b"]) == Counter({"a": 2, "b": 1})


def _layout(root, features=False, test_labels=False):
    base = root / "MLDS_hw2"
    (base / "testing_data").mkdir(parents=True)
    train = [
        {"id": "v1.avi", "caption": ["A man runs.", "A man is running."]},
        {"id": "v2.avi", "caption": ["A cat sleeps."]},
    ]
    (base / "training_label.json").write_text(json.dumps(train))
    (base / "testing_data" / "testing_id.txt").write_text("t1.avi\nt2.avi\n")
    if test_labels:
        (base / "testing_label.json").write_text(json.dumps([{"id": "t1.avi", "caption": ["A dog."]}]))
    if features:
        for split, ids in (("training_data", ("v1.avi", "v2.avi")), ("testing_data", ("t1.avi",))):
            (base / split / "feat").mkdir(parents=True)
            for i, v in enumerate(ids):
                np.save(base / split / "feat" / f"{v}.npy", np.full((3, 5), i, dtype=np.float32))
    return base


def test_loader_reads_the_course_layout_without_features(tmp_path):
    base = _layout(tmp_path)
    data = load_dataset("mlds_hw2", data_root=tmp_path, cache=tmp_path / "cache")
    assert data.train == {"v1.avi": ["A man runs.", "A man is running."], "v2.avi": ["A cat sleeps."]}
    assert data.test_ids == ["t1.avi", "t2.avi"] and data.test is None
    assert not data.has_features and not data.synthetic and data.features == {}
    assert data.feature_dir == base / "training_data" / "feat"
    assert "3 captions" in data.source and "features for 0 of 4" in data.source
    assert mlds_files(tmp_path) == [base / "training_label.json", base / "testing_data" / "testing_id.txt"]
    with pytest.raises(ProjectError, match="no features for 2 of 2 videos"):
        data.load_features(["v1.avi", "v2.avi"])


def test_loader_finds_features_and_test_captions(tmp_path):
    base = _layout(tmp_path, features=True, test_labels=True)
    data = load_dataset("mlds_hw2", data_root=tmp_path, cache=tmp_path / "cache")
    assert data.has_features and data.test == {"t1.avi": ["A dog."]} and data.test_ids == ["t1.avi"]
    feats = data.load_features(["v2.avi", "v1.avi", "t1.avi"])
    assert feats.shape == (3, 3, 5) and feats.dtype == torch.float32
    assert feats[:, 0, 0].tolist() == [1.0, 0.0, 0.0]
    files = mlds_files(tmp_path)
    assert base / "testing_label.json" in files and base / "training_data" / "feat" / "v1.avi.npy" in files
    before = data_identity("mlds_hw2", data_root=tmp_path, memo=tmp_path / "memo.json")
    np.save(base / "training_data" / "feat" / "v1.avi.npy", np.ones((3, 5), dtype=np.float32))
    assert data_identity("mlds_hw2", data_root=tmp_path, memo=tmp_path / "memo.json") != before


def test_missing_labels_are_one_clear_line(tmp_path):
    with pytest.raises(ProjectError) as exc:
        load_dataset("mlds_hw2", data_root=tmp_path, cache=tmp_path / "cache")
    assert "\n" not in str(exc.value) and str(tmp_path / "MLDS_hw2" / "training_label.json") in str(exc.value)
    (tmp_path / "MLDS_hw2").mkdir()
    (tmp_path / "MLDS_hw2" / "training_label.json").write_text('{"not": "a list"}')
    with pytest.raises(ProjectError, match="not a list of"):
        load_dataset("mlds_hw2", data_root=tmp_path, cache=tmp_path / "cache")


def test_synthetic_stand_in_has_the_same_kind():
    data = load_dataset("mlds_hw2", data_root=None, cache=None, synthetic=True, n_train=12, n_test=4)
    again = load_dataset("mlds_hw2", data_root=None, cache=None, synthetic=True, n_train=12, n_test=4)
    assert data.synthetic and data.has_features and "synthetic" in data.source
    assert len(data.train) == 12 and len(data.test_ids) == 4 and set(data.test) == set(data.test_ids)
    assert all(len(caps) == 2 for caps in data.train.values()) and not set(data.train) & set(data.test_ids)
    feats = data.load_features(list(data.train))
    assert feats.shape == (12, 8, 32)
    assert torch.equal(feats, again.load_features(list(again.train)))  # seeded


MLDS = SHARED_DATA / "MLDS_hw2"


@pytest.mark.skipif(not (MLDS / "training_label.json").is_file(), reason="../shared/data/MLDS_hw2 is not present")
def test_real_mlds_captions(tmp_path):
    data = load_dataset("mlds_hw2", data_root=SHARED_DATA, cache=tmp_path)
    assert len(data.train) == 1450 and len(data.captions) == 24232
    assert len(data.test_ids) == 100 and not set(data.train) & set(data.test_ids)
    assert data.test_ids[0] == "ScdUht-pM6s_53_63.avi"
    if not data.features:  # the shared copy holds labels only
        assert not data.has_features and data.test is None
