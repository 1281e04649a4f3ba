"""KTH: sequence-file parsing, clip cutting, the two split rules, the cache; real clips if present."""

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import SHARED_DATA

from dljournal.core.project import ProjectError
from dljournal.data import kth, load_dataset

SEQUENCES = (  # KTH's own layout: tabs, CRLF, a "*missing*" line, 3 ranges, stray spaces
    "person01_boxing_d1\t\tframes\t1-12, 13-30\r\n"
    "person13_handclapping_d3\t*missing*\r\n"
    "\r\n"
    "person11_boxing_d4    \t\tframes\t1-10, 11-20,  21 -30\r\n"
)


def test_parse_sequences_handles_the_quirks():
    seqs = kth.parse_sequences(SEQUENCES)
    assert seqs == {"person01_boxing_d1": [(0, 12), (12, 30)], "person11_boxing_d4": [(0, 10), (10, 20), (20, 30)]}


def test_video_names():
    assert kth.video_key(Path("x/person07_handwaving_d3_uncomp.avi")) == ("person07_handwaving_d3", 7, "handwaving")
    with pytest.raises(ProjectError, match="personNN_<action>_dN"):
        kth.video_key(Path("person01_dancing_d1.avi"))


def test_split_rule_needs_every_group_of_the_person_split():
    assert kth.split_rule({1}) == "time"
    assert kth.split_rule({11, 19}) == "time"
    assert kth.split_rule({11, 19, 22}) == "person"
    assert sorted(p for ps in kth.PERSONS.values() for p in ps) == list(range(1, 26))


def write_video(path: Path, n: int) -> None:
    """A grey AVI whose frame i is a flat image of value 8 i (MJPG keeps flat images exact)."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (40, 30), False)
    for i in range(n):
        writer.write(np.full((30, 40), 8 * i, np.uint8))
    writer.release()


def make_root(root: Path, names: list[str], ranges: str = "1-12, 13-30") -> Path:
    for name in names:
        write_video(root / "KTH" / kth.video_key(Path(name))[2] / f"{name}_uncomp.avi", 30)
    (root / "KTH" / "00sequences.txt").write_text("".join(f"{n}\t\tframes\t{ranges}\r\n" for n in names))
    return root


def first_values(ds, split) -> list[int]:
    """The value of every clip's frames, undoing the standardisation: frame i has value 8 i."""
    x = ds.norm.undo(split.x)[:, :, 0, 0, 0]
    return (x * 255 / 8).round().long().tolist()


def test_time_split_cuts_disjoint_windows(tmp_path):
    root = make_root(tmp_path / "data", ["person01_boxing_d1", "person01_walking_d1"])
    ds = kth.load_kth(root, tmp_path / "cache", clip_len=4, stride=2, size=16)
    assert ds.meta["split"] == "time" and ds.classes == ("boxing", "walking")
    val = ds.meta["val"]
    # 30 frames: train [0, 17), validation [17, 21), test [21, 30); sequences [0, 12) and [12, 30)
    starts = {
        g: [c["start"] for c in ds.meta["clips"][g] if c["video"] == "person01_boxing_d1"]
        for g in ("train", "val", "test")
    }
    assert starts == {"train": [0, 2, 4, 6, 8, 12], "val": [17], "test": [21, 23, 25]}
    assert ds.train.x.shape == (12, 4, 1, 16, 16) and val.x.shape == (2, 4, 1, 16, 16)
    assert ds.test.x.shape == (6, 4, 1, 16, 16)
    assert ds.train.y.tolist() == [0] * 6 + [1] * 6
    values = first_values(ds, ds.train)
    assert values[:6] == [[s + t for t in range(4)] for s in starts["train"]]  # the right frames, in order
    assert first_values(ds, ds.test)[0] == [21, 22, 23, 24]
    frames = {g: {(c["video"], c["start"] + t) for c in ds.meta["clips"][g] for t in range(4)} for g in starts}
    assert not (frames["train"] & frames["val"] or frames["val"] & frames["test"] or frames["train"] & frames["test"])
    assert abs(ds.train.x.mean().item()) < 1e-5 and abs(ds.train.x.std().item() - 1) < 1e-4


def test_person_split_and_the_cache(tmp_path, monkeypatch):
    names = ["person11_boxing_d1", "person19_walking_d1", "person22_boxing_d2"]
    root = make_root(tmp_path / "data", names)
    ds = kth.load_kth(root, tmp_path / "cache", clip_len=10, stride=10, size=8)
    assert ds.meta["split"] == "person" and "split by person" in ds.source
    # each video: clips at 0 in [0, 12), at 12 in [12, 30) (22 needs 10 frames: 12..21 fits, 22 does not)
    assert [(c["person"], c["start"]) for c in ds.meta["clips"]["train"]] == [(11, 0), (11, 12)]
    assert [c["person"] for c in ds.meta["clips"]["val"]] == [19, 19]
    assert [c["person"] for c in ds.meta["clips"]["test"]] == [22, 22]
    assert ds.meta["val"].y.tolist() == [1, 1] and ds.test.y.tolist() == [0, 0]
    assert len(list((tmp_path / "cache").glob("kth-8-*.npz"))) == 1

    monkeypatch.setattr(kth, "decode_all", lambda *a: pytest.fail("decoded again despite the cache"))
    again = kth.load_kth(root, tmp_path / "cache", clip_len=10, stride=10, size=8)
    assert torch.equal(again.train.x, ds.train.x)
    write_video(root / "KTH" / "boxing" / "person22_boxing_d2_uncomp.avi", 31)  # new content, new key
    with pytest.raises(pytest.fail.Exception, match="decoded again"):
        kth.load_kth(root, tmp_path / "cache", clip_len=10, stride=10, size=8)


def test_missing_files_and_annotations_are_one_line(tmp_path):
    with pytest.raises(ProjectError, match="00sequences.txt") as exc:
        load_dataset("kth", data_root=tmp_path, cache=tmp_path / "c")
    assert "\n" not in str(exc.value)
    (tmp_path / "KTH").mkdir()
    (tmp_path / "KTH" / "00sequences.txt").write_text(SEQUENCES)
    with pytest.raises(ProjectError, match="no .avi files"):
        load_dataset("kth", data_root=tmp_path, cache=tmp_path / "c")
    write_video(tmp_path / "KTH" / "jogging" / "person02_jogging_d1_uncomp.avi", 5)
    with pytest.raises(ProjectError, match="person02_jogging_d1 has no sub-sequences"):
        load_dataset("kth", data_root=tmp_path, cache=tmp_path / "c")


def test_synthetic_stand_in_has_the_structure():
    ds = load_dataset("kth", data_root=None, cache=None, synthetic=True, n_train=24, n_test=12)
    assert ds.synthetic and "synthetic" in ds.source and ds.classes == kth.ACTIONS
    assert ds.train.x.shape == (24, 10, 1, 32, 32) and len(ds.test) == 12 and len(ds.meta["val"]) == 6
    assert set(ds.train.y.tolist()) == set(range(6))
    # every class looks the same in one frame: only the motion differs
    per_class = torch.stack([ds.train.x[ds.train.y == c].mean((0, 1)) for c in range(6)])
    assert (per_class.mean((1, 2, 3)) - per_class.mean()).abs().max() < 0.1


@pytest.mark.skipif(not (SHARED_DATA / "KTH" / "00sequences.txt").is_file(), reason="../shared/data/KTH absent")
def test_real_clips(tmp_path):
    ds = kth.load_kth(SHARED_DATA, tmp_path)
    with np.load(next(tmp_path.glob("kth-64-*.npz"))) as a:  # the decoded cache
        frames = dict(zip(map(str, a["video_names"]), a["video_frames"].tolist()))
        assert a["frames"].shape[1:] == (64, 64) and a["frames"].dtype == np.uint8
    # every video decodes completely: the frame counts of the shared data's manifest
    assert frames == {
        "person01_boxing_d1": 360,
        "person01_handclapping_d1": 378,
        "person01_handclapping_d2": 550,
        "person01_jogging_d1": 415,
        "person01_walking_d1": 555,
    }
    assert ds.meta["split"] == "time" and ds.classes == ("boxing", "handclapping", "jogging", "walking")
    assert ds.train.x.shape[1:] == (20, 1, 64, 64)
    for split in (ds.train, ds.meta["val"], ds.test):
        assert set(split.y.tolist()) == {0, 1, 2, 3}  # every action in every split
