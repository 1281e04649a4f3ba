"""MLDS hw2 (S2VT video captioning on MSVD): captions per video, test ids, per-video features when
present; and the tokenisation and vocabulary of captions.

The course's layout under ``<data root>/MLDS_hw2/`` (or ``MLDS_hw2_1_data/``): ``training_label.json``
and ``testing_label.json`` (``[{"id": "<vid>.avi", "caption": [...]}, ...]``), the test ids in
``testing_data/id.txt`` (or ``testing_id.txt``), and one ``(80, 4096)`` float32 array of CNN features
per video in ``training_data/feat/<id>.npy`` and ``testing_data/feat/<id>.npy`` (the id keeps its
``.avi``). Any part but the training captions may be missing; ``CaptionData`` says what is there.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..core.project import ProjectError
from .registry import DatasetInfo, register_dataset, require

PAD, BOS, EOS, UNK = 0, 1, 2, 3  # fixed ids: the model and the loss rely on them
SPECIALS = ("<PAD>", "<BOS>", "<EOS>", "<UNK>")
FOLDERS = ("MLDS_hw2", "MLDS_hw2_1_data")
TEST_ID_FILES = ("testing_data/id.txt", "testing_data/testing_id.txt")
_WORD = re.compile(r"\w+(?:'\w+)*")  # keeps "woman's" and "sautéed" whole; drops punctuation


def tokenize(text: str) -> list[str]:
    """Lower-cased words without punctuation: "A woman's horse, jumps!" -> a woman's horse jumps."""
    return _WORD.findall(text.lower())


def word_counts(captions: Iterable[str]) -> Counter:
    return Counter(w for c in captions for w in tokenize(c))


@dataclass(frozen=True)
class Vocab:
    """Index <-> word. The four special tokens come first, then words by falling frequency."""

    words: tuple[str, ...]
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.words[: len(SPECIALS)] != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}")
        object.__setattr__(self, "_index", {w: i for i, w in enumerate(self.words)})

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 3) -> Vocab:
        """Words seen at least ``min_count`` times; ties in frequency in alphabetical order."""
        counts = word_counts(captions)
        kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls(SPECIALS + tuple(kept))

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._index

    def encode(self, caption: str, max_words: int | None = None) -> list[int]:
        """<BOS> w1 ... wn <EOS>, unknown words as <UNK>, cut to ``max_words`` words."""
        ids = [self._index.get(w, UNK) for w in tokenize(caption)][:max_words]
        return [BOS, *ids, EOS]

    def decode(self, ids: Iterable[int]) -> str:
        """Words up to the first <EOS>; <PAD> and <BOS> are skipped."""
        out = []
        for i in map(int, ids):
            if i == EOS:
                break
            if i not in (PAD, BOS):
                out.append(self.words[i])
        return " ".join(out)


def encode_captions(vocab: Vocab, captions: Sequence[str], max_words: int) -> torch.Tensor:
    """Captions as one padded id tensor (N, max_words + 2): <BOS> words <EOS> <PAD>..."""
    out = torch.full((len(captions), max_words + 2), PAD, dtype=torch.long)
    for i, caption in enumerate(captions):
        ids = vocab.encode(caption, max_words)
        out[i, : len(ids)] = torch.tensor(ids)
    return out


def vocab_sizes(counts: Counter, thresholds: Sequence[int]) -> list[dict]:
    """For each min-count threshold: how many words are kept, and what share of the running words
    (tokens) of the captions they cover; the rest become <UNK>."""
    total = sum(counts.values())
    rows = []
    for k in thresholds:
        kept = [n for n in counts.values() if n >= k]
        rows.append(
            {
                "min count": k,
                "words kept": len(kept),
                "token coverage": sum(kept) / total,
                "<UNK> rate": 1 - sum(kept) / total,
            }
        )
    return rows


@dataclass
class CaptionData:
    """Captions per video id, test ids, and where each video's features are (a path, or an array
    for the synthetic stand-in). ``test`` is None when the test captions are not available."""

    train: dict[str, list[str]]
    test_ids: list[str]
    test: dict[str, list[str]] | None
    features: dict[str, Path | np.ndarray]
    feature_dir: Path | None  # where the training features were looked for
    source: str
    synthetic: bool = False

    @property
    def has_features(self) -> bool:
        """Every training video has its features (partial feature sets are not trained on)."""
        return bool(self.train) and all(v in self.features for v in self.train)

    @property
    def captions(self) -> list[str]:
        return [c for caps in self.train.values() for c in caps]

    def load_features(self, ids: Sequence[str]) -> torch.Tensor:
        """The features of ``ids`` stacked: (N, frames, feature dim) float32."""
        missing = [v for v in ids if v not in self.features]
        if missing:
            raise ProjectError(
                f"no features for {len(missing)} of {len(ids)} videos (first: {missing[0]}; "
                f"looked in {self.feature_dir})"
            )
        arrays = [np.load(f) if isinstance(f, Path) else f for f in (self.features[v] for v in ids)]
        shapes = {a.shape for a in arrays}
        if len(shapes) != 1:
            raise ProjectError(f"feature arrays differ in shape: {sorted(shapes)[:3]}")
        return torch.from_numpy(np.stack(arrays).astype(np.float32))  # (N, T, F)


# ---- the real files -----------------------------------------------------------------------------------
def _folder(root: Path) -> Path:
    for name in FOLDERS:
        if (root / name / "training_label.json").is_file():
            return root / name
    return root / FOLDERS[0]


def mlds_files(root: Path) -> list[Path]:
    """The label and id files present, and every feature file (their checksums identify the data)."""
    base = _folder(root)
    paths = require("mlds_hw2", root, [f"{base.name}/training_label.json"])
    paths += [base / f for f in ("testing_label.json", *TEST_ID_FILES) if (base / f).is_file()]
    for split in ("training_data", "testing_data"):
        paths += sorted((base / split / "feat").glob("*.npy"))
    return paths


def read_labels(path: Path) -> dict[str, list[str]]:
    """``[{"id": ..., "caption": [...]}, ...]`` -> {id: captions}."""
    try:
        items = json.loads(path.read_text())
        return {str(item["id"]): [str(c) for c in item["caption"]] for item in items}
    except (ValueError, KeyError, TypeError) as exc:
        raise ProjectError(f"{path}: not a list of {{'id', 'caption'}} records ({exc})") from None


def mlds_hw2(root: Path, cache: Path) -> CaptionData:
    """Captions are a 1.4 MB JSON file and features are read on demand: nothing to cache."""
    base = _folder(root)
    train = read_labels(base / "training_label.json")
    test = read_labels(base / "testing_label.json") if (base / "testing_label.json").is_file() else None
    id_file = next((base / f for f in TEST_ID_FILES if (base / f).is_file()), None)
    if test is not None:
        test_ids = list(test)
    else:
        test_ids = [line.strip() for line in id_file.read_text().splitlines() if line.strip()] if id_file else []
    features: dict[str, Path | np.ndarray] = {}
    for split, ids in (("training_data", train), ("testing_data", test_ids)):
        for v in ids:
            if (path := base / split / "feat" / f"{v}.npy").is_file():
                features[v] = path
    n_caps = sum(map(len, train.values()))
    n_feat = sum(v in features for v in (*train, *test_ids))
    source = (
        f"MLDS hw2 ({base}): {len(train):,} training videos with {n_caps:,} captions, {len(test_ids)} test "
        f"ids, test captions {'present' if test is not None else 'absent'}, features for {n_feat:,} of "
        f"{len(train) + len(test_ids):,} videos"
    )
    return CaptionData(train, test_ids, test, features, base / "training_data" / "feat", source)


# ---- the synthetic stand-in (smoke profile, tests) ----------------------------------------------------
SUBJECTS = ("man", "woman", "dog", "cat", "boy", "girl")
ACTIONS = (("running", "runs"), ("eating", "eats"), ("jumping", "jumps"), ("swimming", "swims"), ("dancing", "dances"))


def synthetic_captions(n_train: int, n_test: int, seed: int = 0, frames: int = 8, dim: int = 32) -> CaptionData:
    """Videos whose features show a subject (early frames) and an action (late frames), each with
    two template captions ("A man is running.", "The man runs."). Learnable, tiny, not real data."""
    rng = np.random.default_rng(seed)
    subjects = rng.normal(size=(len(SUBJECTS), dim))
    actions = rng.normal(size=(len(ACTIONS), dim))
    t = np.linspace(0, 1, frames)[:, None]  # (T, 1): the subject fades out, the action fades in
    splits: list[dict[str, list[str]]] = [{}, {}]
    features: dict[str, Path | np.ndarray] = {}
    for i in range(n_train + n_test):
        s, a = rng.integers(len(SUBJECTS)), rng.integers(len(ACTIONS))
        vid = f"synthetic_{'train' if i < n_train else 'test'}_{i:04d}.avi"
        features[vid] = ((1 - t) * subjects[s] + t * actions[a] + 0.3 * rng.normal(size=(frames, dim))).astype(
            np.float32
        )  # (T, F)
        name, (ing, s3) = SUBJECTS[s], ACTIONS[a]
        splits[i >= n_train][vid] = [f"A {name} is {ing}.", f"The {name} {s3}."]
    train, test = splits
    return CaptionData(
        train,
        list(test),
        test,
        features,
        None,
        synthetic=True,
        source=f"synthetic stand-in for MLDS hw2 ({n_train} train / {n_test} test videos, "
        f"random {frames}x{dim} features, template captions), not real data",
    )


register_dataset(DatasetInfo("mlds_hw2", mlds_files, mlds_hw2, synthetic_captions))
