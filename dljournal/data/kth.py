"""KTH actions (Schüldt et al., ICPR 2004): ``KTH/<action>/personNN_<action>_dN*.avi`` + ``00sequences.txt``.

Videos are decoded with OpenCV, converted to grey and resized to 64 × 64; only the frames of the
annotated sub-sequences (``00sequences.txt``, four per video) are kept, and cached as uint8 under
the build folder, keyed on the files' checksums. Clips of ``clip_len`` frames are cut from each
sub-sequence every ``stride`` frames, each an independent sample labelled with the video's action.

Split: with all three groups of the standard person split present, by person (train 11–18,
validation 19–21, 23–25, 1, 4, test 2, 3, 5–10, 22). Otherwise (the 5 clips of person 1 in the
shared data) by time within each video: clips inside the first 55 % of the frames train, inside
55–70 % validate, inside the last 30 % test; a clip crossing a boundary is dropped, so no frame is in
two splits.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import torch

from ..core.project import ProjectError
from .cifar import cached_arrays
from .moving_mnist import bounce
from .registry import DatasetInfo, register_dataset, require
from .tensors import Dataset, Normalisation, Split

ACTIONS = ("boxing", "handclapping", "handwaving", "jogging", "running", "walking")
PERSONS = {
    "train": (11, 12, 13, 14, 15, 16, 17, 18),
    "val": (19, 20, 21, 23, 24, 25, 1, 4),
    "test": (22, 2, 3, 5, 6, 7, 8, 9, 10),
}
SEQUENCES = "KTH/00sequences.txt"
CLIP_LEN, STRIDE, FRAME_SIZE = 20, 10, 64
TIME_SPLIT = (0.55, 0.70)  # video fractions where validation, then test, begin (time split)
_NAME = re.compile(r"person(\d+)_([a-z]+)_(d\d)")


def parse_sequences(text: str) -> dict[str, list[tuple[int, int]]]:
    """``00sequences.txt`` -> {"person01_boxing_d1": [(0, 95), (95, 185), ...]}: 0-based, end
    exclusive. Tolerates KTH's quirks: tabs and extra spaces, 3 ranges, "*missing*" lines."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"\s*(person\d+_[a-z]+_d\d)\s+frames\s+(.*)", line)
        if m:
            out[m.group(1)] = [(int(a) - 1, int(b)) for a, b in re.findall(r"(\d+)\s*-\s*(\d+)", m.group(2))]
    return out


def video_key(path: Path) -> tuple[str, int, str]:
    """``.../person01_boxing_d1_uncomp.avi`` -> ("person01_boxing_d1", 1, "boxing")."""
    m = _NAME.match(path.name)
    if not m or m.group(2) not in ACTIONS:
        raise ProjectError(
            f"dataset kth: {path} is not named personNN_<action>_dN*.avi with an action of {', '.join(ACTIONS)}"
        )
    return m.group(0), int(m.group(1)), m.group(2)


def kth_files(root: Path) -> list[Path]:
    """Every ``KTH/<action>/*.avi`` under ``root`` and the sequence file."""
    sequences = require("kth", root, [SEQUENCES])
    videos = sorted((root / "KTH").glob("*/*.avi"))
    if not videos:
        raise ProjectError(
            f"dataset kth: no .avi files under {root / 'KTH'}/<action>/ "
            f"(data root {root}; set --data-root or $DLJOURNAL_DATA_ROOT)"
        )
    return videos + sequences


def decode_video(path: Path, size: int = FRAME_SIZE) -> np.ndarray:
    """Every frame of a video, grey and resized: (F, size, size) uint8."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)  # (120, 160)
        frames.append(cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA))  # area: no aliasing
    cap.release()
    if not frames:
        raise ProjectError(f"dataset kth: OpenCV decoded no frame of {path}")
    return np.stack(frames)


def decode_all(root: Path, size: int = FRAME_SIZE) -> dict[str, np.ndarray]:
    """The annotated sub-sequences of every video, as arrays for the cache.

    ``frames`` (F, size, size) uint8 holds segment after segment; segment s is video
    ``seg_video[s]``'s frames ``seg_start[s]`` .. ``seg_start[s] + seg_len[s]``.
    """
    from concurrent.futures import ThreadPoolExecutor

    files = kth_files(root)
    sequences = parse_sequences(files[-1].read_text(errors="replace"))
    videos = files[:-1]
    keys = [video_key(p)[0] for p in videos]
    missing = [k for k in keys if k not in sequences]
    if missing:
        raise ProjectError(f"dataset kth: {missing[0]} has no sub-sequences in {files[-1]}")
    with ThreadPoolExecutor() as pool:  # OpenCV releases the GIL while decoding
        decoded = list(pool.map(lambda p: decode_video(p, size), videos))
    segments = [
        (v, a, min(b, len(video)))  # a few KTH ranges end past the last frame
        for v, (key, video) in enumerate(zip(keys, decoded))
        for a, b in sequences[key]
    ]
    segments = [(v, a, b) for v, a, b in segments if b > a]
    seg_video, seg_start, seg_stop = (np.array(col) for col in zip(*segments))
    return {
        "frames": np.concatenate([decoded[v][a:b] for v, a, b in segments]),
        "seg_video": seg_video,
        "seg_start": seg_start,
        "seg_len": seg_stop - seg_start,
        "video_names": np.array(keys),
        "video_frames": np.array([len(v) for v in decoded]),
    }


def clip_starts(a: int, b: int, clip_len: int, stride: int) -> range:
    """Starts of the clips of ``clip_len`` frames inside frames [a, b), every ``stride`` frames."""
    return range(a, b - clip_len + 1, stride)


def split_rule(persons: set[int]) -> str:
    """ "person" when every group of the standard split has a person present, else "time"."""
    return "person" if all(persons & set(group) for group in PERSONS.values()) else "time"


def cut_clips(
    a: dict[str, np.ndarray], clip_len: int = CLIP_LEN, stride: int = STRIDE, rule: str | None = None
) -> dict[str, list]:
    """Clips per split: {"train"|"val"|"test": [(frame index of the clip's first frame in
    ``a["frames"]``, video index, start frame in the video), ...]}."""
    names = [str(n) for n in a["video_names"]]
    persons = [video_key(Path(n))[1] for n in names]
    rule = rule or split_rule(set(persons))
    group = {p: g for g, ps in PERSONS.items() for p in ps}
    out: dict[str, list] = {"train": [], "val": [], "test": []}
    offset = 0
    for v, start, length in zip(a["seg_video"].tolist(), a["seg_start"].tolist(), a["seg_len"].tolist()):
        if rule == "person":
            windows = [(group[persons[v]], start, start + length)] if persons[v] in group else []
        else:
            n = int(a["video_frames"][v])
            cuts = [0, *(math.ceil(f * n) for f in TIME_SPLIT), n]
            windows = [
                (g, max(start, lo), min(start + length, hi))
                for g, lo, hi in zip(("train", "val", "test"), cuts[:-1], cuts[1:])
            ]
        for g, lo, hi in windows:
            out[g] += [(offset + s - start, v, s) for s in clip_starts(lo, hi, clip_len, stride)]
        offset += length
    return out


def load_kth(
    root: Path, cache: Path, clip_len: int = CLIP_LEN, stride: int = STRIDE, size: int = FRAME_SIZE
) -> Dataset:
    """KTH clips (N, clip_len, 1, size, size), standardised with the training frames' mean and std.

    ``train``/``test`` are the splits; ``meta["val"]`` is the validation split; ``meta`` also names
    the split rule and each clip's video, person and first frame (``meta["clips"][split]``).
    """
    files = kth_files(root)
    a = cached_arrays(f"kth-{size}", files, cache, lambda: decode_all(root, size))
    names = [str(n) for n in a["video_names"]]
    classes = tuple(x for x in ACTIONS if any(video_key(Path(n))[2] == x for n in names))
    persons = sorted({video_key(Path(n))[1] for n in names})
    rule = split_rule(set(persons))
    clips = cut_clips(a, clip_len, stride, rule)
    frames = torch.from_numpy(a["frames"])  # (F, size, size) uint8
    steps = torch.arange(clip_len)

    def split(items: list) -> Split:
        first = torch.tensor([i for i, _, _ in items], dtype=torch.long).view(-1, 1)
        x = frames[first + steps].unsqueeze(2).float().div_(255)  # (N, T, 1, size, size) in [0, 1]
        y = torch.tensor([classes.index(video_key(Path(names[v]))[2]) for _, v, _ in items], dtype=torch.long)
        return Split(x, y)

    train, val, test = (split(clips[g]) for g in ("train", "val", "test"))
    mean, std = train.x.mean().item(), train.x.std().item()
    for s in (train, val, test):
        s.x.sub_(mean).div_(std)  # in place, as ``Normalisation.apply`` computes it: clips are our largest tensors
    if rule == "person":
        how = "split by person (standard KTH split: train 11–18, validation 19–21, 23–25, 1, 4, test 2, 3, 5–10, 22)"
    else:
        lo, hi = (round(100 * f) for f in TIME_SPLIT)
        how = (
            f"split by time within each video (clips inside the first {lo} % of the frames train, "
            f"{lo}–{hi} % validate, the last {100 - hi} % test; no frame in two splits)"
        )
    info = {
        g: [{"video": names[v], "person": video_key(Path(names[v]))[1], "start": s} for _, v, s in clips[g]]
        for g in clips
    }
    return Dataset(
        "kth",
        train,
        test,
        classes,
        source=(
            f"KTH actions: {len(names)} real videos of {len(persons)} person(s), {len(classes)} "
            f"actions ({root / 'KTH'}); {clip_len}-frame clips every {stride} frames; {how}"
        ),
        meta={
            "val": val,
            "split": rule,
            "split_note": how,
            "clip_len": clip_len,
            "stride": stride,
            "videos": names,
            "persons": persons,
            "clips": info,
        },
        norm=Normalisation((mean,), (std,)),
    )


def synthetic_kth(n_train: int, n_test: int, seed: int = 0, clip_len: int = 10, size: int = 32) -> Dataset:
    """Tiny clips with KTH's structure: one Gaussian blob per clip, the same in every frame and
    class; only its motion (a direction per class) tells the classes apart."""
    g = torch.Generator().manual_seed(seed)
    k = len(ACTIONS)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")

    def sample(n: int) -> Split:
        y = torch.arange(n) % k
        angle = 2 * math.pi * y / k
        velocity = 1.5 * torch.stack([torch.sin(angle), torch.cos(angle)], dim=-1)  # (n, 2)
        start = torch.rand(n, 2, generator=g) * (size - 1)
        t = torch.arange(clip_len, dtype=torch.float32).view(1, -1, 1)
        pos = bounce(start[:, None] + t * velocity[:, None], size - 1)  # (n, T, 2)
        d2 = (yy - pos[..., 0, None, None]) ** 2 + (xx - pos[..., 1, None, None]) ** 2  # (n, T, S, S)
        x = torch.exp(-d2 / 8) + 0.1 * torch.randn(d2.shape, generator=g)
        return Split(x.unsqueeze(2).float(), y.long())  # (n, T, 1, S, S)

    train, test, val = sample(n_train), sample(n_test), sample(max(n_test // 2, k))
    info = {
        name: [{"video": f"synthetic_{i}", "person": 0, "start": 0} for i in range(len(s))]
        for name, s in (("train", train), ("val", val), ("test", test))
    }
    return Dataset(
        "kth(synthetic)",
        train,
        test,
        ACTIONS,
        source=(
            f"synthetic stand-in of KTH ({n_train} train / {len(val)} validation / {n_test} test "
            f"clips of {clip_len} frames {size}×{size}: a blob moving in a class-specific "
            "direction), not real data"
        ),
        synthetic=True,
        meta={
            "val": val,
            "split": "synthetic",
            "split_note": "synthetic clips, drawn independently",
            "clip_len": clip_len,
            "stride": clip_len,
            "videos": [],
            "persons": [0],
            "clips": info,
        },
        norm=Normalisation((0.0,), (1.0,)),
    )


def train_val(ds: Dataset) -> tuple[Split, Split]:
    """(train, validation) of a KTH dataset, validation on the training split's device."""
    return ds.train, ds.meta["val"].to(ds.train.x.device)


register_dataset(DatasetInfo("kth", kth_files, load_kth, synthetic_kth))
